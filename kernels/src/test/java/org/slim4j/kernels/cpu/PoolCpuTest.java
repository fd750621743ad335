package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

class PoolCpuTest {
    private static final PoolKernels K = CpuBackend.INSTANCE.kernels(PoolKernels.class);

    // ---- helpers ------------------------------------------------------------------------------

    /** Runs body inside a scope and checks that nothing stays allocated afterwards. */
    private static void leakFree(Runnable body) {
        long before = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope s = TensorScope.open()) {
            body.run();
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    private static Tensor rand(long seed, DType dt, int... dims) {
        return Tensor.randomUniform(seed, dt, Shape.of(dims), -2, 2);
    }

    /** Golden case folders whose case.json names one of {@code ops}, sorted by name. */
    static List<Path> casesOf(String... ops) throws IOException {
        Pattern opRe = Pattern.compile("\"op\"\\s*:\\s*\"(\\w+)\"");
        List<Path> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(GoldenData.goldenDir().resolve("ops"))) {
            for (Path d : dirs.sorted().toList()) {
                Path cj = d.resolve("case.json");
                if (!Files.isRegularFile(cj)) continue;
                Matcher m = opRe.matcher(Files.readString(cj));
                if (m.find() && List.of(ops).contains(m.group(1))) out.add(d);
            }
        }
        return out;
    }

    private static int[] intList(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        assertTrue(m.find(), "attr " + key);
        return Stream.of(m.group(1).split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    }

    private static String str(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        assertTrue(m.find(), "attr " + key);
        return m.group(1);
    }

    private static Tensor f64(Tensor t) {
        return t.cast(DType.FLOAT64);
    }

    /** Max error relative to scale, asserted against tol; returns the error for reporting. */
    private static double check(Tensor expected, Tensor actual, double tol, String what) {
        Close.assertClose(expected, actual, tol, what);
        return Close.maxAbsDiff(expected.toDoubleArray(), actual.toDoubleArray());
    }

    // ---- registration -------------------------------------------------------------------------

    @Test
    void registeredInCpuBackend() {
        assertInstanceOf(PoolCpu.class, K);
    }

    // ---- TensorFlow golden cases --------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> goldenCases() throws IOException {
        List<Path> cases = casesOf("MaxPool", "MaxPoolGrad", "AvgPool", "AvgPoolGrad");
        assertEquals(21, cases.size(), "maxpool (6 + 6 grad) and avgpool (5 + 4 grad) cases: " + cases);
        return cases.stream().map(dir -> dynamicTest(dir.getFileName().toString(), () -> leakFree(() -> runGolden(dir))));
    }

    private static void runGolden(Path dir) {
        String name = dir.getFileName().toString();
        String json;
        try {
            json = Files.readString(dir.resolve("case.json"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String op = str(json, "op");
        int[] ks = intList(json, "ksize"), st = intList(json, "strides");
        PoolSpec spec = new PoolSpec(ks[1], ks[2], st[1], st[2], Padding.parse(str(json, "padding")));
        Function<String, Tensor> in = f -> GoldenData.opTensor(name, f);
        Tensor expected = in.apply("out_output.npy");
        Tensor ref64 = Files.exists(dir.resolve("ref64_output.npy")) ? in.apply("ref64_output.npy") : null;
        Function<Boolean, Tensor> run = dbl -> {
            Function<Tensor, Tensor> cv = t -> dbl ? f64(t) : t;
            return switch (op) {
                case "MaxPool" -> K.maxPool(cv.apply(in.apply("in_input.npy")), spec);
                case "AvgPool" -> K.avgPool(cv.apply(in.apply("in_value.npy")), spec);
                case "MaxPoolGrad" -> K.maxPoolGrad(cv.apply(in.apply("in_orig_input.npy")),
                        cv.apply(in.apply("in_orig_output.npy")), cv.apply(in.apply("in_grad.npy")), spec);
                case "AvgPoolGrad" -> K.avgPoolGrad(Shape.of(in.apply("in_orig_input_shape.npy").toIntArray()),
                        cv.apply(in.apply("in_grad.npy")), spec);
                default -> throw new AssertionError(op);
            };
        };
        Tensor got32 = run.apply(false);
        assertEquals(DType.FLOAT32, got32.dtype());
        double e32 = check(expected, got32, 1e-5, name + " float32");
        Tensor got64 = run.apply(true);
        assertEquals(DType.FLOAT64, got64.dtype());
        double e64 = check(ref64 != null ? ref64 : expected, got64, ref64 != null ? 1e-12 : 1e-5, name + " float64");
        System.out.printf("golden %-36s float32 max err %.3g, float64 vs ref64 %.3g%n", name, e32, e64);
    }

    // ---- float32 fast path vs float64 reference -----------------------------------------------

    static Stream<Object[]> configs() {
        return Stream.of(
                new Object[] {new int[] {3, 11, 13, 19}, PoolSpec.of(3, 2, Padding.SAME)},
                new Object[] {new int[] {2, 9, 7, 37}, PoolSpec.of(2, 2, Padding.VALID)},
                new Object[] {new int[] {2, 10, 9, 5}, PoolSpec.of(3, 1, Padding.SAME)},
                new Object[] {new int[] {3, 12, 11, 70}, new PoolSpec(5, 3, 3, 2, Padding.VALID)},
                new Object[] {new int[] {1, 7, 8, 16}, PoolSpec.of(1, 2, Padding.SAME)},
                new Object[] {new int[] {2, 5, 6, 9}, new PoolSpec(7, 4, 1, 3, Padding.SAME)},
                // Windows that tile the input (LeNet's and CifarNet's pools): the one-pass gradient.
                new Object[] {new int[] {3, 8, 6, 21}, PoolSpec.of(2, 2, Padding.VALID)},
                new Object[] {new int[] {2, 9, 6, 16}, new PoolSpec(3, 2, 3, 2, Padding.SAME)});
    }

    @Test
    void float32MatchesFloat64Reference() {
        long seed = 11;
        for (Object[] cfg : configs().toList()) {
            int[] dims = (int[]) cfg[0];
            PoolSpec spec = (PoolSpec) cfg[1];
            String what = java.util.Arrays.toString(dims) + " " + spec;
            leakFree(() -> {
                Tensor x = rand(seed + dims[3], DType.FLOAT32, dims);
                Tensor x64 = f64(x);
                Tensor y = K.maxPool(x, spec);
                Tensor y64 = K.maxPool(x64, spec);
                check(y64, y, 1e-6, "maxPool " + what);
                Tensor a = K.avgPool(x, spec);
                check(K.avgPool(x64, spec), a, 1e-5, "avgPool " + what);
                Tensor dy = rand(seed + 1, DType.FLOAT32, y.dims());
                check(K.maxPoolGrad(x64, y64, f64(dy), spec), K.maxPoolGrad(x, y, dy, spec), 1e-5, "maxPoolGrad " + what);
                check(K.avgPoolGrad(x.shape(), f64(dy), spec), K.avgPoolGrad(x.shape(), dy, spec), 1e-5, "avgPoolGrad " + what);
            });
        }
    }

    @Test
    void slicedInputsUseTheirOffset() {
        slicedInputsUseTheirOffset(PoolSpec.of(3, 2, Padding.SAME));
        slicedInputsUseTheirOffset(PoolSpec.of(2, 2, Padding.VALID));
    }

    private static void slicedInputsUseTheirOffset(PoolSpec spec) {
        leakFree(() -> {
            Tensor big = rand(5, DType.FLOAT32, 4, 9, 8, 21);
            Tensor x = big.slice0(1, 3);
            Tensor copy = x.copy();
            Tensor y = K.maxPool(x, spec);
            assertArrayEquals(K.maxPool(copy, spec).toFloatArray(), y.toFloatArray());
            assertArrayEquals(K.avgPool(copy, spec).toFloatArray(), K.avgPool(x, spec).toFloatArray());
            Tensor dyBig = rand(6, DType.FLOAT32, 3, K.maxPool(x, spec).dim(1), K.maxPool(x, spec).dim(2), 21);
            Tensor dy = dyBig.slice0(1, 3);
            assertArrayEquals(K.maxPoolGrad(copy, y, dy.copy(), spec).toFloatArray(), K.maxPoolGrad(x, y, dy, spec).toFloatArray());
            assertArrayEquals(K.avgPoolGrad(x.shape(), dy.copy(), spec).toFloatArray(), K.avgPoolGrad(x.shape(), dy, spec).toFloatArray());
            Tensor x64 = f64(big).slice0(1, 3);
            Tensor dy64 = f64(dyBig).slice0(1, 3);
            check(K.maxPoolGrad(f64(copy), f64(y), f64(dy), spec), K.maxPoolGrad(x64, f64(y), dy64, spec), 0, "float64 offsets");
            check(K.avgPoolGrad(x.shape(), f64(dy), spec), K.avgPoolGrad(x.shape(), dy64, spec), 0, "float64 avg offsets");
        });
    }

    @Test
    void maxPoolGradRoutesTiesToFirstMaximumInBothPaths() {
        leakFree(() -> {
            // One 3x3 window over a constant image: every cell ties, the top-left one must win.
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Tensor x = Tensor.fill(dt, Shape.of(1, 3, 3, 17), 1.0);
                PoolSpec spec = PoolSpec.of(3, 1, Padding.VALID);
                Tensor dy = Tensor.fill(dt, Shape.of(1, 1, 1, 17), 2.5);
                double[] dx = K.maxPoolGrad(x, K.maxPool(x, spec), dy, spec).toDoubleArray();
                for (int i = 0; i < dx.length; i++) assertEquals(i < 17 ? 2.5 : 0.0, dx[i], dt + " cell " + i);
                // 2x2 stride 2 windows tiling a constant 4x4 image: each window's top-left cell wins.
                Tensor x4 = Tensor.fill(dt, Shape.of(1, 4, 4, 17), 1.0);
                PoolSpec tiled = PoolSpec.of(2, 2, Padding.VALID);
                Tensor dy4 = Tensor.fill(dt, Shape.of(1, 2, 2, 17), 2.5);
                double[] dx4 = K.maxPoolGrad(x4, K.maxPool(x4, tiled), dy4, tiled).toDoubleArray();
                for (int i = 0; i < dx4.length; i++) {
                    int h = i / 17 / 4, w = i / 17 % 4;
                    assertEquals(h % 2 == 0 && w % 2 == 0 ? 2.5 : 0.0, dx4[i], dt + " tiled cell " + i);
                }
            }
        });
    }

    // ---- finite-difference checks of the gradients (float64) ----------------------------------

    private static double loss(Tensor y, Tensor w) {
        double[] a = y.toDoubleArray(), b = w.toDoubleArray();
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        y.close();
        return s;
    }

    private static double[] numericGrad(Tensor x, Function<Tensor, Double> f) {
        double[] xa = x.doubleData();
        double[] g = new double[x.numel()];
        double h = 1e-6;
        for (int i = 0; i < g.length; i++) {
            int p = x.offset() + i;
            double v = xa[p];
            xa[p] = v + h;
            double up = f.apply(x);
            xa[p] = v - h;
            double down = f.apply(x);
            xa[p] = v;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    /**
     * The float32 pools and their gradients do not clear their outputs: each gets a recycled
     * NaN-filled array (large enough for the CPU pool, which hands out the array released last)
     * and must assign all of it, including the gradients' cells no window reaches (2x2 windows at
     * stride 3), overlapping windows (3x3 at strides 1 and 2) and SAME windows cut by the border.
     */
    @Test
    void poolsOverwriteRecycledArrays() {
        for (PoolSpec spec : List.of(PoolSpec.of(3, 1, Padding.SAME), PoolSpec.of(3, 2, Padding.VALID), new PoolSpec(2, 2, 3, 3, Padding.VALID))) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(2, 31, 30, 24), -1, 1);  // 3x3/2 VALID leaves column 29 out
                Tensor expected = K.avgPool(x.cast(DType.FLOAT64), spec);
                Tensor.fill(DType.FLOAT32, expected.shape(), Double.NaN).close();
                Tensor y = K.avgPool(x, spec);
                Close.assertClose(expected, y, 1e-6, "avgPool into a recycled array, " + spec);
                Tensor dy = Tensor.randomUniform(6, DType.FLOAT32, y.shape(), -1, 1);
                Tensor dxExpected = K.avgPoolGrad(x.shape(), dy.cast(DType.FLOAT64), spec);
                Tensor.fill(DType.FLOAT32, x.shape(), Double.NaN).close();
                Close.assertClose(dxExpected, K.avgPoolGrad(x.shape(), dy, spec), 1e-6, "avgPoolGrad into a recycled array, " + spec);

                Tensor m = K.maxPool(x, spec);
                Tensor mExpected = K.maxPool(x.cast(DType.FLOAT64), spec);
                Close.assertClose(mExpected, m, 0, "maxPool " + spec);
                Tensor gExpected = K.maxPoolGrad(x.cast(DType.FLOAT64), mExpected, dy.cast(DType.FLOAT64), spec);
                Tensor.fill(DType.FLOAT32, x.shape(), Double.NaN).close();
                Close.assertClose(gExpected, K.maxPoolGrad(x, m, dy, spec), 1e-6, "maxPoolGrad into a recycled array, " + spec);
            }
        }
    }

    @Test
    void avgPoolGradMatchesFiniteDifferences() {
        leakFree(() -> {
            for (PoolSpec spec : List.of(PoolSpec.of(3, 2, Padding.SAME), new PoolSpec(2, 3, 1, 2, Padding.VALID))) {
                Tensor x = rand(21, DType.FLOAT64, 2, 5, 7, 3);
                Tensor w = rand(22, DType.FLOAT64, K.avgPool(x, spec).dims());
                double[] num = numericGrad(x, t -> loss(K.avgPool(t, spec), w));
                Close.assertClose(num, K.avgPoolGrad(x.shape(), w, spec).toDoubleArray(), 1e-7, "avgPoolGrad fd " + spec);
            }
        });
    }

    @Test
    void maxPoolGradMatchesFiniteDifferences() {
        leakFree(() -> {
            // Distinct values 0.01 apart, shuffled: no ties, and a 1e-6 step never changes the arg-max.
            int n = 2 * 6 * 7 * 3;
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = 0.01 * i - 1.5;
            java.util.Random r = new java.util.Random(3);
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
            for (PoolSpec spec : List.of(PoolSpec.of(3, 2, Padding.SAME), PoolSpec.of(2, 1, Padding.VALID))) {
                Tensor x = Tensor.of(v.clone(), 2, 6, 7, 3);
                Tensor y = K.maxPool(x, spec);
                Tensor w = rand(23, DType.FLOAT64, y.dims());
                double[] num = numericGrad(x, t -> loss(K.maxPool(t, spec), w));
                Close.assertClose(num, K.maxPoolGrad(x, y, w, spec).toDoubleArray(), 1e-7, "maxPoolGrad fd " + spec);
            }
        });
    }

    @Test
    void paddingIsExcludedFromMaxAndAverage() {
        leakFree(() -> {
            Tensor neg = Tensor.fill(DType.FLOAT32, Shape.of(1, 4, 4, 3), -5.0);
            for (float v : K.maxPool(neg, PoolSpec.of(3, 2, Padding.SAME)).toFloatArray()) assertEquals(-5f, v);
            Tensor ones = Tensor.fill(DType.FLOAT32, Shape.of(2, 5, 6, 11), 1.0);
            for (float v : K.avgPool(ones, PoolSpec.of(3, 2, Padding.SAME)).toFloatArray()) assertEquals(1f, v, 1e-7);
        });
    }

    // ---- errors -------------------------------------------------------------------------------

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void badArgumentsAreRejectedWithClearMessages() {
        leakFree(() -> {
            PoolSpec spec = PoolSpec.of(3, 2, Padding.SAME);
            Tensor x3 = Tensor.zeros(DType.FLOAT32, Shape.of(4, 4, 3));
            assertMessage(() -> K.maxPool(x3, spec), "maxPool", "rank 4", "[4, 4, 3]");
            assertMessage(() -> K.avgPool(x3, spec), "avgPool", "[4, 4, 3]");
            Tensor x = Tensor.zeros(DType.FLOAT32, Shape.of(2, 4, 5, 3));
            assertMessage(() -> K.maxPool(x, PoolSpec.of(6, 1, Padding.VALID)), "maxPool", "[2, 4, 5, 3]", "VALID");
            Tensor y = K.maxPool(x, spec);
            Tensor badDy = Tensor.zeros(DType.FLOAT32, Shape.of(2, 2, 2, 3));
            assertMessage(() -> K.maxPoolGrad(x, y, badDy, spec), "maxPoolGrad", "dy", "[2, 2, 2, 3]", "[2, 2, 3, 3]", "[2, 4, 5, 3]");
            assertMessage(() -> K.maxPoolGrad(x, badDy, y, spec), "maxPoolGrad", "output", "[2, 2, 2, 3]");
            assertMessage(() -> K.avgPoolGrad(x.shape(), badDy, spec), "avgPoolGrad", "dy", "[2, 2, 2, 3]", "[2, 2, 3, 3]");
            assertMessage(() -> K.maxPoolGrad(x, y, f64(y), spec), "maxPoolGrad", "FLOAT64", "FLOAT32");
            Tensor xi = Tensor.zeros(DType.INT32, Shape.of(2, 4, 5, 3));
            assertMessage(() -> K.maxPool(xi, spec), "maxPool", "INT32");
            assertMessage(() -> K.avgPool(xi, spec), "avgPool", "INT32");
        });
    }

    // ---- memory -------------------------------------------------------------------------------

    @Test
    void kernelsLeaveNothingAllocated() {
        long bytes = CpuDevice.INSTANCE.liveBytes(), count = CpuDevice.INSTANCE.liveAllocations();
        PoolSpec spec = PoolSpec.of(3, 2, Padding.SAME);
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = rand(1, dt, 2, 9, 8, 19);
            Tensor y = K.maxPool(x, spec);
            Tensor a = K.avgPool(x, spec);
            Tensor dx = K.maxPoolGrad(x, y, a, spec);
            Tensor da = K.avgPoolGrad(x.shape(), a, spec);
            for (Tensor t : new Tensor[] {x, y, a, dx, da}) {
                assertTrue(!t.isClosed(), "kernels must not close their inputs");
                t.close();
            }
        }
        assertEquals(bytes, CpuDevice.INSTANCE.liveBytes());
        assertEquals(count, CpuDevice.INSTANCE.liveAllocations());
    }
}
