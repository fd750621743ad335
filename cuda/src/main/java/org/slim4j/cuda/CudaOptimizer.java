package org.slim4j.cuda;

import java.util.List;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TensorFlow's optimizer updates on the GPU (optimizer.cu): one fused in-place kernel per variable,
 * arithmetic in float32 (the CPU backend uses double; results agree to float rounding).
 */
final class CudaOptimizer implements OptimizerKernels {
    private static final String MODULE = "optimizer";

    private final CudaOps ops;

    CudaOptimizer(CudaOps ops) {
        this.ops = ops;
    }

    /** Checks every tensor against the variable (device, float32, shape) and starts the argument list. */
    private KernelArgs args(String op, Tensor... tensors) {
        Tensor var = tensors[0];
        ops.checkF32(op, "variable", var);
        for (int k = 1; k < tensors.length; k++) {
            Tensor t = tensors[k];
            ops.checkDevice(op, "argument " + k, t);
            if (t.dtype() != var.dtype() || !t.shape().equals(var.shape())) {
                throw new IllegalArgumentException(op + ": argument " + k + " is " + t.dtype() + t.shape()
                        + " but the variable is " + var.dtype() + var.shape());
            }
        }
        KernelArgs a = new KernelArgs().i32(var.numel());
        for (Tensor t : tensors) a.ptr(CudaOps.ptr(t));
        return a;
    }

    private void run(String kernel, Tensor var, KernelArgs args) {
        ops.launch1d(MODULE, kernel, var.numel(), args);
    }

    @Override
    public void applyGradientDescent(Tensor var, Tensor grad, double lr) {
        run("apply_sgd_f32", var, args("applyGradientDescent", var, grad).f32(lr));
    }

    @Override
    public void applyMomentum(Tensor var, Tensor accum, Tensor grad, double lr, double momentum, boolean nesterov, double weightDecay) {
        run("apply_momentum_f32", var, args("applyMomentum", var, accum, grad).f32(lr).f32(momentum).i32(nesterov).f32(weightDecay));
    }

    /** All updates in one launch ({@code apply_momentum_multi_f32}): the same arithmetic as one call each. */
    @Override
    public void applyMomentum(List<MomentumUpdate> updates, double lr, double momentum, boolean nesterov) {
        if (updates.isEmpty()) return;
        CudaTensorTable table = new CudaTensorTable();
        for (MomentumUpdate u : updates) {
            args("applyMomentum", u.var(), u.accum(), u.grad());
            if (u.var().numel() == 0) continue;
            table.add(u.var().numel(), (float) u.weightDecay(), CudaOps.ptr(u.var()), CudaOps.ptr(u.accum()), CudaOps.ptr(u.grad()));
        }
        if (table.count() == 0) return;
        try (Tensor t = table.upload(ops.device)) {
            ops.launch(MODULE, "apply_momentum_multi_f32", table.blocks(), 1, CudaOps.THREADS, new KernelArgs().i32(table.count())
                    .ptr(CudaOps.ptr(t)).f32(lr).f32(momentum).i32(nesterov));
        }
    }

    /** One launch over every gradient ({@code unscale_multi_f32}); the flag is a zeroed scalar the kernel sets. */
    @Override
    public Tensor unscaleGradients(List<Tensor> grads, double invScale) {
        if (grads.isEmpty()) throw new IllegalArgumentException("unscaleGradients: no gradients");
        CudaTensorTable table = new CudaTensorTable();
        for (int k = 0; k < grads.size(); k++) {
            Tensor g = grads.get(k);
            ops.checkF32("unscaleGradients", "gradient " + k, g);
            if (g.numel() > 0) table.add(g.numel(), 0f, CudaOps.ptr(g));
        }
        Tensor found = Tensor.zeros(ops.device, DType.FLOAT32, Shape.scalar());
        if (table.count() == 0) return found;
        try (Tensor t = table.upload(ops.device)) {
            ops.launch(MODULE, "unscale_multi_f32", table.blocks(), 1, CudaOps.THREADS, new KernelArgs().i32(table.count())
                    .ptr(CudaOps.ptr(t)).f32(invScale).ptr(CudaOps.ptr(found)));
        }
        return found;
    }

    @Override
    public void applyAdam(Tensor var, Tensor m, Tensor v, Tensor grad, double lr, double beta1, double beta2,
                          double beta1Power, double beta2Power, double epsilon) {
        double alpha = lr * Math.sqrt(1 - beta2Power) / (1 - beta1Power);
        run("apply_adam_f32", var, args("applyAdam", var, m, v, grad).f32(alpha).f32(beta1).f32(beta2).f32(epsilon));
    }

    @Override
    public void applyAdagrad(Tensor var, Tensor accum, Tensor grad, double lr) {
        run("apply_adagrad_f32", var, args("applyAdagrad", var, accum, grad).f32(lr));
    }

    @Override
    public void applyAdadelta(Tensor var, Tensor accum, Tensor accumUpdate, Tensor grad, double lr, double rho, double epsilon) {
        run("apply_adadelta_f32", var, args("applyAdadelta", var, accum, accumUpdate, grad).f32(lr).f32(rho).f32(epsilon));
    }

    @Override
    public void applyRmsProp(Tensor var, Tensor ms, Tensor mom, Tensor grad, double lr, double decay, double momentum, double epsilon) {
        run("apply_rmsprop_f32", var, args("applyRmsProp", var, ms, mom, grad).f32(lr).f32(decay).f32(momentum).f32(epsilon));
    }

    @Override
    public void applyFtrl(Tensor var, Tensor accum, Tensor linear, Tensor grad, double lr, double l1, double l2, double lrPower) {
        run("apply_ftrl_f32", var, args("applyFtrl", var, accum, linear, grad).f32(lr).f32(l1).f32(l2).f32(lrPower));
    }

    @Override
    public void applyMovingAverage(Tensor shadow, Tensor var, double decay) {
        run("apply_moving_average_f32", shadow, args("applyMovingAverage", shadow, var).f32(decay));
    }
}
