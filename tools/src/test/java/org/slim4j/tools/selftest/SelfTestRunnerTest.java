package org.slim4j.tools.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.tensor.Backend;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.Npy;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.GoldenData;

/**
 * The selftest's mechanics on hand-made cases, with a stand-in backend whose only family is a
 * naive MatMul (so these tests do not depend on the real kernels): pass/fail rule, reasons,
 * ordering, filtering, attr mapping against TF's own matmul cases, and no leaked memory.
 */
class SelfTestRunnerTest {
    @TempDir
    Path golden;

    /** Plain triple loop in double; result in the inputs' dtype. */
    static final class NaiveMatMul implements MatMulKernels {
        @Override
        public Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
            int m = transposeA ? a.dim(1) : a.dim(0);
            int k = transposeA ? a.dim(0) : a.dim(1);
            int kb = transposeB ? b.dim(1) : b.dim(0);
            int n = transposeB ? b.dim(0) : b.dim(1);
            if (k != kb) throw new IllegalArgumentException("matmul: inner dimensions " + k + " != " + kb);
            double[] av = a.toDoubleArray();
            double[] bv = b.toDoubleArray();
            double[] c = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double x = transposeA ? av[p * m + i] : av[i * k + p];
                        double y = transposeB ? bv[j * k + p] : bv[p * n + j];
                        s += x * y;
                    }
                    c[i * n + j] = s;
                }
            }
            return Tensor.fromDoubles(a.dtype(), Shape.of(m, n), c);
        }
    }

    /** A backend holding only the families given. */
    static final class FakeBackend implements Backend {
        private final Map<Class<?>, Object> families = new HashMap<>();

        <K> FakeBackend with(Class<K> family, K impl) {
            families.put(family, impl);
            return this;
        }

        @Override
        public Device device() {
            return CpuDevice.INSTANCE;
        }

        @Override
        public <K> K kernels(Class<K> family) {
            Object k = families.get(family);
            if (k == null) throw new UnsupportedOperationException("no " + family.getSimpleName());
            return family.cast(k);
        }

        @Override
        public boolean supports(Class<?> family) {
            return families.containsKey(family);
        }
    }

    private final Backend backend = new FakeBackend().with(MatMulKernels.class, new NaiveMatMul());
    private SelfTest test() {
        return new SelfTest(golden, backend, SelfTest.DEFAULT_TOLERANCE);
    }

    @BeforeEach
    void createOps() throws IOException {
        Files.createDirectories(golden.resolve("ops"));
    }

    private Path writeCase(String name, String op, String attrs, String inputs, String outputs) throws IOException {
        Path dir = Files.createDirectories(golden.resolve("ops").resolve(name));
        Files.writeString(dir.resolve("case.json"), "{\"name\": \"" + name + "\", \"op\": \"" + op + "\", \"attrs\": " + attrs
                + ", \"inputs\": [" + inputs + "], \"outputs\": [" + outputs + "]}");
        return dir;
    }

    private static String spec(String name, String dtype, int... shape) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) s.append(i == 0 ? "" : ", ").append(shape[i]);
        return "{\"name\": \"" + name + "\", \"file\": \"" + (name.equals("a") || name.equals("b") ? "in_" : "out_") + name
                + ".npy\", \"tf_dtype\": \"" + dtype + "\", \"shape\": " + s + "]}";
    }

    private static void npy(Path dir, String file, Tensor t) throws IOException {
        Npy.write(t, dir.resolve(file));
        t.close();
    }

    /** A MatMul case a [2,3] x b [3,2] whose expected product is perturbed by {@code delta} at [1,0]. */
    private Path matmulCase(String name, double delta, int[] expectedShape) throws IOException {
        Path dir = writeCase(name, "MatMul", "{\"transpose_a\": false, \"transpose_b\": false}",
                spec("a", "float32", 2, 3) + ", " + spec("b", "float32", 3, 2), spec("product", "float32", expectedShape));
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {0.5f, -1, 2, 0.25f, -3, 4};
        npy(dir, "in_a.npy", Tensor.of(a, 2, 3));
        npy(dir, "in_b.npy", Tensor.of(b, 3, 2));
        float[] c = {1 * 0.5f + 2 * 2 + 3 * -3, 1 * -1 + 2 * 0.25f + 3 * 4, 4 * 0.5f + 5 * 2 + 6 * -3, 4 * -1 + 5 * 0.25f + 6 * 4};
        c[2] += (float) delta;
        if (expectedShape.length == 2 && expectedShape[0] * expectedShape[1] == 4) {
            npy(dir, "out_product.npy", Tensor.of(c, expectedShape));
        } else {
            npy(dir, "out_product.npy", Tensor.zeros(DType.FLOAT32, Shape.of(expectedShape)));
        }
        return dir;
    }

    @Test
    void passingCaseReportsItsError() throws IOException {
        Path dir = matmulCase("mm_ok", 0, new int[] {2, 2});
        SelfTest.CaseResult r = test().runCase(dir);
        assertTrue(r.passed(), r.line());
        assertEquals(0.0, r.maxAbsErr());
        assertEquals("mm_ok  max_abs_err=0.000e+00  PASS", r.line());
    }

    @Test
    void errorAboveTheRelativeBoundFails() throws IOException {
        // max|TF| = 21.25 so the bound is 2.125e-3: 1e-3 passes, 3e-3 fails.
        assertTrue(test().runCase(matmulCase("mm_small", 1e-3, new int[] {2, 2})).passed());
        SelfTest.CaseResult r = test().runCase(matmulCase("mm_big", 3e-3, new int[] {2, 2}));
        assertFalse(r.passed());
        assertEquals(3e-3, r.maxAbsErr(), 1e-6);
        assertTrue(r.line().startsWith("mm_big  max_abs_err=3.000e-03  FAIL (output product: max_abs_err"), r.line());
    }

    @Test
    void shapeMismatchFails() throws IOException {
        SelfTest.CaseResult r = test().runCase(matmulCase("mm_shape", 0, new int[] {2, 3}));
        assertFalse(r.passed());
        assertTrue(r.reason().contains("shape [2, 2] != TF's [2, 3]"), r.reason());
        assertTrue(Double.isNaN(r.maxAbsErr()));
    }

    @Test
    void missingFamilyUnknownOpPipelineAndBrokenJsonFail() throws IOException {
        Path conv = writeCase("conv", "Conv2D", "{\"strides\": [1, 1, 1, 1], \"padding\": \"SAME\"}",
                spec("a", "float32", 1, 2, 2, 1) + ", " + spec("b", "float32", 1, 1, 1, 1), spec("output", "float32", 1, 2, 2, 1));
        npy(conv, "in_a.npy", Tensor.zeros(1, 2, 2, 1));
        npy(conv, "in_b.npy", Tensor.zeros(1, 1, 1, 1));
        // Conv2D reads inputs "input" and "filter"; map them by giving the right names.
        Files.writeString(conv.resolve("case.json"), Files.readString(conv.resolve("case.json"))
                .replace("\"name\": \"a\"", "\"name\": \"input\"").replace("\"name\": \"b\"", "\"name\": \"filter\""));
        SelfTest.CaseResult r = test().runCase(conv);
        assertFalse(r.passed());
        assertEquals("missing op: the cpu backend has no ConvKernels", r.reason());

        r = test().runCase(writeCase("weird", "Frobnicate", "{}", "", ""));
        assertEquals("missing op: slim4j has no mapping for TF op 'Frobnicate'", r.reason());

        r = test().runCase(writeCase("pipe", "pipeline", "{}", "", spec("output", "float32", 1)));
        assertFalse(r.passed());
        assertEquals(GoldenOpTable.PIPELINE_REASON, r.reason());

        Path broken = Files.createDirectories(golden.resolve("ops").resolve("broken"));
        Files.writeString(broken.resolve("case.json"), "{not json");
        r = test().runCase(broken);
        assertFalse(r.passed());
        assertEquals("broken", r.name());
        assertTrue(r.reason().startsWith("cannot read case.json"), r.reason());
    }

    @Test
    void kernelExceptionAndMissingOutputFail() throws IOException {
        Path dir = matmulCase("mm_bad_inner", 0, new int[] {2, 2});
        Files.writeString(dir.resolve("case.json"), Files.readString(dir.resolve("case.json")).replace("\"transpose_a\": false", "\"transpose_a\": true"));
        SelfTest.CaseResult r = test().runCase(dir);
        assertFalse(r.passed());
        assertEquals("exception: IllegalArgumentException: matmul: inner dimensions 2 != 3", r.reason());

        Path out = matmulCase("mm_out_name", 0, new int[] {2, 2});
        Files.writeString(out.resolve("case.json"), Files.readString(out.resolve("case.json")).replace("\"name\": \"product\"", "\"name\": \"result\""));
        r = test().runCase(out);
        assertFalse(r.passed());
        assertTrue(r.reason().contains("no output 'result'"), r.reason());
    }

    @Test
    void runsInNameOrderWithFilterAndReleasesMemory() throws IOException {
        matmulCase("mm_c", 0, new int[] {2, 2});
        matmulCase("mm_a", 0, new int[] {2, 2});
        matmulCase("other_b", 5, new int[] {2, 2});
        long before = CpuDevice.INSTANCE.liveBytes();
        List<String> seen = new ArrayList<>();
        List<SelfTest.CaseResult> all = test().run(Pattern.compile(""), r -> seen.add(r.name()));
        assertEquals(List.of("mm_a", "mm_c", "other_b"), seen);
        assertEquals("2 passed, 1 failed", SelfTest.summaryLine(all));
        List<SelfTest.CaseResult> some = test().run(Pattern.compile("^mm_"), r -> { });
        assertEquals("2 passed, 0 failed", SelfTest.summaryLine(some));
        assertEquals(before, CpuDevice.INSTANCE.liveBytes(), "selftest left tensors allocated");
    }

    /** TF's own MatMul cases through the naive kernel: checks the transpose_a/b attr mapping. */
    @Test
    void goldenMatMulCasesPassWithANaiveKernel() throws IOException {
        SelfTest real = new SelfTest(GoldenData.goldenDir(), backend, SelfTest.DEFAULT_TOLERANCE);
        List<SelfTest.CaseResult> rs = real.run(Pattern.compile("^matmul"), r -> { });
        assertEquals(4, rs.size());
        for (SelfTest.CaseResult r : rs) {
            assertTrue(r.passed(), r.line());
            assertTrue(r.maxAbsErr() < 1e-5, r.line());
        }
    }
}
