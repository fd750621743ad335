package org.slim4j.cuda;

import java.io.PrintStream;
import java.util.Locale;
import org.slim4j.cuda.vendor.CudnnLibrary;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.SoftmaxKernels;
import org.slim4j.tensor.Backend;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * Kernel timings on a GPU with CUDA events, in the markdown table format that
 * bench/gpu/torch_bench.py prints for PyTorch on the same GPU (same ops, shapes, float32 without
 * TF32), so run-on-device.sh can put them side by side. Shapes are ResNet-50-like (batch 32; convolutions batch 64, also with TF32).
 */
final class GpuBench {
    private static final int WARMUP = 3;
    private static final int ITERS = 20;

    private GpuBench() {
    }

    @FunctionalInterface
    private interface Op {
        void run();
    }

    /** Milliseconds per call (mean of ITERS after WARMUP), each call inside its own scope. */
    private static double time(CudaDevice d, Op op) {
        for (int i = 0; i < WARMUP; i++) {
            try (TensorScope s = TensorScope.open()) {
                op.run();
            }
        }
        d.sync();
        GpuDriver.GpuEvent start = d.recordEvent();
        for (int i = 0; i < ITERS; i++) {
            try (TensorScope s = TensorScope.open()) {
                op.run();
            }
        }
        GpuDriver.GpuEvent end = d.recordEvent();
        end.synchronize();
        double ms = end.elapsedMillisSince(start) / ITERS;
        start.close();
        end.close();
        return ms;
    }

    private static Tensor rand(CudaDevice d, long seed, int... dims) {
        try (Tensor h = Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), -1, 1)) {
            return TensorScope.escape(h.toDevice(d));
        }
    }

    static void run(CudaDevice d, PrintStream out) {
        run(d, out, false);
    }

    /** With {@code tiny}, shapes are cut down so the code paths can be exercised on the CPU emulator. */
    static void run(CudaDevice d, PrintStream out, boolean tiny) {
        Backend b = Backends.forDevice(d);
        int[] actDims = tiny ? new int[] {2, 5, 5, 16} : new int[] {32, 56, 56, 256};
        int[] poolDims = tiny ? new int[] {2, 9, 9, 8} : new int[] {32, 112, 112, 64};
        int[] logitDims = tiny ? new int[] {4, 37} : new int[] {256, 1001};
        String actShape = java.util.Arrays.toString(actDims).replace(" ", "");
        out.println();
        out.println("| op (slim4j hand-written CUDA, " + d.describe() + ") | shape | ms | throughput |");
        out.println("|---|---|---:|---:|");
        for (int n : tiny ? new int[] {64} : new int[] {1024, 4096}) {
            Tensor x = rand(d, 1, n, n);
            Tensor y = rand(d, 2, n, n);
            double ms = time(d, () -> b.kernels(MatMulKernels.class).matmul(x, y, false, false));
            row(out, "sgemm", n + "x" + n + "x" + n, ms, 2.0 * n * n * n / ms / 1e9, "TFLOP/s");
            x.close();
            y.close();
        }
        int big = tiny ? 1 << 12 : 1 << 26;
        Tensor a = rand(d, 3, big);
        Tensor c = rand(d, 4, big);
        double ms = time(d, () -> b.kernels(ElementwiseKernels.class).binary(BinaryOp.ADD, a, c));
        row(out, "add", "2^" + Integer.numberOfTrailingZeros(big), ms, 3.0 * 4 * big / ms / 1e6, "GB/s");
        a.close();
        c.close();
        Tensor act = rand(d, 5, actDims);
        int ch = actDims[3];
        Tensor bias = rand(d, 6, ch);
        ms = time(d, () -> b.kernels(BiasAddKernels.class).biasAddGrad(act));
        row(out, "bias_add_grad", actShape, ms, 4.0 * act.numel() / ms / 1e6, "GB/s");
        ms = time(d, () -> b.kernels(BiasAddKernels.class).biasAdd(act, bias));
        row(out, "bias_add", actShape, ms, 8.0 * act.numel() / ms / 1e6, "GB/s");
        Tensor scale = rand(d, 7, ch);
        Tensor offset = rand(d, 8, ch);
        ms = time(d, () -> b.kernels(BatchNormKernels.class).trainingForward(act, scale, offset, 1e-3f));
        row(out, "batch_norm train fwd", actShape, ms, 12.0 * act.numel() / ms / 1e6, "GB/s");
        BatchNormKernels.Training t = b.kernels(BatchNormKernels.class).trainingForward(act, scale, offset, 1e-3f);
        ms = time(d, () -> b.kernels(BatchNormKernels.class).trainingBackward(act, act, scale, t.mean(), t.variance(), 1e-3f));
        row(out, "batch_norm train bwd", actShape, ms, 20.0 * act.numel() / ms / 1e6, "GB/s");
        t.y().close();
        t.mean().close();
        t.variance().close();
        act.close();
        bias.close();
        scale.close();
        offset.close();
        Tensor pin = rand(d, 9, poolDims);
        ms = time(d, () -> b.kernels(PoolKernels.class).maxPool(pin, PoolSpec.of(3, 2, Padding.SAME)));
        row(out, "max_pool 3x3/2", java.util.Arrays.toString(poolDims).replace(" ", ""), ms, 5.0 * pin.numel() / ms / 1e6, "GB/s");
        pin.close();
        Tensor logits = rand(d, 10, logitDims);
        ms = time(d, () -> b.kernels(SoftmaxKernels.class).softmax(logits));
        row(out, "softmax", java.util.Arrays.toString(logitDims).replace(" ", ""), ms, 8.0 * logits.numel() / ms / 1e6, "GB/s");
        logits.close();
        // MobileNet v1's first depthwise layer: 3x3, 32 channels, 112x112, stride 1, SAME.
        int[] dwDims = tiny ? new int[] {2, 9, 9, 8} : new int[] {64, 112, 112, 32};
        String dwShape = java.util.Arrays.toString(dwDims).replace(" ", "");
        Tensor dwx = rand(d, 11, dwDims);
        Tensor dwf = rand(d, 12, 3, 3, dwDims[3], 1);
        Tensor dwdy = rand(d, 13, dwDims);
        Conv2dSpec dwSpec = Conv2dSpec.of(1, Padding.SAME);
        DepthwiseConvKernels dk = b.kernels(DepthwiseConvKernels.class);
        ms = time(d, () -> dk.depthwiseConv2d(dwx, dwf, dwSpec));
        row(out, "depthwise 3x3 fwd", dwShape, ms, 8.0 * dwx.numel() / ms / 1e6, "GB/s");
        ms = time(d, () -> dk.depthwiseConv2dBackpropInput(dwx.shape(), dwf, dwdy, dwSpec));
        row(out, "depthwise 3x3 bwd input", dwShape, ms, 8.0 * dwx.numel() / ms / 1e6, "GB/s");
        ms = time(d, () -> dk.depthwiseConv2dBackpropFilter(dwx, dwf.shape(), dwdy, dwSpec));
        row(out, "depthwise 3x3 bwd filter", dwShape, ms, 8.0 * dwx.numel() / ms / 1e6, "GB/s");
        dwx.close();
        dwf.close();
        dwdy.close();
        convolutions(d, b, out, tiny);
        cudnnConv(d, out, tiny);
    }

    /**
     * cuDNN convolutions (--kernels=vendor) on ResNet-50's most common shapes, batch 64: forward,
     * gradient w.r.t. the input and w.r.t. the filter, exact float32 and TF32; then cuDNN batch norm. Skipped (with the
     * reason) where cuDNN did not load, and on the emulator.
     */
    static void cudnnConv(CudaDevice d, PrintStream out, boolean tiny) {
        CudnnLibrary.Status s = CudnnLibrary.status();
        if (tiny || !s.loaded()) {
            out.println();
            out.println("cuDNN convolutions: skipped (" + (tiny ? "emulator" : s.describe()) + ")");
            return;
        }
        int[][][] shapes = {{{64, 56, 56, 64}, {3, 3, 64, 64}}, {{64, 56, 56, 256}, {1, 1, 256, 64}}};
        CudaOptions saved = d.options();
        out.println();
        out.println("| op (cuDNN " + s.versionText() + " through JCudnn, " + d.describe() + ") | shape | ms | throughput |");
        out.println("|---|---|---:|---:|");
        try {
            for (CudaOptions.Precision p : new CudaOptions.Precision[] {CudaOptions.Precision.FP32, CudaOptions.Precision.TF32}) {
                d.configure(new CudaOptions(CudaOptions.Kernels.VENDOR, p));
                ConvKernels conv = Backends.forDevice(d).kernels(ConvKernels.class);
                for (int[][] sh : shapes) {
                    Tensor x = rand(d, 11, sh[0]);
                    Tensor w = rand(d, 12, sh[1]);
                    Conv2dSpec spec = Conv2dSpec.of(1, Padding.SAME);
                    int[] yd = {sh[0][0], sh[0][1], sh[0][2], sh[1][3]};
                    Tensor dy = rand(d, 13, yd);
                    double flops = 2.0 * yd[0] * yd[1] * yd[2] * yd[3] * sh[1][0] * sh[1][1] * sh[1][2];
                    String shape = sh[1][0] + "x" + sh[1][1] + " " + sh[1][2] + "->" + sh[1][3] + " " + java.util.Arrays.toString(sh[0]).replace(" ", "");
                    String tag = p.name().toLowerCase(Locale.ROOT);
                    double ms = time(d, () -> conv.conv2d(x, w, spec));
                    row(out, "conv2d fwd " + tag, shape, ms, flops / ms / 1e9, "TFLOP/s");
                    ms = time(d, () -> conv.conv2dBackpropInput(x.shape(), w, dy, spec));
                    row(out, "conv2d bwd data " + tag, shape, ms, flops / ms / 1e9, "TFLOP/s");
                    ms = time(d, () -> conv.conv2dBackpropFilter(x, w.shape(), dy, spec));
                    row(out, "conv2d bwd filter " + tag, shape, ms, flops / ms / 1e9, "TFLOP/s");
                    x.close();
                    w.close();
                    dy.close();
                }
            }
            // Batch norm through cuDNN on the shape the hand-written rows above use (PyTorch's rows: torch_bench.py).
            d.configure(new CudaOptions(CudaOptions.Kernels.VENDOR, CudaOptions.Precision.FP32));
            BatchNormKernels bn = Backends.forDevice(d).kernels(BatchNormKernels.class);
            int[] actDims = {32, 56, 56, 256};
            String actShape = java.util.Arrays.toString(actDims).replace(" ", "");
            Tensor act = rand(d, 14, actDims);
            Tensor scale = rand(d, 15, actDims[3]);
            Tensor offset = rand(d, 16, actDims[3]);
            double ms = time(d, () -> bn.trainingForward(act, scale, offset, 1e-3f));
            row(out, "batch_norm train fwd (cuDNN)", actShape, ms, 12.0 * act.numel() / ms / 1e6, "GB/s");
            BatchNormKernels.Training t = bn.trainingForward(act, scale, offset, 1e-3f);
            ms = time(d, () -> bn.trainingBackward(act, act, scale, t.mean(), t.variance(), 1e-3f));
            row(out, "batch_norm train bwd (cuDNN)", actShape, ms, 20.0 * act.numel() / ms / 1e6, "GB/s");
            t.y().close();
            t.mean().close();
            t.variance().close();
            act.close();
            scale.close();
            offset.close();
        } finally {
            d.configure(saved);
        }
    }

    /**
     * ResNet-50 convolutions at batch 64 (input NHWC, filter HWIO): forward, input gradient, filter
     * gradient, in FP32 and TF32 (tensor cores), as TFLOP/s of the convolution's 2*N*OH*OW*KH*KW*Cin*Cout.
     */
    private static void convolutions(CudaDevice d, Backend b, PrintStream out, boolean tiny) {
        // name, batch, h, w, cin, cout, k, stride
        int[][] shapes = tiny ? new int[][] {{1, 4, 4, 4, 4, 3, 1}, {1, 5, 5, 3, 4, 3, 2}}
                : new int[][] {{64, 56, 56, 64, 64, 3, 1}, {64, 56, 56, 256, 64, 1, 1}, {64, 56, 56, 64, 256, 1, 1}, {64, 56, 56, 128, 128, 3, 2},
                    {64, 14, 14, 256, 256, 3, 1}, {64, 14, 14, 1024, 256, 1, 1}, {64, 7, 7, 512, 512, 3, 1}, {64, 224, 224, 3, 64, 7, 2}};
        CudaOptions before = d.options();
        boolean mmaBefore = CudaConv.tensorCoreMma;
        ConvKernels conv = b.kernels(ConvKernels.class);
        try {
            // TF32 twice: conv_tc.cu's mma.sync kernels, then conv.cu's WMMA kernels.
            String[] variants = {"fp32", "tf32", "tf32 wmma"};
            for (String variant : variants) {
                CudaOptions.Precision p = variant.equals("fp32") ? CudaOptions.Precision.FP32 : CudaOptions.Precision.TF32;
                d.configure(before.withPrecision(p));
                CudaConv.tensorCoreMma = !variant.endsWith("wmma");
                for (int[] s : shapes) {
                    int n = s[0], h = s[1], w = s[2], cin = s[3], cout = s[4], k = s[5], stride = s[6];
                    Conv2dSpec spec = Conv2dSpec.of(stride, Padding.SAME);
                    int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
                    Tensor x = rand(d, 20, n, h, w, cin);
                    Tensor f = rand(d, 21, k, k, cin, cout);
                    Tensor dy = rand(d, 22, n, oh, ow, cout);
                    double flop = 2.0 * n * oh * ow * k * k * cin * cout;
                    String shape = "[" + n + "," + h + "," + w + "," + cin + "] " + k + "x" + k + (stride > 1 ? "/" + stride : "") + " ->" + cout;
                    String tag = " " + variant;
                    double ms = time(d, () -> conv.conv2d(x, f, spec));
                    row(out, "conv fwd" + tag, shape, ms, flop / ms / 1e9, "TFLOP/s");
                    ms = time(d, () -> conv.conv2dBackpropInput(x.shape(), f, dy, spec));
                    row(out, "conv bwd-input" + tag, shape, ms, flop / ms / 1e9, "TFLOP/s");
                    ms = time(d, () -> conv.conv2dBackpropFilter(x, f.shape(), dy, spec));
                    row(out, "conv bwd-filter" + tag, shape, ms, flop / ms / 1e9, "TFLOP/s");
                    x.close();
                    f.close();
                    dy.close();
                }
            }
        } finally {
            d.configure(before);
            CudaConv.tensorCoreMma = mmaBefore;
        }
    }

    private static void row(PrintStream out, String op, String shape, double ms, double rate, String unit) {
        out.println(String.format(Locale.ROOT, "| %s | %s | %.3f | %.1f %s |", op, shape, ms, rate, unit));
    }
}
