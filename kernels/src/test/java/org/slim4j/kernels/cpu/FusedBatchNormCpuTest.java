package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.slim4j.kernels.cpu.BatchNormCpuTest.assertMessage;
import static org.slim4j.kernels.cpu.BatchNormCpuTest.dot;
import static org.slim4j.kernels.cpu.BatchNormCpuTest.leakFree;
import static org.slim4j.kernels.cpu.BatchNormCpuTest.numericGrad;
import static org.slim4j.kernels.cpu.BatchNormCpuTest.rand;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.FusedBatchNormKernels;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;

/** Training batch norm + relu / relu6 in one kernel against batch norm then the activation, and against finite differences. */
class FusedBatchNormCpuTest {
    private static final FusedBatchNormKernels K = CpuBackend.INSTANCE.kernels(FusedBatchNormKernels.class);
    private static final BatchNormKernels BN = CpuBackend.INSTANCE.kernels(BatchNormKernels.class);
    private static final ElementwiseKernels EW = CpuBackend.INSTANCE.kernels(ElementwiseKernels.class);
    private static final float EPS = 1e-3f;

    private static UnaryOp unary(Activation act) {
        return act == Activation.RELU ? UnaryOp.RELU : UnaryOp.RELU6;
    }

    /**
     * Shapes with a vector body and a channel tail (37), many parallel row blocks, and one whose
     * offset and scale put a good share of z past 6 (relu6's upper kink).
     */
    @Test
    void matchesBatchNormThenActivation() {
        for (Activation act : List.of(Activation.RELU, Activation.RELU6)) {
            for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
                for (int[] dims : List.of(new int[] {2, 5, 3, 37}, new int[] {8, 16, 16, 32})) {
                    leakFree(() -> {
                        int c = dims[3];
                        Tensor x = rand(1, dt, -3, 5, dims);
                        Tensor scale = rand(2, dt, 0.5, 4, c), offset = rand(3, dt, -1, 4, c);
                        Tensor dy = rand(4, dt, -1, 1, dims);
                        String what = act + " " + dt + " " + Shape.of(dims);

                        FusedBatchNormKernels.Training f = K.trainingForward(x, scale, offset, EPS, act);
                        BatchNormKernels.Training t = BN.trainingForward(x, scale, offset, EPS);
                        Tensor y = EW.unary(unary(act), t.y());
                        // The same z and the same clamp: bit for bit.
                        assertArrayEquals(y.toDoubleArray(), f.y().toDoubleArray(), what + ": y");
                        assertArrayEquals(t.mean().toDoubleArray(), f.mean().toDoubleArray(), what + ": mean");
                        assertArrayEquals(t.variance().toDoubleArray(), f.variance().toDoubleArray(), what + ": variance");

                        BatchNormKernels.Grads fg = K.trainingBackward(dy, x, scale, f.mean(), f.variance(), f.affine(), EPS, act);
                        Tensor g = EW.unaryGrad(unary(act), t.y(), y, dy);
                        BatchNormKernels.Grads bg = BN.trainingBackward(g, x, scale, t.mean(), t.variance(), EPS);
                        Close.assertClose(bg.dx(), fg.dx(), 1e-6, what + ": dx");
                        Close.assertClose(bg.dscale(), fg.dscale(), 1e-6, what + ": dscale");
                        Close.assertClose(bg.doffset(), fg.doffset(), 1e-6, what + ": doffset");
                    });
                }
            }
        }
    }

    @Test
    void float32MatchesFloat64() {
        leakFree(() -> {
            Tensor x = rand(11, DType.FLOAT32, -3, 5, 4, 9, 7, 24);
            Tensor scale = rand(12, DType.FLOAT32, 0.5, 3, 24), offset = rand(13, DType.FLOAT32, -1, 4, 24);
            Tensor dy = rand(14, DType.FLOAT32, -1, 1, 4, 9, 7, 24);
            FusedBatchNormKernels.Training f = K.trainingForward(x, scale, offset, EPS, Activation.RELU6);
            FusedBatchNormKernels.Training d = K.trainingForward(x.cast(DType.FLOAT64), scale.cast(DType.FLOAT64),
                    offset.cast(DType.FLOAT64), EPS, Activation.RELU6);
            Close.assertClose(d.y(), f.y(), 1e-5, "y");
            BatchNormKernels.Grads fg = K.trainingBackward(dy, x, scale, f.mean(), f.variance(), f.affine(), EPS, Activation.RELU6);
            BatchNormKernels.Grads dg = K.trainingBackward(dy.cast(DType.FLOAT64), x.cast(DType.FLOAT64), scale.cast(DType.FLOAT64),
                    d.mean(), d.variance(), d.affine(), EPS, Activation.RELU6);
            Close.assertClose(dg.dx(), fg.dx(), 1e-5, "dx");
            Close.assertClose(dg.dscale(), fg.dscale(), 1e-5, "dscale");
            Close.assertClose(dg.doffset(), fg.doffset(), 1e-5, "doffset");
        });
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        for (Activation act : List.of(Activation.RELU, Activation.RELU6)) {
            leakFree(() -> {
                Tensor x = rand(20, DType.FLOAT64, -2, 3, 2, 3, 2, 5);
                Tensor scale = rand(21, DType.FLOAT64, 1, 5, 5), offset = rand(22, DType.FLOAT64, 0, 4, 5);
                Tensor w = rand(23, DType.FLOAT64, -1, 1, 2, 3, 2, 5);
                java.util.function.DoubleSupplier loss = () -> {
                    FusedBatchNormKernels.Training t = K.trainingForward(x, scale, offset, EPS, act);
                    t.mean().close();
                    t.variance().close();
                    t.affine().close();
                    return dot(t.y(), w);
                };
                FusedBatchNormKernels.Training fwd = K.trainingForward(x, scale, offset, EPS, act);
                BatchNormKernels.Grads g = K.trainingBackward(w, x, scale, fwd.mean(), fwd.variance(), fwd.affine(), EPS, act);
                Close.assertClose(numericGrad(x, loss), g.dx().toDoubleArray(), 1e-6, act + " dx fd");
                Close.assertClose(numericGrad(scale, loss), g.dscale().toDoubleArray(), 1e-6, act + " dscale fd");
                Close.assertClose(numericGrad(offset, loss), g.doffset().toDoubleArray(), 1e-6, act + " doffset fd");
            });
        }
    }

    @Test
    void badAffineIsReported() {
        leakFree(() -> {
            Tensor x = rand(30, DType.FLOAT32, -1, 1, 2, 4, 8);
            Tensor dy = rand(31, DType.FLOAT32, -1, 1, 2, 4, 8);
            FusedBatchNormKernels.Training t = K.trainingForward(x, null, null, EPS, Activation.RELU);
            assertMessage(() -> K.trainingBackward(dy, x, null, t.mean(), t.variance(), t.mean(), EPS, Activation.RELU),
                    "fusedBatchNorm trainingBackward", "affine", "[4, 8]", "[8]");
            assertMessage(() -> K.trainingForward(x, null, null, EPS, null), "fusedBatchNorm trainingForward", "activation");
        });
    }

    @Test
    void registeredInCpuBackend() {
        assertInstanceOf(FusedBatchNormCpu.class, K);
    }
}
