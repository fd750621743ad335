package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/**
 * The speed paths at sizes where every blocking decision matters: implicit-GEMM convolution
 * (several M blocks per core, K blocks that end inside a kernel row, ragged N panels, windows
 * that hang over every border, the flipped-filter input gradient, pixel slices of the filter
 * gradient), the Winograd F(2x2, 3x3) and F(2x2, 5x5) paths (all three passes) against both, the depthwise row kernels (3x3 interior fast path and the
 * generic borders, vector body + channel tail) and the GEMM drivers themselves, each against the
 * float64 reference or a plain triple loop.
 */
class ConvFastPathTest {
    @Test
    void winogradFilterTransformOfAnHwioFilterEqualsTheScalarTransform() {
        // cout 24: a ragged last B panel (16 + 8), whose padding columns must stay zero.
        for (int[] cc : new int[][] {{16, 16}, {16, 24}, {32, 64}}) {
            int cin = cc[0], cout = cc[1], np = Sgemm.panels(cout), size = 16 * np * cin * Sgemm.NR;
            float[] w = new float[7 + 9 * cin * cout];
            SeededRandom r = new SeededRandom(cin * 100 + cout);
            for (int i = 0; i < w.length; i++) w[i] = (float) (2 * r.nextDouble() - 1);
            float[] vector = java.util.Arrays.copyOf(Winograd3x3.transformFilter(new Winograd3x3.HwioTaps(w, 7, 3, cin, cout), cin, cout, np), size);
            float[] scalar = java.util.Arrays.copyOf(Winograd3x3.transformFilter(
                (ky, kx, ci, co) -> w[7 + ((ky * 3 + kx) * cin + ci) * cout + co], cin, cout, np), size);
            org.junit.jupiter.api.Assertions.assertArrayEquals(scalar, vector, "cin " + cin + ", cout " + cout);
        }
    }

    private final ConvKernels conv = new Conv2dCpu();
    private final DepthwiseConvKernels dw = new DepthwiseConv2dCpu();

    /** in n x h x w x c, filter kh x kw x c x cout (cout = multiplier for depthwise), strides, dilations. */
    private record Geo(int n, int h, int w, int c, int kh, int kw, int cout, int sh, int sw, int dh, int dw, Padding pad) {
        Conv2dSpec spec() {
            return new Conv2dSpec(sh, sw, dh, dw, pad);
        }
    }

    private static final List<Geo> CONV = List.of(
            new Geo(2, 23, 21, 64, 3, 3, 37, 1, 1, 1, 1, Padding.SAME),    // K = 576: 3 K blocks of one kernel row each
            new Geo(3, 17, 19, 40, 3, 3, 48, 1, 1, 1, 1, Padding.VALID),   // K = 360: blocks end mid-row
            new Geo(2, 20, 18, 72, 1, 1, 33, 1, 1, 1, 1, Padding.SAME),    // pointwise
            new Geo(1, 7, 11, 300, 1, 1, 20, 1, 1, 1, 1, Padding.VALID),   // pointwise, K = 300 > KC, 77 pixels (ragged)
            new Geo(1, 9, 7, 20, 1, 1, 300, 1, 1, 1, 1, Padding.SAME),     // pointwise, input gradient with K = 300, wide output
            new Geo(2, 19, 22, 24, 3, 3, 20, 2, 2, 1, 1, Padding.SAME),    // strided (col2im input gradient)
            new Geo(2, 21, 20, 16, 3, 3, 17, 1, 1, 2, 2, Padding.SAME),    // dilated, flipped-filter gradient
            new Geo(1, 30, 26, 8, 5, 3, 9, 1, 1, 1, 2, Padding.SAME),      // asymmetric window and dilation
            new Geo(2, 25, 24, 3, 7, 7, 16, 2, 2, 1, 1, Padding.SAME),     // stem
            new Geo(3, 13, 12, 1, 5, 5, 20, 1, 1, 1, 1, Padding.SAME),     // one channel: 5-float runs, shorter than a vector (LeNet's first layer)
            new Geo(2, 32, 33, 6, 3, 3, 10, 1, 1, 1, 1, Padding.SAME),     // many pixels, narrow field: sliced, streamed filter gradient
            new Geo(3, 5, 4, 40, 5, 4, 70, 1, 1, 1, 1, Padding.VALID));    // window = image (VGG's fc6): plain GEMMs

    private static Tensor rnd(long seed, DType t, int... dims) {
        return Tensor.randomUniform(seed, t, Shape.of(dims), -1, 1);
    }

    private void checkConv(Geo g, long seed) {
        checkConv(g, seed, 1e-5);
    }

    /** Forward and input gradient to 1e-5 of the output scale, the filter gradient to filterTolerance. */
    private void checkConv(Geo g, long seed, double filterTolerance) {
        checkConv(g, seed, 1e-5, filterTolerance);
    }

    /** Forward and input gradient to tolerance (of the output scale), the filter gradient to filterTolerance. */
    private void checkConv(Geo g, long seed, double tolerance, double filterTolerance) {
        try (TensorScope scope = TensorScope.open()) {
            Padding.Window wy = g.pad.window(g.h, g.kh, g.sh, g.dh);
            Padding.Window wx = g.pad.window(g.w, g.kw, g.sw, g.dw);
            Tensor x = rnd(seed, DType.FLOAT32, g.n, g.h, g.w, g.c);
            Tensor f = rnd(seed + 1, DType.FLOAT32, g.kh, g.kw, g.c, g.cout);
            Tensor dy = rnd(seed + 2, DType.FLOAT32, g.n, wy.outSize(), wx.outSize(), g.cout);
            Tensor x64 = x.cast(DType.FLOAT64);
            Tensor f64 = f.cast(DType.FLOAT64);
            Tensor dy64 = dy.cast(DType.FLOAT64);
            Close.assertClose(conv.conv2d(x64, f64, g.spec()), conv.conv2d(x, f, g.spec()), tolerance, "forward " + g);
            Close.assertClose(conv.conv2dBackpropInput(x.shape(), f64, dy64, g.spec()),
                    conv.conv2dBackpropInput(x.shape(), f, dy, g.spec()), tolerance, "input gradient " + g);
            Close.assertClose(conv.conv2dBackpropFilter(x64, f.shape(), dy64, g.spec()),
                    conv.conv2dBackpropFilter(x, f.shape(), dy, g.spec()), filterTolerance, "filter gradient " + g);
        }
    }

    @Test
    void implicitGemmConvolutionMatchesFloat64() {
        long seed = 100;
        for (Geo g : CONV) checkConv(g, seed += 3);
    }

    /**
     * Geometries the Winograd F(2x2, 3x3) path takes (3x3, unit stride, vector-multiple channels:
     * multiples of 16, so that they apply with AVX-512's 16 lanes as well as AVX2's 8).
     */
    private static final List<Geo> WINOGRAD = List.of(
            new Geo(2, 13, 11, 32, 3, 3, 32, 1, 1, 1, 1, Padding.SAME),    // odd output: partial tiles at both edges
            new Geo(2, 14, 12, 16, 3, 3, 48, 1, 1, 1, 1, Padding.VALID),
            new Geo(1, 9, 10, 80, 3, 3, 16, 1, 1, 1, 1, Padding.SAME),     // Cin 80: a full and a partial K block
            new Geo(3, 20, 19, 64, 3, 3, 64, 1, 1, 1, 1, Padding.SAME),    // several tile blocks per core
            new Geo(2, 5, 4, 16, 3, 3, 48, 1, 1, 1, 1, Padding.SAME));     // fewer tiles than a block

    @Test
    void winogradMatchesFloat64AndTheImplicitGemm() {
        // These images are below the sizes from which Winograd is chosen: force it.
        int minPixels = Conv2dCpu.WINOGRAD_MIN_PIXELS;
        int minFilterPixels = Conv2dCpu.WINOGRAD_FILTER_MIN_PIXELS;
        Conv2dCpu.WINOGRAD_MIN_PIXELS = 0;
        Conv2dCpu.WINOGRAD_FILTER_MIN_PIXELS = 0;
        try {
            checkWinograd();
        } finally {
            Conv2dCpu.WINOGRAD_MIN_PIXELS = minPixels;
            Conv2dCpu.WINOGRAD_FILTER_MIN_PIXELS = minFilterPixels;
        }
    }

    @Test
    void smallImagesTakeTheImplicitGemmAndLargeOnesWinograd() {
        Geo small = new Geo(1, 7, 7, 32, 3, 3, 32, 1, 1, 1, 1, Padding.SAME);
        Geo large = new Geo(1, 28, 28, 32, 3, 3, 32, 1, 1, 1, 1, Padding.SAME);
        for (Geo g : List.of(small, large)) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = rnd(900, DType.FLOAT32, g.n, g.h, g.w, g.c);
                Tensor f = rnd(901, DType.FLOAT32, g.kh, g.kw, g.c, g.cout);
                Tensor y = conv.conv2d(x, f, g.spec());
                boolean saved = Conv2dCpu.WINOGRAD;
                Tensor yGemm;
                try {
                    Conv2dCpu.WINOGRAD = false;
                    yGemm = conv.conv2d(x, f, g.spec());
                } finally {
                    Conv2dCpu.WINOGRAD = saved;
                }
                double diff = Close.maxAbsDiff(yGemm.toDoubleArray(), y.toDoubleArray());
                if (g == small) assertTrue(diff == 0, "7x7 output takes the implicit GEMM (same bits as WINOGRAD off)");
                else assertTrue(diff > 0, "28x28 output takes Winograd (different rounding from the GEMM)");
            }
        }
    }

    /**
     * F(4x4, 3x3)'s tolerance (of the output scale) for the forward and input-gradient passes: its
     * transforms' entries reach 8/3 (G) and 5/4 (B^T) and the products cancel: 4-5e-6 measured on
     * these geometries, several times F(2x2, 3x3)'s.
     */
    private static final double WINOGRAD4_TOLERANCE = 3e-5;

    /** Geometries for F(4x4, 3x3): ragged 4x4 tiles at both edges, VALID, two K blocks, several tile blocks, one tile per image. */
    private static final List<Geo> WINOGRAD4 = List.of(
            new Geo(2, 13, 11, 32, 3, 3, 32, 1, 1, 1, 1, Padding.SAME),    // 13x11: last tiles 1 and 3 pixels wide
            new Geo(2, 14, 12, 16, 3, 3, 48, 1, 1, 1, 1, Padding.VALID),   // 12x10 output
            new Geo(1, 9, 10, 80, 3, 3, 16, 1, 1, 1, 1, Padding.SAME),     // Cin 80: a full and a partial K block
            new Geo(3, 29, 30, 64, 3, 3, 64, 1, 1, 1, 1, Padding.SAME),    // several tile blocks per core
            new Geo(2, 4, 3, 16, 3, 3, 48, 1, 1, 1, 1, Padding.SAME));     // one tile per image

    @Test
    void winograd4x4MatchesFloat64AndTheImplicitGemm() {
        int minPixels = Conv2dCpu.WINOGRAD_MIN_PIXELS;
        int min4Pixels = Conv2dCpu.WINOGRAD4_MIN_PIXELS;
        Conv2dCpu.WINOGRAD_MIN_PIXELS = 0;
        Conv2dCpu.WINOGRAD4_MIN_PIXELS = 0;
        try {
            long seed = 1700;
            for (Geo g : WINOGRAD4) {
                assertTrue(Winograd4x4.applies(g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.c, g.cout), "F(4x4, 3x3) applies to " + g);
                checkConv(g, seed += 3, WINOGRAD4_TOLERANCE, 1e-5);
                assertWinogradDiffersFromImplicitGemm(g, seed, false, WINOGRAD4_TOLERANCE);
            }
        } finally {
            Conv2dCpu.WINOGRAD_MIN_PIXELS = minPixels;
            Conv2dCpu.WINOGRAD4_MIN_PIXELS = min4Pixels;
        }
    }

    @Test
    void winograd4x4IsTakenFrom28x28Maps() {
        // Below the threshold F(2x2, 3x3), from it F(4x4, 3x3): the two round differently.
        Geo g = new Geo(1, 28, 28, 32, 3, 3, 32, 1, 1, 1, 1, Padding.SAME);
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = rnd(910, DType.FLOAT32, g.n, g.h, g.w, g.c);
            Tensor f = rnd(911, DType.FLOAT32, g.kh, g.kw, g.c, g.cout);
            Tensor four = conv.conv2d(x, f, g.spec());
            int saved = Conv2dCpu.WINOGRAD4_MIN_PIXELS;
            Tensor two;
            try {
                Conv2dCpu.WINOGRAD4_MIN_PIXELS = 28 * 28 + 1;
                two = conv.conv2d(x, f, g.spec());
            } finally {
                Conv2dCpu.WINOGRAD4_MIN_PIXELS = saved;
            }
            assertTrue(Close.maxAbsDiff(two.toDoubleArray(), four.toDoubleArray()) > 0, "28x28 takes F(4x4, 3x3)");
            Close.assertClose(two, four, WINOGRAD4_TOLERANCE, "F(4x4, 3x3) against F(2x2, 3x3)");
        }
    }

    /** Geometries the Winograd F(2x2, 5x5) path takes (5x5, unit stride, vector-multiple channels). */
    private static final List<Geo> WINOGRAD5 = List.of(
            new Geo(2, 14, 14, 32, 5, 5, 64, 1, 1, 1, 1, Padding.SAME),    // LeNet's second layer, batch 2
            new Geo(2, 13, 11, 16, 5, 5, 32, 1, 1, 1, 1, Padding.SAME),    // odd output: partial tiles at both edges
            new Geo(1, 12, 15, 80, 5, 5, 16, 1, 1, 1, 1, Padding.VALID),   // Cin 80: a full and a partial K block
            new Geo(3, 9, 10, 16, 5, 5, 48, 1, 1, 1, 1, Padding.SAME),     // padding on every side of most tiles
            new Geo(2, 35, 33, 16, 5, 5, 16, 1, 1, 1, 1, Padding.SAME));   // several tile blocks per core

    /**
     * The F(2x2, 5x5) filter gradient's tolerance (of the output scale): its last step, G^T dU G,
     * multiplies the float32 sums dU by G's entries of up to 8/3 on both sides, and they cancel.
     */
    private static final double WINOGRAD5_FILTER_TOLERANCE = 3e-5;

    @Test
    void winograd5x5MatchesFloat64AndTheImplicitGemm() {
        int minPixels = Conv2dCpu.WINOGRAD5_MIN_PIXELS;
        int minFilterPixels = Conv2dCpu.WINOGRAD5_FILTER_MIN_PIXELS;
        Conv2dCpu.WINOGRAD5_MIN_PIXELS = 0;
        Conv2dCpu.WINOGRAD5_FILTER_MIN_PIXELS = 0;
        try {
            long seed = 1300;
            for (Geo g : WINOGRAD5) {
                assertTrue(Winograd5x5.applies(g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.c, g.cout), "Winograd 5x5 applies to " + g);
                checkConv(g, seed += 3, WINOGRAD5_FILTER_TOLERANCE);
                assertWinogradDiffersFromImplicitGemm(g, seed, true);
            }
        } finally {
            Conv2dCpu.WINOGRAD5_MIN_PIXELS = minPixels;
            Conv2dCpu.WINOGRAD5_FILTER_MIN_PIXELS = minFilterPixels;
        }
    }

    private void checkWinograd() {
        long seed = 700;
        for (Geo g : WINOGRAD) {
            assertTrue(Winograd3x3.applies(g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.c, g.cout), "Winograd applies to " + g);
            checkConv(g, seed += 3);
            assertWinogradDiffersFromImplicitGemm(g, seed, true);
        }
    }

    /**
     * The Winograd passes of g (forward, input gradient and, if asked, filter gradient) agree with
     * the implicit GEMM's to 1e-5 but not bit for bit: else the test would compare a path with itself.
     */
    private void assertWinogradDiffersFromImplicitGemm(Geo g, long seed, boolean filterGradient) {
        assertWinogradDiffersFromImplicitGemm(g, seed, filterGradient, 1e-5);
    }

    private void assertWinogradDiffersFromImplicitGemm(Geo g, long seed, boolean filterGradient, double tolerance) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = rnd(seed, DType.FLOAT32, g.n, g.h, g.w, g.c);
            Tensor f = rnd(seed + 1, DType.FLOAT32, g.kh, g.kw, g.c, g.cout);
            Tensor y = conv.conv2d(x, f, g.spec());
            List<Tensor> wino = passes(g, x, f, y, filterGradient);
            boolean saved = Conv2dCpu.WINOGRAD;
            List<Tensor> gemm;
            try {
                Conv2dCpu.WINOGRAD = false;
                gemm = passes(g, x, f, y, filterGradient);
            } finally {
                Conv2dCpu.WINOGRAD = saved;
            }
            String[] names = {"forward", "input gradient", "filter gradient"};
            for (int i = 0; i < wino.size(); i++) {
                double tol = i == 2 && g.kh == 5 ? WINOGRAD5_FILTER_TOLERANCE : tolerance;
                Close.assertClose(gemm.get(i), wino.get(i), tol, "Winograd vs implicit GEMM " + names[i] + " " + g);
                assertTrue(Close.maxAbsDiff(gemm.get(i).toDoubleArray(), wino.get(i).toDoubleArray()) > 0,
                        "distinct " + names[i] + " paths " + g);
            }
        }
    }

    /** Forward, input gradient (dy = y) and optionally filter gradient of g. */
    private List<Tensor> passes(Geo g, Tensor x, Tensor f, Tensor y, boolean filterGradient) {
        List<Tensor> out = new java.util.ArrayList<>(List.of(conv.conv2d(x, f, g.spec()), conv.conv2dBackpropInput(x.shape(), f, y, g.spec())));
        if (filterGradient) out.add(conv.conv2dBackpropFilter(x, f.shape(), y, g.spec()));
        return out;
    }

    @Test
    void depthwiseRowKernelsMatchFloat64() {
        List<Geo> geos = List.of(
                new Geo(2, 23, 21, 40, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),    // interior 3x3, 5 vectors, no tail
                new Geo(2, 17, 19, 37, 3, 3, 1, 1, 1, 1, 1, Padding.VALID),   // channel tail
                new Geo(2, 22, 20, 24, 3, 3, 1, 2, 2, 1, 1, Padding.SAME),    // strided 3x3
                new Geo(1, 19, 18, 16, 3, 3, 1, 1, 1, 2, 2, Padding.SAME),    // dilated 3x3, flipped gradient
                new Geo(2, 15, 16, 20, 5, 5, 1, 1, 1, 1, 1, Padding.SAME),    // generic window
                new Geo(1, 9, 30, 8, 1, 7, 1, 1, 1, 1, 1, Padding.SAME),
                // Row-ring path on tiny maps, several images per task: rows outside the image (zero
                // rows) are shared by neighbouring windows, and the ring must never evict a row the
                // current window still reads.
                new Geo(4, 2, 5, 32, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),
                new Geo(5, 1, 3, 16, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),
                new Geo(3, 3, 1, 48, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),
                new Geo(3, 4, 4, 16, 3, 3, 1, 1, 1, 1, 1, Padding.VALID));
        long seed = 500;
        for (Geo g : geos) {
            try (TensorScope scope = TensorScope.open()) {
                Padding.Window wy = g.pad.window(g.h, g.kh, g.sh, g.dh);
                Padding.Window wx = g.pad.window(g.w, g.kw, g.sw, g.dw);
                Tensor x = rnd(seed++, DType.FLOAT32, g.n, g.h, g.w, g.c);
                Tensor f = rnd(seed++, DType.FLOAT32, g.kh, g.kw, g.c, 1);
                Tensor dy = rnd(seed++, DType.FLOAT32, g.n, wy.outSize(), wx.outSize(), g.c);
                Tensor x64 = x.cast(DType.FLOAT64);
                Tensor f64 = f.cast(DType.FLOAT64);
                Tensor dy64 = dy.cast(DType.FLOAT64);
                Close.assertClose(dw.depthwiseConv2d(x64, f64, g.spec()), dw.depthwiseConv2d(x, f, g.spec()), 1e-5, "dw forward " + g);
                Close.assertClose(dw.depthwiseConv2dBackpropInput(x.shape(), f64, dy64, g.spec()),
                        dw.depthwiseConv2dBackpropInput(x.shape(), f, dy, g.spec()), 1e-5, "dw input gradient " + g);
                Close.assertClose(dw.depthwiseConv2dBackpropFilter(x64, f.shape(), dy64, g.spec()),
                        dw.depthwiseConv2dBackpropFilter(x, f.shape(), dy, g.spec()), 1e-5, "dw filter gradient " + g);
            }
        }
    }

    // ---- the GEMM drivers directly ------------------------------------------------------------

    private static float[] random(long seed, int n) {
        SeededRandom r = new SeededRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (2 * r.nextDouble() - 1);
        return v;
    }

    /** C = A B for row-major A (m x k) and B (k x n), in double. */
    private static double[] reference(float[] a, float[] b, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                double av = a[i * k + p];
                for (int j = 0; j < n; j++) c[i * n + j] += av * b[p * n + j];
            }
        }
        return c;
    }

    private static void assertGemm(double[] ref, float[] c, int k, String what) {
        double maxRef = 0;
        double maxErr = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxErr = Math.max(maxErr, Math.abs(ref[i] - c[i]));
        }
        assertTrue(maxErr <= 2e-6 * Math.sqrt(k) * Math.max(1, maxRef), what + ": max error " + maxErr);
    }

    @Test
    void streamedDriverMatchesTripleLoop() {
        // m > MC (several A blocks in one K block), k > KC (several K blocks), ragged panels.
        for (int[] s : new int[][] {{7, 21, 40}, {130, 37, 700}, {64, 576, 600}, {3, 5, 1}}) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = random(m + n, m * k);
            float[] b = random(k + 7, k * n);
            float[] c = new float[m * n];
            java.util.Arrays.fill(c, Float.NaN);
            Sgemm.multiplyStreamed(m, n, k, Sgemm.packerA(false, 1f, a, 0, k), Sgemm.packerB(false, b, 0, n), c, 0, n, false);
            assertGemm(reference(a, b, m, n, k), c, k, "streamed " + m + "x" + n + "x" + k);
        }
    }

    @Test
    void epilogueSeesEveryBlockOnce() {
        int m = 517, n = 45, k = 300;
        float[] a = random(1, m * k);
        float[] b = random(2, k * n);
        float[] c = new float[m * n];
        int[] visits = new int[m * n];
        float[] bp = Sgemm.packAllB(k, 0, n, Sgemm.packerB(false, b, 0, n));
        Sgemm.multiplyParallel(m, n, k, Sgemm.packerA(false, 1f, a, 0, k), bp, c, 0, n, false,
                (cc, cOff, ldc, row0, rows, col0, cols) -> {
                    for (int r = row0; r < row0 + rows; r++) {
                        for (int j = col0; j < col0 + cols; j++) {
                            synchronized (visits) {
                                visits[r * n + j]++;
                            }
                            cc[cOff + r * ldc + j] = 2 * cc[cOff + r * ldc + j] + 1;
                        }
                    }
                });
        double[] ref = reference(a, b, m, n, k);
        for (int i = 0; i < ref.length; i++) ref[i] = 2 * ref[i] + 1;
        for (int v : visits) assertEquals(1, v);
        assertGemm(ref, c, k, "epilogue");
    }

    @Test
    void leavesNoMemoryAllocated() {
        long before = CpuDevice.INSTANCE.liveBytes();
        Geo g = CONV.get(0);
        Tensor x = rnd(1, DType.FLOAT32, g.n, g.h, g.w, g.c);
        Tensor f = rnd(2, DType.FLOAT32, g.kh, g.kw, g.c, g.cout);
        Tensor y = conv.conv2d(x, f, g.spec());
        Tensor dx = conv.conv2dBackpropInput(x.shape(), f, y, g.spec());
        Tensor dwt = conv.conv2dBackpropFilter(x, f.shape(), y, g.spec());
        Tensor fd = rnd(3, DType.FLOAT32, 3, 3, g.c, 1);
        Tensor yd = dw.depthwiseConv2d(x, fd, g.spec());
        Tensor dxd = dw.depthwiseConv2dBackpropInput(x.shape(), fd, yd, g.spec());
        Tensor dwd = dw.depthwiseConv2dBackpropFilter(x, fd.shape(), yd, g.spec());
        for (Tensor t : List.of(x, f, y, dx, dwt, fd, yd, dxd, dwd)) t.close();
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }
}
