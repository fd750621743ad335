package org.slim4j.kernels.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/**
 * Shared pieces of the convolution kernels ({@link Conv2dCpu}, {@link DepthwiseConv2dCpu}): the
 * NHWC window geometry, im2col / col2im over a range of output pixels, per-thread scratch buffers,
 * argument checks and small vectorised array loops.
 *
 * <p>An im2col row belongs to one output pixel p = (n * Ho + oh) * Wo + ow and holds the receptive
 * field in HWI order (ky, kx, c), i.e. kh * kw * C values, zero where the window hangs over the
 * padding. That order matches an HWIO filter viewed as a [kh * kw * C, Cout] matrix.
 */
final class ConvSupport {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VLEN = SPECIES.length();

    /** im2col tiles aim at about this many floats (2 MB): big enough for GEMM, small enough for L2/L3. */
    static final int COL_BUDGET = 1 << 19;
    /** Scratch arrays larger than this are not kept alive per thread. */
    private static final int SCRATCH_CAP = 1 << 22;

    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();

    private ConvSupport() {
    }

    /**
     * Geometry of one NHWC convolution: input n x h x w x c, window kh x kw, strides, dilations,
     * output ho x wo and the padding before (top/left) from TF's SAME/VALID rule.
     */
    record Geometry(int n, int h, int w, int c, int kh, int kw, int sh, int sw, int dh, int dw,
                    int ho, int wo, int padTop, int padLeft) {
        /** Length of an im2col row: kh * kw * c. */
        int k() {
            return kh * kw * c;
        }

        int outPixels() {
            return n * ho * wo;
        }

        /**
         * The window covers the whole unpadded image (an FC layer written as a convolution, VGG's
         * fc6): one output pixel per image, whose im2col row is the image itself in HWC order.
         */
        boolean dense() {
            return kh == h && kw == w && ho == 1 && wo == 1 && padTop == 0 && padLeft == 0 && dh == 1 && dw == 1;
        }

        /**
         * Rows of the zero-padded input (padTop rows above the image) that holds every window of
         * every output pixel.
         */
        int paddedH() {
            return Math.max(h + padTop, (ho - 1) * sh + (kh - 1) * dh + 1);
        }

        /** Columns of that zero-padded input (padLeft columns before the image). */
        int paddedW() {
            return Math.max(w + padLeft, (wo - 1) * sw + (kw - 1) * dw + 1);
        }

        /** A 1x1 window at unit stride with no padding: output pixel i reads exactly input pixel i. */
        boolean pointwise() {
            return kh == 1 && kw == 1 && sh == 1 && sw == 1 && padTop == 0 && padLeft == 0 && ho == h && wo == w;
        }
    }

    /** Geometry for input dims [n, h, w, c] and a kh x kw window; names the op when the window does not fit. */
    static Geometry geometry(String op, int[] in, int kh, int kw, Conv2dSpec spec, String shapes) {
        Padding.Window wy;
        Padding.Window wx;
        try {
            wy = spec.padding().window(in[1], kh, spec.strideH(), spec.dilationH());
            wx = spec.padding().window(in[2], kw, spec.strideW(), spec.dilationW());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage() + " (" + shapes + ")", e);
        }
        return new Geometry(in[0], in[1], in[2], in[3], kh, kw, spec.strideH(), spec.strideW(),
                spec.dilationH(), spec.dilationW(), wy.outSize(), wx.outSize(), wy.padBefore(), wx.padBefore());
    }

    // ---- argument checks --------------------------------------------------------------------

    /** A forward pass's checked input and filter: their dims, common float dtype, and the shapes text errors quote. */
    record Operands(int[] xd, int[] fd, DType dtype, String shapes) {
    }

    /**
     * The checks every forward convolution makes on its input and filter (after its spec): both
     * rank 4, one float dtype, filter in-channels equal to the input channels.
     */
    static Operands operands(String op, Tensor input, Tensor filter) {
        int[] xd = input.dims();
        int[] fd = filter.dims();
        requireRank4(op, "input", xd);
        requireRank4(op, "filter", fd);
        DType t = floatDType(op, "input", input, "filter", filter);
        String shapes = "input " + dims(xd) + ", filter " + dims(fd);
        if (fd[2] != xd[3]) {
            throw new IllegalArgumentException(op + ": filter in-channels " + fd[2] + " != input channels " + xd[3] + " (" + shapes + ")");
        }
        return new Operands(xd, fd, t, shapes);
    }

    static void requireRank4(String op, String arg, int[] dims) {
        if (dims.length != 4) {
            throw new IllegalArgumentException(op + ": " + arg + " must be rank 4, got shape " + Arrays.toString(dims));
        }
    }

    static void requireSpec(String op, Conv2dSpec spec) {
        if (spec == null) throw new IllegalArgumentException(op + ": spec is required");
    }

    /** The common dtype of {@code a} and {@code b}; FLOAT32 or FLOAT64 only. */
    static DType floatDType(String op, String nameA, Tensor a, String nameB, Tensor b) {
        DType t = a.dtype();
        if (t != DType.FLOAT32 && t != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": unsupported dtype " + t + " of " + nameA + " (FLOAT32 or FLOAT64 expected)");
        }
        if (b.dtype() != t) {
            throw new IllegalArgumentException(op + ": dtype mismatch: " + nameA + " is " + t + ", " + nameB + " is " + b.dtype());
        }
        return t;
    }

    static String dims(int[] d) {
        return Arrays.toString(d);
    }

    // ---- scratch ------------------------------------------------------------------------------

    /** A per-thread float buffer of at least {@code size} elements (contents undefined). */
    static float[] scratch(int size) {
        float[] a = SCRATCH.get();
        if (a != null && a.length >= size) return a;
        a = new float[size];
        if (size <= SCRATCH_CAP) SCRATCH.set(a);
        return a;
    }

    /**
     * Output pixels per im2col tile: bounded by {@link #COL_BUDGET}, and small enough that a large
     * job splits into several tiles per core, but never below 16 rows (tiny GEMMs waste time).
     */
    static int tileRows(int pixels, int k) {
        int byBudget = Math.max(1, COL_BUDGET / Math.max(1, k));
        int byThreads = Math.max(1, ceilDiv(pixels, 4 * Parallel.threads()));
        int t = Math.min(byBudget, byThreads);
        return Math.max(Math.min(16, pixels), Math.min(t, pixels));
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    // ---- im2col / col2im ----------------------------------------------------------------------

    /** Writes the im2col rows of output pixels [p0, p1) into {@code col} (row stride k = kh*kw*c). */
    static void im2col(float[] x, int xOff, Geometry g, int p0, int p1, float[] col) {
        final int c = g.c, kw = g.kw, rowLen = kw * c, hoWo = g.ho * g.wo;
        int n = p0 / hoWo;
        int oh = (p0 % hoWo) / g.wo;
        int ow = p0 % g.wo;
        int dst = 0;
        for (int p = p0; p < p1; p++) {
            int ih0 = oh * g.sh - g.padTop;
            int iw0 = ow * g.sw - g.padLeft;
            int imageBase = xOff + n * g.h * g.w * c;
            for (int ky = 0; ky < g.kh; ky++) {
                int ih = ih0 + ky * g.dh;
                if (ih < 0 || ih >= g.h) {
                    Arrays.fill(col, dst, dst + rowLen, 0f);
                    dst += rowLen;
                    continue;
                }
                int rowBase = imageBase + ih * g.w * c;
                if (g.dw == 1 && iw0 >= 0 && iw0 + kw <= g.w) {
                    // Undilated window fully inside the row: the kw pixels are contiguous in NHWC.
                    System.arraycopy(x, rowBase + iw0 * c, col, dst, rowLen);
                    dst += rowLen;
                    continue;
                }
                for (int kx = 0; kx < kw; kx++) {
                    int iw = iw0 + kx * g.dw;
                    if (iw < 0 || iw >= g.w) {
                        Arrays.fill(col, dst, dst + c, 0f);
                    } else {
                        System.arraycopy(x, rowBase + iw * c, col, dst, c);
                    }
                    dst += c;
                }
            }
            if (++ow == g.wo) {
                ow = 0;
                if (++oh == g.ho) {
                    oh = 0;
                    n++;
                }
            }
        }
    }

    /** Scatter-adds the im2col-shaped gradient rows of output pixels [p0, p1) into dx (NHWC). */
    static void col2im(float[] dcol, Geometry g, int p0, int p1, float[] dx, int dxOff) {
        final int c = g.c, hoWo = g.ho * g.wo;
        int n = p0 / hoWo;
        int oh = (p0 % hoWo) / g.wo;
        int ow = p0 % g.wo;
        int src = 0;
        for (int p = p0; p < p1; p++) {
            int ih0 = oh * g.sh - g.padTop;
            int iw0 = ow * g.sw - g.padLeft;
            int imageBase = dxOff + n * g.h * g.w * c;
            for (int ky = 0; ky < g.kh; ky++) {
                int ih = ih0 + ky * g.dh;
                if (ih < 0 || ih >= g.h) {
                    src += g.kw * c;
                    continue;
                }
                int rowBase = imageBase + ih * g.w * c;
                for (int kx = 0; kx < g.kw; kx++) {
                    int iw = iw0 + kx * g.dw;
                    if (iw >= 0 && iw < g.w) addInto(dx, rowBase + iw * c, dcol, src, c);
                    src += c;
                }
            }
            if (++ow == g.wo) {
                ow = 0;
                if (++oh == g.ho) {
                    oh = 0;
                    n++;
                }
            }
        }
    }

    // ---- implicit im2col packers for Sgemm ------------------------------------------------------

    /**
     * im2col rows packed straight into {@link Sgemm} A panels, without materialising the im2col
     * matrix. Row i is pixel (n, oy, ox) of an ny x nx grid; column k is tap (ky, kx) = k / c and
     * channel k % c of an NHWC source [*, h, w, c]; the tap reads source pixel
     * (oy * sy + offY + ky * ty, ox * sx + offX + kx * tx), zero outside. The forward pass uses
     * offsets -pad and steps = dilations; the stride-1 input gradient reads dy with the window
     * flipped (offset pad - (k - 1) * d). Runs of the same tap (a whole kernel row when tx == 1 and
     * the window is inside the image) are copied in one go.
     */
    static final class Im2colA implements Sgemm.PackA {
        private final float[] x;
        private final int xo, h, w, c, ny, nx, kh, kw, sy, sx, offY, offX, ty, tx;

        Im2colA(float[] x, int xo, int h, int w, int c, int ny, int nx, int kh, int kw, int sy, int sx, int offY, int offX, int ty, int tx) {
            this.x = x;
            this.kh = kh;
            this.xo = xo;
            this.h = h;
            this.w = w;
            this.c = c;
            this.ny = ny;
            this.nx = nx;
            this.kw = kw;
            this.sy = sy;
            this.sx = sx;
            this.offY = offY;
            this.offX = offX;
            this.ty = ty;
            this.tx = tx;
        }

        @Override
        public void pack(int i0, int mc, int p0, int kc, float[] dst) {
            // Where column p0 falls (tap, channel) is the same for every row: divide once here, and
            // walk rows and taps incrementally below (divisions were a third of the packing time).
            int tap0 = p0 / c;
            int ci0 = p0 - tap0 * c;
            int ky0 = tap0 / kw;
            int kx0 = tap0 - ky0 * kw;
            int img = i0 / (ny * nx);
            int rem = i0 - img * ny * nx;
            int oy = rem / nx;
            int ox = rem - oy * nx;
            for (int ir = 0; ir < mc; ir += Sgemm.MR) {
                int mr = Math.min(Sgemm.MR, mc - ir);
                int base = ir / Sgemm.MR * kc * Sgemm.AS;
                for (int r = 0; r < Sgemm.MR; r++) {
                    if (r >= mr) {
                        Sgemm.zeroRow(dst, base + r, kc);
                        continue;
                    }
                    packRow(img, oy, ox, ky0, kx0, ci0, kc, dst, base + r);
                    if (++ox == nx) {
                        ox = 0;
                        if (++oy == ny) {
                            oy = 0;
                            img++;
                        }
                    }
                }
            }
        }

        /** Columns [p0, p0 + kc) of the im2col row of pixel (img, oy, ox); p0 is at (ky0, kx0, ci0). */
        private void packRow(int img, int oy, int ox, int ky, int kx, int ci, int kc, float[] dst, int d) {
            int yBase = oy * sy + offY;
            int xBase = ox * sx + offX;
            int imgBase = xo + img * h * w * c;
            boolean rowInside = tx == 1 && xBase >= 0 && xBase + kw <= w;
            for (int k = 0; k < kc; ) {
                int iy = yBase + ky * ty;
                int dk = d + k * Sgemm.AS;
                if (iy < 0 || iy >= h || rowInside) {
                    // The rest of this kernel row: all padding, or one contiguous run of the input.
                    int run = Math.min(kc - k, (kw - kx) * c - ci);
                    if (iy < 0 || iy >= h) {
                        Sgemm.zeroRow(dst, dk, run);
                    } else {
                        Sgemm.scatterRow(x, imgBase + (iy * w + xBase + kx) * c + ci, 1f, dst, dk, run);
                    }
                    k += run;
                    ci = 0;
                    kx = 0;
                    ky++;
                    continue;
                }
                int ix = xBase + kx * tx;
                int run = Math.min(kc - k, c - ci);
                if (ix < 0 || ix >= w) {
                    Sgemm.zeroRow(dst, dk, run);
                } else {
                    Sgemm.scatterRow(x, imgBase + (iy * w + ix) * c + ci, 1f, dst, dk, run);
                }
                k += run;
                ci = 0;
                if (++kx == kw) {
                    kx = 0;
                    ky++;
                }
            }
        }
    }

    /**
     * The transposed im2col matrix of an NHWC input as {@link Sgemm} A panels, for a filter
     * gradient computed straight in HWIO order: dW [K, Cout] = im2col(X)^T [K, P] x dy [P, Cout].
     * Row j is receptive-field position (ky, kx, ci) in HWI order, column p output pixel p of the
     * forward convolution. For one pixel, the MR rows of a panel are (mostly) consecutive channels
     * of one tap, a contiguous run of the input. Thread-safe: each call decodes its own pixels.
     */
    static final class Im2colTransposedA implements Sgemm.PackA {
        private final float[] x;
        private final int xo;
        private final Geometry g;

        Im2colTransposedA(float[] x, int xo, Geometry g) {
            this.x = x;
            this.xo = xo;
            this.g = g;
        }

        @Override
        public void pack(int i0, int mc, int p0, int kc, float[] dst) {
            final int c = g.c, kw = g.kw, mr = Sgemm.MR, as = Sgemm.AS;
            final int panels = ceilDiv(mc, mr);
            final int tap0 = i0 / c;
            final int ci0 = i0 - tap0 * c;
            final int ky0 = tap0 / kw;
            final int kx0 = tap0 - ky0 * kw;
            final int hoWo = g.ho * g.wo;
            int img = p0 / hoWo;
            int oh = (p0 - img * hoWo) / g.wo;
            int ow = p0 - img * hoWo - oh * g.wo;
            for (int p = 0; p < kc; p++) {
                int yb = oh * g.sh - g.padTop;
                int xb = ow * g.sw - g.padLeft;
                int pixBase = xo + ((img * g.h + yb) * g.w + xb) * c;
                int ky = ky0, kx = kx0, ci = ci0;
                int t = 0, r = 0;
                for (int left = mc; left > 0; ) {
                    int iy = yb + ky * g.dh;
                    int ix = xb + kx * g.dw;
                    boolean inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
                    int src = pixBase + (ky * g.dh * g.w + kx * g.dw) * c + ci;
                    int run = Math.min(left, c - ci);
                    left -= run;
                    // This tap's channels [ci, ci + run) go to consecutive rows of the panels.
                    for (int e = 0; e < run; e++) {
                        dst[t * kc * as + p * as + r] = inside ? x[src + e] : 0f;
                        if (++r == mr) {
                            r = 0;
                            t++;
                        }
                    }
                    ci = 0;
                    if (++kx == kw) {
                        kx = 0;
                        ky++;
                    }
                }
                // Rows past mc in the last panel.
                for (; t < panels && r > 0 && r < mr; r++) dst[t * kc * as + p * as + r] = 0f;
                if (++ow == g.wo) {
                    ow = 0;
                    if (++oh == g.ho) {
                        oh = 0;
                        img++;
                    }
                }
            }
        }
    }

    /**
     * The im2col matrix of an NHWC input as {@link Sgemm} B panels for the filter gradient: row p
     * (the reduction index) is output pixel p of the forward convolution, column j the receptive
     * field position (ky, kx, ci) in HWI order. Rows [p0, p0 + kc) are taken from pixel
     * {@code pixBase + p}. Each panel row is a contiguous run of the input (a tap's channels), so
     * packing is vector copies.
     */
    static final class Im2colB implements Sgemm.PackB {
        private final float[] x;
        private final int xo;
        private final Geometry g;
        private final int pixBase;
        /** Per pixel of the current K block: window origin row / column and NHWC offset of (0, 0). */
        private int[] yBase = new int[0];
        private int[] xBase = new int[0];
        private int[] base = new int[0];
        private int cachedP0 = -1;
        private int cachedKc = -1;

        /** Not thread-safe: one instance per slice of pixels (one thread). */
        Im2colB(float[] x, int xo, Geometry g, int pixBase) {
            this.x = x;
            this.xo = xo;
            this.g = g;
            this.pixBase = pixBase;
        }

        /** Decodes the pixels of K block [p0, p0 + kc) once; every panel of the block reuses it. */
        private void decode(int p0, int kc) {
            if (p0 == cachedP0 && kc == cachedKc) return;
            if (yBase.length < kc) {
                yBase = new int[kc];
                xBase = new int[kc];
                base = new int[kc];
            }
            int hoWo = g.ho * g.wo;
            int pix = pixBase + p0;
            int img = pix / hoWo;
            int oh = (pix - img * hoWo) / g.wo;
            int ow = pix - img * hoWo - oh * g.wo;
            for (int p = 0; p < kc; p++) {
                int yb = oh * g.sh - g.padTop;
                int xb = ow * g.sw - g.padLeft;
                yBase[p] = yb;
                xBase[p] = xb;
                base[p] = xo + ((img * g.h + yb) * g.w + xb) * g.c;
                if (++ow == g.wo) {
                    ow = 0;
                    if (++oh == g.ho) {
                        oh = 0;
                        img++;
                    }
                }
            }
            cachedP0 = p0;
            cachedKc = kc;
        }

        @Override
        public void pack(int p0, int kc, int j0, int nc, float[] dst, int off) {
            decode(p0, kc);
            final int nr = Sgemm.NR, c = g.c, kw = g.kw;
            final int np = Sgemm.panels(nc);
            final int tail = nc - (np - 1) * nr;
            final int tap0 = j0 / c;
            final int ci0 = j0 - tap0 * c;
            final int ky0 = tap0 / kw;
            final int kx0 = tap0 - ky0 * kw;
            // Pixel-major: one pixel's receptive field is read front to back (a few contiguous
            // runs of the input) and spread over the panels; reading panel by panel instead
            // strides through the input and waits on memory. Taps are walked incrementally.
            for (int p = 0; p < kc; p++) {
                int rowOff = off + p * nr;
                int yb = yBase[p], xb = xBase[p], bs = base[p];
                // A kernel row inside the image horizontally is one contiguous run of the input
                // (kw * c floats): a 3-channel stem copies 21 floats at once instead of 3.
                boolean rowInside = g.dw == 1 && xb >= 0 && xb + kw <= g.w;
                int ky = ky0, kx = kx0, ci = ci0;
                int t = 0, jj = 0;
                for (int left = nc; left > 0; ) {
                    int dy = ky * g.dh;
                    int dx = kx * g.dw;
                    int iy = yb + dy;
                    int ix = xb + dx;
                    boolean rowOut = iy < 0 || iy >= g.h;
                    boolean wholeRow = rowOut || rowInside;
                    boolean inside = !rowOut && ix >= 0 && ix < g.w;
                    int src = bs + (dy * g.w + dx) * c + ci;
                    // This tap's channels [ci, c) (or the rest of the kernel row), cut at panel boundaries.
                    int tapLeft = Math.min(left, (wholeRow ? (kw - kx) * c : c) - ci);
                    left -= tapLeft;
                    while (tapLeft > 0) {
                        int run = Math.min(tapLeft, nr - jj);
                        int d = rowOff + t * kc * nr + jj;
                        if (inside) {
                            copy(x, src, dst, d, run);
                        } else {
                            Arrays.fill(dst, d, d + run, 0f);
                        }
                        src += run;
                        tapLeft -= run;
                        jj += run;
                        if (jj == nr) {
                            jj = 0;
                            t++;
                        }
                    }
                    ci = 0;
                    if (wholeRow || ++kx == kw) {
                        kx = 0;
                        ky++;
                    }
                }
                if (tail < nr) {
                    int d = rowOff + (np - 1) * kc * nr;
                    Arrays.fill(dst, d + tail, d + nr, 0f);
                }
            }
        }
    }

    /** dst[d..d+len) = src[s..s+len); whole vectors for the common panel-row case. */
    static void copy(float[] src, int s, float[] dst, int d, int len) {
        int i = 0;
        for (; i <= len - VLEN; i += VLEN) FloatVector.fromArray(SPECIES, src, s + i).intoArray(dst, d + i);
        for (; i < len; i++) dst[d + i] = src[s + i];
    }

    // ---- vector loops -------------------------------------------------------------------------

    /** dst[d..d+len) += src[s..s+len). */
    static void addInto(float[] dst, int d, float[] src, int s, int len) {
        int i = 0;
        for (int bound = SPECIES.loopBound(len); i < bound; i += VLEN) {
            FloatVector.fromArray(SPECIES, dst, d + i).add(FloatVector.fromArray(SPECIES, src, s + i)).intoArray(dst, d + i);
        }
        for (; i < len; i++) dst[d + i] += src[s + i];
    }

    /** acc[a..a+len) += x[b..b+len) * y[c..c+len). */
    static void mulAdd(float[] acc, int a, float[] x, int b, float[] y, int c, int len) {
        int i = 0;
        for (int bound = SPECIES.loopBound(len); i < bound; i += VLEN) {
            FloatVector vx = FloatVector.fromArray(SPECIES, x, b + i);
            FloatVector vy = FloatVector.fromArray(SPECIES, y, c + i);
            vx.fma(vy, FloatVector.fromArray(SPECIES, acc, a + i)).intoArray(acc, a + i);
        }
        for (; i < len; i++) acc[a + i] += x[b + i] * y[c + i];
    }

    /**
     * out[o + j] = sum over i &lt; count of a[aOff[i] + j] * b[bOff[i] + j], for j in [0, len). The
     * sum over taps stays in registers (two independent accumulators for latency), so each output
     * element is stored once instead of being read and written once per tap.
     */
    static void sumOfProducts(float[] out, int o, float[] a, int[] aOff, float[] b, int[] bOff, int count, int len) {
        int j = 0;
        for (; j <= len - 2 * VLEN; j += 2 * VLEN) {
            FloatVector acc0 = FloatVector.zero(SPECIES);
            FloatVector acc1 = FloatVector.zero(SPECIES);
            for (int i = 0; i < count; i++) {
                int ai = aOff[i] + j;
                int bi = bOff[i] + j;
                acc0 = FloatVector.fromArray(SPECIES, a, ai).fma(FloatVector.fromArray(SPECIES, b, bi), acc0);
                acc1 = FloatVector.fromArray(SPECIES, a, ai + VLEN).fma(FloatVector.fromArray(SPECIES, b, bi + VLEN), acc1);
            }
            acc0.intoArray(out, o + j);
            acc1.intoArray(out, o + j + VLEN);
        }
        for (; j <= len - VLEN; j += VLEN) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int i = 0; i < count; i++) {
                acc = FloatVector.fromArray(SPECIES, a, aOff[i] + j).fma(FloatVector.fromArray(SPECIES, b, bOff[i] + j), acc);
            }
            acc.intoArray(out, o + j);
        }
        for (; j < len; j++) {
            float sum = 0;
            for (int i = 0; i < count; i++) sum += a[aOff[i] + j] * b[bOff[i] + j];
            out[o + j] = sum;
        }
    }

    /** Sums {@code partials} (null entries skipped) into {@code out[outOff..outOff+len)}, in parallel. */
    static void reduceInto(float[] out, int outOff, float[][] partials, int len) {
        Parallel.forRange(len, 1 << 14, (s, e) -> {
            for (float[] p : partials) {
                if (p != null) addInto(out, outOff + s, p, s, e - s);
            }
        });
    }
}
