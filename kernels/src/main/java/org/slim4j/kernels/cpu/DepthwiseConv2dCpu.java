package org.slim4j.kernels.cpu;

import static org.slim4j.kernels.cpu.ConvSupport.dims;

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
        int m = fd[3];
        Tensor y = Tensor.zeros(t, Shape.of(g.n(), g.ho(), g.wo(), g.c() * m));
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
            }
        });
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
        Tensor dx = Tensor.zeros(t, inputShape);
        if (dx.numel() == 0 || dy.numel() == 0) return dx;
        if (t == DType.FLOAT32) {
            backpropInputF(filter.floatData(), filter.offset(), dy.floatData(), dy.offset(), dx.floatData(), dx.offset(), g, m);
        } else {
            backpropInputD(filter.doubleData(), filter.offset(), dy.doubleData(), dy.offset(), dx.doubleData(), dx.offset(), g, m);
        }
        return dx;
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
