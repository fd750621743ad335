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
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.BatchNormKernels.Grads;
import org.slim4j.kernels.BatchNormKernels.Training;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

class BatchNormCpuTest {
    private static final BatchNormKernels K = CpuBackend.INSTANCE.kernels(BatchNormKernels.class);

    // ---- helpers ------------------------------------------------------------------------------

    static void leakFree(Runnable body) {
        long before = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope s = TensorScope.open()) {
            body.run();
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    static Tensor rand(long seed, DType dt, double lo, double hi, int... dims) {
        return Tensor.randomUniform(seed, dt, Shape.of(dims), lo, hi);
    }

    private static Tensor f64(Tensor t) {
        return t == null ? null : t.cast(DType.FLOAT64);
    }

    private static double check(Tensor expected, Tensor actual, double tol, String what) {
        Close.assertClose(expected, actual, tol, what);
        return Close.maxAbsDiff(expected.toDoubleArray(), actual.toDoubleArray());
    }

    private static float epsilon(String caseName) {
        try {
            String json = Files.readString(GoldenData.goldenDir().resolve("ops").resolve(caseName).resolve("case.json"));
            Matcher m = Pattern.compile("\"epsilon\"\\s*:\\s*([-+0-9.eE]+)").matcher(json);
            assertTrue(m.find(), caseName + " epsilon");
            return (float) Double.parseDouble(m.group(1));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void registeredInCpuBackend() {
        assertInstanceOf(BatchNormCpu.class, K);
    }

    // ---- TensorFlow golden cases (float32 path; the float64 path on the same inputs too) ------

    @Test
    void goldenTrainingForward() {
        leakFree(() -> {
            String c = "fused_batch_norm_v3_training";
            Function<String, Tensor> g = f -> GoldenData.opTensor(c, f);
            Tensor x = g.apply("in_x.npy");
            float eps = epsilon(c);
            assertEquals(0.001f, eps);
            int n = x.numel() / x.dim(-1);
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Function<Tensor, Tensor> cv = t -> t.cast(dt);
                Training t = K.trainingForward(cv.apply(x), cv.apply(g.apply("in_scale.npy")), cv.apply(g.apply("in_offset.npy")), eps);
                assertEquals(dt, t.y().dtype());
                double ey = check(g.apply("out_y.npy"), t.y(), 1e-5, c + " y " + dt);
                double em = check(g.apply("out_batch_mean.npy"), t.mean(), 1e-5, c + " batch_mean " + dt);
                check(g.apply("out_reserve_space_1.npy"), t.mean(), 1e-5, c + " reserve_space_1 " + dt);
                double ev = check(g.apply("out_reserve_space_2.npy"), t.variance(), 1e-5, c + " reserve_space_2 (biased var) " + dt);
                // TF's batch_variance output is the Bessel-corrected one.
                double[] bessel = t.variance().toDoubleArray();
                for (int i = 0; i < bessel.length; i++) bessel[i] *= n / (n - 1.0);
                Close.assertClose(g.apply("out_batch_variance.npy").toDoubleArray(), bessel, 1e-5, c + " batch_variance " + dt);
                System.out.printf("golden %s %s: y %.3g, mean %.3g, var %.3g%n", c, dt, ey, em, ev);
            }
        });
    }

    @Test
    void goldenInferenceForward() {
        leakFree(() -> {
            String c = "fused_batch_norm_v3_inference";
            Function<String, Tensor> g = f -> GoldenData.opTensor(c, f);
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Function<String, Tensor> in = f -> g.apply(f).cast(dt);
                Tensor y = K.inferenceForward(in.apply("in_x.npy"), in.apply("in_scale.npy"), in.apply("in_offset.npy"),
                        in.apply("in_mean.npy"), in.apply("in_variance.npy"), epsilon(c));
                double e = check(g.apply("out_y.npy"), y, 1e-5, c + " y " + dt);
                System.out.printf("golden %s %s: y %.3g%n", c, dt, e);
            }
        });
    }

    @Test
    void goldenGradients() {
        leakFree(() -> {
            for (String c : List.of("fused_batch_norm_grad_v3_training", "fused_batch_norm_grad_v3_inference")) {
                Function<String, Tensor> g = f -> GoldenData.opTensor(c, f);
                for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                    Function<String, Tensor> in = f -> g.apply(f).cast(dt);
                    Tensor dy = in.apply("in_y_backprop.npy"), x = in.apply("in_x.npy"), scale = in.apply("in_scale.npy");
                    Tensor m = in.apply("in_reserve_space_1.npy"), v = in.apply("in_reserve_space_2.npy");
                    Grads gr = c.endsWith("training")
                            ? K.trainingBackward(dy, x, scale, m, v, epsilon(c))
                            : K.inferenceBackward(dy, x, scale, m, v, epsilon(c));
                    double ex = check(g.apply("out_x_backprop.npy"), gr.dx(), 1e-5, c + " x_backprop " + dt);
                    double es = check(g.apply("out_scale_backprop.npy"), gr.dscale(), 1e-5, c + " scale_backprop " + dt);
                    double eo = check(g.apply("out_offset_backprop.npy"), gr.doffset(), 1e-5, c + " offset_backprop " + dt);
                    System.out.printf("golden %s %s: dx %.3g, dscale %.3g, doffset %.3g%n", c, dt, ex, es, eo);
                }
            }
        });
    }

    // ---- float32 fast path vs float64 reference -----------------------------------------------

    private static final int[][] SHAPES = {{3, 7, 5, 13}, {4, 9, 37}, {2, 3, 3, 70}, {61, 5}, {1, 1, 1, 9}};

    @Test
    void float32MatchesFloat64Reference() {
        long seed = 100;
        for (int[] dims : SHAPES) {
            for (boolean affine : new boolean[] {true, false}) {
                String what = java.util.Arrays.toString(dims) + (affine ? " scale+offset" : " null scale/offset");
                leakFree(() -> {
                    int c = dims[dims.length - 1];
                    Tensor x = rand(seed + dims.length, DType.FLOAT32, -3, 5, dims);
                    Tensor scale = affine ? rand(seed + 1, DType.FLOAT32, 0.5, 2, c) : null;
                    Tensor offset = affine ? rand(seed + 2, DType.FLOAT32, -1, 1, c) : null;
                    Tensor dy = rand(seed + 3, DType.FLOAT32, -1, 1, dims);
                    float eps = 1e-3f;
                    Training t = K.trainingForward(x, scale, offset, eps);
                    Training t64 = K.trainingForward(f64(x), f64(scale), f64(offset), eps);
                    check(t64.y(), t.y(), 1e-5, "training y " + what);
                    check(t64.mean(), t.mean(), 1e-6, "training mean " + what);
                    check(t64.variance(), t.variance(), 1e-6, "training variance " + what);
                    Tensor mv = rand(seed + 4, DType.FLOAT32, 0.1, 3, c);
                    Tensor mm = rand(seed + 5, DType.FLOAT32, -1, 1, c);
                    check(K.inferenceForward(f64(x), f64(scale), f64(offset), f64(mm), f64(mv), eps),
                            K.inferenceForward(x, scale, offset, mm, mv, eps), 1e-5, "inference y " + what);
                    Grads gb = K.trainingBackward(dy, x, scale, t.mean(), t.variance(), eps);
                    Grads gb64 = K.trainingBackward(f64(dy), f64(x), f64(scale), f64(t.mean()), f64(t.variance()), eps);
                    check(gb64.dx(), gb.dx(), 1e-5, "training dx " + what);
                    check(gb64.dscale(), gb.dscale(), 1e-5, "training dscale " + what);
                    check(gb64.doffset(), gb.doffset(), 1e-5, "training doffset " + what);
                    Grads gi = K.inferenceBackward(dy, x, scale, mm, mv, eps);
                    Grads gi64 = K.inferenceBackward(f64(dy), f64(x), f64(scale), f64(mm), f64(mv), eps);
                    check(gi64.dx(), gi.dx(), 1e-5, "inference dx " + what);
                    check(gi64.dscale(), gi.dscale(), 1e-5, "inference dscale " + what);
                    check(gi64.doffset(), gi.doffset(), 1e-5, "inference doffset " + what);
                });
            }
        }
    }

    @Test
    void largeMeanSmallSpreadKeepsVarianceAccurate() {
        leakFree(() -> {
            // |mean| / std ~ 1e4: a naive float sum(x^2) - N mean^2 would lose every digit.
            Tensor x = rand(7, DType.FLOAT32, 999.9, 1000.1, 64, 9, 11);
            Training t = K.trainingForward(x, null, null, 1e-5f);
            Training t64 = K.trainingForward(f64(x), null, null, 1e-5f);
            double[] v = t.variance().toDoubleArray(), v64 = t64.variance().toDoubleArray();
            for (int i = 0; i < v.length; i++) assertEquals(v64[i], v[i], 1e-5 * v64[i], "variance channel " + i);
            check(t64.y(), t.y(), 2e-3, "y");
        });
    }

    @Test
    void nullScaleAndOffsetMeanOneAndZero() {
        leakFree(() -> {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Tensor x = rand(8, dt, -2, 2, 3, 5, 11);
                Tensor ones = Tensor.fill(dt, Shape.of(11), 1), zeros = Tensor.zeros(dt, Shape.of(11));
                Training a = K.trainingForward(x, null, null, 1e-3f);
                Training b = K.trainingForward(x, ones, zeros, 1e-3f);
                assertArrayEquals(b.y().toDoubleArray(), a.y().toDoubleArray());
                Tensor dy = rand(9, dt, -1, 1, 3, 5, 11);
                Grads ga = K.trainingBackward(dy, x, null, a.mean(), a.variance(), 1e-3f);
                Grads gb = K.trainingBackward(dy, x, ones, a.mean(), a.variance(), 1e-3f);
                assertArrayEquals(gb.dx().toDoubleArray(), ga.dx().toDoubleArray());
                assertArrayEquals(gb.dscale().toDoubleArray(), ga.dscale().toDoubleArray());
                assertArrayEquals(new int[] {11}, ga.dscale().dims());
                Grads ia = K.inferenceBackward(dy, x, null, a.mean(), a.variance(), 1e-3f);
                assertArrayEquals(K.inferenceBackward(dy, x, ones, a.mean(), a.variance(), 1e-3f).dx().toDoubleArray(),
                        ia.dx().toDoubleArray());
            }
        });
    }

    @Test
    void slicedInputsUseTheirOffset() {
        leakFree(() -> {
            Tensor big = rand(10, DType.FLOAT32, -2, 2, 5, 4, 19);
            Tensor x = big.slice0(2, 5), copy = x.copy();
            Tensor dyBig = rand(11, DType.FLOAT32, -1, 1, 4, 4, 19);
            Tensor dy = dyBig.slice0(1, 4), dyc = dy.copy();
            Training a = K.trainingForward(x, null, null, 1e-3f), b = K.trainingForward(copy, null, null, 1e-3f);
            assertArrayEquals(b.y().toFloatArray(), a.y().toFloatArray());
            assertArrayEquals(b.variance().toFloatArray(), a.variance().toFloatArray());
            assertArrayEquals(K.trainingBackward(dyc, copy, null, b.mean(), b.variance(), 1e-3f).dx().toFloatArray(),
                    K.trainingBackward(dy, x, null, a.mean(), a.variance(), 1e-3f).dx().toFloatArray());
            assertArrayEquals(K.inferenceBackward(dyc, copy, null, b.mean(), b.variance(), 1e-3f).dscale().toFloatArray(),
                    K.inferenceBackward(dy, x, null, a.mean(), a.variance(), 1e-3f).dscale().toFloatArray());
            Tensor x64 = f64(big).slice0(2, 5);
            assertArrayEquals(K.trainingForward(f64(copy), null, null, 1e-3f).y().toDoubleArray(),
                    K.trainingForward(x64, null, null, 1e-3f).y().toDoubleArray());
        });
    }

    // ---- finite differences (float64) ---------------------------------------------------------

    static double dot(Tensor y, Tensor w) {
        double[] a = y.toDoubleArray(), b = w.toDoubleArray();
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        y.close();
        return s;
    }

    static double[] numericGrad(Tensor p, java.util.function.DoubleSupplier f) {
        double[] a = p.doubleData();
        double[] g = new double[p.numel()];
        double h = 1e-6;
        for (int i = 0; i < g.length; i++) {
            int q = p.offset() + i;
            double v = a[q];
            a[q] = v + h;
            double up = f.getAsDouble();
            a[q] = v - h;
            double down = f.getAsDouble();
            a[q] = v;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    @Test
    void trainingBackwardMatchesFiniteDifferences() {
        leakFree(() -> {
            float eps = 1e-3f;
            Tensor x = rand(30, DType.FLOAT64, -2, 3, 2, 3, 2, 5);
            Tensor scale = rand(31, DType.FLOAT64, 0.5, 2, 5), offset = rand(32, DType.FLOAT64, -1, 1, 5);
            Tensor w = rand(33, DType.FLOAT64, -1, 1, 2, 3, 2, 5);
            // The loss sees the batch statistics move with x.
            java.util.function.DoubleSupplier loss = () -> {
                Training t = K.trainingForward(x, scale, offset, eps);
                t.mean().close();
                t.variance().close();
                return dot(t.y(), w);
            };
            Training fwd = K.trainingForward(x, scale, offset, eps);
            Grads g = K.trainingBackward(w, x, scale, fwd.mean(), fwd.variance(), eps);
            Close.assertClose(numericGrad(x, loss), g.dx().toDoubleArray(), 1e-6, "training dx fd");
            Close.assertClose(numericGrad(scale, loss), g.dscale().toDoubleArray(), 1e-6, "training dscale fd");
            Close.assertClose(numericGrad(offset, loss), g.doffset().toDoubleArray(), 1e-6, "training doffset fd");
        });
    }

    @Test
    void inferenceBackwardMatchesFiniteDifferences() {
        leakFree(() -> {
            float eps = 1e-3f;
            Tensor x = rand(40, DType.FLOAT64, -2, 3, 3, 2, 7);
            Tensor scale = rand(41, DType.FLOAT64, 0.5, 2, 7), offset = rand(42, DType.FLOAT64, -1, 1, 7);
            Tensor mean = rand(43, DType.FLOAT64, -1, 1, 7), var = rand(44, DType.FLOAT64, 0.2, 2, 7);
            Tensor w = rand(45, DType.FLOAT64, -1, 1, 3, 2, 7);
            java.util.function.DoubleSupplier loss = () -> dot(K.inferenceForward(x, scale, offset, mean, var, eps), w);
            Grads g = K.inferenceBackward(w, x, scale, mean, var, eps);
            Close.assertClose(numericGrad(x, loss), g.dx().toDoubleArray(), 1e-6, "inference dx fd");
            Close.assertClose(numericGrad(scale, loss), g.dscale().toDoubleArray(), 1e-6, "inference dscale fd");
            Close.assertClose(numericGrad(offset, loss), g.doffset().toDoubleArray(), 1e-6, "inference doffset fd");
        });
    }

    // ---- errors -------------------------------------------------------------------------------

    static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void badArgumentsAreRejectedWithClearMessages() {
        leakFree(() -> {
            Tensor x = Tensor.zeros(DType.FLOAT32, Shape.of(2, 4, 4, 3));
            Tensor c3 = Tensor.zeros(DType.FLOAT32, Shape.of(3)), c5 = Tensor.zeros(DType.FLOAT32, Shape.of(5));
            assertMessage(() -> K.trainingForward(x, c5, null, 1e-3f), "trainingForward", "scale", "[5]", "[2, 4, 4, 3]");
            assertMessage(() -> K.trainingForward(x, null, c5, 1e-3f), "trainingForward", "offset", "[5]");
            assertMessage(() -> K.inferenceForward(x, c3, c3, c5, c3, 1e-3f), "inferenceForward", "mean", "[5]", "[2, 4, 4, 3]");
            assertMessage(() -> K.inferenceForward(x, c3, c3, c3, null, 1e-3f), "inferenceForward", "variance");
            Tensor dy = Tensor.zeros(DType.FLOAT32, Shape.of(2, 4, 3, 3));
            assertMessage(() -> K.trainingBackward(dy, x, c3, c3, c3, 1e-3f), "trainingBackward", "dy", "[2, 4, 3, 3]", "[2, 4, 4, 3]");
            assertMessage(() -> K.inferenceBackward(dy, x, c3, c3, c3, 1e-3f), "inferenceBackward", "dy", "[2, 4, 3, 3]");
            Tensor c3d = Tensor.zeros(DType.FLOAT64, Shape.of(3));
            assertMessage(() -> K.trainingForward(x, c3d, null, 1e-3f), "scale", "FLOAT64", "FLOAT32");
            Tensor xi = Tensor.zeros(DType.INT32, Shape.of(2, 3));
            assertMessage(() -> K.trainingForward(xi, null, null, 1e-3f), "trainingForward", "INT32");
            assertMessage(() -> K.inferenceForward(xi, null, null, c3, c3, 1e-3f), "inferenceForward", "INT32");
        });
    }

    // ---- memory -------------------------------------------------------------------------------

    @Test
    void kernelsLeaveNothingAllocated() {
        long bytes = CpuDevice.INSTANCE.liveBytes(), count = CpuDevice.INSTANCE.liveAllocations();
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = rand(1, dt, -1, 1, 3, 5, 7, 11);
            Tensor s = rand(2, dt, 0.5, 1.5, 11), o = rand(3, dt, -1, 1, 11);
            Training t = K.trainingForward(x, s, o, 1e-3f);
            Tensor yi = K.inferenceForward(x, s, o, t.mean(), t.variance(), 1e-3f);
            Grads gt = K.trainingBackward(t.y(), x, s, t.mean(), t.variance(), 1e-3f);
            Grads gi = K.inferenceBackward(yi, x, null, t.mean(), t.variance(), 1e-3f);
            for (Tensor z : new Tensor[] {x, s, o, t.y(), t.mean(), t.variance(), yi, gt.dx(), gt.dscale(), gt.doffset(),
                    gi.dx(), gi.dscale(), gi.doffset()}) {
                assertFalse(z.isClosed(), "kernels must not close their inputs");
                z.close();
            }
        }
        assertEquals(bytes, CpuDevice.INSTANCE.liveBytes());
        assertEquals(count, CpuDevice.INSTANCE.liveAllocations());
    }
}
