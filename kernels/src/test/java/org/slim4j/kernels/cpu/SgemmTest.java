package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.SeededRandom;

/**
 * Sgemm against a double-precision triple loop over the same strided storage: every transpose
 * combination, the direct (small / skinny) and blocked paths, ragged edges, several K and N blocks,
 * alpha/beta, offsets and padded leading dimensions. Elements of C outside the addressed
 * sub-matrix hold a sentinel that must survive.
 */
class SgemmTest {
    private static final float SENTINEL = -12345.5f;

    /** {m, n, k}: tiny, odd, direct-path, skinny, several K blocks, several N blocks (n > NC). */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {7, 13, 5}, {33, 65, 17}, {129, 31, 257}, {2, 300, 500}, {300, 2, 500},
        {1, 1000, 700}, {1000, 1, 300}, {97, 83, 600}, {6, 16, 512}, {500, 70, 300},
        {13, Sgemm.NC + 37, 40}, {150, 17, 9}, {64, 64, 64}, {200, 200, 1},
        // A read in place (N <= 8 panels): ragged last panel, several K blocks, the widest such N.
        {37, 48, 700}, {333, 8 * Sgemm.NR, 300},
        // Skinny M (direct path, rows grouped): wider than one column chunk, and a deep K.
        {4, 1100, 300}, {8, 600, 2000},
        // A copied into row panels (more than 8 panels): several K blocks, with a short and a tall M.
        {40, 300, 600}, {300, 200, 700},
        // ... and B cut into groups of C_GROUP_PANELS per task (several K blocks), the last one ragged.
        {250, 3 * Sgemm.C_GROUP_PANELS * Sgemm.NR + 9, 600},
    };

    private static float[] random(long seed, int n) {
        SeededRandom r = new SeededRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (2 * r.nextDouble() - 1);
        return v;
    }

    /** Runs one case; padding widens every leading dimension, offsets shift every matrix. */
    private static void check(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, int pad, int off, long seed) {
        int aRows = ta ? k : m, aCols = ta ? m : k;
        int bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] a = random(seed, off + aRows * lda);
        float[] b = random(seed + 1, off + bRows * ldb);
        float[] c = new float[off + m * ldc + pad];
        java.util.Arrays.fill(c, SENTINEL);
        float[] c0init = random(seed + 2, m * n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) c[off + i * ldc + j] = beta == 0 ? Float.NaN : c0init[i * n + j];
        }
        float[] c0 = c.clone();
        Sgemm.gemm(ta, tb, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c, off, ldc);

        double maxRef = 0, maxErr = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[off + p * lda + i] : a[off + i * lda + p];
                    double bv = tb ? b[off + j * ldb + p] : b[off + p * ldb + j];
                    s += av * bv;
                }
                double ref = alpha * s + (beta == 0 ? 0 : beta * (double) c0[off + i * ldc + j]);
                double got = c[off + i * ldc + j];
                maxRef = Math.max(maxRef, Math.abs(ref));
                double err = Math.abs(got - ref);
                if (Double.isNaN(err)) fail(desc(ta, tb, m, n, k, alpha, beta) + ": NaN at (" + i + "," + j + ")");
                maxErr = Math.max(maxErr, err);
            }
        }
        double bound = 2e-6 * Math.sqrt(k + 1) * Math.max(1, maxRef);
        if (maxErr > bound) fail(desc(ta, tb, m, n, k, alpha, beta) + ": max error " + maxErr + " > " + bound);
        // Nothing outside the addressed sub-matrix may change.
        for (int idx = 0; idx < c.length; idx++) {
            int rel = idx - off;
            boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
            if (!inside && c[idx] != SENTINEL) fail(desc(ta, tb, m, n, k, alpha, beta) + ": wrote outside C at " + idx);
        }
    }

    private static String desc(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta) {
        return "gemm(" + (ta ? "T" : "N") + (tb ? "T" : "N") + ", m=" + m + " n=" + n + " k=" + k
                + ", alpha=" + alpha + ", beta=" + beta + ")";
    }

    @Test
    void allShapesAllTransposes() {
        long seed = 1;
        for (int[] s : SHAPES) {
            for (int t = 0; t < 4; t++) {
                check((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 1f, 0f, 0, 0, seed++);
            }
        }
    }

    @Test
    void alphaBetaOffsetsAndPaddedLeadingDimensions() {
        long seed = 100;
        float[][] ab = {{1.5f, 1f}, {-0.5f, -0.75f}, {2f, 0f}, {1f, 2.5f}};
        // 97 x 83 x 600 and 64 x 530 x 520: short M, B packed per panel group and K block inside the tasks.
        int[][] shapes = {{7, 13, 5}, {33, 65, 17}, {129, 31, 257}, {1, 1000, 700}, {97, 83, 600}, {64, 530, 520}};
        for (int[] s : shapes) {
            for (float[] alphaBeta : ab) {
                for (int t = 0; t < 4; t++) {
                    check((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], alphaBeta[0], alphaBeta[1], 3, 5, seed++);
                }
            }
        }
    }

    @Test
    void betaZeroIgnoresNaNsInCAndAlphaZeroOnlyScales() {
        // check() fills C with NaN whenever beta == 0; here too for the K = 0 and alpha = 0 shortcuts.
        check(false, false, 40, 50, 60, 1f, 0f, 2, 1, 7);
        float[] c = {Float.NaN, Float.NaN, 3f, 4f};
        Sgemm.gemm(false, false, 2, 2, 0, 1f, new float[0], 0, 0, new float[0], 0, 2, 0f, c, 0, 2);
        assertEquals(0f, c[0]);
        assertEquals(0f, c[3]);
        float[] c2 = {1f, 2f, 3f, 4f};
        float[] a = {1, 2, 3, 4};
        Sgemm.gemm(false, false, 2, 2, 2, 0f, a, 0, 2, a, 0, 2, 0.5f, c2, 0, 2);
        assertEquals(0.5f, c2[0]);
        assertEquals(2f, c2[3]);
        // m or n zero: nothing touched.
        float[] c3 = {9f};
        Sgemm.gemm(false, false, 0, 1, 5, 1f, new float[5], 0, 5, new float[5], 0, 1, 0f, c3, 0, 1);
        assertEquals(9f, c3[0]);
        assertThrows(IllegalArgumentException.class,
                () -> Sgemm.gemm(false, false, -1, 1, 1, 1f, a, 0, 1, a, 0, 1, 0f, c3, 0, 1));
    }

    @Test
    void knownSmallProduct() {
        // [[1,2,3],[4,5,6]] x [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {7, 8, 9, 10, 11, 12};
        float[] c = new float[4];
        Sgemm.gemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2);
        assertEquals(58f, c[0]);
        assertEquals(64f, c[1]);
        assertEquals(139f, c[2]);
        assertEquals(154f, c[3]);
    }

    @Test
    void concurrentCallersDoNotShareBuffers() throws Exception {
        // Packing buffers are per thread: callers on separate threads must not corrupt each other.
        int m = 150, n = 170, k = 300;
        float[] a = random(11, m * k);
        float[] b = random(12, k * n);
        float[] expected = new float[m * n];
        Sgemm.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, expected, 0, n);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<float[]>> fs = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                Callable<float[]> job = () -> {
                    float[] c = new float[m * n];
                    for (int rep = 0; rep < 3; rep++) Sgemm.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
                    return c;
                };
                fs.add(pool.submit(job));
            }
            for (Future<float[]> f : fs) {
                float[] c = f.get();
                for (int i = 0; i < c.length; i++) {
                    if (c[i] != expected[i]) fail("concurrent result differs at " + i + ": " + c[i] + " vs " + expected[i]);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * The transposed-A micro-kernel (the Winograd filter gradient's V read in place): A's row r,
     * column p at a[ao + p * KS + r], B packed, full and ragged tiles, storing and accumulating;
     * cells of C outside the tile keep their sentinel; at depths 1, 36 and 37.
     */
    @Test
    void transposedAKernelMatchesTripleLoop() {
        for (int kc : new int[] {1, 36, 37}) transposedAKernelMatchesTripleLoop(kc);
    }

    private static void transposedAKernelMatchesTripleLoop(int kc) {
        int ldc = Sgemm.NR + 5;
        float[] a = random(31, 3 + kc * Sgemm.KS + Sgemm.MR);
        float[] b = random(32, 7 + kc * Sgemm.NR);
        float[] scratch = new float[Sgemm.MR * Sgemm.NR];
        for (int[] tile : new int[][] {{Sgemm.MR, Sgemm.NR}, {2, Sgemm.NR}, {Sgemm.MR, 3}, {1, 1}}) {
            int mr = tile[0], nr = tile[1];
            for (boolean add : new boolean[] {false, true}) {
                float[] c = new float[2 + Sgemm.MR * ldc];
                java.util.Arrays.fill(c, SENTINEL);
                float[] before = random(33, c.length);
                for (int r = 0; r < mr; r++) {
                    for (int j = 0; j < nr; j++) c[2 + r * ldc + j] = before[r * ldc + j];
                }
                float[] c0 = c.clone();
                Sgemm.kernelTransposedA(kc, a, 3, b, 7, c, 2, ldc, mr, nr, add, scratch);
                for (int r = 0; r < Sgemm.MR; r++) {
                    for (int j = 0; j < ldc; j++) {
                        int at = 2 + r * ldc + j;
                        if (r >= mr || j >= nr) {
                            assertEquals(SENTINEL, c[at], "outside the " + mr + "x" + nr + " tile at " + r + "," + j + ", kc=" + kc);
                            continue;
                        }
                        double s = add ? c0[at] : 0;
                        for (int p = 0; p < kc; p++) s += (double) a[3 + p * Sgemm.KS + r] * b[7 + p * Sgemm.NR + j];
                        assertEquals(s, c[at], 1e-4, "C[" + r + "," + j + "] of a " + mr + "x" + nr + " tile, kc=" + kc + ", add=" + add);
                    }
                }
            }
        }
    }

    @Test
    void timing1024() {
        // Reports throughput only; correctness of a few sampled entries is asserted.
        int n = 1024;
        float[] a = random(21, n * n);
        float[] b = random(22, n * n);
        float[] c = new float[n * n];
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            Sgemm.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
            best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("Sgemm 1024^3: %.1f ms, %.1f GFLOP/s on %d threads%n", best / 1e6, 2.0 * n * n * n / best, Parallel.threads());
        SeededRandom r = new SeededRandom(5);
        for (int t = 0; t < 50; t++) {
            int i = r.nextInt(n), j = r.nextInt(n);
            double s = 0;
            for (int p = 0; p < n; p++) s += (double) a[i * n + p] * b[p * n + j];
            assertTrue(Math.abs(s - c[i * n + j]) < 1e-4, "entry " + i + "," + j);
        }
    }
}
