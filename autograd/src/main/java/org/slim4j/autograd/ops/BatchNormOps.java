package org.slim4j.autograd.ops;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.FusedBatchNormKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/**
 * Differentiable fused batch norm over the last axis. Training mode normalises with the batch
 * statistics and hands them back (the layer updates its moving averages from them); inference mode
 * uses given statistics. Null scale/offset mean slim's scale=False / center=False.
 */
public final class BatchNormOps {
    private BatchNormOps() {
    }

    /** y, and the batch mean and biased batch variance (owned by the caller). */
    public record TrainingOutput(Var y, Tensor mean, Tensor variance) {
    }

    public static TrainingOutput training(Var x, Var scale, Var offset, float epsilon) {
        BatchNormKernels k = Backends.kernels(x.value(), BatchNormKernels.class);
        BatchNormKernels.Training t = k.trainingForward(x.value(), value(scale), value(offset), epsilon);
        Tensor savedMean = t.mean().copy();
        Tensor savedVar = t.variance().copy();
        Var y = Var.result(t.y(), dy -> {
            BatchNormKernels.Grads g = k.trainingBackward(dy, x.value(), value(scale), savedMean, savedVar, epsilon);
            return keepNeeded(g, x, scale, offset);
        }, List.of(savedMean, savedVar), x, scale, offset);
        return new TrainingOutput(y, t.mean(), t.variance());
    }

    /**
     * act(training batch norm of x) for a relu / relu6 activation, in the batch norm's own passes
     * ({@link FusedBatchNormKernels}: y is the activation's output; the normalised values and the
     * masked gradient are never stored). The caller checks that x's backend has the family.
     */
    public static TrainingOutput trainingActivation(Var x, Var scale, Var offset, float epsilon, FusedConvKernels.Activation activation) {
        FusedBatchNormKernels k = Backends.kernels(x.value(), FusedBatchNormKernels.class);
        FusedBatchNormKernels.Training t = k.trainingForward(x.value(), value(scale), value(offset), epsilon, activation);
        Tensor savedMean = t.mean().copy();
        Tensor savedVar = t.variance().copy();
        Tensor affine = t.affine();
        Var y = Var.result(t.y(), dy -> {
            BatchNormKernels.Grads g = k.trainingBackward(dy, x.value(), value(scale), savedMean, savedVar, affine, epsilon, activation);
            return keepNeeded(g, x, scale, offset);
        }, List.of(savedMean, savedVar, affine), x, scale, offset);
        return new TrainingOutput(y, t.mean(), t.variance());
    }

    public static Var inference(Var x, Var scale, Var offset, Tensor mean, Tensor variance, float epsilon) {
        BatchNormKernels k = Backends.kernels(x.value(), BatchNormKernels.class);
        Tensor y = k.inferenceForward(x.value(), value(scale), value(offset), mean, variance, epsilon);
        return Var.result(y, dy -> keepNeeded(k.inferenceBackward(dy, x.value(), value(scale), mean, variance, epsilon), x, scale, offset),
            x, scale, offset);
    }

    private static Tensor value(Var v) {
        return v == null ? null : v.value();
    }

    private static Tensor[] keepNeeded(BatchNormKernels.Grads g, Var x, Var scale, Var offset) {
        Tensor dx = g.dx();
        Tensor ds = g.dscale();
        Tensor doff = g.doffset();
        if (!x.requiresGrad()) {
            dx.close();
            dx = null;
        }
        if (scale == null || !scale.requiresGrad()) {
            ds.close();
            ds = null;
        }
        if (offset == null || !offset.requiresGrad()) {
            doff.close();
            doff = null;
        }
        return new Tensor[] {dx, ds, doff};
    }
}
