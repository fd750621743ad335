package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

class DepthwiseConv2dCpuTest {
    private final DepthwiseConvKernels k = new DepthwiseConv2dCpu();

    /** Input n x h x w x c, filter kh x kw x c x m. */
    record Geo(int n, int h, int w, int c, int kh, int kw, int m, int sh, int sw, int dh, int dw, Padding pad) {
        Conv2dSpec spec() {
            return new Conv2dSpec(sh, sw, dh, dw, pad);
        }

        int outH() {
            return pad.window(h, kh, sh, dh).outSize();
        }

        int outW() {
            return pad.window(w, kw, sw, dw).outSize();
        }

        @Override
        public String toString() {
            return "in " + n + "x" + h + "x" + w + "x" + c + ", filter " + kh + "x" + kw + " m=" + m
                    + ", stride " + sh + "," + sw + ", dilation " + dh + "," + dw + ", " + pad;
        }
    }

    private static final List<Geo> GEOMETRIES = List.of(
            new Geo(2, 9, 7, 3, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),
            new Geo(2, 8, 10, 3, 3, 3, 2, 2, 2, 1, 1, Padding.SAME),      // stride 2 SAME even, M=2
            new Geo(3, 9, 7, 4, 3, 3, 2, 2, 2, 1, 1, Padding.SAME),       // stride 2 SAME odd, M=2
            new Geo(2, 16, 15, 5, 7, 7, 1, 2, 2, 1, 1, Padding.SAME),     // 7x7 s2
            new Geo(2, 11, 13, 6, 1, 7, 1, 1, 1, 1, 1, Padding.SAME),     // 1x7
            new Geo(2, 13, 11, 6, 7, 1, 2, 1, 1, 1, 1, Padding.SAME),     // 7x1
            new Geo(2, 9, 8, 3, 3, 3, 2, 1, 1, 2, 2, Padding.SAME),       // dilation 2
            new Geo(2, 12, 11, 4, 3, 3, 1, 2, 2, 2, 2, Padding.VALID),    // dilation 2, stride 2, VALID
            new Geo(2, 6, 5, 37, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),      // vector body + tail over channels
            new Geo(2, 5, 6, 20, 3, 3, 3, 1, 2, 1, 1, Padding.SAME),      // C*M = 60
            new Geo(2, 23, 21, 16, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),    // many parallel rows
            new Geo(1, 9, 11, 8, 5, 3, 2, 3, 2, 1, 2, Padding.VALID),
            // 3x3 ring paths (strides 1 and 2, two-row filter gradient, stride-2 input gradient) at
            // their borders: even / odd sizes, SAME / VALID, tiny images, channel tails.
            new Geo(2, 12, 10, 32, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),    // even sizes: pad bottom/right only
            new Geo(2, 11, 13, 32, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),    // odd sizes: pad on both sides
            new Geo(2, 12, 9, 16, 3, 3, 1, 2, 2, 1, 1, Padding.VALID),
            new Geo(1, 11, 10, 48, 3, 3, 1, 2, 2, 1, 1, Padding.VALID),
            new Geo(2, 9, 14, 24, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),     // 24 channels: an odd number of vectors
            new Geo(2, 10, 9, 8, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),      // one channel vector
            new Geo(1, 13, 12, 16, 3, 3, 1, 3, 3, 1, 1, Padding.SAME),    // stride 3
            new Geo(2, 8, 9, 32, 3, 3, 1, 2, 1, 1, 1, Padding.SAME),      // unequal strides
            new Geo(2, 9, 11, 16, 3, 3, 1, 2, 2, 2, 2, Padding.SAME),     // stride 2 with dilation 2
            new Geo(2, 10, 10, 16, 3, 3, 1, 1, 1, 2, 2, Padding.VALID),   // dilation 2, stride 1
            new Geo(3, 1, 1, 16, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),      // tiny images
            new Geo(2, 2, 2, 32, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),
            new Geo(2, 3, 3, 16, 3, 3, 1, 2, 2, 1, 1, Padding.VALID),
            new Geo(2, 2, 3, 8, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),
            new Geo(2, 4, 5, 5, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),       // odd channels: scalar tails
            new Geo(2, 7, 6, 21, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),      // vectors + scalar tail, stride 2
            new Geo(2, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),      // MobileNet's last block shape, small
            new Geo(1, 14, 14, 32, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),
            new Geo(3, 26, 23, 16, 3, 3, 1, 2, 2, 1, 1, Padding.SAME));   // many parallel rows, stride 2

    private static Tensor random32(long seed, int... dims) {
        return Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), -1, 1);
    }

    // ---- float32 fast path vs float64 reference -------------------------------------------------

    @Test
    void float32MatchesFloat64Reference() {
        long seed = 21;
        for (Geo g : GEOMETRIES) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = random32(seed++, g.n, g.h, g.w, g.c);
                Tensor f = random32(seed++, g.kh, g.kw, g.c, g.m);
                Tensor dy = random32(seed++, g.n, g.outH(), g.outW(), g.c * g.m);
                Tensor x64 = x.cast(DType.FLOAT64);
                Tensor f64 = f.cast(DType.FLOAT64);
                Tensor dy64 = dy.cast(DType.FLOAT64);

                Tensor y = k.depthwiseConv2d(x, f, g.spec());
                Tensor y64 = k.depthwiseConv2d(x64, f64, g.spec());
                assertEquals(DType.FLOAT32, y.dtype());
                assertEquals(DType.FLOAT64, y64.dtype());
                Close.assertClose(y64, y, 1e-5, "depthwise " + g);

                Tensor dx = k.depthwiseConv2dBackpropInput(x.shape(), f, dy, g.spec());
                Tensor dx64 = k.depthwiseConv2dBackpropInput(x.shape(), f64, dy64, g.spec());
                Close.assertClose(dx64, dx, 1e-5, "backprop input " + g);

                Tensor dw = k.depthwiseConv2dBackpropFilter(x, f.shape(), dy, g.spec());
                Tensor dw64 = k.depthwiseConv2dBackpropFilter(x64, f.shape(), dy64, g.spec());
                Close.assertClose(dw64, dw, 1e-5, "backprop filter " + g);
                assertTrue(Close.maxAbs(y64.toDoubleArray()) > 0.1 && Close.maxAbs(dx64.toDoubleArray()) > 0.1, "non-trivial data");
            }
        }
    }

    @Test
    void float64ReferenceMatchesHandComputedValues() {
        // 1x2x2x2 input, 2x2 filter with M=2, VALID: one output pixel with 4 channels c*M+m.
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = Tensor.of(new double[] {1, 10, 2, 20, 3, 30, 4, 40}, 1, 2, 2, 2);
            double[] fv = new double[16];
            for (int i = 0; i < 16; i++) fv[i] = i + 1;   // index ((ky*2+kx)*2+c)*2+m
            Tensor f = Tensor.of(fv, 2, 2, 2, 2);
            Tensor y = k.depthwiseConv2d(x, f, Conv2dSpec.of(1, Padding.VALID));
            double[] expected = new double[4];
            double[][] xs = {{1, 2, 3, 4}, {10, 20, 30, 40}};
            for (int c = 0; c < 2; c++) {
                for (int m = 0; m < 2; m++) {
                    for (int tap = 0; tap < 4; tap++) expected[c * 2 + m] += xs[c][tap] * fv[(tap * 2 + c) * 2 + m];
                }
            }
            Close.assertClose(expected, y.toDoubleArray(), 1e-12, "hand-computed depthwise");
            Tensor y32 = k.depthwiseConv2d(x.cast(DType.FLOAT32), f.cast(DType.FLOAT32), Conv2dSpec.of(1, Padding.VALID));
            Close.assertClose(expected, y32.toDoubleArray(), 1e-6, "hand-computed depthwise, float32");
        }
    }

    @Test
    void inputViewsWithOffsetAreRespected() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor big = random32(5, 4, 7, 6, 3);
            Tensor x = big.slice0(1, 3);
            Tensor xCopy = x.copy();
            Tensor f = random32(6, 3, 3, 3, 2);
            Conv2dSpec spec = Conv2dSpec.of(2, Padding.SAME);
            Close.assertClose(k.depthwiseConv2d(xCopy, f, spec), k.depthwiseConv2d(x, f, spec), 0, "forward on a view");
            Tensor dy = random32(7, 2, 4, 3, 6);
            Tensor dyBig = random32(8, 3, 4, 3, 6);
            dyBig.slice0(1, 3).copyFrom(dy);
            Tensor dyView = dyBig.slice0(1, 3);
            Close.assertClose(k.depthwiseConv2dBackpropFilter(xCopy, f.shape(), dy, spec),
                    k.depthwiseConv2dBackpropFilter(x, f.shape(), dyView, spec), 0, "backprop filter on views");
            Close.assertClose(k.depthwiseConv2dBackpropInput(x.shape(), f, dy, spec),
                    k.depthwiseConv2dBackpropInput(x.shape(), f, dyView, spec), 0, "backprop input on a view");
        }
    }

    // ---- finite differences -----------------------------------------------------------------

    /** sum(depthwise(x, w) * g), whose gradients are exactly the two backprops with upstream gradient g. */
    private double objective(Tensor x, Tensor w, Tensor g, Conv2dSpec spec) {
        try (Tensor y = k.depthwiseConv2d(x, w, spec)) {
            double[] a = y.toDoubleArray();
            double[] b = g.toDoubleArray();
            double s = 0;
            for (int i = 0; i < a.length; i++) s += a[i] * b[i];
            return s;
        }
    }

    /** Central differences; the objective is linear in each argument, so only rounding error remains. */
    private static double[] numericGradient(Tensor vary, DoubleSupplier f) {
        double[] data = vary.doubleData();
        int off = vary.offset();
        double eps = 1e-3;
        double[] grad = new double[vary.numel()];
        for (int i = 0; i < grad.length; i++) {
            double v = data[off + i];
            data[off + i] = v + eps;
            double fp = f.getAsDouble();
            data[off + i] = v - eps;
            double fm = f.getAsDouble();
            data[off + i] = v;
            grad[i] = (fp - fm) / (2 * eps);
        }
        return grad;
    }

    @Test
    void backpropMatchesFiniteDifferences() {
        List<Geo> tiny = List.of(
                new Geo(2, 5, 4, 2, 3, 2, 2, 2, 2, 1, 1, Padding.SAME),
                new Geo(2, 6, 5, 2, 3, 3, 2, 1, 1, 2, 2, Padding.SAME),
                new Geo(1, 7, 8, 3, 3, 2, 1, 2, 3, 2, 2, Padding.VALID));
        long seed = 200;
        for (Geo geo : tiny) {
            try (TensorScope scope = TensorScope.open()) {
                Conv2dSpec spec = geo.spec();
                Tensor x = Tensor.randomUniform(seed++, DType.FLOAT64, Shape.of(geo.n, geo.h, geo.w, geo.c), -1, 1);
                Tensor w = Tensor.randomUniform(seed++, DType.FLOAT64, Shape.of(geo.kh, geo.kw, geo.c, geo.m), -1, 1);
                Tensor g = Tensor.randomUniform(seed++, DType.FLOAT64, Shape.of(geo.n, geo.outH(), geo.outW(), geo.c * geo.m), -1, 1);
                double[] dxNum = numericGradient(x, () -> objective(x, w, g, spec));
                double[] dwNum = numericGradient(w, () -> objective(x, w, g, spec));
                Close.assertClose(dxNum, k.depthwiseConv2dBackpropInput(x.shape(), w, g, spec).toDoubleArray(), 1e-8, "d/dx " + geo);
                Close.assertClose(dwNum, k.depthwiseConv2dBackpropFilter(x, w.shape(), g, spec).toDoubleArray(), 1e-8, "d/dw " + geo);
            }
        }
    }

    // ---- TensorFlow golden cases ------------------------------------------------------------

    @TestFactory
    List<DynamicTest> goldenCases() {
        List<String> names = Conv2dCpuTest.caseNames("depthwise_");
        assertTrue(names.size() >= 12, "expected the 12 depthwise golden cases, found " + names);
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : names) tests.add(DynamicTest.dynamicTest(name, () -> runGolden(name)));
        return tests;
    }

    private void runGolden(String name) {
        String json = Conv2dCpuTest.caseJson(name);
        String op = Conv2dCpuTest.jsonString(json, "op");
        Conv2dSpec spec = Conv2dCpuTest.caseSpec(json);
        try (TensorScope scope = TensorScope.open()) {
            Tensor expected = GoldenData.opTensor(name, "out_output.npy");
            Tensor ref64 = GoldenData.opTensor(name, "ref64_output.npy");
            Tensor got;
            Tensor got64;
            switch (op) {
                case "DepthwiseConv2dNative" -> {
                    Tensor x = GoldenData.opTensor(name, "in_input.npy");
                    Tensor f = GoldenData.opTensor(name, "in_filter.npy");
                    got = k.depthwiseConv2d(x, f, spec);
                    got64 = k.depthwiseConv2d(x.cast(DType.FLOAT64), f.cast(DType.FLOAT64), spec);
                }
                case "DepthwiseConv2dNativeBackpropInput" -> {
                    Shape inShape = Conv2dCpuTest.sizes(GoldenData.opTensor(name, "in_input_sizes.npy"));
                    Tensor f = GoldenData.opTensor(name, "in_filter.npy");
                    Tensor dy = GoldenData.opTensor(name, "in_out_backprop.npy");
                    got = k.depthwiseConv2dBackpropInput(inShape, f, dy, spec);
                    got64 = k.depthwiseConv2dBackpropInput(inShape, f.cast(DType.FLOAT64), dy.cast(DType.FLOAT64), spec);
                }
                case "DepthwiseConv2dNativeBackpropFilter" -> {
                    Tensor x = GoldenData.opTensor(name, "in_input.npy");
                    Shape fShape = Conv2dCpuTest.sizes(GoldenData.opTensor(name, "in_filter_sizes.npy"));
                    Tensor dy = GoldenData.opTensor(name, "in_out_backprop.npy");
                    got = k.depthwiseConv2dBackpropFilter(x, fShape, dy, spec);
                    got64 = k.depthwiseConv2dBackpropFilter(x.cast(DType.FLOAT64), fShape, dy.cast(DType.FLOAT64), spec);
                }
                default -> throw new AssertionError(name + ": unexpected op " + op);
            }
            assertEquals(DType.FLOAT32, got.dtype());
            Close.assertClose(expected, got, 1e-5, name + " float32 vs TF");
            Close.assertClose(ref64, got64, 1e-10, name + " float64 vs TF float64");
            System.out.printf("golden %-42s max|out|=%.3g  f32 err=%.3g  f64 err=%.3g%n", name,
                    Close.maxAbs(expected.toDoubleArray()),
                    Close.maxAbsDiff(expected.toDoubleArray(), got.toDoubleArray()),
                    Close.maxAbsDiff(ref64.toDoubleArray(), got64.toDoubleArray()));
        }
    }

    // ---- bad arguments ----------------------------------------------------------------------

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    @Test
    void badShapesAndDtypesAreReported() {
        try (TensorScope scope = TensorScope.open()) {
            Conv2dSpec s1 = Conv2dSpec.of(1, Padding.SAME);
            Tensor x = Tensor.zeros(DType.FLOAT32, Shape.of(2, 8, 8, 3));
            Tensor f = Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 4, 2));
            Tensor f3 = Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 3, 2));
            assertMessage(() -> k.depthwiseConv2d(x, f, s1), "depthwise_conv2d", "filter in-channels 4 != input channels 3",
                    "[2, 8, 8, 3]", "[3, 3, 4, 2]");
            assertMessage(() -> k.depthwiseConv2d(Tensor.zeros(DType.FLOAT32, Shape.of(8, 8, 3)), f3, s1), "depthwise_conv2d", "input", "[8, 8, 3]");
            assertMessage(() -> k.depthwiseConv2d(x, f3.cast(DType.FLOAT64), s1), "depthwise_conv2d", "FLOAT32", "FLOAT64");
            assertMessage(() -> k.depthwiseConv2d(x.cast(DType.INT64), f3.cast(DType.INT64), s1), "depthwise_conv2d", "INT64");
            assertMessage(() -> k.depthwiseConv2d(x, Tensor.zeros(DType.FLOAT32, Shape.of(3, 9, 3, 1)), Conv2dSpec.of(1, Padding.VALID)),
                    "depthwise_conv2d", "[2, 8, 8, 3]", "[3, 9, 3, 1]");

            Tensor dy = Tensor.zeros(DType.FLOAT32, Shape.of(2, 8, 8, 6));
            assertMessage(() -> k.depthwiseConv2dBackpropInput(x.shape(), f3, Tensor.zeros(DType.FLOAT32, Shape.of(2, 8, 8, 3)), s1),
                    "depthwise_conv2d_backprop_input", "out_backprop", "[2, 8, 8, 3]", "[2, 8, 8, 6]");
            assertMessage(() -> k.depthwiseConv2dBackpropInput(x.shape(), f, dy, s1), "depthwise_conv2d_backprop_input",
                    "in-channels 4 != input channels 3");
            assertMessage(() -> k.depthwiseConv2dBackpropInput(x.shape(), f3, dy.cast(DType.FLOAT64), s1),
                    "depthwise_conv2d_backprop_input", "FLOAT64");
            assertMessage(() -> k.depthwiseConv2dBackpropFilter(x, Shape.of(3, 3, 3, 1), dy, s1), "depthwise_conv2d_backprop_filter",
                    "out_backprop", "[2, 8, 8, 6]", "[2, 8, 8, 3]");
            assertMessage(() -> k.depthwiseConv2dBackpropFilter(x, Shape.of(3, 3, 4, 2), dy, s1), "depthwise_conv2d_backprop_filter",
                    "in-channels 4 != input channels 3");
            assertMessage(() -> k.depthwiseConv2dBackpropFilter(x, Shape.of(3, 3, 3, 2, 1), dy, s1), "depthwise_conv2d_backprop_filter",
                    "filter_sizes", "[3, 3, 3, 2, 1]");
        }
    }

    /**
     * The float32 input gradient does not zero dx: each path (unit stride, the stride-2 ring, and
     * the gather loops with M = 2, whose last VALID column has no taps) gets a recycled array full
     * of NaN (dx is large enough for the CPU pool, which hands out the array released last) and
     * must overwrite all of it.
     */
    @Test
    void inputGradientOverwritesARecycledArray() {
        long seed = 77;
        for (Geo g : List.of(new Geo(2, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),
                new Geo(2, 16, 16, 32, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),
                new Geo(2, 16, 16, 32, 3, 3, 2, 2, 2, 1, 1, Padding.VALID))) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor f = random32(seed++, g.kh, g.kw, g.c, g.m);
                Tensor dy = random32(seed++, g.n, g.outH(), g.outW(), g.c * g.m);
                Shape xShape = Shape.of(g.n, g.h, g.w, g.c);
                Tensor expected = k.depthwiseConv2dBackpropInput(xShape, f.cast(DType.FLOAT64), dy.cast(DType.FLOAT64), g.spec());
                Tensor.fill(Float.NaN, g.n, g.h, g.w, g.c).close();
                Tensor dx = k.depthwiseConv2dBackpropInput(xShape, f, dy, g.spec());
                Close.assertClose(expected, dx, 1e-5, "backprop input into a recycled array, " + g);
            }
        }
    }

    // ---- memory -----------------------------------------------------------------------------

    @Test
    void leavesNoMemoryAllocated() {
        long before = CpuDevice.INSTANCE.liveBytes();
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (Geo g : List.of(GEOMETRIES.get(1), GEOMETRIES.get(10))) {
                Tensor x = Tensor.randomUniform(1, t, Shape.of(g.n, g.h, g.w, g.c), -1, 1);
                Tensor f = Tensor.randomUniform(2, t, Shape.of(g.kh, g.kw, g.c, g.m), -1, 1);
                Tensor y = k.depthwiseConv2d(x, f, g.spec());
                Tensor dx = k.depthwiseConv2dBackpropInput(x.shape(), f, y, g.spec());
                Tensor dw = k.depthwiseConv2dBackpropFilter(x, f.shape(), y, g.spec());
                assertEquals(t, dx.dtype());
                assertEquals(t, dw.dtype());
                for (Tensor z : List.of(x, f, y, dx, dw)) z.close();
            }
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }

    @Test
    void registeredInCpuBackend() {
        assertTrue(CpuBackend.INSTANCE.kernels(DepthwiseConvKernels.class) instanceof DepthwiseConv2dCpu);
    }
}
