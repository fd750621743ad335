package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.LrnKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

class LrnCpuTest {
    private static final LrnKernels K = CpuBackend.INSTANCE.kernels(LrnKernels.class);

    // ---- helpers ------------------------------------------------------------------------------

    private static void leakFree(Runnable body) {
        long before = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope s = TensorScope.open()) {
            body.run();
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    private static Tensor rand(long seed, DType dt, double lo, double hi, int... dims) {
        return Tensor.randomUniform(seed, dt, Shape.of(dims), lo, hi);
    }

    private static Tensor f64(Tensor t) {
        return t.cast(DType.FLOAT64);
    }

    private static double check(Tensor expected, Tensor actual, double tol, String what) {
        Close.assertClose(expected, actual, tol, what);
        return Close.maxAbsDiff(expected.toDoubleArray(), actual.toDoubleArray());
    }

    private static double attr(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*([-+0-9.eE]+)").matcher(json);
        assertTrue(m.find(), "attr " + key);
        return Double.parseDouble(m.group(1));
    }

    /** The LrnSpec of a golden case, from its attrs (float attrs are TF's float32 values). */
    private static LrnSpec spec(String caseName) {
        try {
            String json = Files.readString(GoldenData.goldenDir().resolve("ops").resolve(caseName).resolve("case.json"));
            return new LrnSpec((int) attr(json, "depth_radius"), (float) attr(json, "bias"), (float) attr(json, "alpha"),
                    (float) attr(json, "beta"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void registeredInCpuBackend() {
        assertInstanceOf(LrnCpu.class, K);
    }

    // ---- TensorFlow golden cases --------------------------------------------------------------

    @Test
    void goldenCases() {
        LrnSpec tf = spec("lrn_cifarnet"), ours = LrnSpec.cifarNet();
        assertEquals(tf.depthRadius(), ours.depthRadius());
        assertEquals(tf.bias(), ours.bias());
        assertEquals(tf.beta(), ours.beta());
        // TF rounds the double 0.001/9 to float; 0.001f/9f is one ulp above it.
        assertEquals(tf.alpha(), ours.alpha(), Math.ulp(tf.alpha()), "cifarnet alpha");
        leakFree(() -> {
            for (String c : List.of("lrn_cifarnet", "lrn_r2_b2_a1e-2_b05")) {
                LrnSpec spec = spec(c);
                Tensor x = GoldenData.opTensor(c, "in_input.npy");
                Tensor expected = GoldenData.opTensor(c, "out_output.npy");
                double e32 = check(expected, K.lrn(x, spec), 1e-5, c + " float32");
                double e64 = check(expected, K.lrn(f64(x), spec), 1e-5, c + " float64");
                System.out.printf("golden %-28s float32 max err %.3g, float64 %.3g%n", c, e32, e64);

                String gc = c + "_grad";
                assertEquals(spec, spec(gc));
                Function<String, Tensor> g = f -> GoldenData.opTensor(gc, f);
                // LRNGrad(input_grads, input_image, output_image) -> lrnGrad(input, output, dy).
                Tensor dy = g.apply("in_input_grads.npy"), in = g.apply("in_input_image.npy"), out = g.apply("in_output_image.npy");
                Tensor gexp = g.apply("out_output.npy");
                double g32 = check(gexp, K.lrnGrad(in, out, dy, spec), 1e-5, gc + " float32");
                double g64 = check(gexp, K.lrnGrad(f64(in), f64(out), f64(dy), spec), 1e-5, gc + " float64");
                System.out.printf("golden %-28s float32 max err %.3g, float64 %.3g%n", gc, g32, g64);
            }
        });
    }

    // ---- float32 fast path vs float64 reference -----------------------------------------------

    @Test
    void float32MatchesFloat64Reference() {
        Object[][] cfgs = {
            {new int[] {2, 3, 5, 37}, LrnSpec.cifarNet()},
            {new int[] {3, 4, 19}, new LrnSpec(2, 2f, 1e-2f, 0.5f)},
            {new int[] {2, 2, 3, 64}, new LrnSpec(5, 1f, 0.05f, 1f)},
            {new int[] {5, 23}, new LrnSpec(3, 0.7f, 0.2f, 0.6f)},
            {new int[] {4, 7}, new LrnSpec(10, 1f, 0.1f, 0.75f)},
            {new int[] {3, 17}, new LrnSpec(0, 1.5f, 0.3f, 0.75f)},
        };
        long seed = 50;
        for (Object[] cfg : cfgs) {
            int[] dims = (int[]) cfg[0];
            LrnSpec spec = (LrnSpec) cfg[1];
            String what = java.util.Arrays.toString(dims) + " " + spec;
            leakFree(() -> {
                Tensor x = rand(seed + dims.length, DType.FLOAT32, -3, 3, dims);
                Tensor dy = rand(seed + 1, DType.FLOAT32, -1, 1, dims);
                Tensor y = K.lrn(x, spec);
                Tensor y64 = K.lrn(f64(x), spec);
                check(y64, y, 1e-5, "lrn " + what);
                check(K.lrnGrad(f64(x), y64, f64(dy), spec), K.lrnGrad(x, y, dy, spec), 1e-5, "lrnGrad " + what);
            });
        }
    }

    @Test
    void slicedInputsUseTheirOffset() {
        leakFree(() -> {
            LrnSpec spec = LrnSpec.cifarNet();
            Tensor big = rand(60, DType.FLOAT32, -3, 3, 4, 3, 2, 21);
            Tensor x = big.slice0(1, 3), copy = x.copy();
            Tensor y = K.lrn(x, spec);
            assertArrayEquals(K.lrn(copy, spec).toFloatArray(), y.toFloatArray());
            Tensor ybig = K.lrn(big, spec);
            Tensor dybig = rand(61, DType.FLOAT32, -1, 1, 4, 3, 2, 21);
            assertArrayEquals(K.lrnGrad(copy, y, dybig.slice0(1, 3).copy(), spec).toFloatArray(),
                    K.lrnGrad(x, ybig.slice0(1, 3), dybig.slice0(1, 3), spec).toFloatArray());
            Tensor big64 = f64(big);
            assertArrayEquals(K.lrn(f64(copy), spec).toDoubleArray(), K.lrn(big64.slice0(1, 3), spec).toDoubleArray());
        });
    }

    // ---- finite differences (float64) ---------------------------------------------------------

    @Test
    void lrnGradMatchesFiniteDifferences() {
        for (LrnSpec spec : List.of(new LrnSpec(2, 1.5f, 0.1f, 0.75f), new LrnSpec(3, 0.5f, 0.3f, 0.6f), LrnSpec.cifarNet())) {
            leakFree(() -> {
                Tensor x = rand(70, DType.FLOAT64, -2, 2, 2, 2, 3, 11);
                Tensor w = rand(71, DType.FLOAT64, -1, 1, 2, 2, 3, 11);
                double[] xa = x.doubleData(), wa = w.toDoubleArray();
                double[] num = new double[x.numel()];
                double h = 1e-6;
                for (int i = 0; i < num.length; i++) {
                    double v = xa[i];
                    xa[i] = v + h;
                    double up = dot(K.lrn(x, spec), wa);
                    xa[i] = v - h;
                    double down = dot(K.lrn(x, spec), wa);
                    xa[i] = v;
                    num[i] = (up - down) / (2 * h);
                }
                Tensor dx = K.lrnGrad(x, K.lrn(x, spec), w, spec);
                Close.assertClose(num, dx.toDoubleArray(), 1e-7, "lrnGrad fd " + spec);
            });
        }
    }

    private static double dot(Tensor y, double[] w) {
        double[] a = y.toDoubleArray();
        y.close();
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * w[i];
        return s;
    }

    // ---- errors -------------------------------------------------------------------------------

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void badArgumentsAreRejectedWithClearMessages() {
        leakFree(() -> {
            LrnSpec spec = LrnSpec.cifarNet();
            Tensor x = Tensor.zeros(DType.FLOAT32, Shape.of(2, 3, 3, 8));
            Tensor other = Tensor.zeros(DType.FLOAT32, Shape.of(2, 3, 3, 7));
            assertMessage(() -> K.lrnGrad(x, other, x, spec), "lrnGrad", "output", "[2, 3, 3, 7]", "[2, 3, 3, 8]");
            assertMessage(() -> K.lrnGrad(x, x, other, spec), "lrnGrad", "dy", "[2, 3, 3, 7]", "[2, 3, 3, 8]");
            assertMessage(() -> K.lrnGrad(x, x, f64(x), spec), "lrnGrad", "dy", "FLOAT64", "FLOAT32");
            assertMessage(() -> K.lrn(x, new LrnSpec(-1, 1f, 1f, 0.5f)), "lrn", "depthRadius -1");
            Tensor xi = Tensor.zeros(DType.INT32, Shape.of(2, 8));
            assertMessage(() -> K.lrn(xi, spec), "lrn", "INT32", "[2, 8]");
            assertMessage(() -> K.lrnGrad(xi, xi, xi, spec), "lrnGrad", "INT32");
        });
    }

    // ---- memory -------------------------------------------------------------------------------

    @Test
    void kernelsLeaveNothingAllocated() {
        long bytes = CpuDevice.INSTANCE.liveBytes(), count = CpuDevice.INSTANCE.liveAllocations();
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = rand(1, dt, -1, 1, 3, 5, 7, 11);
            Tensor y = K.lrn(x, LrnSpec.cifarNet());
            Tensor dx = K.lrnGrad(x, y, y, LrnSpec.cifarNet());
            for (Tensor z : new Tensor[] {x, y, dx}) {
                assertFalse(z.isClosed(), "kernels must not close their inputs");
                z.close();
            }
        }
        assertEquals(bytes, CpuDevice.INSTANCE.liveBytes());
        assertEquals(count, CpuDevice.INSTANCE.liveAllocations());
    }
}
