package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.cpu.ConvSupport.Geometry;

/**
 * A convolution's filter gradient (NHWC input and dy, HWIO dW) as one GEMM over all output pixels
 * P: dW^T [cout, K] = dy^T [cout, P] x im2col(X) [P, K], K = kh * kw * c in HWI order. For few
 * output channels, where the alternatives are weak: the transposed-im2col GEMM packs each im2col
 * value for only cout / 16 B panels, and the sliced GEMM ({@link Sgemm#multiplyStreamed}) must
 * pack all K columns of a pixel block at once, which caps its K blocks at ~40 pixels.
 *
 * <p>How: each B panel is 16 consecutive K values of the im2col rows, which in NHWC are 16
 * contiguous floats of the (zero-padded) input for every pixel, as long as a panel stays inside
 * one kernel-row run (kw * c floats, or c when dilated): so a panel of a block of {@link #PIXELS}
 * pixels is packed with two vector copies per pixel right before the A panels pass over it, and
 * stays in L1. A is dy^T for that pixel block, packed once per block and task and shared by all
 * the task's B panels. Tasks own disjoint B panels (columns of dW^T), so there are no partial
 * sums; the [cout, K] result is transposed into HWIO at the end.
 */
final class ImplicitGemmFilterGradient {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int MR = Sgemm.MR;
    private static final int NR = Sgemm.NR;
    private static final int AS = Sgemm.AS;
    /** Pixels per block: the depth of every micro-kernel call (a B panel is PIXELS x NR, 16 KiB). */
    static final int PIXELS = Sgemm.KC;
    /** Most output channels this path is used for (the A block, cout x PIXELS, stays in L2). */
    static final int MAX_COUT = 64;

    private static final ThreadLocal<int[]> BASES = ThreadLocal.withInitial(() -> new int[0]);
    private static final ThreadLocal<float[]> RESULT = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> PACK_A = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> PANEL_B = ThreadLocal.withInitial(() -> new float[PIXELS * NR]);
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);

    private ImplicitGemmFilterGradient() {
    }

    /** Whether every B panel lies inside one kernel-row run, and cout is small enough. */
    static boolean applies(Geometry g, int cout) {
        int run = g.dw() == 1 ? g.kw() * g.c() : g.c();
        return run % NR == 0 && cout <= MAX_COUT;
    }

    /** dW (HWIO, at dwo) of the convolution of x (NHWC, at xo) whose output gradient is dy (at dyo). */
    static void compute(float[] x, int xo, Geometry g, float[] dy, int dyo, int cout, float[] dw, int dwo) {
        int c = g.c();
        int top = g.padTop();
        int left = g.padLeft();
        int hp = g.paddedH();
        int wp = g.paddedW();
        float[] a = x;
        int ao = xo;
        if (hp != g.h() || wp != g.w()) {
            a = ImplicitGemmConv.padded(x, xo, g.n(), g.h(), g.w(), c, top, left, hp, wp);
            ao = 0;
        }
        int pixels = g.outPixels();
        int[] base = ThreadBuffers.ints(BASES, pixels);
        ImplicitGemmConv.windowOrigins(base, 0, pixels, ao, hp, wp, c, g.sh(), g.sw(), g.ho(), g.wo());
        int k = g.k();
        int np = k / NR;
        int run = g.dw() == 1 ? g.kw() * c : c;
        float[] dwT = ThreadBuffers.floats(RESULT, cout * k);
        final float[] src = a;
        // Two tasks per core: each packs its own A blocks (cout x PIXELS values each).
        Parallel.forRange(np, Math.max(1, Sgemm.ceilDiv(np, 2 * Parallel.threads())), (q0, q1) -> {
            float[] ap = ThreadBuffers.floats(PACK_A, Sgemm.ceilDiv(cout, MR) * PIXELS * AS);
            float[] bp = PANEL_B.get();
            float[] tile = TILE.get();
            for (int p0 = 0; p0 < pixels; p0 += PIXELS) {
                int pb = Math.min(PIXELS, pixels - p0);
                // A = dy^T for this block: dy rows are pixels (the GEMM's K), cout values each.
                Sgemm.packerA(true, 1f, dy, dyo + p0 * cout, cout).pack(0, cout, 0, pb, ap);
                for (int q = q0; q < q1; q++) {
                    int kk = q * NR;
                    int t = kk / run;
                    int ky = g.dw() == 1 ? t : t / g.kw();
                    int kx = g.dw() == 1 ? 0 : t % g.kw();
                    int off = (ky * g.dh() * wp + kx * g.dw()) * c + kk % run;
                    for (int p = 0; p < pb; p++) {
                        int s = base[p0 + p] + off;
                        // NR = two vectors: two vector moves (an arraycopy call costs more).
                        FloatVector.fromArray(S, src, s).intoArray(bp, p * NR);
                        FloatVector.fromArray(S, src, s + NR / 2).intoArray(bp, p * NR + NR / 2);
                    }
                    for (int ir = 0; ir < cout; ir += MR) {
                        Sgemm.kernel(pb, ap, ir / MR * pb * AS, bp, 0, dwT, ir * k + kk, k, Math.min(MR, cout - ir), NR, p0 > 0, tile);
                    }
                }
            }
        });
        // dW [K, cout] = dW^T transposed.
        Parallel.forRange(k, Math.max(1, 4096 / cout), (k0, k1) -> {
            for (int kk = k0; kk < k1; kk++) {
                int row = dwo + kk * cout;
                for (int co = 0; co < cout; co++) dw[row + co] = dwT[co * k + kk];
            }
        });
    }
}
