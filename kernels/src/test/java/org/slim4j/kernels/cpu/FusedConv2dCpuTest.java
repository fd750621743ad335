package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

/**
 * The fused inference convolution: float32 against the float64 reference, the float64 reference
 * against the unfused composition conv2d -> batch norm (inference) -> relu of the golden-tested
 * kernels, every TensorFlow Conv2D golden case through the fused path, argument errors and memory.
 */
class FusedConv2dCpuTest {
    private final FusedConvKernels k = new FusedConv2dCpu();
    private final ConvKernels conv = new Conv2dCpu();
    private final BatchNormKernels bn = new BatchNormCpu();

    /** in n x h x w x c, filter kh x kw x c x cout, stride, dilation, padding. */
    private record Geo(int n, int h, int w, int c, int kh, int kw, int cout, int s, int d, Padding pad) {
        Conv2dSpec spec() {
            return new Conv2dSpec(s, s, d, d, pad);
        }
    }

    private static final List<Geo> GEOS = List.of(
            new Geo(2, 9, 7, 3, 3, 3, 5, 1, 1, Padding.SAME),
            new Geo(3, 19, 17, 24, 3, 3, 37, 1, 1, Padding.SAME),     // implicit GEMM: several blocks, ragged panel
            new Geo(3, 19, 17, 24, 3, 3, 80, 1, 1, Padding.SAME),     // im2col GEMM: several M blocks, ragged N panels
            new Geo(2, 12, 11, 40, 1, 1, 21, 1, 1, Padding.VALID),    // pointwise
            new Geo(2, 15, 13, 8, 3, 3, 16, 2, 1, Padding.SAME),      // strided
            new Geo(1, 14, 12, 6, 5, 5, 9, 1, 2, Padding.VALID),      // dilated
            new Geo(2, 16, 15, 3, 7, 7, 6, 2, 1, Padding.SAME),       // stem-like
            // Winograd paths apply the epilogue per output pixel after each tile; odd sizes clip edge tiles.
            new Geo(2, 11, 9, 16, 3, 3, 32, 1, 1, Padding.SAME),      // F(2x2, 3x3)
            new Geo(1, 30, 29, 16, 3, 3, 32, 1, 1, Padding.SAME),     // F(4x4, 3x3)
            new Geo(2, 14, 14, 32, 5, 5, 64, 1, 1, Padding.SAME),     // F(2x2, 5x5) (LeNet's conv2)
            new Geo(1, 13, 11, 16, 5, 5, 16, 1, 1, Padding.SAME));    // F(2x2, 5x5), clipped tiles

    private static Tensor rnd(long seed, DType t, double lo, double hi, int... dims) {
        return Tensor.randomUniform(seed, t, Shape.of(dims), lo, hi);
    }

    @Test
    void float32MatchesFloat64Reference() {
        long seed = 5;
        for (Geo g : GEOS) {
            for (Activation act : Activation.values()) {
                try (TensorScope scope = TensorScope.open()) {
                    Tensor x = rnd(seed++, DType.FLOAT32, -1, 1, g.n, g.h, g.w, g.c);
                    Tensor f = rnd(seed++, DType.FLOAT32, -1, 1, g.kh, g.kw, g.c, g.cout);
                    Tensor scale = rnd(seed++, DType.FLOAT32, 0.2, 1.5, g.cout);
                    // A shift of the order of the outputs, so relu and relu6 clip a good share.
                    Tensor shift = rnd(seed++, DType.FLOAT32, -3, 8, g.cout);
                    for (Tensor[] ss : new Tensor[][] {{scale, shift}, {null, shift}, {scale, null}, {null, null}}) {
                        Tensor y = k.conv2dScaleShift(x, f, ss[0], ss[1], g.spec(), act);
                        Tensor x64 = x.cast(DType.FLOAT64);
                        Tensor f64 = f.cast(DType.FLOAT64);
                        Tensor sc64 = ss[0] == null ? null : ss[0].cast(DType.FLOAT64);
                        Tensor sh64 = ss[1] == null ? null : ss[1].cast(DType.FLOAT64);
                        Tensor y64 = k.conv2dScaleShift(x64, f64, sc64, sh64, g.spec(), act);
                        assertEquals(DType.FLOAT32, y.dtype());
                        // Errors come from the sums, so they scale with the output before relu6 clips it.
                        double preScale = Close.maxAbs(k.conv2dScaleShift(x64, f64, sc64, sh64, g.spec(), Activation.NONE).toDoubleArray());
                        double err = Close.maxAbsDiff(y64.toDoubleArray(), y.toDoubleArray());
                        assertTrue(err <= 1e-5 * Math.max(1, preScale), "fused " + g + " " + act + ": max abs error " + err
                                + " exceeds 1e-5 of the pre-activation scale " + preScale);
                        assertTrue(Close.maxAbs(y64.toDoubleArray()) > 0.1, "non-trivial output " + g);
                    }
                }
            }
        }
    }

    @Test
    void referenceEqualsConvThenBatchNormThenRelu() {
        long seed = 40;
        for (Geo g : GEOS) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = rnd(seed++, DType.FLOAT64, -1, 1, g.n, g.h, g.w, g.c);
                Tensor f = rnd(seed++, DType.FLOAT64, -1, 1, g.kh, g.kw, g.c, g.cout);
                Tensor gamma = rnd(seed++, DType.FLOAT64, 0.5, 1.5, g.cout);
                Tensor beta = rnd(seed++, DType.FLOAT64, -1, 1, g.cout);
                Tensor mean = rnd(seed++, DType.FLOAT64, -1, 1, g.cout);
                Tensor var = rnd(seed++, DType.FLOAT64, 0.5, 2, g.cout);
                float eps = 1e-3f;
                Tensor unfused = bn.inferenceForward(conv.conv2d(x, f, g.spec()), gamma, beta, mean, var, eps);
                double[] expected = unfused.toDoubleArray();
                for (int i = 0; i < expected.length; i++) expected[i] = Math.max(0, expected[i]);
                double[] sc = new double[g.cout];
                double[] sh = new double[g.cout];
                for (int co = 0; co < g.cout; co++) {
                    sc[co] = gamma.toDoubleArray()[co] / Math.sqrt(var.toDoubleArray()[co] + eps);
                    sh[co] = beta.toDoubleArray()[co] - mean.toDoubleArray()[co] * sc[co];
                }
                Tensor y64 = k.conv2dScaleShift(x, f, Tensor.of(sc, g.cout), Tensor.of(sh, g.cout), g.spec(), Activation.RELU);
                Close.assertClose(expected, y64.toDoubleArray(), 1e-12, "fused float64 vs conv+bn+relu " + g);
                Tensor y32 = k.conv2dScaleShift(x.cast(DType.FLOAT32), f.cast(DType.FLOAT32), Tensor.of(sc, g.cout).cast(DType.FLOAT32),
                        Tensor.of(sh, g.cout).cast(DType.FLOAT32), g.spec(), Activation.RELU);
                Close.assertClose(expected, y32.toDoubleArray(), 1e-5, "fused float32 vs conv+bn+relu " + g);
            }
        }
    }

    /** Every TF Conv2D case through the fused kernel: identity epilogue, then a folded BN + relu6. */
    @TestFactory
    List<DynamicTest> goldenConvCases() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Conv2dCpuTest.caseNames("conv2d_")) {
            if (!Conv2dCpuTest.jsonString(Conv2dCpuTest.caseJson(name), "op").equals("Conv2D")) continue;
            tests.add(DynamicTest.dynamicTest(name, () -> runGolden(name)));
        }
        assertTrue(tests.size() >= 12, "expected the Conv2D forward golden cases, found " + tests.size());
        return tests;
    }

    private void runGolden(String name) {
        Conv2dSpec spec = Conv2dCpuTest.caseSpec(Conv2dCpuTest.caseJson(name));
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = GoldenData.opTensor(name, "in_input.npy");
            Tensor f = GoldenData.opTensor(name, "in_filter.npy");
            Tensor expected = GoldenData.opTensor(name, "out_output.npy");
            Close.assertClose(expected, k.conv2dScaleShift(x, f, null, null, spec, Activation.NONE), 1e-5, name + " identity");
            int cout = f.dim(3);
            Tensor scale = rnd(7, DType.FLOAT32, 0.5, 1.5, cout);
            Tensor shift = rnd(8, DType.FLOAT32, -1, 5, cout);
            double[] e = expected.toDoubleArray();
            double[] sc = scale.toDoubleArray();
            double[] sh = shift.toDoubleArray();
            for (int i = 0; i < e.length; i++) e[i] = Math.min(6, Math.max(0, e[i] * sc[i % cout] + sh[i % cout]));
            Tensor got = k.conv2dScaleShift(x, f, scale, shift, spec, Activation.RELU6);
            double err = Close.maxAbsDiff(e, got.toDoubleArray());
            Close.assertClose(e, got.toDoubleArray(), 1e-5, name + " scale/shift/relu6");
            System.out.printf("golden fused %-28s max|out|=%.3g err=%.3g%n", name, Close.maxAbs(e), err);
        }
    }

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void badArgumentsAreReported() {
        try (TensorScope scope = TensorScope.open()) {
            Conv2dSpec s = Conv2dSpec.of(1, Padding.SAME);
            Tensor x = Tensor.zeros(DType.FLOAT32, Shape.of(2, 8, 8, 3));
            Tensor f = Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 3, 8));
            Tensor c8 = Tensor.zeros(DType.FLOAT32, Shape.of(8));
            assertMessage(() -> k.conv2dScaleShift(x, Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 4, 8)), c8, c8, s, Activation.RELU),
                    "conv2d_scale_shift", "filter in-channels 4 != input channels 3", "[2, 8, 8, 3]", "[3, 3, 4, 8]");
            assertMessage(() -> k.conv2dScaleShift(x, f, Tensor.zeros(DType.FLOAT32, Shape.of(7)), c8, s, Activation.RELU),
                    "conv2d_scale_shift", "scale shape [7] != [8]", "[2, 8, 8, 3]");
            assertMessage(() -> k.conv2dScaleShift(x, f, c8, Tensor.zeros(DType.FLOAT32, Shape.of(8, 1)), s, Activation.RELU),
                    "conv2d_scale_shift", "shift shape [8, 1] != [8]");
            assertMessage(() -> k.conv2dScaleShift(x, f, c8.cast(DType.FLOAT64), c8, s, Activation.RELU),
                    "conv2d_scale_shift", "scale", "FLOAT64");
            assertMessage(() -> k.conv2dScaleShift(x.cast(DType.INT32), f.cast(DType.INT32), null, null, s, Activation.NONE),
                    "conv2d_scale_shift", "INT32");
            assertMessage(() -> k.conv2dScaleShift(x, f.cast(DType.FLOAT64), null, null, s, Activation.NONE),
                    "conv2d_scale_shift", "FLOAT32", "FLOAT64");
            assertMessage(() -> k.conv2dScaleShift(x, f, null, null, s, null), "conv2d_scale_shift", "activation");
        }
    }

    @Test
    void leavesNoMemoryAllocated() {
        long before = CpuDevice.INSTANCE.liveBytes();
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Geo g = GEOS.get(1);
            Tensor x = rnd(1, t, -1, 1, g.n, g.h, g.w, g.c);
            Tensor f = rnd(2, t, -1, 1, g.kh, g.kw, g.c, g.cout);
            Tensor sc = rnd(3, t, 0.5, 1, g.cout);
            Tensor y = k.conv2dScaleShift(x, f, sc, sc, g.spec(), Activation.RELU);
            for (Tensor z : List.of(x, f, sc, y)) z.close();
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }

    @Test
    void registeredInCpuBackend() {
        assertTrue(CpuBackend.INSTANCE.kernels(FusedConvKernels.class) instanceof FusedConv2dCpu);
    }
}
