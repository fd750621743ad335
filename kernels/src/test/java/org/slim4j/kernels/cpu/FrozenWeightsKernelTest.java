package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.FrozenWeights;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.Tensor;

/**
 * Kernels with frozen weights ({@link FrozenWeights}) give the same bits as without, on every path
 * that keeps a prepared form: Winograd F(2x2, 3x3), F(4x4, 3x3) and F(2x2, 5x5) filters, implicit-GEMM filter
 * panels, im2col and pointwise GEMM panels, the fused inference convolution and matmul's packed
 * weights (short and long M); a second call reuses the form, and a weight overwritten while frozen
 * is prepared again.
 */
class FrozenWeightsKernelTest {
    private final Conv2dCpu conv = new Conv2dCpu();
    private final FusedConv2dCpu fused = new FusedConv2dCpu();
    private final MatMulCpu mm = new MatMulCpu();

    /** Runs op unfrozen, frozen twice, then with the weight overwritten while frozen; all must match the unfrozen bits. */
    private static void sameBits(String what, Tensor weight, Supplier<Tensor> op, boolean keepsAForm) {
        float[] plain = result(op);
        try (FrozenWeights frozen = FrozenWeights.freeze(List.of(weight))) {
            long prepared0 = FrozenWeights.counters()[0];
            assertArrayEquals(plain, result(op), what + ": frozen");
            long prepared1 = FrozenWeights.counters()[0];
            assertEquals(keepsAForm ? 1 : 0, prepared1 - prepared0, what + ": forms prepared by the first frozen call");
            assertArrayEquals(plain, result(op), what + ": frozen, form reused");
            assertEquals(prepared1, FrozenWeights.counters()[0], what + ": the second call prepared nothing");
            // A checkpoint restored while frozen: the form is prepared again from the new values.
            float[] w = weight.floatData();
            for (int i = 0; i < weight.numel(); i++) w[weight.offset() + i] = -0.5f * w[weight.offset() + i] + 0.01f;
            float[] changed = result(op);
            frozen.close();
            assertArrayEquals(result(op), changed, what + ": after the weight changed");
        }
        assertEquals(0, FrozenWeights.preparedFloats(), what + ": forms left after the scope closed");
    }

    private static float[] result(Supplier<Tensor> op) {
        try (Tensor t = op.get()) {
            return t.toFloatArray();
        }
    }

    private void convCase(String what, int n, int h, int w, int c, int k, int cout, int stride, boolean keepsAForm) {
        try (Tensor x = Tensor.randomUniform(11, -1, 1, n, h, w, c);
             Tensor f = Tensor.randomUniform(12, -1, 1, k, k, c, cout);
             Tensor scale = Tensor.randomUniform(13, 0.5, 1.5, cout);
             Tensor shift = Tensor.randomUniform(14, -1, 1, cout)) {
            Conv2dSpec spec = Conv2dSpec.of(stride, Padding.SAME);
            sameBits(what, f, () -> conv.conv2d(x, f, spec), keepsAForm);
            sameBits(what + ", fused inference", f, () -> fused.conv2dScaleShift(x, f, scale, shift, spec, Activation.RELU), keepsAForm);
        }
    }

    @Test
    void convolutionPathsGiveTheSameBitsFrozen() {
        convCase("winograd 2x2 3x3 (16x16 maps)", 2, 16, 16, 16, 3, 24, 1, true);
        convCase("winograd 4x4 3x3 (28x28 maps)", 1, 28, 28, 16, 3, 16, 1, true);
        convCase("winograd 5x5 (LeNet's conv2)", 2, 14, 14, 32, 5, 64, 1, true);
        convCase("implicit gemm (3 channels)", 2, 11, 9, 3, 3, 20, 1, true);
        convCase("im2col gemm (strided, 80 channels)", 2, 15, 13, 8, 3, 80, 2, true);
        convCase("pointwise gemm", 2, 12, 11, 40, 1, 37, 1, true);
    }

    @Test
    void matmulWithAFrozenWeightGivesTheSameBits() {
        for (int m : new int[] {64, 200, 3}) {
            try (Tensor x = Tensor.randomUniform(21, -1, 1, m, 300);
                 Tensor wt = Tensor.randomUniform(22, -1, 1, 300, 1000)) {
                // m = 3 takes the skinny path, which streams the weight and keeps nothing.
                sameBits("matmul m=" + m, wt, () -> mm.matmul(x, wt, false, false), m > 8);
            }
        }
    }

    @Test
    void aTransposedOrUnfrozenOperandIsNeverKept() {
        try (Tensor x = Tensor.randomUniform(31, -1, 1, 64, 300);
             Tensor wt = Tensor.randomUniform(32, -1, 1, 1000, 300);
             Tensor other = Tensor.randomUniform(33, -1, 1, 300, 1000);
             FrozenWeights frozen = FrozenWeights.freeze(List.of(wt))) {
            long prepared = FrozenWeights.counters()[0];
            mm.matmul(x, wt, false, true).close();   // the frozen weight transposed: packed as usual
            mm.matmul(x, other, false, false).close();  // not frozen
            assertEquals(prepared, FrozenWeights.counters()[0]);
            assertTrue(FrozenWeights.preparedFloats() == 0);
        }
    }
}
