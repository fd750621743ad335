package org.slim4j.cuda;

import org.slim4j.cuda.CudaOptions.Precision;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * 2-D convolution on the GPU (conv.cu): TF's Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter
 * as implicit GEMMs, and the inference convolution with a fused scale/shift/activation epilogue.
 * Input NHWC, filter HWIO [kh, kw, Cin, Cout]; SAME/VALID geometry (strides, dilations) from
 * {@link Padding#window}. The device's {@code --precision} picks the kernels: FP32 (float FMAs), or
 * tensor cores with float32 tensors whose operands are rounded to tf32, bf16 or fp16 as they enter
 * the products (float accumulation). The tensor-core precisions run conv_tc.cu's mma.sync kernels
 * (3-stage cp.async pipeline) where every 16-byte piece of the operands is contiguous (gathered
 * channels and N multiples of 4, 16-byte aligned tensors), and conv.cu's TF32 WMMA kernels otherwise
 * (e.g. a 3-channel first layer, which so runs at tf32 under bf16 / fp16 too);
 * {@code -Dslim4j.cuda.tf32Conv=wmma} forces the WMMA kernels (for comparing the two). Also serves
 * {@link CudaMatMul}'s tensor-core matrix products.
 */
final class CudaConv implements ConvKernels, FusedConvKernels {
    private static final String MODULE = "conv";
    private static final String TC_MODULE = "conv_tc";
    private static final String FWD = "conv2d";
    private static final String BWD_INPUT = "conv2d_backprop_input";
    private static final String BWD_FILTER = "conv2d_backprop_filter";
    private static final String FUSED = "conv2d_scale_shift";
    private static final int BM = 128;
    /** K per split is a multiple of this: a multiple of both kernel sets' k steps (16, 32). */
    private static final int BK = 32;
    /** conv_tc.cu's k step (see {@link #tensorCoreSharedBytes}). */
    private static final int TC_BK = 32;
    /** False when -Dslim4j.cuda.tf32Conv=wmma: TF32 always on conv.cu's WMMA kernels (GpuBench flips it to compare). */
    static volatile boolean tensorCoreMma = !"wmma".equals(System.getProperty("slim4j.cuda.tf32Conv", "mma"));
    private static final int THREADS = 256;
    /** Blocks split-K aims for: two per SM of the largest current GPUs. */
    private static final int TARGET_BLOCKS = 2 * 132;
    /** Fewest K per split: 256 (8 steps of conv_tc's loop, 16 of conv.cu's). */
    private static final int MIN_SPLIT_K = 8 * BK;
    /** Cap on the split-K workspace, in floats (256 MiB). */
    private static final long MAX_WORKSPACE = 1L << 26;

    private enum Mode {
        FWD("fwd"), BWD_INPUT("bwdi"), BWD_FILTER("bwdf");

        final String tag;

        Mode(String tag) {
            this.tag = tag;
        }
    }

    /** One convolution's geometry: the first 15 fields of conv.cu's ConvGeom. */
    private record Geom(int n, int h, int w, int c, int kh, int kw, int sh, int sw, int dh, int dw,
                        int oh, int ow, int padT, int padL, int cout) {
    }

    /** conv.cu's ConvPhase, unused outside the input gradient. */
    private static final int[] NO_PHASE = new int[10];

    private final CudaOps ops;

    CudaConv(CudaOps ops) {
        this.ops = ops;
    }

    // ---- ConvKernels ------------------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor input, Tensor filter, Conv2dSpec spec) {
        return forward(FWD, input, filter, null, null, spec, Activation.NONE);
    }

    @Override
    public Tensor conv2dScaleShift(Tensor input, Tensor filter, Tensor scale, Tensor shift, Conv2dSpec spec, Activation activation) {
        if (activation == null) throw new IllegalArgumentException(FUSED + ": activation is required");
        return forward(FUSED, input, filter, scale, shift, spec, activation);
    }

    private Tensor forward(String op, Tensor input, Tensor filter, Tensor scale, Tensor shift, Conv2dSpec spec, Activation act) {
        ops.checkF32(op, "input", input);
        ops.checkF32(op, "filter", filter);
        Precision p = precision();
        String shapes = "input " + input.shape() + ", filter " + filter.shape();
        rank4(op, "input", input.shape());
        rank4(op, "filter", filter.shape());
        if (filter.dim(2) != input.dim(3)) {
            throw new IllegalArgumentException(op + ": filter in-channels " + filter.dim(2) + " != input channels " + input.dim(3)
                    + " (" + shapes + ")");
        }
        int cout = filter.dim(3);
        channel(op, "scale", scale, cout, shapes);
        channel(op, "shift", shift, cout, shapes);
        Geom g = geometry(op, input.shape(), filter.dim(0), filter.dim(1), cout, spec, shapes);
        Tensor y = ops.out(Shape.of(g.n, g.oh, g.ow, cout));
        if (y.numel() == 0) return y;
        int actCode = switch (act) {
            case NONE -> 0;
            case RELU -> 1;
            case RELU6 -> 2;
        };
        int m = g.n * g.oh * g.ow;
        int k = g.kh * g.kw * g.c;
        if (scale == null && shift == null && actCode == 0) {
            splitGemm(Mode.FWD, p, g, NO_PHASE, m, cout, k, TARGET_BLOCKS / 2, input, filter, y);
        } else {  // the epilogue needs whole sums: no split
            gemm(Mode.FWD, p, g, NO_PHASE, m, cout, k, Integer.MAX_VALUE, input, filter, y, scale, shift, actCode);
        }
        return y;
    }

    @Override
    public Tensor conv2dBackpropInput(Shape inputShape, Tensor filter, Tensor dy, Conv2dSpec spec) {
        if (inputShape == null) throw new IllegalArgumentException(BWD_INPUT + ": input shape is required");
        ops.checkF32(BWD_INPUT, "filter", filter);
        ops.checkF32(BWD_INPUT, "out_backprop", dy);
        Precision p = precision();
        String shapes = "input_sizes " + inputShape + ", filter " + filter.shape() + ", out_backprop " + dy.shape();
        rank4(BWD_INPUT, "input_sizes", inputShape);
        rank4(BWD_INPUT, "filter", filter.shape());
        rank4(BWD_INPUT, "out_backprop", dy.shape());
        if (filter.dim(2) != inputShape.dim(3)) {
            throw new IllegalArgumentException(BWD_INPUT + ": filter in-channels " + filter.dim(2) + " != input channels "
                    + inputShape.dim(3) + " (" + shapes + ")");
        }
        int cout = filter.dim(3);
        Geom g = geometry(BWD_INPUT, inputShape, filter.dim(0), filter.dim(1), cout, spec, shapes);
        outBackprop(BWD_INPUT, dy, g, shapes);
        Tensor dx = ops.out(inputShape);
        if (dx.numel() == 0) return dx;
        // B[(ky,kx,co), ci] = filter[ky, kx, ci, co]: the filter with in/out swapped, [kh*kw, Cout, Cin].
        Tensor wt = filter.numel() == 0 ? null : ops.out(Shape.of(g.kh, g.kw, cout, g.c));
        try {
            if (wt != null) swap(filter, wt, g.kh * g.kw, g.c, cout);
            // One GEMM per stride phase: its input pixels, and only the taps that reach them (no 3/4 of
            // the taps failing the divisibility test at stride 2). Every dx pixel is in exactly one phase.
            for (int py = 0; py < g.sh; py++) {
                for (int px = 0; px < g.sw; px++) {
                    int hp = ceilDiv(g.h - py, g.sh), wp = ceilDiv(g.w - px, g.sw);
                    if (hp <= 0 || wp <= 0) continue;
                    int[] ty = taps(py + g.padT, g.kh, g.dh, g.sh);
                    int[] tx = taps(px + g.padL, g.kw, g.dw, g.sw);
                    int[] phase = {py, px, hp, wp, ty[0], ty[1], ty[2], tx[0], tx[1], tx[2]};
                    int m = g.n * hp * wp;
                    int k = ty[2] * tx[2] * cout;
                    if (g.sh == 1 && g.sw == 1) {  // one phase: its GEMM rows are dx's pixels, so split slabs are shaped as dx
                        splitGemm(Mode.BWD_INPUT, p, g, phase, m, g.c, k, TARGET_BLOCKS / 2, dy, wt, dx);
                    } else {
                        gemm(Mode.BWD_INPUT, p, g, phase, m, g.c, k, Integer.MAX_VALUE, dy, wt, dx, null, null, 0);
                    }
                }
            }
        } finally {
            if (wt != null) wt.close();
        }
        return dx;
    }

    @Override
    public Tensor conv2dBackpropFilter(Tensor input, Shape filterShape, Tensor dy, Conv2dSpec spec) {
        if (filterShape == null) throw new IllegalArgumentException(BWD_FILTER + ": filter shape is required");
        ops.checkF32(BWD_FILTER, "input", input);
        ops.checkF32(BWD_FILTER, "out_backprop", dy);
        Precision p = precision();
        String shapes = "input " + input.shape() + ", filter_sizes " + filterShape + ", out_backprop " + dy.shape();
        rank4(BWD_FILTER, "input", input.shape());
        rank4(BWD_FILTER, "filter_sizes", filterShape);
        rank4(BWD_FILTER, "out_backprop", dy.shape());
        if (filterShape.dim(2) != input.dim(3)) {
            throw new IllegalArgumentException(BWD_FILTER + ": filter in-channels " + filterShape.dim(2) + " != input channels "
                    + input.dim(3) + " (" + shapes + ")");
        }
        int cout = filterShape.dim(3);
        Geom g = geometry(BWD_FILTER, input.shape(), filterShape.dim(0), filterShape.dim(1), cout, spec, shapes);
        outBackprop(BWD_FILTER, dy, g, shapes);
        Tensor dw = ops.out(filterShape);
        if (dw.numel() == 0) return dw;
        // K is every output pixel, M x N only the filter: split whenever the tiles leave block slots free.
        splitGemm(Mode.BWD_FILTER, p, g, NO_PHASE, g.kh * g.kw * g.c, cout, g.n * g.oh * g.ow, TARGET_BLOCKS, input, dy, dw);
        return dw;
    }

    /**
     * C[mm, nn] = A x B with K split over blocks (split-K) when the output has fewer than
     * {@code fewTiles} tiles: enough splits of at least MIN_SPLIT_K for TARGET_BLOCKS blocks, each
     * writing a partial [mm, nn] slab of a workspace that conv_splitk_reduce then sums in a fixed
     * order (reproducible, no atomics). Deep layers (ResNet's 7x7 stage: 100 tiles) would otherwise
     * leave most SMs idle. No epilogue: it needs the whole sums.
     */
    private void splitGemm(Mode mode, Precision p, Geom g, int[] phase, int mm, int nn, int kk, int fewTiles, Tensor a, Tensor b,
                           Tensor c) {
        int bn = nn <= 64 ? 64 : 128;
        long tiles = (long) ceilDiv(mm, rowsPerBlock(mma(p, mode, g, a, b, nn), bn)) * ceilDiv(nn, bn);
        int splits = 1;
        if (tiles < fewTiles) splits = (int) Math.max(1, Math.min(ceilDiv(kk, MIN_SPLIT_K), ceilDiv(TARGET_BLOCKS, tiles)));
        splits = (int) Math.max(1, Math.min(splits, MAX_WORKSPACE / Math.max(1L, (long) mm * nn)));
        if (splits == 1) {
            gemm(mode, p, g, phase, mm, nn, kk, Integer.MAX_VALUE, a, b, c, null, null, 0);
            return;
        }
        int chunk = ceilDiv(ceilDiv(kk, splits), BK) * BK;
        splits = ceilDiv(kk, chunk);
        try (Tensor ws = ops.out(Shape.of(splits, mm, nn))) {
            gemm(mode, p, g, phase, mm, nn, kk, chunk, a, b, ws, null, null, 0);
            int mn = mm * nn;
            ops.launch1d(MODULE, "conv_splitk_reduce", mn, new KernelArgs().ptr(CudaOps.ptr(ws)).ptr(CudaOps.ptr(c)).i32(mn).i32(splits));
        }
    }

    /**
     * The taps k in [0, kernel) whose output position (origin - k*dilation) / stride is whole, for a
     * phase whose first input pixel plus the padding is {@code origin}: {first, step, count}, an
     * arithmetic progression (the solutions of a linear congruence); count 0 when none.
     */
    static int[] taps(int origin, int kernel, int dilation, int stride) {
        int first = -1, step = 0, count = 0;
        for (int k = 0; k < kernel; k++) {
            if (Math.floorMod(origin - k * dilation, stride) != 0) continue;
            if (count == 0) first = k;
            else if (count == 1) step = k - first;
            else if (k != first + count * step) throw new IllegalStateException("conv2d_backprop_input: taps not evenly spaced");
            count++;
        }
        return new int[] {Math.max(first, 0), Math.max(step, 1), count};
    }

    // ---- tensor-core matrix product for CudaMatMul ------------------------------------------------------

    /**
     * out [m, n] = op(a) op(b) on tensor cores at precision p (TF32, BF16 or FP16), through the same
     * kernels as a 1x1 convolution:
     * a stored [m, k] is the forward GEMM's A (pixels m, channels k); a stored [k, m] is the filter
     * gradient's A (pixels k, channels m); b stored [n, k] is first transposed to [k, n].
     */
    void matmulTensorCores(Precision p, int m, int n, int k, boolean transA, boolean transB, Tensor a, Tensor b, Tensor out) {
        Tensor bk = transB ? ops.out(Shape.of(k, n)) : b;
        try {
            if (transB && bk.numel() > 0) swap(b, bk, 1, n, k);
            if (transA) {
                Geom g = new Geom(1, k, 1, m, 1, 1, 1, 1, 1, 1, k, 1, 0, 0, n);
                gemm(Mode.BWD_FILTER, p, g, NO_PHASE, m, n, k, Math.max(k, 1), a, bk, out, null, null, 0);
            } else {
                Geom g = new Geom(1, m, 1, k, 1, 1, 1, 1, 1, 1, m, 1, 0, 0, n);
                gemm(Mode.FWD, p, g, NO_PHASE, m, n, k, Math.max(k, 1), a, bk, out, null, null, 0);
            }
        } finally {
            if (transB) bk.close();
        }
    }

    // ---- launching ------------------------------------------------------------------------------------

    /** The arithmetic of this device's products: its --precision. */
    Precision precision() {
        return ops.device.options().precision();
    }

    /** conv_tc.cu's kernel-name prefix of a tensor-core precision (TF32's kernels came first and have none). */
    private static String tensorCorePrefix(Precision p) {
        return switch (p) {
            case TF32, FP32 -> "";
            case BF16 -> "bf16_";
            case FP16 -> "f16_";
        };
    }

    /**
     * Launches one implicit GEMM C[M, N] = A x B of the given mode, K split into chunks of kChunk
     * (kChunk >= K: no split; else C is the [splits, M, N] workspace); phase: py, px, hp, wp, ky0,
     * kyStep, nky, kx0, kxStep, nkx of an input-gradient phase.
     */
    private void gemm(Mode mode, Precision p, Geom g, int[] phase, int mm, int nn, int kk, int kChunk, Tensor a, Tensor b, Tensor c,
                      Tensor scale, Tensor shift, int act) {
        int splits = kChunk >= kk ? 1 : ceilDiv(kk, kChunk);
        int chunk = splits == 1 ? Math.max(kk, 1) : kChunk;
        int bn = nn <= 64 ? 64 : 128;
        long gridY = (long) ceilDiv(nn, bn) * splits;
        if (gridY > 65535) {
            throw new IllegalArgumentException("conv2d: " + nn + " output columns x " + splits + " splits exceed the kernel's grid");
        }
        long pa = CudaOps.ptr(a);
        long pb = b == null ? 0 : CudaOps.ptr(b);
        long pc = CudaOps.ptr(c);
        boolean vecA = vecA(mode, g, a);
        boolean vecB = vecB(nn, b);
        boolean vecC = nn % 4 == 0 && pc % 16 == 0;
        boolean tensorCores = p != Precision.FP32;
        boolean mma = tensorCores && tensorCoreMma && vecA && vecB;
        int gridX = ceilDiv(mm, rowsPerBlock(mma, bn));
        // Without the mma.sync kernels, BF16 / FP16 products run on the TF32 WMMA kernels.
        String kernel = mma ? "conv_tc_" + tensorCorePrefix(p) + mode.tag + "_n" + bn
                : "conv_" + mode.tag + (tensorCores ? "_tf32" : "_f32") + "_n" + bn;
        KernelArgs args = new KernelArgs().ptr(pa).ptr(pb).ptr(pc).ptr(CudaOps.ptrOrNull(scale)).ptr(CudaOps.ptrOrNull(shift))
                .struct(g.n, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.oh, g.ow, g.padT, g.padL, g.cout,
                        mm, nn, kk, chunk, vecA ? 1 : 0, vecB ? 1 : 0, vecC ? 1 : 0, act)
                .struct(phase);
        if (mma) {
            ops.launch(TC_MODULE, kernel, gridX, (int) gridY, THREADS, tensorCoreSharedBytes(mode, bn), args);
        } else {
            ops.launch(MODULE, kernel, gridX, (int) gridY, THREADS, args);
        }
    }

    /** A's gathered channel runs are whole, 16-byte aligned float4s (its channels a multiple of 4). */
    private static boolean vecA(Mode mode, Geom g, Tensor a) {
        int chans = mode == Mode.BWD_INPUT ? g.cout : g.c;
        return chans % 4 == 0 && CudaOps.ptr(a) % 16 == 0;
    }

    /** B's rows of nn columns are whole, 16-byte aligned float4s (no B: nothing to load). */
    private static boolean vecB(int nn, Tensor b) {
        return nn % 4 == 0 && (b == null || CudaOps.ptr(b) % 16 == 0);
    }

    /** Whether gemm runs this GEMM on conv_tc.cu's mma.sync kernels: tensor cores with both operands vectorisable. */
    private static boolean mma(Precision p, Mode mode, Geom g, Tensor a, Tensor b, int nn) {
        return p != Precision.FP32 && tensorCoreMma && vecA(mode, g, a) && vecB(nn, b);
    }

    /** Rows of C per block: conv_tc.cu's 64-column kernels take 256 (warps of 64 x 32, as the 128-column ones), the rest 128. */
    static int rowsPerBlock(boolean mma, int bn) {
        return mma && bn == 64 ? 2 * BM : BM;
    }

    /** conv_tc.cu's pipeline depth: 2 stages for the 256 x 64 tiles (two blocks per SM still fit), 3 for 128 x 128. */
    static int tensorCoreStages(int bn) {
        return bn == 64 ? 2 : 3;
    }

    /**
     * Dynamic shared memory of conv_tc.cu's kernel for a mode and column tile: its stages of an A tile
     * ([bm][32 + 8], or [32][bm + 4] for the filter gradient) and a B tile [32][bn + 4] (its TcTile;
     * the emulator's exact-size shared buffer catches a mismatch).
     */
    static int tensorCoreSharedBytes(Mode mode, int bn) {
        int bm = rowsPerBlock(true, bn);
        int aFloats = mode == Mode.BWD_FILTER ? TC_BK * (bm + 4) : bm * (TC_BK + 8);
        int bFloats = TC_BK * (bn + 4);
        return tensorCoreStages(bn) * (aFloats + bFloats) * Float.BYTES;
    }

    /** out[t][j][i] = in[t][i][j] for in [taps, rows, cols]. */
    private void swap(Tensor in, Tensor out, int taps, int rows, int cols) {
        int total = taps * rows * cols;
        ops.launch1d(MODULE, "conv_swap_io", total, new KernelArgs().ptr(CudaOps.ptr(in)).ptr(CudaOps.ptr(out))
                .i32(taps).i32(rows).i32(cols));
    }

    // ---- checks and geometry ----------------------------------------------------------------------------

    private static Geom geometry(String op, Shape in, int kh, int kw, int cout, Conv2dSpec spec, String shapes) {
        if (spec == null) throw new IllegalArgumentException(op + ": spec is required");
        Padding.Window wy;
        Padding.Window wx;
        try {
            wy = spec.padding().window(in.dim(1), kh, spec.strideH(), spec.dilationH());
            wx = spec.padding().window(in.dim(2), kw, spec.strideW(), spec.dilationW());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage() + " (" + shapes + ")", e);
        }
        return new Geom(in.dim(0), in.dim(1), in.dim(2), in.dim(3), kh, kw, spec.strideH(), spec.strideW(), spec.dilationH(),
                spec.dilationW(), wy.outSize(), wx.outSize(), wy.padBefore(), wx.padBefore(), cout);
    }

    private static void rank4(String op, String arg, Shape s) {
        if (s.rank() != 4) throw new IllegalArgumentException(op + ": " + arg + " must be rank 4, got shape " + s);
    }

    private static void outBackprop(String op, Tensor dy, Geom g, String shapes) {
        Shape expected = Shape.of(g.n, g.oh, g.ow, g.cout);
        if (!dy.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": out_backprop shape " + dy.shape() + " != expected output shape " + expected
                    + " (" + shapes + ")");
        }
    }

    private void channel(String op, String arg, Tensor v, int cout, String shapes) {
        if (v == null) return;
        ops.checkF32(op, arg, v);
        if (v.rank() != 1 || v.dim(0) != cout) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + v.shape() + " != [" + cout + "] (" + shapes + ")");
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
