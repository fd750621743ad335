package org.slim4j.cuda;

import java.util.Arrays;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Depthwise convolution on the GPU (depthwise_conv.cu), TF's DepthwiseConv2dNative and its two
 * backprops: input NHWC, filter [kh, kw, C, M], output channel c*M + m; SAME / VALID geometry with
 * strides and dilations from {@link Padding#window}. For 3x3, M = 1, undilated (MobileNet) the
 * forward pass stages 8x8 output tiles' inputs in shared memory (strides 1 or 2; a register-blocked
 * kernel for a row stride above 2), else the generic kernel; the input gradient at unit strides is
 * the tiled forward kernel run on dy with the rotated filter. The
 * filter gradient is per-block partial sums over slices of the output pixels plus a finishing pass
 * that adds the slices in order (deterministic).
 */
final class CudaDepthwiseConv implements DepthwiseConvKernels {
    private static final String MODULE = "depthwise_conv";
    private static final String FWD = "depthwise_conv2d";
    private static final String BWD_INPUT = "depthwise_conv2d_backprop_input";
    private static final String BWD_FILTER = "depthwise_conv2d_backprop_filter";

    /** Constants of depthwise_conv.cu: taps per filter-gradient block, pixel rows per block, columns per 3x3 thread. */
    private static final int TAPS = 9;
    private static final int ROWS = 8;
    private static final int COLS = 4;
    /** Output tile edge of depthwise_conv2d_3x3_tile_f32. */
    private static final int TILE = 8;
    /** Filter-gradient blocks to aim for (several per SM on current GPUs) and the least pixels per slice. */
    private static final int TARGET_BLOCKS = 512;
    private static final int MIN_SLICE = 64;

    private final CudaOps ops;

    CudaDepthwiseConv(CudaOps ops) {
        this.ops = ops;
    }

    /** The DwGeom struct of depthwise_conv.cu: n, h, w, c, m, oh, ow, kh, kw, sh, sw, dh, dw, padT, padL. */
    private record Geom(int n, int h, int w, int c, int m, int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw,
                        int padT, int padL) {
        int[] struct() {
            return new int[] {n, h, w, c, m, oh, ow, kh, kw, sh, sw, dh, dw, padT, padL};
        }

        Shape outShape() {
            return Shape.of(n, oh, ow, c * m);
        }
    }

    private static int[] rank4(String op, String arg, Shape s) {
        if (s == null) throw new IllegalArgumentException(op + ": " + arg + " is required");
        if (s.rank() != 4) throw new IllegalArgumentException(op + ": " + arg + " must be rank 4, got shape " + s);
        return s.dims();
    }

    private static Geom geometry(String op, int[] xd, int[] fd, Conv2dSpec spec, String shapes) {
        if (spec == null) throw new IllegalArgumentException(op + ": spec is required");
        if (fd[2] != xd[3]) {
            throw new IllegalArgumentException(op + ": filter in-channels " + fd[2] + " != input channels " + xd[3] + " (" + shapes + ")");
        }
        Padding.Window wy, wx;
        try {
            wy = spec.padding().window(xd[1], fd[0], spec.strideH(), spec.dilationH());
            wx = spec.padding().window(xd[2], fd[1], spec.strideW(), spec.dilationW());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage() + " (" + shapes + ")", e);
        }
        return new Geom(xd[0], xd[1], xd[2], xd[3], fd[3], wy.outSize(), wx.outSize(), fd[0], fd[1], spec.strideH(), spec.strideW(),
                spec.dilationH(), spec.dilationW(), wy.padBefore(), wx.padBefore());
    }

    private static void checkOutBackprop(String op, Tensor dy, Geom g, String shapes) {
        if (!dy.shape().equals(g.outShape())) {
            throw new IllegalArgumentException(op + ": out_backprop shape " + dy.shape() + " != expected output shape " + g.outShape()
                    + " (" + shapes + ")");
        }
    }

    /** 3x3, M = 1, undilated: depthwise_conv2d_3x3_f32 applies (at column stride <= 2). */
    private static boolean fast3x3(Geom g) {
        return g.kh == 3 && g.kw == 3 && g.m == 1 && g.dh == 1 && g.dw == 1;
    }

    /** depthwise_conv2d_3x3_tile_f32: one block per 8x8 output tile of 32 channels (strides 1 or 2). */
    private void launchTile(Tensor y, Tensor x, Tensor filter, Geom g, boolean flip) {
        long blocks = (long) g.n * ((g.oh + TILE - 1) / TILE) * ((g.ow + TILE - 1) / TILE) * ((g.c + 31) / 32);
        ops.launch(MODULE, "depthwise_conv2d_3x3_tile_f32", (int) blocks, 1, 256, new KernelArgs().ptr(CudaOps.ptr(y))
                .ptr(CudaOps.ptr(x)).ptr(CudaOps.ptr(filter)).struct(g.struct()).i32(flip));
    }

    private void zero(Tensor t) {
        ops.device.memset32(CudaOps.ptr(t), 0, t.numel());
    }

    @Override
    public Tensor depthwiseConv2d(Tensor input, Tensor filter, Conv2dSpec spec) {
        ops.checkF32(FWD, "input", input);
        ops.checkF32(FWD, "filter", filter);
        int[] xd = rank4(FWD, "input", input.shape());
        int[] fd = rank4(FWD, "filter", filter.shape());
        Geom g = geometry(FWD, xd, fd, spec, "input " + Arrays.toString(xd) + ", filter " + Arrays.toString(fd));
        Tensor y = ops.out(g.outShape());
        if (y.numel() == 0) return y;
        if (fast3x3(g) && g.sh <= 2 && g.sw <= 2) {
            launchTile(y, input, filter, g, false);
        } else if (fast3x3(g) && g.sw <= 2) {
            long total = (long) g.n * g.oh * ((g.ow + COLS - 1) / COLS) * g.c;
            ops.launch1d(MODULE, "depthwise_conv2d_3x3_f32", total, new KernelArgs().i32((int) total).ptr(CudaOps.ptr(y))
                    .ptr(CudaOps.ptr(input)).ptr(CudaOps.ptr(filter)).struct(g.struct()));
        } else {
            int total = y.numel();
            ops.launch1d(MODULE, "depthwise_conv2d_f32", total, new KernelArgs().i32(total).ptr(CudaOps.ptr(y))
                    .ptr(CudaOps.ptr(input)).ptr(CudaOps.ptr(filter)).struct(g.struct()));
        }
        return y;
    }

    @Override
    public Tensor depthwiseConv2dBackpropInput(Shape inputShape, Tensor filter, Tensor dy, Conv2dSpec spec) {
        ops.checkF32(BWD_INPUT, "filter", filter);
        ops.checkF32(BWD_INPUT, "out_backprop", dy);
        int[] xd = rank4(BWD_INPUT, "input_sizes", inputShape);
        int[] fd = rank4(BWD_INPUT, "filter", filter.shape());
        rank4(BWD_INPUT, "out_backprop", dy.shape());
        String shapes = "input_sizes " + Arrays.toString(xd) + ", filter " + Arrays.toString(fd) + ", out_backprop " + dy.shape();
        Geom g = geometry(BWD_INPUT, xd, fd, spec, shapes);
        checkOutBackprop(BWD_INPUT, dy, g, shapes);
        Tensor dx = ops.out(inputShape);
        if (dx.numel() == 0) return dx;
        if (dy.numel() == 0) {  // M == 0: nothing flows back
            zero(dx);
            return dx;
        }
        if (fast3x3(g) && g.sh == 1 && g.sw == 1) {
            // dx = dy correlated with the rotated filter: dy plays the input (h, w = oh, ow), dx the output.
            launchTile(dx, dy, filter, new Geom(g.n, g.oh, g.ow, g.c, 1, g.h, g.w, 3, 3, 1, 1, 1, 1, 2 - g.padT, 2 - g.padL), true);
            return dx;
        }
        int total = dx.numel();
        ops.launch1d(MODULE, "depthwise_conv2d_backprop_input_f32", total, new KernelArgs().i32(total).ptr(CudaOps.ptr(dx))
                .ptr(CudaOps.ptr(filter)).ptr(CudaOps.ptr(dy)).struct(g.struct()));
        return dx;
    }

    @Override
    public Tensor depthwiseConv2dBackpropFilter(Tensor input, Shape filterShape, Tensor dy, Conv2dSpec spec) {
        ops.checkF32(BWD_FILTER, "input", input);
        ops.checkF32(BWD_FILTER, "out_backprop", dy);
        int[] xd = rank4(BWD_FILTER, "input", input.shape());
        int[] fd = rank4(BWD_FILTER, "filter_sizes", filterShape);
        rank4(BWD_FILTER, "out_backprop", dy.shape());
        String shapes = "input " + Arrays.toString(xd) + ", filter_sizes " + Arrays.toString(fd) + ", out_backprop " + dy.shape();
        Geom g = geometry(BWD_FILTER, xd, fd, spec, shapes);
        checkOutBackprop(BWD_FILTER, dy, g, shapes);
        Tensor dw = ops.out(filterShape);
        if (dw.numel() == 0) return dw;
        int pixels = g.n * g.oh * g.ow;
        if (pixels == 0 || g.h == 0 || g.w == 0) {
            zero(dw);
            return dw;
        }
        int cm = g.c * g.m;
        int taps = g.kh * g.kw;
        int gridX = ((cm + 31) / 32) * ((taps + TAPS - 1) / TAPS);
        int parts = Math.max(1, Math.min((pixels + MIN_SLICE - 1) / MIN_SLICE, (TARGET_BLOCKS + gridX - 1) / gridX));
        int perPart = (pixels + parts - 1) / parts;
        parts = (pixels + perPart - 1) / perPart;  // no empty slice
        try (Tensor partial = ops.device.empty(DType.FLOAT32, Shape.of(parts, taps * cm))) {
            ops.launch(MODULE, "depthwise_conv2d_backprop_filter_partial_f32", gridX, parts, ROWS * 32, new KernelArgs()
                    .ptr(CudaOps.ptr(partial)).ptr(CudaOps.ptr(input)).ptr(CudaOps.ptr(dy)).struct(g.struct()).i32(perPart));
            int total = dw.numel();
            ops.launch(MODULE, "depthwise_conv2d_backprop_filter_finish_f32", (total + 31) / 32, 1, ROWS * 32, new KernelArgs()
                    .i32(total).ptr(CudaOps.ptr(dw)).ptr(CudaOps.ptr(partial)).i32(parts));
        }
        return dw;
    }
}
