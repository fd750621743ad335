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

    /** Cap on the floats held in per-thread partial filter gradients, all threads together. */
    private static final int PARTIALS_BUDGET = 1 << 24;

    // ---- forward ------------------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor input, Tensor filter, Conv2dSpec spec) {
        ConvSupport.requireSpec(FWD, spec);
        int[] xd = input.dims();
        int[] fd = filter.dims();
        ConvSupport.requireRank4(FWD, "input", xd);
        ConvSupport.requireRank4(FWD, "filter", fd);
        DType t = ConvSupport.floatDType(FWD, "input", input, "filter", filter);
        String shapes = "input " + dims(xd) + ", filter " + dims(fd);
        if (fd[2] != xd[3]) {
            throw new IllegalArgumentException(FWD + ": filter in-channels " + fd[2] + " != input channels " + xd[3] + " (" + shapes + ")");
        }
        Geometry g = ConvSupport.geometry(FWD, xd, fd[0], fd[1], spec, shapes);
        int cout = fd[3];
        Tensor y = Tensor.zeros(t, Shape.of(g.n(), g.ho(), g.wo(), cout));
        if (y.numel() == 0 || g.k() == 0) return y;
        if (t == DType.FLOAT32) {
            forwardF(input.floatData(), input.offset(), filter.floatData(), filter.offset(), y.floatData(), y.offset(), g, cout);
        } else {
            forwardD(input.doubleData(), input.offset(), filter.doubleData(), filter.offset(), y.doubleData(), y.offset(), g, cout);
        }
        return y;
    }

    /** 1x1 window with unit strides: the convolution is a plain matrix product, no padding. */
    private static boolean pointwise(Geometry g) {
        return g.kh() == 1 && g.kw() == 1 && g.sh() == 1 && g.sw() == 1;
    }

    private static void forwardF(float[] x, int xo, float[] w, int wo, float[] y, int yo, Geometry g, int cout) {
        final int pixels = g.outPixels();
        final int k = g.k();
        final int tile = ConvSupport.tileRows(pixels, k);
        if (pointwise(g)) {
            Parallel.forRange(pixels, tile, (s, e) ->
                    Sgemm.gemm(false, false, e - s, cout, k, 1f, x, xo + s * k, k, w, wo, cout, 0f, y, yo + s * cout, cout));
            return;
        }
        int tiles = ceilDiv(pixels, tile);
        Parallel.forRange(tiles, 1, (s, e) -> {
            float[] col = ConvSupport.scratch(tile * k);
            for (int t = s; t < e; t++) {
                int p0 = t * tile;
                int p1 = Math.min(pixels, p0 + tile);
                ConvSupport.im2col(x, xo, g, p0, p1, col);
                Sgemm.gemm(false, false, p1 - p0, cout, k, 1f, col, 0, k, w, wo, cout, 0f, y, yo + p0 * cout, cout);
            }
        });
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
        Tensor dx = Tensor.zeros(t, inputShape);
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
     * dcol = dy x filter^T per tile of output pixels, then col2im scatter-adds dcol into dx.
     * Neighbouring output rows touch the same input rows, so work is split into bands of output
     * rows tall enough that bands two apart never overlap in the input: all even bands run in
     * parallel, then all odd bands. No locks, no per-thread copies of dx.
     */
    private static void backpropInputF(float[] w, int wo, float[] dy, int dyo, float[] dx, int dxo, Geometry g, int cout) {
        final int pixels = g.outPixels();
        final int k = g.k();
        final int c = g.c();
        final int tile = ConvSupport.tileRows(pixels, k);
        if (pointwise(g)) {
            // dx [P, Cin] = dy [P, Cout] x W^T, W stored [Cin, Cout].
            Parallel.forRange(pixels, tile, (s, e) ->
                    Sgemm.gemm(false, true, e - s, c, cout, 1f, dy, dyo + s * cout, cout, w, wo, cout, 0f, dx, dxo + s * c, c));
            return;
        }
        int effKh = (g.kh() - 1) * g.dh() + 1;
        // band * stride >= effective kernel height keeps the input footprints of bands j and j+2 apart.
        int minBand = Math.max(1, ceilDiv(effKh, g.sh()));
        int wanted = Math.min(ceilDiv(tile, g.wo()), ceilDiv(g.n() * g.ho(), 8 * Parallel.threads()));
        final int band = Math.min(g.ho(), Math.max(minBand, wanted));
        final int bands = ceilDiv(g.ho(), band);
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
                        Sgemm.gemm(false, true, p1 - p0, k, cout, 1f, dy, dyo + p0 * cout, cout, w, wo, cout, 0f, dcol, 0, k);
                        ConvSupport.col2im(dcol, g, p0, p1, dx, dxo);
                    }
                }
            });
        }
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
        Tensor dw = Tensor.zeros(t, filterShape);
        if (dw.numel() == 0 || dy.numel() == 0) return dw;
        if (t == DType.FLOAT32) {
            backpropFilterF(input.floatData(), input.offset(), dy.floatData(), dy.offset(), dw.floatData(), dw.offset(), g, cout);
        } else {
            backpropFilterD(input.doubleData(), input.offset(), dy.doubleData(), dy.offset(), dw.doubleData(), dw.offset(), g, cout);
        }
        return dw;
    }

    /**
     * dW [K, Cout] = sum over tiles of col^T [K, T] x dy [T, Cout]. Tiles are split into at most
     * one group per thread; each group accumulates into its own partial (the first straight into
     * the result) and the partials are summed at the end, so threads never write the same cells.
     */
    private static void backpropFilterF(float[] x, int xo, float[] dy, int dyo, float[] dw, int dwo, Geometry g, int cout) {
        final int pixels = g.outPixels();
        final int k = g.k();
        final int size = k * cout;
        final int tile = ConvSupport.tileRows(pixels, k);
        final int tiles = ceilDiv(pixels, tile);
        final boolean pw = pointwise(g);
        final int groups = Math.max(1, Math.min(Math.min(Parallel.threads(), tiles), PARTIALS_BUDGET / Math.max(1, size)));
        final float[][] partials = new float[groups][];
        Parallel.forRange(groups, 1, (s, e) -> {
            float[] acc = dw;
            int accOff = dwo;
            if (s != 0) {
                acc = partials[s] = new float[size];
                accOff = 0;
            }
            float[] col = pw ? null : ConvSupport.scratch(tile * k);
            int t1 = (int) ((long) tiles * e / groups);
            for (int t = (int) ((long) tiles * s / groups); t < t1; t++) {
                int p0 = t * tile;
                int p1 = Math.min(pixels, p0 + tile);
                if (pw) {
                    // The input rows themselves are the im2col rows.
                    Sgemm.gemm(true, false, k, cout, p1 - p0, 1f, x, xo + p0 * k, k, dy, dyo + p0 * cout, cout, 1f, acc, accOff, cout);
                } else {
                    ConvSupport.im2col(x, xo, g, p0, p1, col);
                    Sgemm.gemm(true, false, k, cout, p1 - p0, 1f, col, 0, k, dy, dyo + p0 * cout, cout, 1f, acc, accOff, cout);
                }
            }
        });
        ConvSupport.reduceInto(dw, dwo, partials, size);
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
