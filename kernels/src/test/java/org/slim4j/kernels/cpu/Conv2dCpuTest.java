package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

class Conv2dCpuTest {
    private final ConvKernels k = new Conv2dCpu();

    /** One convolution geometry: input n x h x w x c, filter kh x kw x c x cout. */
    record Geo(int n, int h, int w, int c, int kh, int kw, int cout, int sh, int sw, int dh, int dw, Padding pad) {
        Conv2dSpec spec() {
            return new Conv2dSpec(sh, sw, dh, dw, pad);
        }

        @Override
        public String toString() {
            return "in " + n + "x" + h + "x" + w + "x" + c + ", filter " + kh + "x" + kw + "->" + cout
                    + ", stride " + sh + "," + sw + ", dilation " + dh + "," + dw + ", " + pad;
        }
    }

    private static final List<Geo> GEOMETRIES = List.of(
            new Geo(2, 9, 7, 3, 3, 3, 5, 1, 1, 1, 1, Padding.SAME),
            new Geo(2, 8, 10, 3, 3, 3, 4, 2, 2, 1, 1, Padding.SAME),      // stride 2 SAME, even: pad 0/1
            new Geo(3, 9, 7, 4, 3, 3, 5, 2, 2, 1, 1, Padding.SAME),       // stride 2 SAME, odd: pad 1/1
            new Geo(2, 16, 15, 3, 7, 7, 6, 2, 2, 1, 1, Padding.SAME),     // 7x7 s2
            new Geo(2, 11, 13, 5, 1, 7, 4, 1, 1, 1, 1, Padding.SAME),     // 1x7
            new Geo(2, 13, 11, 5, 7, 1, 4, 1, 1, 1, 1, Padding.SAME),     // 7x1
            new Geo(2, 9, 8, 3, 3, 3, 4, 1, 1, 2, 2, Padding.SAME),       // dilation 2
            new Geo(2, 11, 10, 3, 3, 3, 4, 1, 1, 2, 2, Padding.VALID),    // dilation 2 VALID
            new Geo(2, 13, 12, 3, 3, 2, 4, 2, 1, 2, 3, Padding.SAME),     // mixed stride / dilation
            new Geo(3, 5, 7, 6, 1, 1, 4, 1, 1, 1, 1, Padding.VALID),      // pointwise GEMM path
            new Geo(2, 7, 9, 6, 1, 1, 5, 2, 2, 1, 1, Padding.SAME),       // 1x1 stride 2
            new Geo(2, 9, 11, 4, 3, 3, 5, 2, 2, 1, 1, Padding.VALID),
            new Geo(1, 6, 5, 64, 3, 3, 17, 1, 1, 1, 1, Padding.SAME),     // wide K
            new Geo(2, 23, 21, 8, 3, 3, 16, 1, 1, 1, 1, Padding.SAME),    // many tiles and bands
            new Geo(3, 19, 17, 4, 5, 5, 7, 1, 1, 1, 1, Padding.SAME),     // tall bands (5x5)
            new Geo(1, 30, 4, 3, 3, 3, 2, 1, 1, 3, 1, Padding.SAME),      // batch 1, dilated rows
            // Implicit GEMM (kw * c >= 32, cout <= 64), forward and unit-stride input gradient:
            new Geo(3, 9, 11, 32, 5, 5, 20, 1, 1, 1, 1, Padding.SAME),    // LeNet-like, blocks across images
            new Geo(2, 13, 12, 16, 3, 3, 24, 2, 2, 1, 1, Padding.SAME),   // strided
            new Geo(2, 12, 13, 40, 3, 3, 8, 1, 1, 2, 2, Padding.VALID),   // dilated: one run per tap
            new Geo(1, 6, 7, 96, 3, 3, 33, 1, 1, 1, 1, Padding.SAME),     // runs split into K pieces, ragged panel
            new Geo(2, 7, 6, 12, 1, 5, 40, 1, 1, 1, 1, Padding.SAME),     // 1x5, padding on the width only
            new Geo(2, 10, 9, 1, 5, 5, 12, 1, 1, 1, 1, Padding.SAME),     // 1-channel stem: runs of 5
            new Geo(3, 40, 36, 21, 5, 5, 8, 1, 1, 1, 1, Padding.SAME),    // K 525 > 512, few channels, many pixels: sliced filter gradient
            new Geo(1, 32, 32, 8, 1, 1, 520, 1, 1, 1, 1, Padding.SAME),   // partials > 2x the input: whole-GEMM filter gradient
            // Implicit-GEMM filter gradient (K > 512, kernel-row runs of whole 16-value panels, cout <= 64):
            new Geo(2, 15, 13, 32, 5, 5, 16, 2, 2, 1, 1, Padding.SAME),   // strided, padded
            new Geo(2, 11, 10, 64, 3, 3, 12, 1, 1, 2, 2, Padding.VALID),  // dilated: a run per tap
            // Short-run paths on a one-pixel-wide, one-channel image: a padded row is a single float,
            // so the vector copies' overrun must find slack past the last image.
            new Geo(2, 5, 1, 1, 3, 1, 4, 1, 1, 1, 1, Padding.SAME));

    private static Tensor random32(long seed, int... dims) {
        return Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), -1, 1);
    }

    // ---- float32 fast path vs float64 reference -------------------------------------------------

    @Test
    void float32MatchesFloat64Reference() {
        long seed = 11;
        for (Geo g : GEOMETRIES) {
            try (TensorScope scope = TensorScope.open()) {
                Padding.Window wy = g.pad.window(g.h, g.kh, g.sh, g.dh);
                Padding.Window wx = g.pad.window(g.w, g.kw, g.sw, g.dw);
                Tensor x = random32(seed++, g.n, g.h, g.w, g.c);
                Tensor f = random32(seed++, g.kh, g.kw, g.c, g.cout);
                Tensor dy = random32(seed++, g.n, wy.outSize(), wx.outSize(), g.cout);
                Tensor x64 = x.cast(DType.FLOAT64);
                Tensor f64 = f.cast(DType.FLOAT64);
                Tensor dy64 = dy.cast(DType.FLOAT64);

                Tensor y = k.conv2d(x, f, g.spec());
                Tensor y64 = k.conv2d(x64, f64, g.spec());
                assertEquals(DType.FLOAT32, y.dtype());
                assertEquals(DType.FLOAT64, y64.dtype());
                Close.assertClose(y64, y, 1e-5, "conv2d " + g);

                Tensor dx = k.conv2dBackpropInput(x.shape(), f, dy, g.spec());
                Tensor dx64 = k.conv2dBackpropInput(x.shape(), f64, dy64, g.spec());
                Close.assertClose(dx64, dx, 1e-5, "backprop input " + g);

                Tensor dw = k.conv2dBackpropFilter(x, f.shape(), dy, g.spec());
                Tensor dw64 = k.conv2dBackpropFilter(x64, f.shape(), dy64, g.spec());
                Close.assertClose(dw64, dw, 1e-5, "backprop filter " + g);
                assertTrue(Close.maxAbs(y64.toDoubleArray()) > 0.1 && Close.maxAbs(dw64.toDoubleArray()) > 0.1, "non-trivial data");
            }
        }
    }

    @Test
    void float64ReferenceMatchesHandComputedValues() {
        // 1x3x3x1 input 1..9, 2x2 filter [[1,2],[3,4]], SAME stride 1: pad 0 before, 1 after.
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3, 1);
            Tensor f = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2, 1, 1);
            Tensor y = k.conv2d(x, f, Conv2dSpec.of(1, Padding.SAME));
            double[] expected = {
                1 + 4 + 12 + 20, 2 + 6 + 15 + 24, 3 + 18,
                4 + 10 + 21 + 32, 5 + 12 + 24 + 36, 6 + 27,
                7 + 16, 8 + 18, 9};
            Close.assertClose(expected, y.toDoubleArray(), 1e-12, "hand-computed SAME conv");
            Tensor y32 = k.conv2d(x.cast(DType.FLOAT32), f.cast(DType.FLOAT32), Conv2dSpec.of(1, Padding.SAME));
            Close.assertClose(expected, y32.toDoubleArray(), 1e-6, "hand-computed SAME conv, float32");
        }
    }

    @Test
    void inputViewsWithOffsetAreRespected() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor big = random32(5, 4, 7, 6, 3);
            Tensor x = big.slice0(1, 3);
            Tensor xCopy = x.copy();
            Tensor f = random32(6, 3, 3, 3, 4);
            Conv2dSpec spec = Conv2dSpec.of(2, Padding.SAME);
            Close.assertClose(k.conv2d(xCopy, f, spec), k.conv2d(x, f, spec), 0, "forward on a view");
            Tensor dy = random32(7, 2, 4, 3, 4);
            Tensor dyBig = random32(8, 3, 4, 3, 4);
            dyBig.slice0(1, 3).copyFrom(dy);
            Tensor dyView = dyBig.slice0(1, 3);
            Close.assertClose(k.conv2dBackpropFilter(xCopy, f.shape(), dy, spec),
                    k.conv2dBackpropFilter(x, f.shape(), dyView, spec), 0, "backprop filter on views");
            Close.assertClose(k.conv2dBackpropInput(x.shape(), f, dy, spec),
                    k.conv2dBackpropInput(x.shape(), f, dyView, spec), 0, "backprop input on a view");
        }
    }

    // ---- finite differences -----------------------------------------------------------------

    /** sum(conv(x, w) * g), whose gradients are exactly the two backprops with upstream gradient g. */
    private double objective(Tensor x, Tensor w, Tensor g, Conv2dSpec spec) {
        try (Tensor y = k.conv2d(x, w, spec)) {
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
                new Geo(2, 5, 4, 2, 3, 2, 3, 2, 2, 1, 1, Padding.SAME),
                new Geo(2, 6, 5, 2, 3, 3, 2, 1, 1, 2, 2, Padding.SAME),
                new Geo(1, 7, 8, 2, 3, 2, 3, 2, 3, 2, 2, Padding.VALID));
        long seed = 100;
        for (Geo geo : tiny) {
            try (TensorScope scope = TensorScope.open()) {
                Conv2dSpec spec = geo.spec();
                Tensor x = Tensor.randomUniform(seed++, DType.FLOAT64, Shape.of(geo.n, geo.h, geo.w, geo.c), -1, 1);
                Tensor w = Tensor.randomUniform(seed++, DType.FLOAT64, Shape.of(geo.kh, geo.kw, geo.c, geo.cout), -1, 1);
                Shape yShape;
                try (Tensor y = k.conv2d(x, w, spec)) {
                    yShape = y.shape();
                }
                Tensor g = Tensor.randomUniform(seed++, DType.FLOAT64, yShape, -1, 1);
                double[] dxNum = numericGradient(x, () -> objective(x, w, g, spec));
                double[] dwNum = numericGradient(w, () -> objective(x, w, g, spec));
                Close.assertClose(dxNum, k.conv2dBackpropInput(x.shape(), w, g, spec).toDoubleArray(), 1e-8, "d/dx " + geo);
                Close.assertClose(dwNum, k.conv2dBackpropFilter(x, w.shape(), g, spec).toDoubleArray(), 1e-8, "d/dw " + geo);
            }
        }
    }

    // ---- TensorFlow golden cases ------------------------------------------------------------

    static String caseJson(String name) {
        try {
            return Files.readString(GoldenData.goldenDir().resolve("ops").resolve(name).resolve("case.json"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String jsonString(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + key + " in " + json);
        return m.group(1);
    }

    static int[] jsonInts(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + key + " in " + json);
        return Stream.of(m.group(1).split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    /** NHWC strides/dilations attrs of a case as a spec. */
    static Conv2dSpec caseSpec(String json) {
        int[] s = jsonInts(json, "strides");
        int[] d = jsonInts(json, "dilations");
        assertEquals(4, s.length);
        assertEquals(1, s[0]);
        assertEquals(1, s[3]);
        assertEquals("NHWC", jsonString(json, "data_format"));
        return new Conv2dSpec(s[1], s[2], d[1], d[2], Padding.parse(jsonString(json, "padding")));
    }

    static List<String> caseNames(String prefix) {
        try (Stream<Path> dirs = Files.list(GoldenData.goldenDir().resolve("ops"))) {
            return dirs.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Shape sizes(Tensor t) {
        return Shape.of(t.toIntArray());
    }

    @TestFactory
    List<DynamicTest> goldenCases() {
        List<String> names = caseNames("conv2d_");
        assertTrue(names.size() >= 34, "expected the 34 conv2d golden cases, found " + names);
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : names) tests.add(DynamicTest.dynamicTest(name, () -> runGolden(name)));
        return tests;
    }

    private void runGolden(String name) {
        String json = caseJson(name);
        String op = jsonString(json, "op");
        Conv2dSpec spec = caseSpec(json);
        try (TensorScope scope = TensorScope.open()) {
            Tensor expected = GoldenData.opTensor(name, "out_output.npy");
            Tensor ref64 = GoldenData.opTensor(name, "ref64_output.npy");
            Tensor got;
            Tensor got64;
            switch (op) {
                case "Conv2D" -> {
                    Tensor x = GoldenData.opTensor(name, "in_input.npy");
                    Tensor f = GoldenData.opTensor(name, "in_filter.npy");
                    got = k.conv2d(x, f, spec);
                    got64 = k.conv2d(x.cast(DType.FLOAT64), f.cast(DType.FLOAT64), spec);
                }
                case "Conv2DBackpropInput" -> {
                    Shape inShape = sizes(GoldenData.opTensor(name, "in_input_sizes.npy"));
                    Tensor f = GoldenData.opTensor(name, "in_filter.npy");
                    Tensor dy = GoldenData.opTensor(name, "in_out_backprop.npy");
                    got = k.conv2dBackpropInput(inShape, f, dy, spec);
                    got64 = k.conv2dBackpropInput(inShape, f.cast(DType.FLOAT64), dy.cast(DType.FLOAT64), spec);
                }
                case "Conv2DBackpropFilter" -> {
                    Tensor x = GoldenData.opTensor(name, "in_input.npy");
                    Shape fShape = sizes(GoldenData.opTensor(name, "in_filter_sizes.npy"));
                    Tensor dy = GoldenData.opTensor(name, "in_out_backprop.npy");
                    got = k.conv2dBackpropFilter(x, fShape, dy, spec);
                    got64 = k.conv2dBackpropFilter(x.cast(DType.FLOAT64), fShape, dy.cast(DType.FLOAT64), spec);
                }
                default -> throw new AssertionError(name + ": unexpected op " + op);
            }
            assertEquals(DType.FLOAT32, got.dtype());
            Close.assertClose(expected, got, 1e-5, name + " float32 vs TF");
            Close.assertClose(ref64, got64, 1e-10, name + " float64 vs TF float64");
            double err = Close.maxAbsDiff(expected.toDoubleArray(), got.toDoubleArray());
            double err64 = Close.maxAbsDiff(ref64.toDoubleArray(), got64.toDoubleArray());
            System.out.printf("golden %-40s max|out|=%.3g  f32 err=%.3g  f64 err=%.3g%n",
                    name, Close.maxAbs(expected.toDoubleArray()), err, err64);
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
            Tensor f = Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 4, 8));
            assertMessage(() -> k.conv2d(x, f, s1), "conv2d", "filter in-channels 4 != input channels 3", "[2, 8, 8, 3]", "[3, 3, 4, 8]");
            assertMessage(() -> k.conv2d(Tensor.zeros(DType.FLOAT32, Shape.of(8, 8, 3)), f, s1), "conv2d", "input", "[8, 8, 3]");
            assertMessage(() -> k.conv2d(x, Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 3)), s1), "conv2d", "filter", "[3, 3, 3]");
            Tensor f3 = Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 3, 8));
            assertMessage(() -> k.conv2d(x, f3.cast(DType.FLOAT64), s1), "conv2d", "FLOAT32", "FLOAT64");
            assertMessage(() -> k.conv2d(x.cast(DType.INT32), f3.cast(DType.INT32), s1), "conv2d", "INT32");
            assertMessage(() -> k.conv2d(x, Tensor.zeros(DType.FLOAT32, Shape.of(9, 9, 3, 8)), Conv2dSpec.of(1, Padding.VALID)),
                    "conv2d", "[2, 8, 8, 3]", "[9, 9, 3, 8]");

            Tensor dy = Tensor.zeros(DType.FLOAT32, Shape.of(2, 8, 8, 8));
            Tensor dyBad = Tensor.zeros(DType.FLOAT32, Shape.of(2, 4, 4, 8));
            assertMessage(() -> k.conv2dBackpropInput(x.shape(), f3, dyBad, s1), "conv2d_backprop_input", "out_backprop",
                    "[2, 4, 4, 8]", "[2, 8, 8, 8]");
            assertMessage(() -> k.conv2dBackpropInput(x.shape(), f, dy, s1), "conv2d_backprop_input", "in-channels 4 != input channels 3");
            assertMessage(() -> k.conv2dBackpropInput(x.shape(), f3, dy.cast(DType.FLOAT64), s1), "conv2d_backprop_input", "FLOAT64");
            assertMessage(() -> k.conv2dBackpropFilter(x, Shape.of(3, 3, 4, 8), dy, s1), "conv2d_backprop_filter",
                    "in-channels 4 != input channels 3", "[2, 8, 8, 3]", "[3, 3, 4, 8]");
            assertMessage(() -> k.conv2dBackpropFilter(x, Shape.of(3, 3, 3, 5), dy, s1), "conv2d_backprop_filter",
                    "out_backprop", "[2, 8, 8, 8]", "[2, 8, 8, 5]");
            assertMessage(() -> k.conv2dBackpropFilter(x, Shape.of(3, 3, 3), dy, s1), "conv2d_backprop_filter", "filter_sizes", "[3, 3, 3]");
        }
    }

    // ---- memory -----------------------------------------------------------------------------

    @Test
    void leavesNoMemoryAllocated() {
        long before = CpuDevice.INSTANCE.liveBytes();
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (Geo g : List.of(GEOMETRIES.get(1), GEOMETRIES.get(9), GEOMETRIES.get(13))) {
                Tensor x = Tensor.randomUniform(1, t, Shape.of(g.n, g.h, g.w, g.c), -1, 1);
                Tensor f = Tensor.randomUniform(2, t, Shape.of(g.kh, g.kw, g.c, g.cout), -1, 1);
                Tensor y = k.conv2d(x, f, g.spec());
                Tensor dx = k.conv2dBackpropInput(x.shape(), f, y, g.spec());
                Tensor dw = k.conv2dBackpropFilter(x, f.shape(), y, g.spec());
                assertEquals(t, dx.dtype());
                assertEquals(t, dw.dtype());
                for (Tensor z : List.of(x, f, y, dx, dw)) z.close();
            }
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }

    @Test
    void registeredInCpuBackend() {
        assertTrue(CpuBackend.INSTANCE.kernels(ConvKernels.class) instanceof Conv2dCpu);
    }
}
