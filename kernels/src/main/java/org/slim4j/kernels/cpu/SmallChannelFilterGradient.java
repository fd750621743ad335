package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.cpu.ConvSupport.Geometry;

/**
 * The filter gradient of a convolution over few input channels (a network's first layer: LeNet's
 * 5x5 on 1 channel, CifarNet's 5x5 and ResNet's 7x7/2 on 3), NHWC input and dy, HWIO dW:
 * dW [K, cout] = im2col(X)^T [K, P] x dy [P, cout], summed over the P output pixels in a few
 * slices per core (the partials are only K x cout floats).
 *
 * <p>Why a path of its own: a kernel row of such a window is a run of only kw * c floats (5, 15,
 * 21), which the general packers copy value by value or a few floats per call; here the K values
 * are grouped per run into A panels of MR = 5 (a run of 21 takes five panels, the last one with
 * one row), so a panel's five values for one pixel are contiguous in the zero-padded input and
 * one 8-float vector copy per pixel packs them (the extra floats land in the panel's unused
 * slots; a ragged panel's extra rows are clipped on the way to dW). dy's panels are two vector
 * copies per pixel. Every micro-kernel call is a block of {@link #PIXELS} pixels deep.
 */
final class SmallChannelFilterGradient {
    /** Eight floats: the packed A stride ({@link Sgemm#AS}), whatever the preferred vector length. */
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final int MR = Sgemm.MR;
    private static final int NR = Sgemm.NR;
    private static final int AS = Sgemm.AS;
    /** Pixels per block: the depth of every micro-kernel call. */
    static final int PIXELS = Sgemm.KC;
    /**
     * Kernel-row runs (kw * c floats) shorter than this take the path; from 32 on the general
     * packers copy whole vectors (MobileNet's 1x1 on 32 channels measured a tie).
     */
    static final int MAX_RUN = 32;

    private static final ThreadLocal<float[]> PACK_A = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> PACK_B = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<int[]> BASES = ThreadLocal.withInitial(() -> new int[PIXELS]);
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);
    private static final ThreadLocal<float[][]> PARTIALS = ThreadLocal.withInitial(() -> new float[0][]);

    private SmallChannelFilterGradient() {
    }

    /** Short contiguous kernel-row runs (no horizontal dilation). */
    static boolean applies(Geometry g) {
        return g.dw() == 1 && g.kw() * g.c() < MAX_RUN && AS == S8.length();
    }

    /** dW (HWIO, at dwo) of the convolution of x (NHWC, at xo) whose output gradient is dy (at dyo). */
    static void compute(float[] x, int xo, Geometry g, float[] dy, int dyo, int cout, float[] dw, int dwo) {
        int c = g.c();
        int top = g.padTop();
        int left = g.padLeft();
        int hp = g.paddedH();
        int wp = g.paddedW();
        // Extra zero rows per image (at least 8 floats): a panel's 8-float copy reads up to 7
        // floats past its run (3 when the run is 5 or more).
        int hpx = hp + Sgemm.ceilDiv(S8.length(), wp * c);
        float[] a = ImplicitGemmConv.padded(x, xo, g.n(), g.h(), g.w(), c, top, left, hpx, wp);
        int run = g.kw() * c;
        int perRun = Sgemm.ceilDiv(run, MR);
        int mPanels = g.kh() * perRun;
        int nPanels = Sgemm.ceilDiv(cout, NR);
        int k = g.k();
        int pixels = g.outPixels();
        int blocks = Sgemm.ceilDiv(pixels, PIXELS);
        int slices = Math.max(1, Math.min(4 * Parallel.threads(), blocks));
        float[][] parts = partials(slices, k * cout);
        Sgemm.PackB packDy = Sgemm.packerB(false, dy, dyo, cout);
        Parallel.forRange(slices, 1, (s0, s1) -> {
            float[] ap = ThreadBuffers.floats(PACK_A, mPanels * PIXELS * AS);
            float[] bp = ThreadBuffers.floats(PACK_B, nPanels * PIXELS * NR);
            int[] base = BASES.get();
            float[] tile = TILE.get();
            for (int sl = s0; sl < s1; sl++) {
                float[] part = parts[sl];
                int bEnd = (int) ((long) blocks * (sl + 1) / slices);
                for (int blk = (int) ((long) blocks * sl / slices), first = blk; blk < bEnd; blk++) {
                    int p0 = blk * PIXELS;
                    int pb = Math.min(PIXELS, pixels - p0);
                    ImplicitGemmConv.windowOrigins(base, p0, pb, 0, hpx, wp, c, g.sh(), g.sw(), g.ho(), g.wo());
                    // A panel (ky, t): K values ky * run + t * MR + r, r < MR, at a[base + ky * dh * wp * c + t * MR + r].
                    for (int ky = 0, mp = 0; ky < g.kh(); ky++) {
                        for (int t = 0; t < perRun; t++, mp++) {
                            int off = ky * g.dh() * wp * c + t * MR;
                            int d = mp * pb * AS;
                            for (int p = 0; p < pb; p++) FloatVector.fromArray(S8, a, base[p] + off).intoArray(ap, d + p * AS);
                        }
                    }
                    // B = this block's dy rows [pb x cout], panel j at j * pb * NR.
                    packDy.pack(p0, pb, 0, cout, bp, 0);
                    for (int ky = 0, mp = 0; ky < g.kh(); ky++) {
                        for (int t = 0; t < perRun; t++, mp++) {
                            int row = ky * run + t * MR;
                            int mr = Math.min(MR, run - t * MR);
                            for (int j = 0; j < nPanels; j++) {
                                Sgemm.kernel(pb, ap, mp * pb * AS, bp, j * pb * NR, part, row * cout + j * NR, cout, mr,
                                        Math.min(NR, cout - j * NR), blk > first, tile);
                            }
                        }
                    }
                }
            }
        });
        for (int i = 0, size = k * cout; i < size; i++) {
            float sum = 0f;
            for (int sl = 0; sl < slices; sl++) sum += parts[sl][i];
            dw[dwo + i] = sum;
        }
    }

    private static float[][] partials(int count, int size) {
        return ThreadBuffers.partials(PARTIALS, count, size);
    }
}
