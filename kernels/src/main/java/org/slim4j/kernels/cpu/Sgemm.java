package org.slim4j.kernels.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on row-major arrays: C = alpha * op(A) * op(B) + beta * C, where op(A) is
 * M x K and op(B) is K x N. lda/ldb/ldc are row strides of the stored (untransposed) matrices.
 * The shared entry point for matmul and convolution.
 *
 * <p>Large problems use the Goto/BLIS scheme: op(B) is packed into KC x NR column panels
 * (p-major, L1-sized), op(A) into MC x KC blocks of MR-row panels (L2-sized), and an MR x NR
 * register-tiled Vector-API micro-kernel (2*MR vector accumulators, fma) multiplies one A panel by
 * one B panel per tile. Packing zero-pads ragged edges, so the micro-kernel always runs full tiles
 * and only the store to C is clipped. alpha is folded into A's packing and beta applied to C once
 * up front, so every K block simply accumulates. The work is split into (column group, M block)
 * units over {@link Parallel}; each task runs its whole K loop and packs its own B panels into
 * per-thread buffers, so there is one parallel region per call and no barrier per K block.
 * Small or skinny products (e.g. M = 1 inference) skip packing and run direct vectorized row
 * loops. {@code beta == 0} never reads C, so stale NaNs in C do not leak through.
 */
public final class Sgemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /** Micro-tile: MR rows of C x NR columns (two vectors), i.e. 2*MR accumulators in registers. */
    static final int MR = 6;
    static final int NR = 2 * VL;
    /**
     * Depth of one packed block. A KC x NR B panel is 32 KiB with 256-bit vectors (L1-sized); a
     * deeper K block halves the C tile loads/stores per flop, which measured faster than 256 here.
     */
    static final int KC = 512;
    /** Rows of A per packed block: MC x KC floats = 144 KiB (fits L2). */
    static final int MC = 72;
    /** Columns of B per packed block: KC x NC floats = 4 MiB per thread at most (L3). */
    static final int NC = NR * 128;
    /** Below this many multiply-adds packing does not pay. */
    private static final long SMALL = 32 * 1024;

    private static final ThreadLocal<float[]> PACK_A = ThreadLocal.withInitial(() -> new float[MC * KC]);
    private static final ThreadLocal<float[]> PACK_B = ThreadLocal.withInitial(() -> new float[KC * NC]);
    /** Per-thread scratch: a ragged edge tile on its way to C. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[MR * NR]);

    private Sgemm() {
    }

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("sgemm: negative size m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        long work = (long) m * n * k;
        if (work < SMALL || m < MR / 2 || n < VL) {
            direct(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            blocked(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** C = beta * C (beta 0 writes zeros without reading C). */
    private static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        if (beta == 1f) return;
        Parallel.forRange(m, Math.max(1, 65536 / n), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int row = cOff + i * ldc;
                if (beta == 0f) {
                    Arrays.fill(c, row, row + n, 0f);
                } else {
                    for (int j = 0; j < n; j++) c[row + j] *= beta;
                }
            }
        });
    }

    // ---- direct path: small or skinny products, no packing ---------------------------------------

    private static void direct(boolean transA, boolean transB, int m, int n, int k, float alpha,
                               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                               float beta, float[] c, int cOff, int ldc) {
        long work = (long) m * n * k;
        // Split the longer of M and N so that skinny products (M = 1 inference) still use both cores.
        if (work < 4 * SMALL) {
            directRange(transA, transB, 0, m, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else if (m >= n) {
            int grain = (int) Math.max(1, 4 * SMALL / ((long) n * k));
            Parallel.forRange(m, grain, (i0, i1) ->
                    directRange(transA, transB, i0, i1, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
        } else {
            int blocks = (n + VL - 1) / VL;
            int grain = (int) Math.max(1, 4 * SMALL / ((long) m * k * VL));
            Parallel.forRange(blocks, grain, (j0, j1) ->
                    directRange(transA, transB, 0, m, j0 * VL, Math.min(n, j1 * VL), k, alpha,
                            a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
        }
    }

    /** Rows [i0, i1) x columns [j0, j1) of C, one row at a time. */
    private static void directRange(boolean transA, boolean transB, int i0, int i1, int j0, int j1, int k,
                                    float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                    float beta, float[] c, int cOff, int ldc) {
        int w = j1 - j0;
        float[] acc = new float[w];
        float[] arow = transA ? new float[k] : null;
        for (int i = i0; i < i1; i++) {
            // Row i of op(A), contiguous: either in place or gathered from a column of stored A.
            float[] ar;
            int ao;
            if (transA) {
                for (int p = 0; p < k; p++) arow[p] = a[aOff + p * lda + i];
                ar = arow;
                ao = 0;
            } else {
                ar = a;
                ao = aOff + i * lda;
            }
            int crow = cOff + i * ldc + j0;
            if (transB) {
                // op(B) column j is stored row j: each C entry is a contiguous dot product.
                for (int j = 0; j < w; j++) {
                    acc[j] = dot(ar, ao, b, bOff + (j0 + j) * ldb, k);
                }
            } else {
                // C row = sum_p A[i,p] * B row p: a contiguous axpy per p.
                Arrays.fill(acc, 0, w, 0f);
                for (int p = 0; p < k; p++) {
                    axpy(ar[ao + p], b, bOff + p * ldb + j0, acc, w);
                }
            }
            for (int j = 0; j < w; j++) {
                float v = alpha * acc[j];
                c[crow + j] = beta == 0f ? v : v + beta * c[crow + j];
            }
        }
    }

    private static float dot(float[] x, int xo, float[] y, int yo, int len) {
        int p = 0;
        float s = 0f;
        if (len >= 2 * VL) {
            FloatVector s0 = FloatVector.zero(S);
            FloatVector s1 = FloatVector.zero(S);
            for (; p <= len - 2 * VL; p += 2 * VL) {
                s0 = FloatVector.fromArray(S, x, xo + p).fma(FloatVector.fromArray(S, y, yo + p), s0);
                s1 = FloatVector.fromArray(S, x, xo + p + VL).fma(FloatVector.fromArray(S, y, yo + p + VL), s1);
            }
            s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        }
        for (; p < len; p++) s += x[xo + p] * y[yo + p];
        return s;
    }

    /** acc[0..len) += alpha * y[yo..yo+len). */
    private static void axpy(float alpha, float[] y, int yo, float[] acc, int len) {
        int j = 0;
        if (len >= VL) {
            FloatVector va = FloatVector.broadcast(S, alpha);
            for (; j <= len - VL; j += VL) {
                va.fma(FloatVector.fromArray(S, y, yo + j), FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
            }
        }
        for (; j < len; j++) acc[j] += alpha * y[yo + j];
    }

    // ---- blocked path ---------------------------------------------------------------------------

    private static void blocked(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float beta, float[] c, int cOff, int ldc) {
        // beta once up front; every K block then accumulates into C.
        scaleC(m, n, beta, c, cOff, ldc);
        int threads = Parallel.threads();
        // Even block sizes: no thin leftover K block, and M blocks that share out over the cores.
        int kBlocks = ceilDiv(k, KC);
        int kcStep = ceilDiv(k, kBlocks);
        int mBlocks = ceilDiv(m, MC);
        if (mBlocks > 1 && mBlocks % threads != 0 && m >= threads * 4 * MR) mBlocks += threads - mBlocks % threads;
        int mcStep = ceilDiv(ceilDiv(m, mBlocks), MR) * MR;
        int mb = ceilDiv(m, mcStep);
        // Few M blocks (skinny M): also split the columns into groups of whole NR panels so that
        // every core has work.
        int nPanels = ceilDiv(n, NR);
        int groups = Math.max(1, Math.min(nPanels, ceilDiv(2 * threads, mb)));
        int groupCols = ceilDiv(nPanels, groups) * NR;
        groups = ceilDiv(n, groupCols);
        // Units are (column group, M block), group-major, so a task's units share B panels. Each
        // task runs its whole K loop on its own (no barrier per K block) and packs the B panels it
        // needs itself: at most a few extra B packings, against MC x more arithmetic.
        Parallel.forRange(groups * mb, 1, (u0, u1) -> {
            float[] ap = PACK_A.get();
            float[] bp = PACK_B.get();
            float[] scratch = SCRATCH.get();
            for (int u = u0; u < u1; ) {
                int g = u / mb;
                int mb0 = u % mb;
                int mb1 = Math.min(mb, mb0 + (u1 - u));
                u += mb1 - mb0;
                int gEnd = Math.min(n, (g + 1) * groupCols);
                for (int jc = g * groupCols; jc < gEnd; jc += NC) {
                    int nc = Math.min(NC, gEnd - jc);
                    int panels = ceilDiv(nc, NR);
                    for (int pc = 0; pc < k; pc += kcStep) {
                        int kc = Math.min(kcStep, k - pc);
                        for (int q = 0; q < panels; q++) {
                            packB(transB, b, bOff, ldb, pc, kc, jc + q * NR, Math.min(NR, nc - q * NR), bp, q * kc * NR);
                        }
                        for (int blk = mb0; blk < mb1; blk++) {
                            int ic = blk * mcStep;
                            int mc = Math.min(mcStep, m - ic);
                            packA(transA, alpha, a, aOff, lda, ic, mc, pc, kc, ap);
                            for (int q = 0; q < panels; q++) {
                                int jr = q * NR;
                                int nr = Math.min(NR, nc - jr);
                                int bpo = q * kc * NR;
                                // One B panel stays in L1 while the A block's panels stream from L2.
                                for (int ir = 0; ir < mc; ir += MR) {
                                    int co = cOff + (ic + ir) * ldc + jc + jr;
                                    kernel(kc, ap, ir * kc, bp, bpo, c, co, ldc, Math.min(MR, mc - ir), nr, scratch);
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    /**
     * Packs op(A)[ic..ic+mc, pc..pc+kc] as consecutive MR-row panels, each laid out p-major
     * (MR values of column p, then column p+1, ...); rows past mc are zero.
     */
    private static void packA(boolean transA, float alpha, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float[] ap) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = ir * kc;
            if (transA) {
                // Stored A is K x M: the MR values for one p are contiguous in row p.
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (pc + p) * lda + ic + ir;
                    int dst = base + p * MR;
                    int r = 0;
                    for (; r < mr; r++) ap[dst + r] = alpha * a[src + r];
                    for (; r < MR; r++) ap[dst + r] = 0f;
                }
            } else {
                for (int r = 0; r < mr; r++) {
                    int src = aOff + (ic + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++) ap[base + p * MR + r] = alpha * a[src + p];
                }
                for (int r = mr; r < MR; r++) {
                    for (int p = 0; p < kc; p++) ap[base + p * MR + r] = 0f;
                }
            }
        }
    }

    /**
     * Packs op(B)[pc..pc+kc, j..j+nr] as one NR-wide panel, p-major (NR values per p); columns past
     * nr are zero.
     */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int j, int nr, float[] bp, int dst) {
        if (!transB) {
            for (int p = 0; p < kc; p++) {
                int src = bOff + (pc + p) * ldb + j;
                int d = dst + p * NR;
                if (nr == NR) {
                    System.arraycopy(b, src, bp, d, NR);
                } else {
                    int c = 0;
                    for (; c < nr; c++) bp[d + c] = b[src + c];
                    for (; c < NR; c++) bp[d + c] = 0f;
                }
            }
        } else {
            // Stored B is N x K: column c of the panel is contiguous row j+c.
            for (int c = 0; c < nr; c++) {
                int src = bOff + (j + c) * ldb + pc;
                for (int p = 0; p < kc; p++) bp[dst + p * NR + c] = b[src + p];
            }
            for (int c = nr; c < NR; c++) {
                for (int p = 0; p < kc; p++) bp[dst + p * NR + c] = 0f;
            }
        }
    }

    /**
     * The MR x NR micro-kernel: C tile += packed A panel x packed B panel. The 12 vector
     * accumulators (6 rows x 2 vectors) stay in registers while kc rank-1 updates stream in.
     * alpha was folded into A's packing and beta applied to C up front, so the tile only adds.
     */
    private static void kernel(int kc, float[] ap, int ao, float[] bp, int bo,
                               float[] c, int co, int ldc, int mr, int nr, float[] scratch) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        // Running indices (not p * NR) measured slightly faster with C2.
        int bi = bo;
        int ai = ao;
        for (int p = 0; p < kc; p++, bi += NR, ai += MR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(S, ap[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
        }
        boolean full = mr == MR && nr == NR;
        // Full tiles add straight into C; ragged ones go through scratch and are clipped.
        float[] dst = full ? c : scratch;
        int d = full ? co : 0;
        int ld = full ? ldc : NR;
        if (full) {
            c00 = c00.add(FloatVector.fromArray(S, c, d));
            c01 = c01.add(FloatVector.fromArray(S, c, d + VL));
            c10 = c10.add(FloatVector.fromArray(S, c, d + ld));
            c11 = c11.add(FloatVector.fromArray(S, c, d + ld + VL));
            c20 = c20.add(FloatVector.fromArray(S, c, d + 2 * ld));
            c21 = c21.add(FloatVector.fromArray(S, c, d + 2 * ld + VL));
            c30 = c30.add(FloatVector.fromArray(S, c, d + 3 * ld));
            c31 = c31.add(FloatVector.fromArray(S, c, d + 3 * ld + VL));
            c40 = c40.add(FloatVector.fromArray(S, c, d + 4 * ld));
            c41 = c41.add(FloatVector.fromArray(S, c, d + 4 * ld + VL));
            c50 = c50.add(FloatVector.fromArray(S, c, d + 5 * ld));
            c51 = c51.add(FloatVector.fromArray(S, c, d + 5 * ld + VL));
        }
        c00.intoArray(dst, d);
        c01.intoArray(dst, d + VL);
        c10.intoArray(dst, d + ld);
        c11.intoArray(dst, d + ld + VL);
        c20.intoArray(dst, d + 2 * ld);
        c21.intoArray(dst, d + 2 * ld + VL);
        c30.intoArray(dst, d + 3 * ld);
        c31.intoArray(dst, d + 3 * ld + VL);
        c40.intoArray(dst, d + 4 * ld);
        c41.intoArray(dst, d + 4 * ld + VL);
        c50.intoArray(dst, d + 5 * ld);
        c51.intoArray(dst, d + 5 * ld + VL);
        if (!full) addClipped(scratch, c, co, ldc, mr, nr);
    }

    private static void addClipped(float[] tile, float[] c, int co, int ldc, int mr, int nr) {
        for (int r = 0; r < mr; r++) {
            int row = co + r * ldc;
            for (int j = 0; j < nr; j++) c[row + j] += tile[r * NR + j];
        }
    }
}
