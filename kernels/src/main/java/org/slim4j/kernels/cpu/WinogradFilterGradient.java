package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The filter gradient of a Winograd F(2x2, r x r) correlation ({@link Winograd3x3}, {@link
 * Winograd5x5}; same x, offsets and dst geometry, dy the gradient of dst): dW[ky, kx, ci, co]
 * (HWIO) = sum over dst pixels of x[.., oy + offY + ky, ox + offX + kx, ci] * dy[.., oy, ox, co].
 * The forward is Y = A^T [U . V] A per tile with U = G g G^T and V = B^T d B, so in the Winograd
 * domain dU[xi nu] (Cin x Cout) = sum over tiles of V[xi nu]^T dM[xi nu] with dM = A dY A^T (dy
 * tiles, zero past the edge), and dW = G^T dU G. The scheme supplies the three transforms; this
 * class runs the sums: the tile blocks are split into a few slices per core, each slice summing
 * its per-position GEMMs (K = the block's tiles) into its own dU partial.
 */
final class WinogradFilterGradient {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final int KS = Sgemm.KS;
    private static final int MR = Sgemm.MR;
    private static final int NR = Sgemm.NR;
    private static final int MR4 = Sgemm.MR4;
    /** Tile blocks: V plus M up to 4 MiB (L3), at most this many tiles. */
    private static final int BLOCK_FLOATS = 1 << 20;
    private static final int BLOCK_TILES = 128;
    /** Floats of dU partials allowed beyond one per core. */
    private static final int PARTIALS_FLOATS = 1 << 24;

    private static final ThreadLocal<float[][]> PARTIALS = ThreadLocal.withInitial(() -> new float[0][]);
    private static final ThreadLocal<float[]> PATCH = ThreadLocal.withInitial(() -> new float[0]);

    private WinogradFilterGradient() {
    }

    /**
     * Floats between consecutive positions of dM: the position's tiles x Cout as NR-wide B panels
     * (panel q from q * tbMax * NR), plus a cache line ({@link Winograd3x3#PLANE_PAD}).
     */
    static int gradPlane(int tbMax, int cout) {
        return Sgemm.panels(cout) * tbMax * NR + Winograd3x3.PLANE_PAD;
    }

    /** Offset within a dM plane of tile row tt, channels [cb, cb + VL) (cb a multiple of VL). */
    static int gradOffset(int tt, int cb, int tbMax) {
        return (cb / NR * tbMax + tt) * NR + cb % NR;
    }

    /**
     * Copies the 2x2 dy cells of one channel vector of an edge tile into patch[0, 4 VL) (cell (a, b)
     * at (2a + b) VL, from dy[d00 + a * rowStride + b * colStride]), zeros for the right column
     * unless {@code right} and the lower row unless {@code down} (cells past the edge).
     */
    static void edgeTile(float[] dy, int d00, int rowStride, int colStride, boolean right, boolean down, float[] patch) {
        for (int a = 0; a < 2; a++) {
            for (int b = 0; b < 2; b++) {
                int d = (a * 2 + b) * VL;
                if ((a == 0 || down) && (b == 0 || right)) {
                    System.arraycopy(dy, d00 + a * rowStride + b * colStride, patch, d, VL);
                } else {
                    java.util.Arrays.fill(patch, d, d + VL, 0f);
                }
            }
        }
    }

    /**
     * The transforms of one F(2x2, r x r) scheme: its input tile side T (r + 1, T * T Winograd
     * positions) and three transforms.
     */
    record Scheme(int tile, InputTransform input, GradTransform grad, FilterTransform filter) {
    }

    /**
     * V = B^T d B for tiles [t0, t0 + tb), as the forward stores it: position p, K block kb, tile row
     * tt, channel c at p * vPlane + (kb * tbMax + tt) * KS + c % KS ({@link Winograd3x3#vPlane});
     * patch is scratch of (T * T + 16) vectors.
     */
    @FunctionalInterface
    interface InputTransform {
        void apply(Winograd3x3.TileSource in, int cin, int tH, int tW, int t0, int tb, int tbMax, int kbs,
                   float[] v, float[] patch);
    }

    /**
     * dM = A dY A^T for the same tiles and every channel vector of dy ([n, dstH, dstW, cout] at dyo),
     * position p at p * {@link #gradPlane}, tile row and channels at {@link #gradOffset}; dy cells
     * past the edge count as zero.
     */
    @FunctionalInterface
    interface GradTransform {
        void apply(float[] dy, int dyo, int dstH, int dstW, int cout, int tH, int tW, int t0, int tb, int tbMax,
                   float[] m, float[] patch);
    }

    /** dW (HWIO, r x r, at dwo) = G^T dU G for every (ci, co); dU[p] (Cin x Cout) at p * cin * cout of du. */
    @FunctionalInterface
    interface FilterTransform {
        void apply(float[] du, int cin, int cout, float[] dw, int dwo);
    }

    /** dW (HWIO, at dwo) of the correlation the scheme computes forward; the other arguments as its correlate's. */
    static void compute(Scheme scheme, float[] x, int xo, int n, int h, int w, int cin,
                        float[] dy, int dyo, int dstH, int dstW, int cout, int offY, int offX, float[] dw, int dwo) {
        final int positions = scheme.tile() * scheme.tile();
        final int tH = (dstH + 1) / 2, tW = (dstW + 1) / 2;
        final Winograd3x3.TileSource in = Winograd3x3.TileSource.of(x, xo, n, h, w, cin, tH, tW, offY, offX, scheme.tile());
        final int tiles = n * tH * tW;
        final int kbs = Sgemm.ceilDiv(cin, KS);
        // The tiles of a block are the K of its GEMMs, each of which reads and writes the whole dU
        // partial: blocks sized for L2 like the forward's (12 tiles at 256 channels) made that
        // traffic the bottleneck. Deeper blocks spill V and M to L3, which costs far less.
        int tb = BLOCK_FLOATS / (positions * (kbs * KS + cout)) / MR4 * MR4;
        final int tbMax = Math.max(2 * MR4, Math.min(BLOCK_TILES, tb));
        final int units = Sgemm.ceilDiv(tiles, tbMax);
        final int size = positions * cin * cout;
        // A few slices per core for balance, fewer when the partials get big (16 MiB each at 512
        // channels for 3x3): zeroing, accumulating and summing them is traffic of its own.
        final int slices = Math.max(1, Math.min(units, Math.max(Parallel.threads(),
                Math.min(4 * Parallel.threads(), PARTIALS_FLOATS / size))));
        final float[][] parts = ThreadBuffers.partials(PARTIALS, slices, size);
        final int vPlane = Winograd3x3.vPlane(kbs, tbMax);
        final int np = Sgemm.panels(cout);
        final int mPlane = gradPlane(tbMax, cout);
        Parallel.forRange(slices, 1, (s0, s1) -> {
            float[] v = ThreadBuffers.floats(Winograd3x3.V_BUF, positions * vPlane);
            float[] m = ThreadBuffers.floats(Winograd3x3.M_BUF, positions * mPlane);
            float[] patch = ThreadBuffers.floats(PATCH, (positions + 16) * VL);
            float[] scratch = Winograd3x3.SCRATCH.get();
            for (int sl = s0; sl < s1; sl++) {
                float[] part = parts[sl];
                java.util.Arrays.fill(part, 0, size, 0f);
                int u1 = (int) ((long) units * (sl + 1) / slices);
                for (int unit = (int) ((long) units * sl / slices); unit < u1; unit++) {
                    int t0 = unit * tbMax;
                    int tb1 = Math.min(tbMax, tiles - t0);
                    scheme.input().apply(in, cin, tH, tW, t0, tb1, tbMax, kbs, v, patch);
                    scheme.grad().apply(dy, dyo, dstH, dstW, cout, tH, tW, t0, tb1, tbMax, m, patch);
                    for (int xi = 0; xi < positions; xi++) {
                        for (int kb = 0; kb < kbs; kb++) {
                            // dU[xi][kb*KS .., :] += V^T (channels x tiles) dM (tiles x Cout), both
                            // read where the transforms wrote them: V's tile rows as a transposed A,
                            // dM's panels as packed B.
                            int mc = Math.min(KS, cin - kb * KS);
                            int vBase = xi * vPlane + kb * tbMax * KS;
                            for (int q = 0; q < np; q++) {
                                int nr = Math.min(NR, cout - q * NR);
                                int bo = xi * mPlane + q * tbMax * NR;
                                int cBase = xi * cin * cout + kb * KS * cout + q * NR;
                                for (int ir = 0; ir < mc; ir += MR) {
                                    Sgemm.kernelTransposedA(tb1, v, vBase + ir, m, bo, part, cBase + ir * cout, cout,
                                            Math.min(MR, mc - ir), nr, true, scratch);
                                }
                            }
                        }
                    }
                }
            }
        });
        // Slices summed into the first partial as streams (vectorised), then dW = G^T dU G per
        // (ci, co) reads the positions' streams of one partial rather than of every slice.
        if (slices > 1) {
            Parallel.forRange(size / VL, 4096, (v0, v1) -> {
                float[] dst = parts[0];
                for (int i = v0 * VL; i < v1 * VL; i += VL) {
                    FloatVector acc = FloatVector.fromArray(S, dst, i);
                    for (int sl = 1; sl < slices; sl++) acc = acc.add(FloatVector.fromArray(S, parts[sl], i));
                    acc.intoArray(dst, i);
                }
            });
        }
        scheme.filter().apply(parts[0], cin, cout, dw, dwo);
    }
}
