package org.slim4j.kernels.cpu;

import static org.slim4j.kernels.cpu.ConvSupport.ceilDiv;
import static org.slim4j.kernels.cpu.ConvSupport.dims;

import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.cpu.ConvSupport.Geometry;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * 2-D convolution (TF's Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter) on the CPU. Input and
 * output NHWC, filter HWIO [kh, kw, Cin, Cout]; strides, dilations, SAME (TF's padding, the odd
 * extra row/column after) and VALID.
 *
 * <p>float32: a 1x1 stride-1 convolution is a single GEMM [N*H*W, Cin] x [Cin, Cout]; anything
 * else goes through im2col tiles of output pixels (row = receptive field in HWI order, so the HWIO
 * filter is the GEMM's right operand as stored) and {@link Sgemm}. float64: direct loops, the
 * reference the float32 path and gradient checks are measured against.
 */
public final class Conv2dCpu implements ConvKernels {
    private static final String FWD = "conv2d";
    private static final String BWD_INPUT = "conv2d_backprop_input";
    private static final String BWD_FILTER = "conv2d_backprop_filter";

    /**
     * Receptive fields (kh * kw * Cin) wider than this make the streamed filter gradient's K blocks
     * shallow (its B block is capped at L2 size), so the whole-im2col GEMM is used instead.
     */
    private static final int WHOLE_IM2COL_MIN_K = 512;
    /**
     * ... except with at most this many output channels and at least {@link #SLICED_MIN_PIXELS_PER_K}
     * pixels per receptive-field value: the whole-im2col GEMM packs the transposed im2col as A for
     * only a few B panels, which costs more than the sliced path's shallow K blocks. (Measured on
     * LeNet's and CifarNet's 5x5 layers, 19 -> 15 and 89 -> 84 ms, which now take
     * {@link ImplicitGemmFilterGradient}; this serves wide fields whose kernel-row runs are not
     * whole B panels.)
     */
    private static final int SLICED_MAX_COUT = 64;
    private static final int SLICED_MIN_PIXELS_PER_K = 8;
    /**
     * Most partial-gradient floats (all slices) per input value the filter gradient sums over
     * before it takes the whole-im2col GEMM instead. Alternated in one JVM, two threads, medians:
     * ResNet's 1x1 256->1024 and 512->1024 at 14x14 (ratio 3.9) 12.0 -> 10.8 and 25.2 -> 19.7 ms;
     * at ratio 1.3 (MobileNet's 1x1 layers at 14x14, batch 16) one was faster, one slower.
     */
    private static final long PARTIALS_MAX_PER_INPUT = 2;
    /** Cap on the floats held in per-thread partial filter gradients, all threads together. */
    private static final int PARTIALS_BUDGET = 1 << 24;
    /** Use Winograd F(2x2, 3x3) where it applies (tests switch it off to compare with the implicit GEMM). */
    static boolean WINOGRAD = true;
    /**
     * Output pixels per image from which Winograd beats the implicit GEMM, measured on ResNet-50's
     * 3x3 layers (1 thread, batch 8): at 7x7 it is 2x slower in every pass (2x2 tiles waste a third
     * of a 7x7 map and the filter transform is as big as the work), at 28x28 ahead; its filter
     * gradient only pulls ahead of the whole-im2col GEMM at 28x28. Tests lower these to reach the
     * path on small images. 14x14 maps (see {@link #winogradPays}) are taken at up to
     * {@link #WINOGRAD_14_MAX_CHANNELS} channels since the input is padded once rather than half
     * the tiles gathered cell by cell: alternated in one JVM, two threads, means of 4 medians,
     * ResNet's 256->256 at 14x14, batch 8, forward 16.2 -> 13.7 ms and input gradient 18.1 ->
     * 13.4 ms; VGG's 512->512 (batch 4) stays on the GEMM (30.4 against 37.4 ms), where tile
     * blocks of 8 reuse each filter panel too little.
     */
    static int WINOGRAD_MIN_PIXELS = 15 * 15;
    /** Smaller maps (14x14) on which Winograd still pays with at most {@link #WINOGRAD_14_MAX_CHANNELS} channels. */
    static int WINOGRAD_NARROW_MIN_PIXELS = 14 * 14;
    private static final int WINOGRAD_14_MAX_CHANNELS = 256;

    /** Whether Winograd F(2x2, 3x3) beats the implicit GEMM for the forward or input-gradient pass. */
    private static boolean winogradPays(int pixels, int cin, int cout) {
        return pixels >= WINOGRAD_MIN_PIXELS
                || (pixels >= WINOGRAD_NARROW_MIN_PIXELS && Math.max(cin, cout) <= WINOGRAD_14_MAX_CHANNELS);
    }
    static int WINOGRAD_FILTER_MIN_PIXELS = 24 * 24;
    /** Output pixels per image from which the forward and input-gradient passes take F(4x4, 3x3) ({@link Winograd4x4}). */
    static int WINOGRAD4_MIN_PIXELS = 28 * 28;
    /** Output pixels per image from which Winograd F(2x2, 5x5) is taken (see {@link Winograd5x5}). */
    static int WINOGRAD5_MIN_PIXELS = 8 * 8;
    /**
     * Output pixels per image from which the F(2x2, 5x5) filter gradient is taken instead of
     * {@link ImplicitGemmFilterGradient}. Alternated JVMs, two threads, best of 10 (ms, GEMM ->
     * Winograd): LeNet's 32->64 at 14x14 batch 64 14.6 / 20.9 -> 10.7 / 11.5, CifarNet's 64->64 at
     * 16x16 batch 128 89.4 / 86.5 -> 39.3 / 37.7, 64->64 at 8x8 batch 32 7.0 / 5.8 -> 5.6 / 6.3,
     * Inception's 48->64 at 35x35 batch 4 8.4 / 8.7 -> 7.1 / 8.7.
     */
    static int WINOGRAD5_FILTER_MIN_PIXELS = 8 * 8;

    // ---- forward ------------------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor input, Tensor filter, Conv2dSpec spec) {
        ConvSupport.requireSpec(FWD, spec);
        ConvSupport.Operands ops = ConvSupport.operands(FWD, input, filter);
        int[] xd = ops.xd();
        int[] fd = ops.fd();
        DType t = ops.dtype();
        String shapes = ops.shapes();
        Geometry g = ConvSupport.geometry(FWD, xd, fd[0], fd[1], spec, shapes);
        int cout = fd[3];
        // Every path writes all of y (no need to zero it) unless there is nothing to sum over.
        Shape yShape = Shape.of(g.n(), g.ho(), g.wo(), cout);
        Tensor y = g.k() == 0 ? Tensor.zeros(t, yShape) : Tensor.empty(t, yShape);
        if (y.numel() == 0 || g.k() == 0) return y;
        if (t == DType.FLOAT32) {
            forwardF(input.floatData(), input.offset(), filter.floatData(), filter.offset(), y.floatData(), y.offset(), g, cout);
        } else {
            forwardD(input.doubleData(), input.offset(), filter.doubleData(), filter.offset(), y.doubleData(), y.offset(), g, cout);
        }
        return y;
    }

    /**
     * Implicit GEMM: Y [pixels, Cout] = im2col(X) [pixels, K] x W [K, Cout]. The filter is packed
     * once into B panels shared by both cores; the im2col rows are packed straight from the NHWC
     * input into A panels block by block ({@link ConvSupport.Im2colA}), so no im2col matrix is
     * ever written.
     */
    private static void forwardF(float[] x, int xo, float[] w, int wo, float[] y, int yo, Geometry g, int cout) {
        forwardF(x, xo, w, wo, y, yo, g, cout, null);
    }

    /** The float32 forward pass with an optional epilogue on each finished output block (fused kernels). */
    static void forwardF(float[] x, int xo, float[] w, int wo, float[] y, int yo, Geometry g, int cout, Sgemm.Epilogue epi) {
        final int c = g.c();
        if (WINOGRAD && winogradPays(g.ho() * g.wo(), c, cout) && Winograd3x3.applies(g.kh(), g.kw(), g.sh(), g.sw(), g.dh(), g.dw(), c, cout)) {
            Winograd3x3.Taps taps = new Winograd3x3.HwioTaps(w, wo, 3, c, cout);
            if (g.ho() * g.wo() >= WINOGRAD4_MIN_PIXELS) {
                Winograd4x4.correlate(x, xo, g.n(), g.h(), g.w(), c, taps, y, yo, g.ho(), g.wo(), cout, -g.padTop(), -g.padLeft(), epi);
            } else {
                Winograd3x3.correlate(x, xo, g.n(), g.h(), g.w(), c, taps, y, yo, g.ho(), g.wo(), cout, -g.padTop(), -g.padLeft(), epi);
            }
            return;
        }
        if (WINOGRAD && g.ho() * g.wo() >= WINOGRAD5_MIN_PIXELS && Winograd5x5.applies(g.kh(), g.kw(), g.sh(), g.sw(), g.dh(), g.dw(), c, cout)) {
            Winograd5x5.correlate(x, xo, g.n(), g.h(), g.w(), c, new Winograd3x3.HwioTaps(w, wo, 5, c, cout),
                    y, yo, g.ho(), g.wo(), cout, -g.padTop(), -g.padLeft(), epi);
            return;
        }
        int k = g.k();
        if (g.dense()) {
            // Y [N, Cout] = X viewed as [N, K] x W [K, Cout]; at small batch Sgemm streams W once.
            Sgemm.gemm(false, false, g.n(), cout, k, 1f, x, xo, k, w, wo, cout, 0f, y, yo, cout);
            if (epi != null) epi.apply(y, yo, cout, 0, g.n(), 0, cout);
            return;
        }
        if (!g.pointwise() && ImplicitGemmConv.applies(c, g.dw(), cout)) {
            int kw = g.kw();
            ImplicitGemmConv.correlate(x, xo, g.n(), g.h(), g.w(), c, g.kh(), kw, g.sh(), g.sw(), -g.padTop(), -g.padLeft(),
                    g.dh(), g.dw(), new Winograd3x3.HwioTaps(w, wo, kw, c, cout), cout, y, yo, g.ho(), g.wo(), epi);
            return;
        }
        float[] bp = Sgemm.packWeights(w, wo, k, cout);
        // Pointwise: the input is the GEMM's A as stored, read in place or packed (Sgemm.rowMajorA).
        Sgemm.PackA pa = g.pointwise()
                ? Sgemm.rowMajorA(x, xo, c, cout, c)
                : new ConvSupport.Im2colA(x, xo, g.h(), g.w(), g.c(), g.ho(), g.wo(), g.kh(), g.kw(),
                        g.sh(), g.sw(), -g.padTop(), -g.padLeft(), g.dh(), g.dw());
        Sgemm.multiplyParallel(g.outPixels(), cout, k, pa, bp, y, yo, cout, false, epi);
    }

    private static void forwardD(double[] x, int xo, double[] w, int wo, double[] y, int yo, Geometry g, int cout) {
        int c = g.c();
        for (int n = 0; n < g.n(); n++) {
            for (int oh = 0; oh < g.ho(); oh++) {
                for (int ow = 0; ow < g.wo(); ow++) {
                    int yBase = yo + ((n * g.ho() + oh) * g.wo() + ow) * cout;
                    for (int co = 0; co < cout; co++) {
                        double s = 0;
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int ih = oh * g.sh() - g.padTop() + ky * g.dh();
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int iw = ow * g.sw() - g.padLeft() + kx * g.dw();
                                if (iw < 0 || iw >= g.w()) continue;
                                int xBase = xo + ((n * g.h() + ih) * g.w() + iw) * c;
                                int wBase = wo + (ky * g.kw() + kx) * c * cout + co;
                                for (int ci = 0; ci < c; ci++) s += x[xBase + ci] * w[wBase + ci * cout];
                            }
                        }
                        y[yBase + co] = s;
                    }
                }
            }
        }
    }

    // ---- gradient w.r.t. the input ---------------------------------------------------------------

    @Override
    public Tensor conv2dBackpropInput(Shape inputShape, Tensor filter, Tensor dy, Conv2dSpec spec) {
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
        int cout = fd[3];
        checkOutBackprop(BWD_INPUT, dd, g, cout, shapes);
        // Unit strides (and a window covering the image) write every element of dx; col2im and the
        // float64 loops add into it.
        boolean writesAll = t == DType.FLOAT32 && dy.numel() > 0 && (g.dense() || (g.sh() == 1 && g.sw() == 1));
        Tensor dx = writesAll ? Tensor.empty(t, inputShape) : Tensor.zeros(t, inputShape);
        if (dx.numel() == 0 || dy.numel() == 0) return dx;
        if (t == DType.FLOAT32) {
            backpropInputF(filter.floatData(), filter.offset(), dy.floatData(), dy.offset(), dx.floatData(), dx.offset(), g, cout);
        } else {
            backpropInputD(filter.doubleData(), filter.offset(), dy.doubleData(), dy.offset(), dx.doubleData(), dx.offset(), g, cout);
        }
        return dx;
    }

    private static void checkOutBackprop(String op, int[] dd, Geometry g, int cout, String shapes) {
        if (dd[0] != g.n() || dd[1] != g.ho() || dd[2] != g.wo() || dd[3] != cout) {
            throw new IllegalArgumentException(op + ": out_backprop shape " + dims(dd) + " != expected output shape "
                    + dims(new int[] {g.n(), g.ho(), g.wo(), cout}) + " (" + shapes + ")");
        }
    }

    /**
     * dcol = dy x filter^T per tile of output pixels (the filter packed once), then col2im
     * scatter-adds dcol into dx.
     * Neighbouring output rows touch the same input rows, so work is split into bands of output
     * rows tall enough that bands two apart never overlap in the input: all even bands run in
     * parallel, then all odd bands. No locks, no per-thread copies of dx.
     */
    private static void backpropInputF(float[] w, int wo, float[] dy, int dyo, float[] dx, int dxo, Geometry g, int cout) {
        if (g.dense()) {
            // dX viewed as [N, K] = dy [N, Cout] x W^T.
            Sgemm.gemm(false, true, g.n(), g.k(), cout, 1f, dy, dyo, cout, w, wo, cout, 0f, dx, dxo, g.k());
            return;
        }
        final int pixels = g.outPixels();
        final int k = g.k();
        final int c = g.c();
        final int tile = ConvSupport.tileRows(pixels, k);
        if (g.sh() == 1 && g.sw() == 1) {
            stride1BackpropInputF(w, wo, dy, dyo, dx, dxo, g, cout);
            return;
        }
        int effKh = (g.kh() - 1) * g.dh() + 1;
        // band * stride >= effective kernel height keeps the input footprints of bands j and j+2 apart.
        int minBand = Math.max(1, ceilDiv(effKh, g.sh()));
        int wanted = Math.min(ceilDiv(tile, g.wo()), ceilDiv(g.n() * g.ho(), 8 * Parallel.threads()));
        final int band = Math.min(g.ho(), Math.max(minBand, wanted));
        final int bands = ceilDiv(g.ho(), band);
        // W^T packed once for every tile (a per-tile gemm re-packed all of it: at 512 channels as
        // much work as the tile's product).
        final int np = Sgemm.panels(k);
        final float[] bp = Sgemm.packAllB(cout, 0, k, Sgemm.packerB(true, w, wo, cout));
        for (int parity = 0; parity < 2; parity++) {
            final int par = parity;
            final int perImage = (bands - parity + 1) / 2;
            if (perImage <= 0) continue;
            Parallel.forRange(g.n() * perImage, 1, (s, e) -> {
                float[] dcol = ConvSupport.scratch(tile * k);
                for (int u = s; u < e; u++) {
                    int img = u / perImage;
                    int oh0 = ((u % perImage) * 2 + par) * band;
                    int oh1 = Math.min(g.ho(), oh0 + band);
                    int pEnd = (img * g.ho() + oh1) * g.wo();
                    for (int p0 = (img * g.ho() + oh0) * g.wo(); p0 < pEnd; p0 += tile) {
                        int p1 = Math.min(pEnd, p0 + tile);
                        Sgemm.multiply(0, p1 - p0, 0, np, k, cout, new Sgemm.RowPanelsA(dy, dyo + p0 * cout, cout),
                                bp, dcol, 0, k, false, null);
                        ConvSupport.col2im(dcol, g, p0, p1, dx, dxo);
                    }
                }
            });
        }
    }

    /**
     * Unit strides: the input gradient is itself a convolution, of dy with the spatially flipped
     * filter whose in/out channels are swapped: dx[ih, iw, ci] = sum over (ky', kx', co) of
     * dy[ih + padTop - (kh-1-ky')*dh, iw + ..., co] * W[kh-1-ky', kw-1-kx', ci, co]. So it runs as
     * the same implicit GEMM as the forward pass ([N*H*W, kh*kw*Cout] x [kh*kw*Cout, Cin]), a
     * gather in which every dx element is written once: no col2im scatter, no band scheduling.
     */
    private static void stride1BackpropInputF(float[] w, int wo, float[] dy, int dyo, float[] dx, int dxo, Geometry g, int cout) {
        final int c = g.c(), kh = g.kh(), kw = g.kw();
        if (WINOGRAD && winogradPays(g.h() * g.w(), cout, c) && Winograd3x3.applies(kh, kw, 1, 1, g.dh(), g.dw(), cout, c)) {
            // The flipped, channel-swapped filter: g(ky, kx, dy channel, dx channel) = W[2-ky, 2-kx, dx channel, dy channel].
            Winograd3x3.Taps flipped = (ky, kx, ci, co) -> w[wo + (((2 - ky) * 3 + (2 - kx)) * c + co) * cout + ci];
            if (g.h() * g.w() >= WINOGRAD4_MIN_PIXELS) {
                Winograd4x4.correlate(dy, dyo, g.n(), g.ho(), g.wo(), cout, flipped, dx, dxo, g.h(), g.w(), c, g.padTop() - 2, g.padLeft() - 2, null);
            } else {
                Winograd3x3.correlate(dy, dyo, g.n(), g.ho(), g.wo(), cout, flipped, dx, dxo, g.h(), g.w(), c, g.padTop() - 2, g.padLeft() - 2, null);
            }
            return;
        }
        if (WINOGRAD && g.h() * g.w() >= WINOGRAD5_MIN_PIXELS && Winograd5x5.applies(kh, kw, 1, 1, g.dh(), g.dw(), cout, c)) {
            Winograd5x5.correlate(dy, dyo, g.n(), g.ho(), g.wo(), cout,
                    (ky, kx, ci, co) -> w[wo + (((4 - ky) * 5 + (4 - kx)) * c + co) * cout + ci],
                    dx, dxo, g.h(), g.w(), c, g.padTop() - 4, g.padLeft() - 4, null);
            return;
        }
        if (g.pointwise()) {
            // dx [pixels, Cin] = dy [pixels, Cout] x W^T: a plain GEMM on the tensors as stored.
            float[] bp = Sgemm.packAllB(cout, 0, c, Sgemm.packerB(true, w, wo, cout));
            Sgemm.PackA pa = Sgemm.rowMajorA(dy, dyo, cout, c, cout);
            Sgemm.multiplyParallel(g.outPixels(), c, cout, pa, bp, dx, dxo, c, false, null);
            return;
        }
        final int kk = kh * kw * cout;
        Sgemm.PackB flipped = (p0, kc, j0, nc, dst, off) -> {
            for (int t = 0, np = Sgemm.panels(nc); t < np; t++) {
                int j = j0 + t * Sgemm.NR;
                int nr = Math.min(Sgemm.NR, nc - t * Sgemm.NR);
                int d = off + t * kc * Sgemm.NR;
                for (int p = 0; p < kc; p++, d += Sgemm.NR) {
                    int kIdx = p0 + p;
                    int tap = kIdx / cout;
                    int co = kIdx - tap * cout;
                    int ky = tap / kw;
                    int kx = tap - ky * kw;
                    int src = wo + (((kh - 1 - ky) * kw + (kw - 1 - kx)) * c + j) * cout + co;
                    for (int jj = 0; jj < nr; jj++) dst[d + jj] = w[src + jj * cout];
                    for (int jj = nr; jj < Sgemm.NR; jj++) dst[d + jj] = 0f;
                }
            }
        };
        if (ImplicitGemmConv.applies(cout, g.dw(), c)) {
            // The flipped, channel-swapped filter, as in the Winograd case above.
            ImplicitGemmConv.correlate(dy, dyo, g.n(), g.ho(), g.wo(), cout, kh, kw, 1, 1,
                    g.padTop() - (kh - 1) * g.dh(), g.padLeft() - (kw - 1) * g.dw(), g.dh(), g.dw(),
                    (ky, kx, co, ci) -> w[wo + (((kh - 1 - ky) * kw + (kw - 1 - kx)) * c + ci) * cout + co], c, dx, dxo, g.h(), g.w(), null);
            return;
        }
        float[] bp = Sgemm.packAllB(kk, 0, c, flipped);
        Sgemm.PackA pa = new ConvSupport.Im2colA(dy, dyo, g.ho(), g.wo(), cout, g.h(), g.w(), kh, kw, 1, 1,
                g.padTop() - (kh - 1) * g.dh(), g.padLeft() - (kw - 1) * g.dw(), g.dh(), g.dw());
        Sgemm.multiplyParallel(g.n() * g.h() * g.w(), c, kk, pa, bp, dx, dxo, c, false, null);
    }

    private static void backpropInputD(double[] w, int wo, double[] dy, int dyo, double[] dx, int dxo, Geometry g, int cout) {
        int c = g.c();
        for (int n = 0; n < g.n(); n++) {
            for (int oh = 0; oh < g.ho(); oh++) {
                for (int ow = 0; ow < g.wo(); ow++) {
                    int dyBase = dyo + ((n * g.ho() + oh) * g.wo() + ow) * cout;
                    for (int ky = 0; ky < g.kh(); ky++) {
                        int ih = oh * g.sh() - g.padTop() + ky * g.dh();
                        if (ih < 0 || ih >= g.h()) continue;
                        for (int kx = 0; kx < g.kw(); kx++) {
                            int iw = ow * g.sw() - g.padLeft() + kx * g.dw();
                            if (iw < 0 || iw >= g.w()) continue;
                            int dxBase = dxo + ((n * g.h() + ih) * g.w() + iw) * c;
                            int wBase = wo + (ky * g.kw() + kx) * c * cout;
                            for (int ci = 0; ci < c; ci++) {
                                double s = 0;
                                for (int co = 0; co < cout; co++) s += w[wBase + ci * cout + co] * dy[dyBase + co];
                                dx[dxBase + ci] += s;
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- gradient w.r.t. the filter --------------------------------------------------------------

    @Override
    public Tensor conv2dBackpropFilter(Tensor input, Shape filterShape, Tensor dy, Conv2dSpec spec) {
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
        int cout = fd[3];
        checkOutBackprop(BWD_FILTER, dd, g, cout, shapes);
        // Every path writes all of dW (VGG's fc6: 411 MB not zeroed first).
        Tensor dw = dy.numel() > 0 ? Tensor.empty(t, filterShape) : Tensor.zeros(t, filterShape);
        if (dw.numel() == 0 || dy.numel() == 0) return dw;
        if (t == DType.FLOAT32) {
            backpropFilterF(input.floatData(), input.offset(), dy.floatData(), dy.offset(), dw.floatData(), dw.offset(), g, cout);
        } else {
            backpropFilterD(input.doubleData(), input.offset(), dy.doubleData(), dy.offset(), dw.doubleData(), dw.offset(), g, cout);
        }
        return dw;
    }

    /**
     * dW^T [Cout, K] = dy^T [Cout, P] x im2col(X) [P, K], summed over the P output pixels: the
     * pixels are split into a few slices per core, each slice is a deep-K GEMM into its own partial
     * ({@link Sgemm#multiplyStreamed}: dy^T packed as A, the im2col rows packed straight from the
     * input as B panels by vector copies), and the partials are added and transposed into HWIO dW.
     * Threads never write the same cells; the partials belong to the calling thread.
     */
    private static void backpropFilterF(float[] x, int xo, float[] dy, int dyo, float[] dw, int dwo, Geometry g, int cout) {
        if (WINOGRAD && g.ho() * g.wo() >= WINOGRAD_FILTER_MIN_PIXELS
                && Winograd3x3.applies(g.kh(), g.kw(), g.sh(), g.sw(), g.dh(), g.dw(), g.c(), cout)) {
            WinogradFilterGradient.compute(Winograd3x3.GRADIENT, x, xo, g.n(), g.h(), g.w(), g.c(), dy, dyo, g.ho(), g.wo(), cout,
                    -g.padTop(), -g.padLeft(), dw, dwo);
            return;
        }
        if (WINOGRAD && g.ho() * g.wo() >= WINOGRAD5_FILTER_MIN_PIXELS
                && Winograd5x5.applies(g.kh(), g.kw(), g.sh(), g.sw(), g.dh(), g.dw(), g.c(), cout)) {
            WinogradFilterGradient.compute(Winograd5x5.GRADIENT, x, xo, g.n(), g.h(), g.w(), g.c(), dy, dyo, g.ho(), g.wo(), cout,
                    -g.padTop(), -g.padLeft(), dw, dwo);
            return;
        }
        final int pixels = g.outPixels();
        final int k = g.k();
        if (g.dense()) {
            // dW [K, Cout] = X^T (X viewed as [N, K]) x dy [N, Cout].
            Sgemm.gemm(true, false, k, cout, g.n(), 1f, x, xo, k, dy, dyo, cout, 0f, dw, dwo, cout);
            return;
        }
        if (SmallChannelFilterGradient.applies(g)) {
            // Kernel-row runs of a few floats (first layers). Alternated in one JVM, two threads,
            // medians: LeNet 5x5 on 1 channel 6.6 -> 1.8 ms, CifarNet 5x5 on 3 31.3 -> 16.6 ms,
            // ResNet 7x7/2 on 3 38.2 -> 27.4 ms, MobileNet 3x3/2 on 3 18.2 -> 8.3 ms.
            SmallChannelFilterGradient.compute(x, xo, g, dy, dyo, cout, dw, dwo);
            return;
        }
        if (k > WHOLE_IM2COL_MIN_K && ImplicitGemmFilterGradient.applies(g, cout)) {
            // A wide receptive field and few output channels, its kernel-row runs whole B panels.
            // Alternated in one JVM, two threads, medians: CifarNet's 5x5 64->64 114 -> 79 ms,
            // LeNet's 5x5 32->64 21.9 -> 19.1 ms, Inception's 5x5 48->64 13.8 -> 12.0 ms; below
            // K = 512 (1x1 and 3x3 layers) the sliced path stays faster.
            ImplicitGemmFilterGradient.compute(x, xo, g, dy, dyo, cout, dw, dwo);
            return;
        }
        final int size = k * cout;
        // A few slices per core (not one): a core that the OS takes away for a while then holds up
        // only a small share of the work, the others take the rest.
        final int slices = Math.max(1, Math.min(4 * Parallel.threads(), Math.min(pixels / 256, PARTIALS_BUDGET / Math.max(1, size))));
        boolean wide = k > WHOLE_IM2COL_MIN_K && !(cout <= SLICED_MAX_COUT && pixels >= (long) SLICED_MIN_PIXELS_PER_K * k);
        // Partials much bigger than the input they sum over (ResNet's 1x1 256->1024 at 14x14: six
        // 1 MB partials for a 1.6 MB input) cost more memory traffic than the slices save.
        boolean heavyPartials = (long) slices * size > PARTIALS_MAX_PER_INPUT * pixels * k;
        if ((wide || heavyPartials || slices < 2 * Parallel.threads()) && (long) pixels * cout <= Sgemm.B_CAP) {
            // Few pixels or a wide receptive field (ResNet's 3x3 convolutions at 14x14 and 7x7):
            // slices would be too few for the cores, or the streamed K blocks too shallow. One
            // parallel GEMM over the receptive field writes dW in HWIO order directly: no partials,
            // no transpose.
            float[] bp = Sgemm.packAllB(pixels, 0, cout, Sgemm.packerB(false, dy, dyo, cout));
            Sgemm.multiplyParallel(k, cout, pixels, new ConvSupport.Im2colTransposedA(x, xo, g), bp, dw, dwo, cout, false, null);
            return;
        }
        final float[][] parts = partials(slices, size);
        Parallel.forRange(slices, 1, (s, e) -> {
            for (int sl = s; sl < e; sl++) {
                int p0 = (int) ((long) pixels * sl / slices);
                int p1 = (int) ((long) pixels * (sl + 1) / slices);
                Sgemm.multiplyStreamed(cout, k, p1 - p0, Sgemm.packerA(true, 1f, dy, dyo + p0 * cout, cout),
                        new ConvSupport.Im2colB(x, xo, g, p0), parts[sl], 0, k, false);
            }
        });
        // dW [K, Cout] = sum of the [Cout, K] partials, transposed in TRANSPOSE_BLOCK-square
        // tiles: the tile's lines of every partial are reused from L1 across its K rows, and dW is
        // written in contiguous runs (row-by-row loops stride by K or by Cout through one side,
        // and with K or Cout a multiple of 1024 every access lands in the same L1 set).
        int blocks = ceilDiv(k, TRANSPOSE_BLOCK);
        Parallel.forRange(blocks, Math.max(1, 1024 / cout), (b0, b1) -> {
            for (int kb = b0 * TRANSPOSE_BLOCK, kEnd = Math.min(k, b1 * TRANSPOSE_BLOCK); kb < kEnd; kb += TRANSPOSE_BLOCK) {
                int kLen = Math.min(TRANSPOSE_BLOCK, kEnd - kb);
                for (int cb = 0; cb < cout; cb += TRANSPOSE_BLOCK) {
                    int cEnd = Math.min(cout, cb + TRANSPOSE_BLOCK);
                    for (int kk = kb; kk < kb + kLen; kk++) {
                        int row = dwo + kk * cout;
                        for (int co = cb; co < cEnd; co++) {
                            float sum = 0f;
                            for (int sl = 0; sl < slices; sl++) sum += parts[sl][co * k + kk];
                            dw[row + co] = sum;
                        }
                    }
                }
            }
        });
    }

    /** K rows of dW transposed together by the filter gradient's final pass. */
    private static final int TRANSPOSE_BLOCK = 16;

    private static final ThreadLocal<float[][]> PARTIALS = ThreadLocal.withInitial(() -> new float[0][]);

    /** The calling thread's partial-sum buffers: {@code count} arrays of at least {@code size}. */
    private static float[][] partials(int count, int size) {
        return ThreadBuffers.partials(PARTIALS, count, size);
    }

    private static void backpropFilterD(double[] x, int xo, double[] dy, int dyo, double[] dw, int dwo, Geometry g, int cout) {
        int c = g.c();
        for (int ky = 0; ky < g.kh(); ky++) {
            for (int kx = 0; kx < g.kw(); kx++) {
                for (int ci = 0; ci < c; ci++) {
                    for (int co = 0; co < cout; co++) {
                        double s = 0;
                        for (int n = 0; n < g.n(); n++) {
                            for (int oh = 0; oh < g.ho(); oh++) {
                                int ih = oh * g.sh() - g.padTop() + ky * g.dh();
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int ow = 0; ow < g.wo(); ow++) {
                                    int iw = ow * g.sw() - g.padLeft() + kx * g.dw();
                                    if (iw < 0 || iw >= g.w()) continue;
                                    s += x[xo + ((n * g.h() + ih) * g.w() + iw) * c + ci]
                                            * dy[dyo + ((n * g.ho() + oh) * g.wo() + ow) * cout + co];
                                }
                            }
                        }
                        dw[dwo + ((ky * g.kw() + kx) * c + ci) * cout + co] = s;
                    }
                }
            }
        }
    }
}
