package org.slim4j.kernels.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A convolution (NHWC input, filter given tap by tap and packed here as Sgemm B panels over
 * K = kh * kw * c in HWI order) computed as an implicit GEMM that reads the input where it lies:
 * Y [pixels, cout] = im2col(X) [pixels, K] x W [K, cout], with no im2col matrix and no A packing.
 * The forward pass passes its filter; the unit-stride input gradient passes the flipped,
 * channel-swapped one.
 *
 * <p>Why it works: in NHWC, the im2col row of output pixel (oy, ox) restricted to one kernel row
 * ky is kw * c consecutive floats of the input (when the horizontal dilation is 1), starting at
 * ((oy * sy + ky * dilY) * W + ox * sx) * c. So the micro-kernel ({@link Sgemm#kernelRowsAt})
 * can broadcast straight from five such runs, one per output pixel of its tile, and the K loop
 * becomes kh runs (split to at most {@link Sgemm#KC}) accumulated into the C tile. The input is
 * first copied once into a zero-padded buffer so that every window lies inside it: padding is
 * then just zeros, and any five consecutive output pixels (even across rows or images) form a
 * tile. Packing the im2col matrix instead costs a scalar strided store per value: for LeNet's
 * 5x5 32->64 layer that packing took as long as a third of the FMAs it fed.
 *
 * <p>Work: output pixels in blocks of {@link #BLOCK} over all cores; per block, each B panel's K
 * slice (at most KC x NR, 16 KiB) stays in L1 while the block's tiles pass over it, and the
 * block's input runs stay in L2. The epilogue runs on each finished block.
 */
final class ImplicitGemmConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final int MR = Sgemm.MR;
    private static final int NR = Sgemm.NR;
    /** Output pixels per parallel block: 24 micro-tiles share each B slice. */
    static final int BLOCK = 24 * MR;
    /** Most output channels for which this path is chosen (see {@link #applies}). */
    static final int MAX_COUT = 64;
    /** Shortest contiguous run worth a strided micro-kernel call (each call loads and stores its C tile). */
    static final int MIN_RUN = 32;

    /** Per worker thread: the window origins of a block's pixels, and a ragged tile on its way to C. */
    private static final ThreadLocal<int[]> BASES = ThreadLocal.withInitial(() -> new int[BLOCK]);
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);
    /** Per calling thread: the packed filter. */
    private static final ThreadLocal<float[]> FILTER = ThreadLocal.withInitial(() -> new float[0]);
    /** Per calling thread: the zero-padded input copy. */
    private static final ThreadLocal<float[]> PADDED = ThreadLocal.withInitial(() -> new float[0]);
    /** Per worker thread: a block's im2col rows, row-major, and where each starts (short runs only). */
    private static final ThreadLocal<float[]> ROWS = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<int[]> ROW_STARTS = ThreadLocal.withInitial(() -> new int[BLOCK]);

    private ImplicitGemmConv() {
    }

    /**
     * Whether this path pays: few output channels, and either runs of kw * c floats per kernel row
     * (c per tap when the horizontal dilation is above 1) long enough for a micro-kernel call (32),
     * or shorter runs without horizontal dilation, which {@link #correlateShortRuns} copies into
     * row-major im2col rows. Packing im2col panels costs about the same per A value whatever cout
     * is, so it is worth its price only when many panels share it. Measured with one thread
     * (in-JVM alternation): 10-15% faster at 64 output channels from 32-value runs, slower from
     * 96 channels on. Short runs, two threads, medians against the earlier choice (one run per
     * call at unit stride, im2col panels when strided): LeNet's 5x5 on 1 channel 3.1 -> 2.6 ms,
     * CifarNet's 5x5 on 3 24.4 -> 21.9 ms, ResNet's 7x7/2 30.8 -> 28.6 ms, MobileNet's 3x3/2
     * 12.2 -> 9.5 ms.
     */
    static boolean applies(int c, int dilX, int cout) {
        return cout <= MAX_COUT && (dilX == 1 || c >= MIN_RUN);
    }

    /**
     * y[n, ny, nx, cout] (stored at yo) = correlation of x[n, h, w, c] (at xo) with the filter
     * g(ky, kx, ci, co): output (oy, ox) reads input (oy * sy + offY + ky * dilY, ox * sx + offX +
     * kx * dilX), zero outside; the epilogue (may be null) runs on each finished block of pixels.
     */
    static void correlate(float[] x, int xo, int n, int h, int w, int c, int kh, int kw, int sy, int sx,
                          int offY, int offX, int dilY, int dilX, Winograd3x3.Taps g, int cout,
                          float[] y, int yo, int ny, int nx, Sgemm.Epilogue epi) {
        // Padded extent: every window of every output pixel inside [0, hp) x [0, wp).
        int top = Math.max(0, -offY);
        int left = Math.max(0, -offX);
        int hp = Math.max(h + top, (ny - 1) * sy + offY + (kh - 1) * dilY + 1 + top);
        int wp = Math.max(w + left, (nx - 1) * sx + offX + (kw - 1) * dilX + 1 + left);
        float[] src = x;
        int so = xo;
        // Short runs (a first layer's kw * c of 1-31 floats) are copied into row-major im2col rows
        // per block; their vector copies read up to VL - 1 floats past a run, so the padded copy
        // is always made, with extra zero rows per image (at least VL floats) as slack.
        boolean shortRuns = dilX == 1 && kw * c < MIN_RUN;
        if (shortRuns) {
            int extra = Sgemm.ceilDiv(VL, wp * c);
            src = padded(x, xo, n, h, w, c, top, left, hp + extra, wp);
            so = 0;
            hp += extra;
        } else if (hp != h || wp != w) {
            src = padded(x, xo, n, h, w, c, top, left, hp, wp);
            so = 0;
        }
        final float[] a = src;
        // Input offset of output pixel (0, 0)'s window origin, in the (padded) input.
        final int origin = so + ((offY + top) * wp + offX + left) * c;
        final int k = kh * kw * c;
        final float[] bp = packFilter(g, kh, kw, c, cout);
        final int pixels = n * ny * nx;
        final int run = dilX == 1 ? kw * c : c;
        final int pieces = Sgemm.ceilDiv(run, Sgemm.KC);
        final int piece = Sgemm.ceilDiv(run, pieces);
        final int blocks = Sgemm.ceilDiv(pixels, BLOCK);
        final int paddedH = hp;
        if (shortRuns) {
            correlateShortRuns(a, origin, c, kh, kw, sy, sx, dilY, bp, cout, y, yo, pixels, ny, nx, paddedH, wp, epi);
            return;
        }
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            int[] base = BASES.get();
            float[] scratch = TILE.get();
            for (int b = b0; b < b1; b++) {
                int p0 = b * BLOCK;
                int mb = Math.min(BLOCK, pixels - p0);
                windowOrigins(base, p0, mb, origin, paddedH, wp, c, sy, sx, ny, nx);
                // K pieces outermost (as Sgemm's K blocks): the C block (BLOCK x cout) takes the
                // partial sums, and each piece's input runs are read from cache by every panel.
                boolean add = false;
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx += dilX == 1 ? kw : 1) {
                        for (int ci = 0; ci < run; ci += piece) {
                            int kc = Math.min(piece, run - ci);
                            // Offset of this piece in the window, and its first K index.
                            int aOff = (ky * dilY * wp + kx * dilX) * c + ci;
                            int kIdx = (ky * kw + kx) * c + ci;
                            multiplyPiece(kc, a, base, aOff, mb, bp, k, kIdx, cout, y, yo + p0 * cout, add, scratch);
                            add = true;
                        }
                    }
                }
                if (epi != null) epi.apply(y, yo, cout, p0, mb, 0, cout);
            }
        });
    }

    /**
     * {@link #correlate} for kernel-row runs shorter than {@link #MIN_RUN} (no horizontal
     * dilation): per block, each pixel's im2col row (kh runs of kw * c floats) is copied with
     * vector moves into a row-major buffer, and the micro-kernel broadcasts from five such rows
     * over the whole K (in KC pieces) instead of one short run per call. Measured on first layers
     * (LeNet's 5x5 on 1 channel, CifarNet's 5x5 and ResNet's 7x7/2 on 3).
     */
    private static void correlateShortRuns(float[] a, int origin, int c, int kh, int kw, int sy, int sx, int dilY, float[] bp,
                                           int cout, float[] y, int yo, int pixels, int ny, int nx, int hp, int wp, Sgemm.Epilogue epi) {
        final int run = kw * c;
        final int k = kh * run;
        // Row stride: K plus room for the last run's copy to overrun.
        final int kRow = k + VL;
        final int pieces = Sgemm.ceilDiv(k, Sgemm.KC);
        final int piece = Sgemm.ceilDiv(k, pieces);
        final int blocks = Sgemm.ceilDiv(pixels, BLOCK);
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            float[] rows = ThreadBuffers.floats(ROWS, BLOCK * kRow);
            int[] base = BASES.get();
            int[] starts = ROW_STARTS.get();
            for (int i = 0; i < BLOCK; i++) starts[i] = i * kRow;
            float[] scratch = TILE.get();
            for (int b = b0; b < b1; b++) {
                int p0 = b * BLOCK;
                int mb = Math.min(BLOCK, pixels - p0);
                windowOrigins(base, p0, mb, origin, hp, wp, c, sy, sx, ny, nx);
                // Kernel rows, then vector pieces of a run, outermost and in order: each copy's
                // overrun (up to VL - 1 floats past its piece) is overwritten by a later copy of the
                // same pixel, the last one's lands in the row's slack. Pixels innermost: for runs
                // of a vector or less (LeNet's 5 floats) this was 25-30% faster than one pixel's
                // runs at a time (1x1-channel 5x5 at 28x28, batch 64: 2.49 / 2.30 / 2.61 -> 2.14 /
                // 1.68 / 1.89 ms, in-JVM A/B), 10-12% on MobileNet's and Inception's 3x3/2 stems.
                for (int ky = 0; ky < kh; ky++) {
                    for (int v = 0; v < run; v += VL) {
                        int sOff = ky * dilY * wp * c + v, dOff = ky * run + v;
                        for (int i = 0; i < mb; i++) FloatVector.fromArray(S, a, base[i] + sOff).intoArray(rows, i * kRow + dOff);
                    }
                }
                for (int k0 = 0; k0 < k; k0 += piece) {
                    multiplyPiece(Math.min(piece, k - k0), rows, starts, k0, mb, bp, k, k0, cout, y, yo + p0 * cout, k0 > 0, scratch);
                }
                if (epi != null) epi.apply(y, yo, cout, p0, mb, 0, cout);
            }
        });
    }

    /**
     * One K piece of a block of mb output pixels over every B panel: y rows from yRow0 on (stride
     * cout) (+)= A row i (kc values at a[rows[i] + off]) x the filter's K values from kIdx (panels
     * of k values, as {@link #packFilter} lays them out). Five rows per micro-kernel call; a ragged
     * last tile repeats its last row and Sgemm clips the copies away.
     */
    private static void multiplyPiece(int kc, float[] a, int[] rows, int off, int mb, float[] bp, int k, int kIdx, int cout,
                                      float[] y, int yRow0, boolean add, float[] scratch) {
        int np = Sgemm.ceilDiv(cout, NR);
        for (int q = 0; q < np; q++) {
            int jr = q * NR;
            int nr = Math.min(NR, cout - jr);
            int bo = (q * k + kIdx) * NR;
            for (int t = 0; t < mb; t += MR) {
                int last = Math.min(t + MR, mb) - 1;
                Sgemm.kernelRowsAt(kc, a, rows[t] + off, rows[Math.min(t + 1, last)] + off, rows[Math.min(t + 2, last)] + off,
                        rows[Math.min(t + 3, last)] + off, rows[Math.min(t + 4, last)] + off, last - t + 1, bp, bo,
                        y, yRow0 + t * cout + jr, cout, nr, add, scratch);
            }
        }
    }

    /**
     * base[i] = window origin of output pixel p0 + i (i &lt; mb) in a zero-padded NHWC input of
     * hp x wp pixels and c channels: origin + ((img * hp + oy * sy) * wp + ox * sx) * c, pixels
     * taken in (img, oy, ox) order over ny x nx outputs per image.
     */
    static void windowOrigins(int[] base, int p0, int mb, int origin, int hp, int wp, int c, int sy, int sx, int ny, int nx) {
        int img = p0 / (ny * nx);
        int rem = p0 - img * ny * nx;
        int oy = rem / nx;
        int ox = rem - oy * nx;
        for (int i = 0; i < mb; i++) {
            base[i] = origin + ((img * hp + oy * sy) * wp + ox * sx) * c;
            if (++ox == nx) {
                ox = 0;
                if (++oy == ny) {
                    oy = 0;
                    img++;
                }
            }
        }
    }

    /**
     * The filter as NR-wide panels over K in (ky, kx, ci) order: panel t, (p, j) at (t * K + p) * NR + j.
     * In this thread's buffer, or kept for a frozen weight ({@link org.slim4j.kernels.FrozenWeights}).
     */
    private static float[] packFilter(Winograd3x3.Taps g, int kh, int kw, int c, int cout) {
        return new FilterForm("implicit gemm panels", kh, kw, c, cout).of(g, Sgemm.ceilDiv(cout, NR) * kh * kw * c * NR,
                () -> packInto(g, kh, kw, c, cout));
    }

    private static float[] packInto(Winograd3x3.Taps g, int kh, int kw, int c, int cout) {
        int k = kh * kw * c;
        int np = Sgemm.ceilDiv(cout, NR);
        float[] bp = ThreadBuffers.floats(FILTER, np * k * NR);
        for (int t = 0; t < np; t++) {
            for (int ky = 0, p = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++) {
                    for (int ci = 0; ci < c; ci++, p++) {
                        int d = (t * k + p) * NR;
                        for (int j = 0; j < NR; j++) {
                            int co = t * NR + j;
                            bp[d + j] = co < cout ? g.get(ky, kx, ci, co) : 0f;
                        }
                    }
                }
            }
        }
        return bp;
    }

    /** x copied into a [n, hp, wp, c] buffer with zeros around it (top rows and left columns as given). */
    static float[] padded(float[] x, int xo, int n, int h, int w, int c, int top, int left, int hp, int wp) {
        int size = n * hp * wp * c;
        float[] dst = ThreadBuffers.floats(PADDED, size);
        int rowLen = wp * c;
        Parallel.forRange(n * hp, Math.max(1, (1 << 14) / rowLen), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int img = r / hp;
                int iy = r - img * hp - top;
                int d = r * rowLen;
                if (iy < 0 || iy >= h) {
                    Arrays.fill(dst, d, d + rowLen, 0f);
                    continue;
                }
                Arrays.fill(dst, d, d + left * c, 0f);
                System.arraycopy(x, xo + (img * h + iy) * w * c, dst, d + left * c, w * c);
                Arrays.fill(dst, d + (left + w) * c, d + rowLen, 0f);
            }
        });
        return dst;
    }
}
