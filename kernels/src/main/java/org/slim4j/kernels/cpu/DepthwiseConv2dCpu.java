package org.slim4j.kernels.cpu;

import static org.slim4j.kernels.cpu.ConvSupport.dims;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.cpu.ConvSupport.Geometry;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Depthwise 2-D convolution (TF's DepthwiseConv2dNative and its two backprops) on the CPU. Input
 * NHWC with C channels, filter [kh, kw, C, M], output NHWC with C*M channels where output channel
 * c*M + m = sum over the window of input channel c times filter[.., .., c, m].
 *
 * <p>float32: direct loops whose innermost loop runs over the contiguous channel axis with
 * FloatVector FMAs. Filter taps [ky, kx, :, :] are C*M contiguous values in output-channel order,
 * so with M > 1 an input row is first expanded to C*M values (x[c] repeated M times) and every
 * tap becomes one vector multiply-add over C*M lanes. float64: plain reference loops.
 */
public final class DepthwiseConv2dCpu implements DepthwiseConvKernels {
    private static final String FWD = "depthwise_conv2d";
    private static final String BWD_INPUT = "depthwise_conv2d_backprop_input";
    private static final String BWD_FILTER = "depthwise_conv2d_backprop_filter";

    /** Target multiply-adds per parallel work item. */
    private static final int GRAIN_WORK = 1 << 15;

    // ---- forward ------------------------------------------------------------------------------

    @Override
    public Tensor depthwiseConv2d(Tensor input, Tensor filter, Conv2dSpec spec) {
        ConvSupport.requireSpec(FWD, spec);
        ConvSupport.Operands ops = ConvSupport.operands(FWD, input, filter);
        int[] xd = ops.xd();
        int[] fd = ops.fd();
        DType t = ops.dtype();
        String shapes = ops.shapes();
        Geometry g = ConvSupport.geometry(FWD, xd, fd[0], fd[1], spec, shapes);
        int m = fd[3];
        // Every path writes all of y (a 12.8 MB MobileNet activation is not zeroed first).
        Tensor y = Tensor.empty(t, Shape.of(g.n(), g.ho(), g.wo(), g.c() * m));
        if (y.numel() == 0) return y;
        if (t == DType.FLOAT32) {
            forwardF(input.floatData(), input.offset(), filter.floatData(), filter.offset(), y.floatData(), y.offset(), g, m);
        } else {
            forwardD(input.doubleData(), input.offset(), filter.doubleData(), filter.offset(), y.doubleData(), y.offset(), g, m);
        }
        return y;
    }

    /**
     * Input row (n, ih) as C*M values per pixel: x itself when M == 1, else a copy into
     * {@code buf} at {@code bufOff} with each channel repeated M times. Returns the row's base
     * offset in the array that holds it.
     */
    private static int expandRow(float[] x, int xo, Geometry g, int n, int ih, int m, float[] buf, int bufOff) {
        int c = g.c();
        int src = xo + (n * g.h() + ih) * g.w() * c;
        if (m == 1) return src;
        int dst = bufOff;
        for (int i = 0, len = g.w() * c; i < len; i++) {
            float v = x[src + i];
            for (int j = 0; j < m; j++) buf[dst++] = v;
        }
        return bufOff;
    }

    private static int grain(Geometry g, int cm, int rowWidth) {
        return Math.max(1, GRAIN_WORK / Math.max(1, rowWidth * g.kh() * g.kw() * cm));
    }

    /**
     * Parallel over output rows (n, oh). Per output pixel the valid taps are listed as (input
     * offset, filter offset) pairs and summed over the channel axis in vector registers.
     */
    private static void forwardF(float[] x, int xo, float[] f, int fo, float[] y, int yo, Geometry g, int m) {
        forwardF(x, xo, f, fo, y, yo, g, m, null);
    }

    /**
     * The float32 forward pass; a non-null epilogue is applied to each output row (its wo pixels
     * x C*M channels, as Sgemm epilogue rows) as soon as the row is written, while it is in L1
     * ({@link FusedDepthwiseConv2dCpu}).
     */
    static void forwardF(float[] x, int xo, float[] f, int fo, float[] y, int yo, Geometry g, int m, Sgemm.Epilogue epi) {
        if (m == 1) {
            Window win = new Window(g.h(), g.w(), g.c(), g.kh(), g.kw(), g.ho(), g.wo(), g.sh(), g.sw(),
                    -g.padTop(), -g.padLeft(), g.dh(), g.dw());
            win.correlate(x, xo, f, fo, y, yo, g.n(), epi);
            return;
        }
        final int cm = g.c() * m;
        final int rowLen = g.w() * cm;
        Parallel.forRange(g.n() * g.ho(), grain(g, cm, g.wo()), (s, e) -> {
            float[] buf = m == 1 ? null : ConvSupport.scratch(g.kh() * rowLen);
            float[] src = m == 1 ? x : buf;
            int[] rowBase = new int[g.kh()];
            int[] rowTap = new int[g.kh()];
            int[] aOff = new int[g.kh() * g.kw()];
            int[] bOff = new int[g.kh() * g.kw()];
            for (int r = s; r < e; r++) {
                int n = r / g.ho();
                int oh = r % g.ho();
                int rows = 0;
                for (int ky = 0; ky < g.kh(); ky++) {
                    int ih = oh * g.sh() - g.padTop() + ky * g.dh();
                    if (ih < 0 || ih >= g.h()) continue;
                    rowBase[rows] = expandRow(x, xo, g, n, ih, m, buf, rows * rowLen);
                    rowTap[rows] = fo + ky * g.kw() * cm;
                    rows++;
                }
                int yRow = yo + r * g.wo() * cm;
                for (int ow = 0; ow < g.wo(); ow++) {
                    int iw0 = ow * g.sw() - g.padLeft();
                    int count = 0;
                    for (int kx = 0; kx < g.kw(); kx++) {
                        int iw = iw0 + kx * g.dw();
                        if (iw < 0 || iw >= g.w()) continue;
                        for (int t = 0; t < rows; t++) {
                            aOff[count] = rowBase[t] + iw * cm;
                            bOff[count] = rowTap[t] + kx * cm;
                            count++;
                        }
                    }
                    ConvSupport.sumOfProducts(y, yRow + ow * cm, src, aOff, f, bOff, count, cm);
                }
                if (epi != null) epi.apply(y, yo, cm, r * g.wo(), g.wo(), 0, cm);
            }
        });
    }

    // ---- M == 1: register-blocked row kernels ------------------------------------------------

    /**
     * One depthwise correlation with a single filter per channel (M == 1): dst[n, oy, ox, c] =
     * sum over taps (ky, kx) of src[n, oy*sy + offY + ky*ty, ox*sx + offX + kx*tx, c] *
     * taps[(ky*kw + kx)*C + c], out-of-range source cells counting as zero. The forward pass is
     * (x, filter, -pad, dilation); the unit-stride input gradient is (dy, flipped filter,
     * pad - (k-1)*dilation, dilation).
     *
     * <p>Work is output rows in parallel; a row is swept once per channel vector. 3x3 windows with
     * strides 1 or 2 and no dilation (all of MobileNet's depthwise layers, the input gradient of
     * the stride-1 ones, and through {@link #transposed2} that of the stride-2 ones) go through a
     * {@link Ring}: each task transposes the source rows it reads, once each, into zero-padded
     * [channel vector][column][lane] rows, so the row kernels load at constant strides (C2 then
     * drops the range checks, which it cannot do for the stride-C loads of NHWC data) and run
     * without border cases. Otherwise, on interior rows and columns (every tap inside the image) a 3x3
     * window keeps its 9 tap vectors in registers and sums each kernel row in its own
     * accumulator (short FMA chains); borders and other window sizes take a generic per-tap loop.
     */
    private static final class Window {
        private static final VectorSpecies<Float> S = ConvSupport.SPECIES;
        private static final int VL = S.length();
        final int srcH, srcW, c, kh, kw, dstH, dstW, sy, sx, offY, offX, ty, tx;
        /** Output columns [oxLo, oxHi) whose whole window lies inside the source row. */
        final int oxLo, oxHi;

        Window(int srcH, int srcW, int c, int kh, int kw, int dstH, int dstW, int sy, int sx, int offY, int offX, int ty, int tx) {
            this.srcH = srcH;
            this.srcW = srcW;
            this.c = c;
            this.kh = kh;
            this.kw = kw;
            this.dstH = dstH;
            this.dstW = dstW;
            this.sy = sy;
            this.sx = sx;
            this.offY = offY;
            this.offX = offX;
            this.ty = ty;
            this.tx = tx;
            int lo = offX >= 0 ? 0 : ConvSupport.ceilDiv(-offX, sx);
            int last = srcW - 1 - offX - (kw - 1) * tx;
            int hi = last < 0 ? 0 : Math.min(dstW, last / sx + 1);
            this.oxLo = Math.min(lo, dstW);
            this.oxHi = Math.max(this.oxLo, hi);
        }

        private int grain() {
            return Math.max(1, GRAIN_WORK / Math.max(1, dstW * kh * kw * c));
        }

        // ---- ring path: 3x3, strides 1 or 2, no dilation -----------------------------------

        /** Leading / trailing zero columns of a ring row: the window never leaves the padded row. */
        private int padL() {
            return Math.max(0, -offX);
        }

        private int ringW() {
            return padL() + srcW + Math.max(0, (dstW - 1) * sx + offX + 2 - (srcW - 1));
        }

        private boolean ringApplies() {
            return kh == 3 && kw == 3 && sy <= 2 && sx <= 2 && ty == 1 && tx == 1 && c >= VL;
        }

        /**
         * The ring of kernel rows one task keeps: slot s holds source row key[s] (img * srcH + iy;
         * -1 a zero row outside the image, -2 unused) transposed to [channel vector][padded
         * column][VL lanes], zero in the padding columns. A row is transposed once per task however
         * many output rows read it, and the compute loops then index it with constant strides: no
         * range checks, no border cases.
         */
        private final class Ring {
            final int cbs = c / VL;
            final int rowLen = cbs * ringW() * VL;
            /**
             * This thread's reusable ring storage (a task uses it alone, start to end), four slots:
             * a window reads up to four rows (two output rows of the filter gradient).
             */
            final float[] t = ringBuffer(4 * rowLen);
            final long[] key = {-2, -2, -2, -2};

            private final long[] want = new long[4];
            private final boolean[] held = new boolean[4];

            Ring() {
                // Zeroed once per task, so the padding columns stay zero: fill() writes only a
                // row's interior columns (re-zeroing them per row cost 2-8% of the forward pass).
                java.util.Arrays.fill(t, 0, 4 * rowLen, 0f);
            }

            void window(float[] src, int so, int img, int iy0, int[] s) {
                window(src, so, img, iy0, s, 3);
            }

            /**
             * Slots of source rows iy0 .. iy0 + count - 1 (count 3 or 4) of image img into
             * s[0 .. count) (rows outside the image share one zero slot). A missing row goes into a
             * slot this window does not read: rows are not always replaced oldest first (a zero row
             * can be reused from any earlier window).
             */
            void window(float[] src, int so, int img, int iy0, int[] s, int count) {
                for (int sl = 0; sl < 4; sl++) held[sl] = false;
                for (int ky = 0; ky < count; ky++) {
                    int iy = iy0 + ky;
                    want[ky] = iy < 0 || iy >= srcH ? -1 : (long) img * srcH + iy;
                    s[ky] = -1;
                }
                for (int ky = 0; ky < count; ky++) {
                    for (int sl = 0; sl < 4; sl++) {
                        if (key[sl] == want[ky]) {
                            s[ky] = sl;
                            held[sl] = true;
                        }
                    }
                }
                for (int ky = 0; ky < count; ky++) {
                    if (s[ky] >= 0) continue;
                    int sl = 0;
                    while (held[sl]) sl++;   // four slots, at most four distinct rows: one is free
                    fill(src, so, sl, want[ky], img, iy0 + ky);
                    held[sl] = true;
                    for (int k2 = ky; k2 < count; k2++) {
                        if (want[k2] == want[ky]) s[k2] = sl;
                    }
                }
            }

            /** Loads source row (img, iy) into slot sl, or zeros when k < 0 (outside the image). */
            private void fill(float[] src, int so, int sl, long k, int img, int iy) {
                key[sl] = k;
                int base = sl * rowLen;
                if (k < 0) {
                    java.util.Arrays.fill(t, base, base + rowLen, 0f);
                    return;
                }
                int pl = padL(), w = ringW();
                // Pixel-major: the source row is read front to back (one stream the prefetchers
                // follow), its channel vectors go to their planes.
                int rowStart = so + (img * srcH + iy) * srcW * c;
                int plane = w * VL;
                for (int ix = 0; ix < srcW; ix++) {
                    int sp = rowStart + ix * c;
                    int dp = base + (pl + ix) * VL;
                    for (int cb = 0; cb < cbs; cb++, sp += VL, dp += plane) {
                        FloatVector.fromArray(S, src, sp).intoArray(t, dp);
                    }
                }
            }
        }

        private void correlateRing(float[] src, int so, float[] taps, int to, float[] dst, int dOff, int n, Sgemm.Epilogue epi) {
            final int vecEnd = c / VL * VL;
            Parallel.forRange(n * dstH, grain(), (r0, r1) -> {
                Ring ring = new Ring();
                int[] rowBase = new int[kh];
                int[] sl = new int[3];
                int w = ringW();
                int colOff = (offX + padL()) * VL;
                for (int r = r0; r < r1; r++) {
                    int img = r / dstH;
                    int oy = r - img * dstH;
                    ring.window(src, so, img, oy * sy + offY, sl);
                    int dRow = dOff + r * dstW * c;
                    for (int cb = 0; cb < vecEnd; cb += VL) {
                        int plane = cb / VL * w * VL + colOff;
                        int a = sl[0] * ring.rowLen + plane, b = sl[1] * ring.rowLen + plane, e = sl[2] * ring.rowLen + plane;
                        if (sx == 1) {
                            ringRow(ring.t, a, b, e, taps, to + cb, dst, dRow + cb);
                        } else {
                            ringRowS2(ring.t, a, b, e, taps, to + cb, dst, dRow + cb);
                        }
                    }
                    if (vecEnd < c) {
                        rows(r, so, rowBase);
                        for (int ch = vecEnd; ch < c; ch++) scalar(src, rowBase, taps, to, dst, dRow, ch, 0, dstW);
                    }
                    if (epi != null) epi.apply(dst, dOff, c, r * dstW, dstW, 0, c);
                }
            });
        }

        /**
         * One output row, one channel vector: rows a, b, e of the ring (column 0 of the window at
         * offset a, b, e), taps at taps[tap * c + ...], outputs at dst[d + ox * c]. Two outputs per
         * iteration share two of their three columns (12 loads for 18 taps).
         */
        private void ringRow(float[] t, int a, int b, int e, float[] taps, int tp, float[] dst, int d) {
            FloatVector f0 = FloatVector.fromArray(S, taps, tp);
            FloatVector f1 = FloatVector.fromArray(S, taps, tp + c);
            FloatVector f2 = FloatVector.fromArray(S, taps, tp + 2 * c);
            FloatVector f3 = FloatVector.fromArray(S, taps, tp + 3 * c);
            FloatVector f4 = FloatVector.fromArray(S, taps, tp + 4 * c);
            FloatVector f5 = FloatVector.fromArray(S, taps, tp + 5 * c);
            FloatVector f6 = FloatVector.fromArray(S, taps, tp + 6 * c);
            FloatVector f7 = FloatVector.fromArray(S, taps, tp + 7 * c);
            FloatVector f8 = FloatVector.fromArray(S, taps, tp + 8 * c);
            int ox = 0;
            // A plain counted loop (ox < bound, constant step): C2 then hoists the range checks.
            int pairs = dstW - 1;
            for (; ox < pairs; ox += 2) {
                int o = ox * VL;
                FloatVector x0 = FloatVector.fromArray(S, t, a + o);
                FloatVector x1 = FloatVector.fromArray(S, t, a + o + VL);
                FloatVector p = x0.mul(f0);
                FloatVector q = x1.mul(f0);
                p = x1.fma(f1, p);
                x0 = FloatVector.fromArray(S, t, a + o + 2 * VL);
                q = x0.fma(f1, q);
                p = x0.fma(f2, p);
                x1 = FloatVector.fromArray(S, t, a + o + 3 * VL);
                q = x1.fma(f2, q);
                x0 = FloatVector.fromArray(S, t, b + o);
                x1 = FloatVector.fromArray(S, t, b + o + VL);
                p = x0.fma(f3, p);
                q = x1.fma(f3, q);
                p = x1.fma(f4, p);
                x0 = FloatVector.fromArray(S, t, b + o + 2 * VL);
                q = x0.fma(f4, q);
                p = x0.fma(f5, p);
                x1 = FloatVector.fromArray(S, t, b + o + 3 * VL);
                q = x1.fma(f5, q);
                x0 = FloatVector.fromArray(S, t, e + o);
                x1 = FloatVector.fromArray(S, t, e + o + VL);
                p = x0.fma(f6, p);
                q = x1.fma(f6, q);
                p = x1.fma(f7, p);
                x0 = FloatVector.fromArray(S, t, e + o + 2 * VL);
                q = x0.fma(f7, q);
                p = x0.fma(f8, p);
                x1 = FloatVector.fromArray(S, t, e + o + 3 * VL);
                q = x1.fma(f8, q);
                p.intoArray(dst, d + ox * c);
                q.intoArray(dst, d + (ox + 1) * c);
            }
            for (; ox < dstW; ox++) {
                int o = ox * VL;
                FloatVector p = FloatVector.fromArray(S, t, a + o).mul(f0);
                p = FloatVector.fromArray(S, t, a + o + VL).fma(f1, p);
                p = FloatVector.fromArray(S, t, a + o + 2 * VL).fma(f2, p);
                p = FloatVector.fromArray(S, t, b + o).fma(f3, p);
                p = FloatVector.fromArray(S, t, b + o + VL).fma(f4, p);
                p = FloatVector.fromArray(S, t, b + o + 2 * VL).fma(f5, p);
                p = FloatVector.fromArray(S, t, e + o).fma(f6, p);
                p = FloatVector.fromArray(S, t, e + o + VL).fma(f7, p);
                p = FloatVector.fromArray(S, t, e + o + 2 * VL).fma(f8, p);
                p.intoArray(dst, d + ox * c);
            }
        }

        private void filterGradientRing(float[] src, int so, float[] dy, int dyo, float[] df, int dfo, int n) {
            final int rows = n * dstH;
            final int size = 9 * c;
            final int vecEnd = c / VL * VL;
            final int slices = Math.max(1, Math.min(4 * Parallel.threads(), rows / grain()));
            final float[][] parts = partials(slices, size);
            Parallel.forRange(slices, 1, (s0, s1) -> {
                Ring ring = new Ring();
                int[] rowBase = new int[kh];
                int[] ws = new int[4];
                int w = ringW();
                int colOff = (offX + padL()) * VL;
                for (int sl = s0; sl < s1; sl++) {
                    float[] part = parts[sl];
                    java.util.Arrays.fill(part, 0, size, 0f);
                    int rEnd = (int) ((long) rows * (sl + 1) / slices);
                    for (int r = (int) ((long) rows * sl / slices); r < rEnd; r++) {
                        int img = r / dstH;
                        int oy = r - img * dstH;
                        if (sx == 1 && sy == 1 && r + 1 < rEnd && oy + 1 < dstH) {
                            // Two output rows share two of their source rows: 14 loads per two outputs instead of 20.
                            ring.window(src, so, img, oy + offY, ws, 4);
                            int dyRow = dyo + r * dstW * c;
                            for (int cb = 0; cb < vecEnd; cb += VL) {
                                int plane = cb / VL * w * VL + colOff;
                                gradRingRows2(ring.t, ws[0] * ring.rowLen + plane, ws[1] * ring.rowLen + plane,
                                        ws[2] * ring.rowLen + plane, ws[3] * ring.rowLen + plane, dy, dyRow + cb, part, cb);
                            }
                            if (vecEnd < c) {
                                for (int rr = r; rr <= r + 1; rr++) {
                                    rows(rr, so, rowBase);
                                    for (int ch = vecEnd; ch < c; ch++) scalarGrad(src, rowBase, dy, dyo + rr * dstW * c, part, ch, 0, dstW);
                                }
                            }
                            r++;
                            continue;
                        }
                        ring.window(src, so, img, oy * sy + offY, ws);
                        int dyRow = dyo + r * dstW * c;
                        for (int cb = 0; cb < vecEnd; cb += VL) {
                            int plane = cb / VL * w * VL + colOff;
                            int a = ws[0] * ring.rowLen + plane, b = ws[1] * ring.rowLen + plane, e = ws[2] * ring.rowLen + plane;
                            if (sx == 1) {
                                gradRingRow(ring.t, a, b, e, dy, dyRow + cb, part, cb);
                            } else {
                                gradRingRowS2(ring.t, a, b, e, dy, dyRow + cb, part, cb);
                            }
                        }
                        if (vecEnd < c) {
                            rows(r, so, rowBase);
                            for (int ch = vecEnd; ch < c; ch++) scalarGrad(src, rowBase, dy, dyRow, part, ch, 0, dstW);
                        }
                    }
                }
            });
            for (int i = 0; i < size; i++) {
                float sum = 0f;
                for (int sl = 0; sl < slices; sl++) sum += parts[sl][i];
                df[dfo + i] = sum;
            }
        }

        /**
         * {@link #gradRingRow} for two consecutive output rows (dy rows at d and d + dstW * c):
         * ring rows a, b, e feed the first, b, e, g the second.
         */
        private void gradRingRows2(float[] t, int a, int b, int e, int g, float[] dy, int d, float[] part, int cb) {
            FloatVector g0 = FloatVector.zero(S), g1 = g0, g2 = g0, g3 = g0, g4 = g0, g5 = g0, g6 = g0, g7 = g0, g8 = g0;
            int d1 = d + dstW * c;
            for (int ox = 0; ox < dstW; ox++) {
                int o = ox * VL;
                FloatVector v = FloatVector.fromArray(S, dy, d + ox * c);
                FloatVector u = FloatVector.fromArray(S, dy, d1 + ox * c);
                FloatVector x0 = FloatVector.fromArray(S, t, a + o);
                FloatVector x1 = FloatVector.fromArray(S, t, a + o + VL);
                FloatVector x2 = FloatVector.fromArray(S, t, a + o + 2 * VL);
                g0 = x0.fma(v, g0);
                g1 = x1.fma(v, g1);
                g2 = x2.fma(v, g2);
                x0 = FloatVector.fromArray(S, t, b + o);
                x1 = FloatVector.fromArray(S, t, b + o + VL);
                x2 = FloatVector.fromArray(S, t, b + o + 2 * VL);
                g0 = x0.fma(u, g0);
                g1 = x1.fma(u, g1);
                g2 = x2.fma(u, g2);
                g3 = x0.fma(v, g3);
                g4 = x1.fma(v, g4);
                g5 = x2.fma(v, g5);
                x0 = FloatVector.fromArray(S, t, e + o);
                x1 = FloatVector.fromArray(S, t, e + o + VL);
                x2 = FloatVector.fromArray(S, t, e + o + 2 * VL);
                g3 = x0.fma(u, g3);
                g4 = x1.fma(u, g4);
                g5 = x2.fma(u, g5);
                g6 = x0.fma(v, g6);
                g7 = x1.fma(v, g7);
                g8 = x2.fma(v, g8);
                x0 = FloatVector.fromArray(S, t, g + o);
                x1 = FloatVector.fromArray(S, t, g + o + VL);
                x2 = FloatVector.fromArray(S, t, g + o + 2 * VL);
                g6 = x0.fma(u, g6);
                g7 = x1.fma(u, g7);
                g8 = x2.fma(u, g8);
            }
            FloatVector.fromArray(S, part, cb).add(g0).intoArray(part, cb);
            FloatVector.fromArray(S, part, c + cb).add(g1).intoArray(part, c + cb);
            FloatVector.fromArray(S, part, 2 * c + cb).add(g2).intoArray(part, 2 * c + cb);
            FloatVector.fromArray(S, part, 3 * c + cb).add(g3).intoArray(part, 3 * c + cb);
            FloatVector.fromArray(S, part, 4 * c + cb).add(g4).intoArray(part, 4 * c + cb);
            FloatVector.fromArray(S, part, 5 * c + cb).add(g5).intoArray(part, 5 * c + cb);
            FloatVector.fromArray(S, part, 6 * c + cb).add(g6).intoArray(part, 6 * c + cb);
            FloatVector.fromArray(S, part, 7 * c + cb).add(g7).intoArray(part, 7 * c + cb);
            FloatVector.fromArray(S, part, 8 * c + cb).add(g8).intoArray(part, 8 * c + cb);
        }

        /** Nine tap sums of one output row and channel vector, added into part[tap * c + cb]. */
        private void gradRingRow(float[] t, int a, int b, int e, float[] dy, int d, float[] part, int cb) {
            FloatVector g0 = FloatVector.zero(S), g1 = g0, g2 = g0, g3 = g0, g4 = g0, g5 = g0, g6 = g0, g7 = g0, g8 = g0;
            for (int ox = 0; ox < dstW; ox++) {
                int o = ox * VL;
                FloatVector v = FloatVector.fromArray(S, dy, d + ox * c);
                g0 = FloatVector.fromArray(S, t, a + o).fma(v, g0);
                g1 = FloatVector.fromArray(S, t, a + o + VL).fma(v, g1);
                g2 = FloatVector.fromArray(S, t, a + o + 2 * VL).fma(v, g2);
                g3 = FloatVector.fromArray(S, t, b + o).fma(v, g3);
                g4 = FloatVector.fromArray(S, t, b + o + VL).fma(v, g4);
                g5 = FloatVector.fromArray(S, t, b + o + 2 * VL).fma(v, g5);
                g6 = FloatVector.fromArray(S, t, e + o).fma(v, g6);
                g7 = FloatVector.fromArray(S, t, e + o + VL).fma(v, g7);
                g8 = FloatVector.fromArray(S, t, e + o + 2 * VL).fma(v, g8);
            }
            FloatVector.fromArray(S, part, cb).add(g0).intoArray(part, cb);
            FloatVector.fromArray(S, part, c + cb).add(g1).intoArray(part, c + cb);
            FloatVector.fromArray(S, part, 2 * c + cb).add(g2).intoArray(part, 2 * c + cb);
            FloatVector.fromArray(S, part, 3 * c + cb).add(g3).intoArray(part, 3 * c + cb);
            FloatVector.fromArray(S, part, 4 * c + cb).add(g4).intoArray(part, 4 * c + cb);
            FloatVector.fromArray(S, part, 5 * c + cb).add(g5).intoArray(part, 5 * c + cb);
            FloatVector.fromArray(S, part, 6 * c + cb).add(g6).intoArray(part, 6 * c + cb);
            FloatVector.fromArray(S, part, 7 * c + cb).add(g7).intoArray(part, 7 * c + cb);
            FloatVector.fromArray(S, part, 8 * c + cb).add(g8).intoArray(part, 8 * c + cb);
        }

        /** {@link #gradRingRow} for column stride 2 (output ox reads ring columns 2ox .. 2ox + 2). */
        private void gradRingRowS2(float[] t, int a, int b, int e, float[] dy, int d, float[] part, int cb) {
            FloatVector g0 = FloatVector.zero(S), g1 = g0, g2 = g0, g3 = g0, g4 = g0, g5 = g0, g6 = g0, g7 = g0, g8 = g0;
            for (int ox = 0; ox < dstW; ox++) {
                int o = ox * 2 * VL;
                FloatVector v = FloatVector.fromArray(S, dy, d + ox * c);
                g0 = FloatVector.fromArray(S, t, a + o).fma(v, g0);
                g1 = FloatVector.fromArray(S, t, a + o + VL).fma(v, g1);
                g2 = FloatVector.fromArray(S, t, a + o + 2 * VL).fma(v, g2);
                g3 = FloatVector.fromArray(S, t, b + o).fma(v, g3);
                g4 = FloatVector.fromArray(S, t, b + o + VL).fma(v, g4);
                g5 = FloatVector.fromArray(S, t, b + o + 2 * VL).fma(v, g5);
                g6 = FloatVector.fromArray(S, t, e + o).fma(v, g6);
                g7 = FloatVector.fromArray(S, t, e + o + VL).fma(v, g7);
                g8 = FloatVector.fromArray(S, t, e + o + 2 * VL).fma(v, g8);
            }
            FloatVector.fromArray(S, part, cb).add(g0).intoArray(part, cb);
            FloatVector.fromArray(S, part, c + cb).add(g1).intoArray(part, c + cb);
            FloatVector.fromArray(S, part, 2 * c + cb).add(g2).intoArray(part, 2 * c + cb);
            FloatVector.fromArray(S, part, 3 * c + cb).add(g3).intoArray(part, 3 * c + cb);
            FloatVector.fromArray(S, part, 4 * c + cb).add(g4).intoArray(part, 4 * c + cb);
            FloatVector.fromArray(S, part, 5 * c + cb).add(g5).intoArray(part, 5 * c + cb);
            FloatVector.fromArray(S, part, 6 * c + cb).add(g6).intoArray(part, 6 * c + cb);
            FloatVector.fromArray(S, part, 7 * c + cb).add(g7).intoArray(part, 7 * c + cb);
            FloatVector.fromArray(S, part, 8 * c + cb).add(g8).intoArray(part, 8 * c + cb);
        }

        /**
         * {@link #ringRow} for column stride 2: output ox reads ring columns 2ox .. 2ox + 2, so
         * two outputs share one column (15 loads for 18 taps).
         */
        private void ringRowS2(float[] t, int a, int b, int e, float[] taps, int tp, float[] dst, int d) {
            FloatVector f0 = FloatVector.fromArray(S, taps, tp);
            FloatVector f1 = FloatVector.fromArray(S, taps, tp + c);
            FloatVector f2 = FloatVector.fromArray(S, taps, tp + 2 * c);
            FloatVector f3 = FloatVector.fromArray(S, taps, tp + 3 * c);
            FloatVector f4 = FloatVector.fromArray(S, taps, tp + 4 * c);
            FloatVector f5 = FloatVector.fromArray(S, taps, tp + 5 * c);
            FloatVector f6 = FloatVector.fromArray(S, taps, tp + 6 * c);
            FloatVector f7 = FloatVector.fromArray(S, taps, tp + 7 * c);
            FloatVector f8 = FloatVector.fromArray(S, taps, tp + 8 * c);
            int ox = 0;
            int pairs = dstW - 1;
            for (; ox < pairs; ox += 2) {
                int o = ox * 2 * VL;
                FloatVector x0, x1, x2, p, q;
                x0 = FloatVector.fromArray(S, t, a + o);
                x1 = FloatVector.fromArray(S, t, a + o + VL);
                x2 = FloatVector.fromArray(S, t, a + o + 2 * VL);
                p = x0.mul(f0);
                q = x2.mul(f0);
                p = x1.fma(f1, p);
                p = x2.fma(f2, p);
                x0 = FloatVector.fromArray(S, t, a + o + 3 * VL);
                x1 = FloatVector.fromArray(S, t, a + o + 4 * VL);
                q = x0.fma(f1, q);
                q = x1.fma(f2, q);
                x0 = FloatVector.fromArray(S, t, b + o);
                x1 = FloatVector.fromArray(S, t, b + o + VL);
                x2 = FloatVector.fromArray(S, t, b + o + 2 * VL);
                p = x0.fma(f3, p);
                q = x2.fma(f3, q);
                p = x1.fma(f4, p);
                p = x2.fma(f5, p);
                x0 = FloatVector.fromArray(S, t, b + o + 3 * VL);
                x1 = FloatVector.fromArray(S, t, b + o + 4 * VL);
                q = x0.fma(f4, q);
                q = x1.fma(f5, q);
                x0 = FloatVector.fromArray(S, t, e + o);
                x1 = FloatVector.fromArray(S, t, e + o + VL);
                x2 = FloatVector.fromArray(S, t, e + o + 2 * VL);
                p = x0.fma(f6, p);
                q = x2.fma(f6, q);
                p = x1.fma(f7, p);
                p = x2.fma(f8, p);
                x0 = FloatVector.fromArray(S, t, e + o + 3 * VL);
                x1 = FloatVector.fromArray(S, t, e + o + 4 * VL);
                q = x0.fma(f7, q);
                q = x1.fma(f8, q);
                p.intoArray(dst, d + ox * c);
                q.intoArray(dst, d + (ox + 1) * c);
            }
            for (; ox < dstW; ox++) {
                int o = ox * 2 * VL;
                FloatVector p = FloatVector.fromArray(S, t, a + o).mul(f0);
                p = FloatVector.fromArray(S, t, a + o + VL).fma(f1, p);
                p = FloatVector.fromArray(S, t, a + o + 2 * VL).fma(f2, p);
                p = FloatVector.fromArray(S, t, b + o).fma(f3, p);
                p = FloatVector.fromArray(S, t, b + o + VL).fma(f4, p);
                p = FloatVector.fromArray(S, t, b + o + 2 * VL).fma(f5, p);
                p = FloatVector.fromArray(S, t, e + o).fma(f6, p);
                p = FloatVector.fromArray(S, t, e + o + VL).fma(f7, p);
                p = FloatVector.fromArray(S, t, e + o + 2 * VL).fma(f8, p);
                p.intoArray(dst, d + ox * c);
            }
        }

        // ---- transposed stride 2: input gradient of 3x3 stride-2 windows -------------------------

        /**
         * Input gradient of a 3x3, stride-2 window: this Window's source is dy (Ho x Wo, read
         * through the ring, which has one zero column on either side: destination width Wo and
         * offX = -1), the destination dx, dxH x dxW.
         * dx[iy, ix] gathers dy[(iy + padTop - ky) / 2, (ix + padLeft - kx) / 2] * f[ky, kx] over the
         * taps whose offsets are even: an even row (iy + padTop) takes filter rows 0 and 2 from two
         * dy rows, an odd one filter row 1 from one; along the row an even column takes taps 0 and 2
         * of dy columns j and j - 1, an odd column tap 1 of column j. 2.25 multiply-adds per dx
         * value instead of the 9 of a correlation over zero-interleaved dy.
         */
        void transposed2(float[] dy, int dyo, float[] f, int fo, float[] dx, int dxo, int n, int dxH, int dxW, int padTop, int padLeft) {
            final int vecEnd = c / VL * VL;
            Parallel.forRange(n * dxH, Math.max(1, GRAIN_WORK / Math.max(1, dxW * 3 * c)), (r0, r1) -> {
                Ring ring = new Ring();
                int[] sl = new int[3];
                int plane = ringW() * VL;
                for (int r = r0; r < r1; r++) {
                    int img = r / dxH;
                    int ey = r - img * dxH + padTop;
                    // Slots of dy rows ey/2 - 1, ey/2 (even ey) or (ey-1)/2 in the middle slot (odd ey).
                    ring.window(dy, dyo, img, (ey >> 1) - 1, sl);
                    int dRow = dxo + r * dxW * c;
                    boolean even = (ey & 1) == 0;
                    for (int cb = 0; cb < vecEnd; cb += VL) {
                        int p = cb / VL * plane + VL;   // column j of a ring row at p + j * VL
                        if (even) {
                            t2Even(ring.t, sl[1] * ring.rowLen + p, sl[0] * ring.rowLen + p, f, fo + cb, dx, dRow + cb, dxW, padLeft);
                        } else {
                            t2Odd(ring.t, sl[1] * ring.rowLen + p, f, fo + 3 * c + cb, dx, dRow + cb, dxW, padLeft);
                        }
                    }
                }
            });
        }

        /** Even dx row: dy row a with filter row 0, dy row b with filter row 2 (taps at tp). */
        private void t2Even(float[] t, int a, int b, float[] f, int tp, float[] dx, int d, int dxW, int padLeft) {
            FloatVector a0 = FloatVector.fromArray(S, f, tp);
            FloatVector a1 = FloatVector.fromArray(S, f, tp + c);
            FloatVector a2 = FloatVector.fromArray(S, f, tp + 2 * c);
            FloatVector b0 = FloatVector.fromArray(S, f, tp + 6 * c);
            FloatVector b1 = FloatVector.fromArray(S, f, tp + 7 * c);
            FloatVector b2 = FloatVector.fromArray(S, f, tp + 8 * c);
            int ix = 0;
            if (padLeft == 1 && dxW > 0) {
                // ix = 0 is odd (e = 1): tap 1 of column j = 0.
                FloatVector.fromArray(S, t, a).mul(a1).add(FloatVector.fromArray(S, t, b).mul(b1)).intoArray(dx, d);
                ix = 1;
            }
            // Pairs (even e = 2j at ix, odd e at ix + 1), j = (ix + padLeft) / 2.
            int j0 = (ix + padLeft) >> 1;
            int jEnd = j0 + (dxW - ix) / 2;
            int base = d + (ix - 2 * j0) * c;   // dx offset of output 2j at base + 2j * c
            for (int j = j0; j < jEnd; j++) {
                int o = j * VL;
                FloatVector xa = FloatVector.fromArray(S, t, a + o);
                FloatVector xb = FloatVector.fromArray(S, t, b + o);
                FloatVector pa = FloatVector.fromArray(S, t, a + o - VL);
                FloatVector pb = FloatVector.fromArray(S, t, b + o - VL);
                FloatVector ev = xa.mul(a0);
                FloatVector od = xa.mul(a1);
                ev = xb.fma(b0, ev);
                od = xb.fma(b1, od);
                ev = pa.fma(a2, ev);
                ev = pb.fma(b2, ev);
                ev.intoArray(dx, base + 2 * j * c);
                od.intoArray(dx, base + 2 * j * c + c);
            }
            ix += 2 * (jEnd - j0);
            if (ix < dxW) {
                int o = jEnd * VL;
                FloatVector ev = FloatVector.fromArray(S, t, a + o).mul(a0);
                ev = FloatVector.fromArray(S, t, b + o).fma(b0, ev);
                ev = FloatVector.fromArray(S, t, a + o - VL).fma(a2, ev);
                ev = FloatVector.fromArray(S, t, b + o - VL).fma(b2, ev);
                ev.intoArray(dx, d + ix * c);
            }
        }

        /** Odd dx row: dy row a with filter row 1 (taps at tp). */
        private void t2Odd(float[] t, int a, float[] f, int tp, float[] dx, int d, int dxW, int padLeft) {
            FloatVector a0 = FloatVector.fromArray(S, f, tp);
            FloatVector a1 = FloatVector.fromArray(S, f, tp + c);
            FloatVector a2 = FloatVector.fromArray(S, f, tp + 2 * c);
            int ix = 0;
            if (padLeft == 1 && dxW > 0) {
                FloatVector.fromArray(S, t, a).mul(a1).intoArray(dx, d);
                ix = 1;
            }
            int j0 = (ix + padLeft) >> 1;
            int jEnd = j0 + (dxW - ix) / 2;
            int base = d + (ix - 2 * j0) * c;
            for (int j = j0; j < jEnd; j++) {
                int o = j * VL;
                FloatVector xa = FloatVector.fromArray(S, t, a + o);
                xa.mul(a0).add(FloatVector.fromArray(S, t, a + o - VL).mul(a2)).intoArray(dx, base + 2 * j * c);
                xa.mul(a1).intoArray(dx, base + 2 * j * c + c);
            }
            ix += 2 * (jEnd - j0);
            if (ix < dxW) {
                int o = jEnd * VL;
                FloatVector.fromArray(S, t, a + o).mul(a0).add(FloatVector.fromArray(S, t, a + o - VL).mul(a2)).intoArray(dx, d + ix * c);
            }
        }

        /** Fills rowBase with the source row offsets of output row r (-1: outside); true if all inside. */
        private boolean rows(int r, int so, int[] rowBase) {
            int n = r / dstH;
            int oy = r - n * dstH;
            boolean all = true;
            for (int ky = 0; ky < kh; ky++) {
                int iy = oy * sy + offY + ky * ty;
                if (iy < 0 || iy >= srcH) {
                    rowBase[ky] = -1;
                    all = false;
                } else {
                    rowBase[ky] = so + (n * srcH + iy) * srcW * c;
                }
            }
            return all;
        }

        /** The correlation; a non-null epilogue runs on each finished output row (see forwardF). */
        void correlate(float[] src, int so, float[] taps, int to, float[] dst, int dOff, int n, Sgemm.Epilogue epi) {
            if (ringApplies()) {
                correlateRing(src, so, taps, to, dst, dOff, n, epi);
                return;
            }
            Parallel.forRange(n * dstH, grain(), (r0, r1) -> {
                int[] rowBase = new int[kh];
                int vecEnd = S.loopBound(c);
                int chunk = chunk();
                for (int r = r0; r < r1; r++) {
                    boolean all = rows(r, so, rowBase);
                    int dRow = dOff + r * dstW * c;
                    // Column chunks: every channel vector of a chunk reuses the same L1-resident lines.
                    for (int x0 = 0; x0 < dstW; x0 += chunk) {
                        int x1 = Math.min(dstW, x0 + chunk);
                        int in0 = Math.max(x0, oxLo), in1 = Math.max(in0, Math.min(x1, oxHi));
                        for (int cb = 0; cb < vecEnd; cb += VL) {
                            if (all && kh == 3 && kw == 3) {
                                interior3x3(src, rowBase, taps, to, dst, dRow, cb, in0, in1);
                                generic(src, rowBase, taps, to, dst, dRow, cb, x0, in0);
                                generic(src, rowBase, taps, to, dst, dRow, cb, in1, x1);
                            } else {
                                generic(src, rowBase, taps, to, dst, dRow, cb, x0, x1);
                            }
                        }
                        for (int ch = vecEnd; ch < c; ch++) scalar(src, rowBase, taps, to, dst, dRow, ch, x0, x1);
                    }
                    if (epi != null) epi.apply(dst, dOff, c, r * dstW, dstW, 0, c);
                }
            });
        }

        /** Output columns per chunk: the three source rows of a chunk (~12 KiB) stay in L1. */
        private int chunk() {
            return Math.max(4, Math.min(64, 1024 / Math.max(1, c)));
        }

        private void interior3x3(float[] src, int[] rowBase, float[] taps, int to, float[] dst, int dRow, int cb, int ox0, int ox1) {
            FloatVector f0 = FloatVector.fromArray(S, taps, to + cb);
            FloatVector f1 = FloatVector.fromArray(S, taps, to + c + cb);
            FloatVector f2 = FloatVector.fromArray(S, taps, to + 2 * c + cb);
            FloatVector f3 = FloatVector.fromArray(S, taps, to + 3 * c + cb);
            FloatVector f4 = FloatVector.fromArray(S, taps, to + 4 * c + cb);
            FloatVector f5 = FloatVector.fromArray(S, taps, to + 5 * c + cb);
            FloatVector f6 = FloatVector.fromArray(S, taps, to + 6 * c + cb);
            FloatVector f7 = FloatVector.fromArray(S, taps, to + 7 * c + cb);
            FloatVector f8 = FloatVector.fromArray(S, taps, to + 8 * c + cb);
            int t1 = tx * c, t2 = 2 * tx * c, step = sx * c;
            int col = (ox0 * sx + offX) * c + cb;
            int r0 = rowBase[0] + col, r1 = rowBase[1] + col, r2 = rowBase[2] + col;
            int d = dRow + ox0 * c + cb;
            int ox = ox0;
            if (sx == 1 && tx == 1) {
                // Unit stride, no dilation: two neighbouring outputs share two of their three
                // columns, so a pair needs 12 loads instead of 18.
                int c2 = 2 * c, c3 = 3 * c;
                for (; ox + 1 < ox1; ox += 2, r0 += c2, r1 += c2, r2 += c2, d += c2) {
                    FloatVector x0 = FloatVector.fromArray(S, src, r0);
                    FloatVector x1 = FloatVector.fromArray(S, src, r0 + c);
                    FloatVector a = x0.mul(f0);
                    FloatVector b = x1.mul(f0);
                    a = x1.fma(f1, a);
                    x0 = FloatVector.fromArray(S, src, r0 + c2);
                    b = x0.fma(f1, b);
                    a = x0.fma(f2, a);
                    x1 = FloatVector.fromArray(S, src, r0 + c3);
                    b = x1.fma(f2, b);
                    x0 = FloatVector.fromArray(S, src, r1);
                    x1 = FloatVector.fromArray(S, src, r1 + c);
                    a = x0.fma(f3, a);
                    b = x1.fma(f3, b);
                    a = x1.fma(f4, a);
                    x0 = FloatVector.fromArray(S, src, r1 + c2);
                    b = x0.fma(f4, b);
                    a = x0.fma(f5, a);
                    x1 = FloatVector.fromArray(S, src, r1 + c3);
                    b = x1.fma(f5, b);
                    x0 = FloatVector.fromArray(S, src, r2);
                    x1 = FloatVector.fromArray(S, src, r2 + c);
                    a = x0.fma(f6, a);
                    b = x1.fma(f6, b);
                    a = x1.fma(f7, a);
                    x0 = FloatVector.fromArray(S, src, r2 + c2);
                    b = x0.fma(f7, b);
                    a = x0.fma(f8, a);
                    x1 = FloatVector.fromArray(S, src, r2 + c3);
                    b = x1.fma(f8, b);
                    a.intoArray(dst, d);
                    b.intoArray(dst, d + c);
                }
            }
            for (; ox < ox1; ox++, r0 += step, r1 += step, r2 += step, d += c) {
                FloatVector a0 = FloatVector.fromArray(S, src, r0).mul(f0);
                FloatVector a1 = FloatVector.fromArray(S, src, r1).mul(f3);
                FloatVector a2 = FloatVector.fromArray(S, src, r2).mul(f6);
                a0 = FloatVector.fromArray(S, src, r0 + t1).fma(f1, a0);
                a1 = FloatVector.fromArray(S, src, r1 + t1).fma(f4, a1);
                a2 = FloatVector.fromArray(S, src, r2 + t1).fma(f7, a2);
                a0 = FloatVector.fromArray(S, src, r0 + t2).fma(f2, a0);
                a1 = FloatVector.fromArray(S, src, r1 + t2).fma(f5, a1);
                a2 = FloatVector.fromArray(S, src, r2 + t2).fma(f8, a2);
                a0.add(a1).add(a2).intoArray(dst, d);
            }
        }

        /**
         * Output columns [ox0, ox1) of one channel vector, every tap checked. The sum goes through
         * dst instead of a register: a FloatVector carried across these data-dependent loops and
         * skips is a phi C2 cannot keep unboxed (it allocated one object per tap).
         */
        private void generic(float[] src, int[] rowBase, float[] taps, int to, float[] dst, int dRow, int cb, int ox0, int ox1) {
            FloatVector zero = FloatVector.zero(S);
            for (int ox = ox0; ox < ox1; ox++) {
                int d = dRow + ox * c + cb;
                zero.intoArray(dst, d);
                int ix0 = ox * sx + offX;
                for (int ky = 0; ky < kh; ky++) {
                    if (rowBase[ky] < 0) continue;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ix0 + kx * tx;
                        if (ix < 0 || ix >= srcW) continue;
                        FloatVector.fromArray(S, src, rowBase[ky] + ix * c + cb)
                                .fma(FloatVector.fromArray(S, taps, to + (ky * kw + kx) * c + cb), FloatVector.fromArray(S, dst, d))
                                .intoArray(dst, d);
                    }
                }
            }
        }

        private void scalar(float[] src, int[] rowBase, float[] taps, int to, float[] dst, int dRow, int ch, int ox0, int ox1) {
            for (int ox = ox0; ox < ox1; ox++) {
                float acc = 0f;
                int ix0 = ox * sx + offX;
                for (int ky = 0; ky < kh; ky++) {
                    if (rowBase[ky] < 0) continue;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ix0 + kx * tx;
                        if (ix >= 0 && ix < srcW) acc += src[rowBase[ky] + ix * c + ch] * taps[to + (ky * kw + kx) * c + ch];
                    }
                }
                dst[dRow + ox * c + ch] = acc;
            }
        }

        /**
         * Filter gradient: df[ky, kx, c] = sum over output pixels of src[.., tap, c] * dy[pixel, c].
         * Output rows are split into a few slices per core, each with its own partial (the calling
         * thread owns the buffers); on interior rows a 3x3 window keeps its 9 tap sums in registers for a
         * whole row sweep.
         */
        void filterGradient(float[] src, int so, float[] dy, int dyo, float[] df, int dfo, int n) {
            if (ringApplies()) {
                filterGradientRing(src, so, dy, dyo, df, dfo, n);
                return;
            }
            int rows = n * dstH;
            int size = kh * kw * c;
            // A few slices per core: a core the OS takes away for a while holds up only a small share.
            int slices = Math.max(1, Math.min(4 * Parallel.threads(), rows / grain()));
            float[][] parts = partials(slices, size);
            Parallel.forRange(slices, 1, (s, e) -> {
                int[] rowBase = new int[kh];
                int vecEnd = S.loopBound(c);
                for (int sl = s; sl < e; sl++) {
                    float[] part = parts[sl];
                    java.util.Arrays.fill(part, 0, size, 0f);
                    int r1 = (int) ((long) rows * (sl + 1) / slices);
                    int chunk = chunk();
                    for (int r = (int) ((long) rows * sl / slices); r < r1; r++) {
                        boolean all = rows(r, so, rowBase);
                        int dyRow = dyo + r * dstW * c;
                        for (int x0 = 0; x0 < dstW; x0 += chunk) {
                            int x1 = Math.min(dstW, x0 + chunk);
                            int in0 = Math.max(x0, oxLo), in1 = Math.max(in0, Math.min(x1, oxHi));
                            for (int cb = 0; cb < vecEnd; cb += VL) {
                                if (all && kh == 3 && kw == 3) {
                                    interiorGrad3x3(src, rowBase, dy, dyRow, part, cb, in0, in1);
                                    genericGrad(src, rowBase, dy, dyRow, part, cb, x0, in0);
                                    genericGrad(src, rowBase, dy, dyRow, part, cb, in1, x1);
                                } else {
                                    genericGrad(src, rowBase, dy, dyRow, part, cb, x0, x1);
                                }
                            }
                            for (int ch = vecEnd; ch < c; ch++) scalarGrad(src, rowBase, dy, dyRow, part, ch, x0, x1);
                        }
                    }
                }
            });
            for (int i = 0; i < size; i++) {
                float sum = 0f;
                for (int sl = 0; sl < slices; sl++) sum += parts[sl][i];
                df[dfo + i] = sum;
            }
        }

        private void interiorGrad3x3(float[] src, int[] rowBase, float[] dy, int dyRow, float[] part, int cb, int ox0, int ox1) {
            if (ox0 >= ox1) return;
            FloatVector g0 = FloatVector.zero(S), g1 = g0, g2 = g0, g3 = g0, g4 = g0, g5 = g0, g6 = g0, g7 = g0, g8 = g0;
            int t1 = tx * c, t2 = 2 * tx * c, step = sx * c;
            int col = (ox0 * sx + offX) * c + cb;
            int r0 = rowBase[0] + col, r1 = rowBase[1] + col, r2 = rowBase[2] + col;
            int d = dyRow + ox0 * c + cb;
            for (int ox = ox0; ox < ox1; ox++, r0 += step, r1 += step, r2 += step, d += c) {
                FloatVector v = FloatVector.fromArray(S, dy, d);
                g0 = FloatVector.fromArray(S, src, r0).fma(v, g0);
                g1 = FloatVector.fromArray(S, src, r0 + t1).fma(v, g1);
                g2 = FloatVector.fromArray(S, src, r0 + t2).fma(v, g2);
                g3 = FloatVector.fromArray(S, src, r1).fma(v, g3);
                g4 = FloatVector.fromArray(S, src, r1 + t1).fma(v, g4);
                g5 = FloatVector.fromArray(S, src, r1 + t2).fma(v, g5);
                g6 = FloatVector.fromArray(S, src, r2).fma(v, g6);
                g7 = FloatVector.fromArray(S, src, r2 + t1).fma(v, g7);
                g8 = FloatVector.fromArray(S, src, r2 + t2).fma(v, g8);
            }
            // Written out: a helper taking the vectors as arguments might not be inlined (C2 would box them).
            FloatVector.fromArray(S, part, cb).add(g0).intoArray(part, cb);
            FloatVector.fromArray(S, part, c + cb).add(g1).intoArray(part, c + cb);
            FloatVector.fromArray(S, part, 2 * c + cb).add(g2).intoArray(part, 2 * c + cb);
            FloatVector.fromArray(S, part, 3 * c + cb).add(g3).intoArray(part, 3 * c + cb);
            FloatVector.fromArray(S, part, 4 * c + cb).add(g4).intoArray(part, 4 * c + cb);
            FloatVector.fromArray(S, part, 5 * c + cb).add(g5).intoArray(part, 5 * c + cb);
            FloatVector.fromArray(S, part, 6 * c + cb).add(g6).intoArray(part, 6 * c + cb);
            FloatVector.fromArray(S, part, 7 * c + cb).add(g7).intoArray(part, 7 * c + cb);
            FloatVector.fromArray(S, part, 8 * c + cb).add(g8).intoArray(part, 8 * c + cb);
        }

        private void genericGrad(float[] src, int[] rowBase, float[] dy, int dyRow, float[] part, int cb, int ox0, int ox1) {
            for (int ox = ox0; ox < ox1; ox++) {
                FloatVector v = FloatVector.fromArray(S, dy, dyRow + ox * c + cb);
                int ix0 = ox * sx + offX;
                for (int ky = 0; ky < kh; ky++) {
                    if (rowBase[ky] < 0) continue;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ix0 + kx * tx;
                        if (ix < 0 || ix >= srcW) continue;
                        int t = (ky * kw + kx) * c + cb;
                        FloatVector.fromArray(S, src, rowBase[ky] + ix * c + cb).fma(v, FloatVector.fromArray(S, part, t)).intoArray(part, t);
                    }
                }
            }
        }

        private void scalarGrad(float[] src, int[] rowBase, float[] dy, int dyRow, float[] part, int ch, int ox0, int ox1) {
            for (int ox = ox0; ox < ox1; ox++) {
                float v = dy[dyRow + ox * c + ch];
                int ix0 = ox * sx + offX;
                for (int ky = 0; ky < kh; ky++) {
                    if (rowBase[ky] < 0) continue;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ix0 + kx * tx;
                        if (ix >= 0 && ix < srcW) part[(ky * kw + kx) * c + ch] += src[rowBase[ky] + ix * c + ch] * v;
                    }
                }
            }
        }
    }

    /** Read-only zeros standing for source rows outside the image (never written, so shared by all threads). */
    private static volatile float[] zeros = new float[0];

    private static float[] zeroRow(int size) {
        float[] z = zeros;
        if (z.length < size) {
            z = new float[size];
            zeros = z;
        }
        return z;
    }

    private static final ThreadLocal<float[][]> PARTIALS = ThreadLocal.withInitial(() -> new float[0][]);
    private static final ThreadLocal<float[]> RING = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] ringBuffer(int size) {
        return ThreadBuffers.floats(RING, size);
    }

    /** The calling thread's partial-sum buffers: {@code count} arrays of at least {@code size}. */
    private static float[][] partials(int count, int size) {
        return ThreadBuffers.partials(PARTIALS, count, size);
    }

    private static void forwardD(double[] x, int xo, double[] w, int wo, double[] y, int yo, Geometry g, int m) {
        int c = g.c();
        for (int n = 0; n < g.n(); n++) {
            for (int oh = 0; oh < g.ho(); oh++) {
                for (int ow = 0; ow < g.wo(); ow++) {
                    for (int ci = 0; ci < c; ci++) {
                        for (int j = 0; j < m; j++) {
                            double s = 0;
                            for (int ky = 0; ky < g.kh(); ky++) {
                                int ih = oh * g.sh() - g.padTop() + ky * g.dh();
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int kx = 0; kx < g.kw(); kx++) {
                                    int iw = ow * g.sw() - g.padLeft() + kx * g.dw();
                                    if (iw < 0 || iw >= g.w()) continue;
                                    s += x[xo + ((n * g.h() + ih) * g.w() + iw) * c + ci]
                                            * w[wo + ((ky * g.kw() + kx) * c + ci) * m + j];
                                }
                            }
                            y[yo + ((n * g.ho() + oh) * g.wo() + ow) * c * m + ci * m + j] = s;
                        }
                    }
                }
            }
        }
    }

    // ---- gradient w.r.t. the input ---------------------------------------------------------------

    @Override
    public Tensor depthwiseConv2dBackpropInput(Shape inputShape, Tensor filter, Tensor dy, Conv2dSpec spec) {
        ConvSupport.requireSpec(BWD_INPUT, spec);
        if (inputShape == null) throw new IllegalArgumentException(BWD_INPUT + ": input shape is required");
        int[] xd = inputShape.dims();
        int[] fd = filter.dims();
        int[] dd = dy.dims();
        ConvSupport.requireRank4(BWD_INPUT, "input_sizes", xd);
        ConvSupport.requireRank4(BWD_INPUT, "filter", fd);
        ConvSupport.requireRank4(BWD_INPUT, "out_backprop", dd);
        DType t = ConvSupport.floatDType(BWD_INPUT, "filter", filter, "out_backprop", dy);
        String shapes = "input_sizes " + dims(xd) + ", filter " + dims(fd) + ", out_backprop " + dims(dd);
        if (fd[2] != xd[3]) {
            throw new IllegalArgumentException(BWD_INPUT + ": filter in-channels " + fd[2] + " != input channels " + xd[3] + " (" + shapes + ")");
        }
        Geometry g = ConvSupport.geometry(BWD_INPUT, xd, fd[0], fd[1], spec, shapes);
        int m = fd[3];
        checkOutBackprop(BWD_INPUT, dd, g, m, shapes);
        // Every float32 path writes each dx value (a gather with no taps writes 0); the float64
        // reference adds into zeros. A 12.8 MB MobileNet gradient is not cleared first.
        boolean writesAll = t == DType.FLOAT32 && dy.numel() > 0;
        Tensor dx = writesAll ? Tensor.empty(t, inputShape) : Tensor.zeros(t, inputShape);
        if (dx.numel() == 0 || dy.numel() == 0) return dx;
        if (t == DType.FLOAT32) {
            backpropInputF(filter.floatData(), filter.offset(), dy.floatData(), dy.offset(), dx.floatData(), dx.offset(), g, m);
        } else {
            backpropInputD(filter.doubleData(), filter.offset(), dy.doubleData(), dy.offset(), dx.doubleData(), dx.offset(), g, m);
        }
        return dx;
    }

    private static final ThreadLocal<float[]> FLIPPED = ThreadLocal.withInitial(() -> new float[0]);

    /** The calling thread's copy of the filter taps (size values, c per tap) in reverse tap order. */
    private static float[] flippedTaps(float[] f, int fo, int size, int c) {
        float[] r = ThreadBuffers.floats(FLIPPED, size);
        int taps = size / c;
        for (int t = 0; t < taps; t++) System.arraycopy(f, fo + (taps - 1 - t) * c, r, t * c, c);
        return r;
    }

    private static void checkOutBackprop(String op, int[] dd, Geometry g, int m, String shapes) {
        if (dd[0] != g.n() || dd[1] != g.ho() || dd[2] != g.wo() || dd[3] != g.c() * m) {
            throw new IllegalArgumentException(op + ": out_backprop shape " + dims(dd) + " != expected output shape "
                    + dims(new int[] {g.n(), g.ho(), g.wo(), g.c() * m}) + " (" + shapes + ")");
        }
    }

    /**
     * Gathers instead of scattering so that each input row (n, ih) is owned by one task: the taps
     * that reach (ih, iw) are those with (ih + padTop - ky*dh) and (iw + padLeft - kx*dw)
     * divisible by the strides. With M > 1 the sums are formed over C*M lanes into a row buffer
     * and folded over m at the end of the row.
     */
    private static void backpropInputF(float[] f, int fo, float[] dy, int dyo, float[] dx, int dxo, Geometry g, int m) {
        if (m == 1 && g.sh() == 1 && g.sw() == 1) {
            // Unit strides: dx is dy correlated with the spatially flipped filter (every dx
            // element is one gather, no scatter), the same row kernel as the forward pass.
            int kh = g.kh(), kw = g.kw(), c = g.c();
            float[] flipped = flippedTaps(f, fo, kh * kw * c, c);
            Window win = new Window(g.ho(), g.wo(), c, kh, kw, g.h(), g.w(), 1, 1,
                    g.padTop() - (kh - 1) * g.dh(), g.padLeft() - (kw - 1) * g.dw(), g.dh(), g.dw());
            win.correlate(dy, dyo, flipped, 0, dx, dxo, g.n(), null);
            return;
        }
        if (m == 1 && g.sh() == 2 && g.sw() == 2 && g.kh() == 3 && g.kw() == 3 && g.dh() == 1 && g.dw() == 1
                && g.c() % Window.VL == 0 && g.padTop() <= 1 && g.padLeft() <= 1) {
            // 3x3 stride 2 (padding before is then 0 or 1): a gather of 2.25 taps per dx value.
            Window win = new Window(g.ho(), g.wo(), g.c(), 3, 3, g.ho(), g.wo(), 1, 1, 0, -1, 1, 1);
            win.transposed2(dy, dyo, f, fo, dx, dxo, g.n(), g.h(), g.w(), g.padTop(), g.padLeft());
            return;
        }
        final int c = g.c();
        final int cm = c * m;
        Parallel.forRange(g.n() * g.h(), grain(g, cm, g.w()), (s, e) -> {
            float[] acc = m == 1 ? dx : ConvSupport.scratch(g.w() * cm);
            int[] rowBase = new int[g.kh()];
            int[] rowTap = new int[g.kh()];
            int[] aOff = new int[g.kh() * g.kw()];
            int[] bOff = new int[g.kh() * g.kw()];
            for (int r = s; r < e; r++) {
                int n = r / g.h();
                int ih = r % g.h();
                int rows = 0;
                for (int ky = 0; ky < g.kh(); ky++) {
                    int th = ih + g.padTop() - ky * g.dh();
                    if (th < 0 || th % g.sh() != 0) continue;
                    int oh = th / g.sh();
                    if (oh >= g.ho()) continue;
                    rowBase[rows] = dyo + (n * g.ho() + oh) * g.wo() * cm;
                    rowTap[rows] = fo + ky * g.kw() * cm;
                    rows++;
                }
                int dxRow = dxo + r * g.w() * c;
                int accRow = m == 1 ? dxRow : 0;
                for (int iw = 0; iw < g.w(); iw++) {
                    int count = 0;
                    for (int kx = 0; kx < g.kw(); kx++) {
                        int tw = iw + g.padLeft() - kx * g.dw();
                        if (tw < 0 || tw % g.sw() != 0) continue;
                        int ow = tw / g.sw();
                        if (ow >= g.wo()) continue;
                        for (int t = 0; t < rows; t++) {
                            aOff[count] = rowBase[t] + ow * cm;
                            bOff[count] = rowTap[t] + kx * cm;
                            count++;
                        }
                    }
                    ConvSupport.sumOfProducts(acc, accRow + iw * cm, dy, aOff, f, bOff, count, cm);
                }
                if (m != 1) {
                    for (int i = 0, len = g.w() * c; i < len; i++) {
                        float sum = 0;
                        for (int j = 0; j < m; j++) sum += acc[i * m + j];
                        dx[dxRow + i] = sum;
                    }
                }
            }
        });
    }

    private static void backpropInputD(double[] w, int wo, double[] dy, int dyo, double[] dx, int dxo, Geometry g, int m) {
        int c = g.c();
        for (int n = 0; n < g.n(); n++) {
            for (int oh = 0; oh < g.ho(); oh++) {
                for (int ow = 0; ow < g.wo(); ow++) {
                    for (int ky = 0; ky < g.kh(); ky++) {
                        int ih = oh * g.sh() - g.padTop() + ky * g.dh();
                        if (ih < 0 || ih >= g.h()) continue;
                        for (int kx = 0; kx < g.kw(); kx++) {
                            int iw = ow * g.sw() - g.padLeft() + kx * g.dw();
                            if (iw < 0 || iw >= g.w()) continue;
                            for (int ci = 0; ci < c; ci++) {
                                for (int j = 0; j < m; j++) {
                                    dx[dxo + ((n * g.h() + ih) * g.w() + iw) * c + ci] +=
                                            w[wo + ((ky * g.kw() + kx) * c + ci) * m + j]
                                                    * dy[dyo + ((n * g.ho() + oh) * g.wo() + ow) * c * m + ci * m + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- gradient w.r.t. the filter --------------------------------------------------------------

    @Override
    public Tensor depthwiseConv2dBackpropFilter(Tensor input, Shape filterShape, Tensor dy, Conv2dSpec spec) {
        ConvSupport.requireSpec(BWD_FILTER, spec);
        if (filterShape == null) throw new IllegalArgumentException(BWD_FILTER + ": filter shape is required");
        int[] xd = input.dims();
        int[] fd = filterShape.dims();
        int[] dd = dy.dims();
        ConvSupport.requireRank4(BWD_FILTER, "input", xd);
        ConvSupport.requireRank4(BWD_FILTER, "filter_sizes", fd);
        ConvSupport.requireRank4(BWD_FILTER, "out_backprop", dd);
        DType t = ConvSupport.floatDType(BWD_FILTER, "input", input, "out_backprop", dy);
        String shapes = "input " + dims(xd) + ", filter_sizes " + dims(fd) + ", out_backprop " + dims(dd);
        if (fd[2] != xd[3]) {
            throw new IllegalArgumentException(BWD_FILTER + ": filter in-channels " + fd[2] + " != input channels " + xd[3] + " (" + shapes + ")");
        }
        Geometry g = ConvSupport.geometry(BWD_FILTER, xd, fd[0], fd[1], spec, shapes);
        int m = fd[3];
        checkOutBackprop(BWD_FILTER, dd, g, m, shapes);
        Tensor dw = Tensor.zeros(t, filterShape);
        if (dw.numel() == 0 || dy.numel() == 0) return dw;
        if (t == DType.FLOAT32) {
            backpropFilterF(input.floatData(), input.offset(), dy.floatData(), dy.offset(), dw.floatData(), dw.offset(), g, m);
        } else {
            backpropFilterD(input.doubleData(), input.offset(), dy.doubleData(), dy.offset(), dw.doubleData(), dw.offset(), g, m);
        }
        return dw;
    }

    /**
     * Output rows are split into one group per thread; each group sums into its own copy of the
     * (small) filter gradient, the first straight into the result, and the copies are added at the end.
     */
    private static void backpropFilterF(float[] x, int xo, float[] dy, int dyo, float[] dw, int dwo, Geometry g, int m) {
        if (m == 1) {
            Window win = new Window(g.h(), g.w(), g.c(), g.kh(), g.kw(), g.ho(), g.wo(), g.sh(), g.sw(),
                    -g.padTop(), -g.padLeft(), g.dh(), g.dw());
            win.filterGradient(x, xo, dy, dyo, dw, dwo, g.n());
            return;
        }
        final int cm = g.c() * m;
        final int size = g.kh() * g.kw() * cm;
        final int rows = g.n() * g.ho();
        final int groups = Math.max(1, Math.min(Parallel.threads(), rows / grain(g, cm, g.wo())));
        final float[][] partials = new float[groups][];
        Parallel.forRange(groups, 1, (s, e) -> {
            float[] acc = dw;
            int accOff = dwo;
            if (s != 0) {
                acc = partials[s] = new float[size];
                accOff = 0;
            }
            float[] buf = m == 1 ? null : ConvSupport.scratch(g.w() * cm);
            float[] src = m == 1 ? x : buf;
            int r1 = (int) ((long) rows * e / groups);
            for (int r = (int) ((long) rows * s / groups); r < r1; r++) {
                int n = r / g.ho();
                int oh = r % g.ho();
                int dyRow = dyo + r * g.wo() * cm;
                for (int ky = 0; ky < g.kh(); ky++) {
                    int ih = oh * g.sh() - g.padTop() + ky * g.dh();
                    if (ih < 0 || ih >= g.h()) continue;
                    int srcBase = expandRow(x, xo, g, n, ih, m, buf, 0);
                    int tap = accOff + ky * g.kw() * cm;
                    for (int ow = 0; ow < g.wo(); ow++) {
                        int iw0 = ow * g.sw() - g.padLeft();
                        for (int kx = 0; kx < g.kw(); kx++) {
                            int iw = iw0 + kx * g.dw();
                            if (iw < 0 || iw >= g.w()) continue;
                            ConvSupport.mulAdd(acc, tap + kx * cm, src, srcBase + iw * cm, dy, dyRow + ow * cm, cm);
                        }
                    }
                }
            }
        });
        ConvSupport.reduceInto(dw, dwo, partials, size);
    }

    private static void backpropFilterD(double[] x, int xo, double[] dy, int dyo, double[] dw, int dwo, Geometry g, int m) {
        int c = g.c();
        for (int ky = 0; ky < g.kh(); ky++) {
            for (int kx = 0; kx < g.kw(); kx++) {
                for (int ci = 0; ci < c; ci++) {
                    for (int j = 0; j < m; j++) {
                        double s = 0;
                        for (int n = 0; n < g.n(); n++) {
                            for (int oh = 0; oh < g.ho(); oh++) {
                                int ih = oh * g.sh() - g.padTop() + ky * g.dh();
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int ow = 0; ow < g.wo(); ow++) {
                                    int iw = ow * g.sw() - g.padLeft() + kx * g.dw();
                                    if (iw < 0 || iw >= g.w()) continue;
                                    s += x[xo + ((n * g.h() + ih) * g.w() + iw) * c + ci]
                                            * dy[dyo + ((n * g.ho() + oh) * g.wo() + ow) * c * m + ci * m + j];
                                }
                            }
                        }
                        dw[dwo + ((ky * g.kw() + kx) * c + ci) * m + j] = s;
                    }
                }
            }
        }
    }
}
