package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/**
 * The vectorised float32 batch-norm reductions at sizes where they split into several parallel
 * blocks and many 32-row float runs, with and without a channel tail, against the float64
 * reference; and a mean far from zero (|mean| / std = 10^4), where a one-pass variance without the
 * per-channel shift would lose every significant digit.
 */
class BatchNormFastPathTest {
    private final BatchNormKernels k = new BatchNormCpu();

    /**
     * Statistics and gradient sums within {@code tol}; y and dx within {@code tolY}, which must
     * allow for the float32 rounding of the mean itself (half an ulp of |mean|, divided by std).
     */
    private void compare(int[] dims, double lo, double hi, double tol, double tolY) {
        try (TensorScope scope = TensorScope.open()) {
            int c = dims[dims.length - 1];
            Tensor x = Tensor.randomUniform(11, DType.FLOAT32, Shape.of(dims), lo, hi);
            Tensor dy = Tensor.randomUniform(12, DType.FLOAT32, Shape.of(dims), -1, 1);
            Tensor scale = Tensor.randomUniform(13, DType.FLOAT32, Shape.of(c), 0.5, 2);
            Tensor offset = Tensor.randomUniform(14, DType.FLOAT32, Shape.of(c), -1, 1);
            Tensor x64 = x.cast(DType.FLOAT64);
            Tensor dy64 = dy.cast(DType.FLOAT64);
            Tensor scale64 = scale.cast(DType.FLOAT64);
            Tensor offset64 = offset.cast(DType.FLOAT64);
            String what = java.util.Arrays.toString(dims) + " values in [" + lo + ", " + hi + "]";

            BatchNormKernels.Training t = k.trainingForward(x, scale, offset, 1e-3f);
            BatchNormKernels.Training t64 = k.trainingForward(x64, scale64, offset64, 1e-3f);
            Close.assertClose(t64.mean(), t.mean(), tol, "mean " + what);
            Close.assertClose(t64.variance(), t.variance(), tol, "variance " + what);
            Close.assertClose(t64.y(), t.y(), tolY, "y " + what);

            // Backward with the same (float32-representable) statistics on both sides, so only the
            // arithmetic differs.
            Tensor mean32 = t64.mean().cast(DType.FLOAT32);
            Tensor var32 = t64.variance().cast(DType.FLOAT32);
            BatchNormKernels.Grads g = k.trainingBackward(dy, x, scale, mean32, var32, 1e-3f);
            BatchNormKernels.Grads g64 = k.trainingBackward(dy64, x64, scale64, mean32.cast(DType.FLOAT64), var32.cast(DType.FLOAT64), 1e-3f);
            Close.assertClose(g64.dx(), g.dx(), tolY, "training dx " + what);
            Close.assertClose(g64.dscale(), g.dscale(), tol, "training dscale " + what);
            Close.assertClose(g64.doffset(), g.doffset(), tol, "training doffset " + what);

            Tensor y = k.inferenceForward(x, scale, offset, t.mean(), t.variance(), 1e-3f);
            Tensor y64 = k.inferenceForward(x64, scale64, offset64, t.mean().cast(DType.FLOAT64), t.variance().cast(DType.FLOAT64), 1e-3f);
            Close.assertClose(y64, y, tolY, "inference y " + what);
            BatchNormKernels.Grads gi = k.inferenceBackward(dy, x, scale, t.mean(), t.variance(), 1e-3f);
            BatchNormKernels.Grads gi64 = k.inferenceBackward(dy64, x64, scale64, t.mean().cast(DType.FLOAT64), t.variance().cast(DType.FLOAT64), 1e-3f);
            Close.assertClose(gi64.dx(), gi.dx(), tol, "inference dx " + what);
            Close.assertClose(gi64.dscale(), gi.dscale(), tol, "inference dscale " + what);
            Close.assertClose(gi64.doffset(), gi.doffset(), tol, "inference doffset " + what);
        }
    }

    @Test
    void manyBlocksAndRunsMatchFloat64() {
        compare(new int[] {4, 30, 30, 40}, -3, 5, 1e-5, 1e-5);     // 3600 rows: 8 blocks, 5 vectors, no tail
        compare(new int[] {3, 41, 17, 19}, -3, 5, 1e-5, 1e-5);     // 2091 rows, channel tail
        compare(new int[] {2, 9, 9, 1031}, -1, 1, 1e-5, 1e-5);     // wide channels, few rows per block
    }

    @Test
    void meanFarFromZeroKeepsTheVariance() {
        // std ~ 0.29, mean ~ 3000: sum(x^2) - M mean^2 in float would be pure rounding noise, and
        // x - mean with the mean rounded to float would be off by 4e-4 of a std.
        compare(new int[] {8, 20, 20, 24}, 3000, 3001, 1e-4, 1e-4);
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = Tensor.randomUniform(21, DType.FLOAT32, Shape.of(8, 20, 20, 24), 3000, 3001);
            double expected = 1.0 / 12;  // variance of U(0, 1)
            for (double v : k.trainingForward(x, null, null, 1e-3f).variance().toDoubleArray()) {
                assertTrue(Math.abs(v - expected) < 0.01, "variance " + v + " vs ~" + expected);
            }
        }
    }

    @Test
    void leavesNoMemoryAllocated() {
        long before = CpuDevice.INSTANCE.liveBytes();
        Tensor x = Tensor.randomUniform(1, DType.FLOAT32, Shape.of(4, 30, 30, 40), -1, 1);
        BatchNormKernels.Training t = k.trainingForward(x, null, null, 1e-3f);
        BatchNormKernels.Grads g = k.trainingBackward(x, x, null, t.mean(), t.variance(), 1e-3f);
        for (Tensor z : new Tensor[] {x, t.y(), t.mean(), t.variance(), g.dx(), g.dscale(), g.doffset()}) z.close();
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }
}
