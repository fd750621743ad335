package org.slim4j.cuda;

import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.FusedBatchNormKernels;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Fused batch normalisation on the GPU (batch_norm.cu), FusedBatchNormV3 semantics over the last
 * axis. Per-channel sums: a partial pass with one thread per (channel, slice of rows), then a
 * per-channel finish in double; then one elementwise pass. Temporaries come from the caching
 * allocator and are released as soon as the kernels using them are queued. Also the training passes
 * with a fused relu / relu6 ({@link FusedBatchNormKernels}): {@code affine} is [2, C], the forward's
 * a and b (z = (x - mean) * a + b), from which the backward recomputes the activation's mask.
 */
final class CudaBatchNorm implements BatchNormKernels, FusedBatchNormKernels {
    private static final String MODULE = "batch_norm";
    /** Threads per block of the partial pass (channels per block). */
    private static final int CHANNELS_PER_BLOCK = 64;
    /** Target number of threads of the partial pass. */
    private static final int PARTIAL_THREADS = 1 << 16;
    private static final int MIN_ROWS_PER_SLICE = 16;

    private final CudaOps ops;

    CudaBatchNorm(CudaOps ops) {
        this.ops = ops;
    }

    // ---- validation (as the CPU backend) -------------------------------------------------------

    private void checkX(String op, Tensor x) {
        ops.checkF32(op, "x", x);
        if (x.rank() < 1) throw new IllegalArgumentException(op + ": x must have a channel axis, got shape " + x.shape());
    }

    private void checkChannel(String op, String arg, Tensor t, Tensor x, boolean optional) {
        if (t == null) {
            if (optional) return;
            throw new IllegalArgumentException(op + ": " + arg + " is required (x " + x.shape() + ")");
        }
        ops.checkDevice(op, arg, t);
        if (t.dtype() != x.dtype()) {
            throw new IllegalArgumentException(op + ": " + arg + " dtype " + t.dtype() + " != x dtype " + x.dtype());
        }
        int c = x.dim(-1);
        if (t.rank() != 1 || t.dim(0) != c) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != [" + c + "] (x " + x.shape() + ")");
        }
    }

    private void checkLike(String op, String arg, Tensor t, Tensor x) {
        if (t == null) throw new IllegalArgumentException(op + ": " + arg + " is required (x " + x.shape() + ")");
        ops.checkDevice(op, arg, t);
        if (t.dtype() != x.dtype()) {
            throw new IllegalArgumentException(op + ": " + arg + " dtype " + t.dtype() + " != x dtype " + x.dtype());
        }
        if (!t.shape().equals(x.shape())) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != x shape " + x.shape());
        }
    }

    private static int rows(Tensor x) {
        int c = x.dim(-1);
        return c == 0 ? 0 : x.numel() / c;
    }

    // ---- shared passes -------------------------------------------------------------------------

    /** Row slices of the partial pass: enough to occupy the GPU, each at least a few rows. */
    private static int chunk(int rows, int c) {
        long wanted = Math.max(1, PARTIAL_THREADS / Math.max(1, c));
        long splits = Math.max(1, Math.min(Math.min(wanted, (rows + MIN_ROWS_PER_SLICE - 1) / MIN_ROWS_PER_SLICE), 65535));
        return (int) Math.max(1, (rows + splits - 1) / splits);
    }

    private static int splits(int rows, int chunk) {
        return Math.max(1, (rows + chunk - 1) / chunk);
    }

    /**
     * Queues the partial sums of mode 0 (statistics) or 1 (gradients of dy masked by activation
     * {@code act}, with the forward's a, b at device addresses {@code pa}, {@code pb}; act 0: none,
     * pa and pb unused) into a new [2, splits, c] tensor.
     */
    private Tensor partials(int rows, int c, Tensor x, Tensor dy, Tensor mean, long pa, long pb, int act, int mode) {
        int chunk = chunk(rows, c);
        int splits = splits(rows, chunk);
        Tensor partial = ops.out(Shape.of(2, splits, c));
        ops.launch(MODULE, "bn_partial_f32", (c + CHANNELS_PER_BLOCK - 1) / CHANNELS_PER_BLOCK, splits, CHANNELS_PER_BLOCK,
                new KernelArgs().i32(rows).i32(c).i32(chunk).ptr(CudaOps.ptr(partial)).ptr(CudaOps.ptr(x))
                        .ptr(CudaOps.ptrOrNull(dy)).ptr(CudaOps.ptrOrNull(mean)).ptr(pa).ptr(pb).i32(act).i32(mode));
        return partial;
    }

    /**
     * Whether the apply passes can take four channels a step: c a multiple of 4 and the coefficient
     * addresses pa, pb (0 without an activation) 16-byte aligned; the tensors are checked by the caller.
     */
    private static boolean vec4(int c, long pa, long pb) {
        return c % 4 == 0 && (pa & 15) == 0 && (pb & 15) == 0;
    }

    /** y = act((x - mean) * a + b), a and b at device addresses {@code pa}, {@code pb}. */
    private void apply(Tensor y, Tensor x, Tensor mean, long pa, long pb, int act) {
        int n = x.numel();
        int c = x.dim(-1);
        boolean vec4 = vec4(c, pa, pb) && CudaOps.aligned16(y, x, mean);
        ops.launchRun(MODULE, vec4 ? "bn_apply_vec4_f32" : "bn_apply_f32", vec4, n, new KernelArgs().i32(n).i32(c).ptr(CudaOps.ptr(y)).ptr(CudaOps.ptr(x))
                .ptr(CudaOps.ptr(mean)).ptr(pa).ptr(pb).i32(act));
    }

    // ---- forward -------------------------------------------------------------------------------

    @Override
    public BatchNormKernels.Training trainingForward(Tensor x, Tensor scale, Tensor offset, float epsilon) {
        FusedBatchNormKernels.Training t = training("batchNorm trainingForward", x, scale, offset, epsilon, Activation.NONE);
        t.affine().close();
        return new BatchNormKernels.Training(t.y(), t.mean(), t.variance());
    }

    @Override
    public FusedBatchNormKernels.Training trainingForward(Tensor x, Tensor scale, Tensor offset, float epsilon, Activation activation) {
        if (activation == null) throw new IllegalArgumentException("fusedBatchNorm trainingForward: activation is required");
        return training("fusedBatchNorm trainingForward", x, scale, offset, epsilon, activation);
    }

    /** Statistics, y = act(z) and the [2, c] affine (a, b) z was computed from. */
    private FusedBatchNormKernels.Training training(String op, Tensor x, Tensor scale, Tensor offset, float epsilon, Activation act) {
        checkX(op, x);
        checkChannel(op, "scale", scale, x, true);
        checkChannel(op, "offset", offset, x, true);
        int c = x.dim(-1), rows = rows(x);
        Tensor y = ops.out(x.shape());
        Tensor mean = ops.out(Shape.of(c));
        Tensor variance = ops.out(Shape.of(c));
        Tensor affine = ops.out(Shape.of(2, c));
        if (c == 0) return new FusedBatchNormKernels.Training(y, mean, variance, affine);
        long pa = CudaOps.ptr(affine), pb = pa + (long) c * Float.BYTES;
        try (Tensor partial = partials(rows, c, x, null, null, 0, 0, 0, 0)) {
            ops.launch1d(MODULE, "bn_stats_finish_f32", c, new KernelArgs().i32(rows).i32(c).i32(partial.dim(1))
                    .ptr(CudaOps.ptr(partial)).ptr(CudaOps.ptr(x)).ptr(CudaOps.ptrOrNull(scale)).ptr(CudaOps.ptrOrNull(offset))
                    .f32(epsilon).ptr(CudaOps.ptr(mean)).ptr(CudaOps.ptr(variance)).ptr(pa).ptr(pb));
            apply(y, x, mean, pa, pb, code(act));
        }
        return new FusedBatchNormKernels.Training(y, mean, variance, affine);
    }

    private static int code(Activation act) {
        return switch (act) {
            case NONE -> 0;
            case RELU -> 1;
            case RELU6 -> 2;
        };
    }

    @Override
    public Tensor inferenceForward(Tensor x, Tensor scale, Tensor offset, Tensor mean, Tensor variance, float epsilon) {
        String op = "batchNorm inferenceForward";
        checkX(op, x);
        checkChannel(op, "scale", scale, x, true);
        checkChannel(op, "offset", offset, x, true);
        checkChannel(op, "mean", mean, x, false);
        checkChannel(op, "variance", variance, x, false);
        int c = x.dim(-1);
        Tensor y = ops.out(x.shape());
        if (c == 0) return y;
        try (Tensor a = ops.out(Shape.of(c));
             Tensor b = ops.out(Shape.of(c))) {
            ops.launch1d(MODULE, "bn_coeffs_f32", c, new KernelArgs().i32(c).ptr(CudaOps.ptrOrNull(scale)).ptr(CudaOps.ptrOrNull(offset))
                    .ptr(CudaOps.ptr(variance)).f32(epsilon).ptr(CudaOps.ptr(a)).ptr(CudaOps.ptr(b)));
            apply(y, x, mean, CudaOps.ptr(a), CudaOps.ptr(b), 0);
        }
        return y;
    }

    // ---- backward ------------------------------------------------------------------------------

    /**
     * dx, dscale, doffset; training: the statistics are the batch's; {@code affine} (the forward's
     * [2, c] a, b) and {@code activation}: dy is first masked by the fused activation's gradient.
     */
    private Grads backward(String op, Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon, boolean training,
                           Tensor affine, Activation activation) {
        checkX(op, x);
        checkLike(op, "dy", dy, x);
        checkChannel(op, "scale", scale, x, true);
        checkChannel(op, "mean", mean, x, false);
        checkChannel(op, "variance", variance, x, false);
        int c = x.dim(-1), rows = rows(x);
        int act = code(activation);
        if (act != 0) {
            if (affine == null) throw new IllegalArgumentException(op + ": affine is required (x " + x.shape() + ")");
            ops.checkF32(op, "affine", affine);
            if (!affine.shape().equals(Shape.of(2, c))) {
                throw new IllegalArgumentException(op + ": affine shape " + affine.shape() + " != [2, " + c + "] (x " + x.shape()
                        + "): pass the affine of this backend's trainingForward");
            }
        }
        Tensor dx = ops.out(x.shape());
        Tensor dscale = ops.out(Shape.of(c));
        Tensor doffset = ops.out(Shape.of(c));
        if (c == 0) return new Grads(dx, dscale, doffset);
        long pa = act == 0 ? 0 : CudaOps.ptr(affine), pb = act == 0 ? 0 : pa + (long) c * Float.BYTES;
        try (Tensor partial = partials(rows, c, x, dy, mean, pa, pb, act, 1);
             Tensor k1 = ops.out(Shape.of(c));
             Tensor c0 = ops.out(Shape.of(c));
             Tensor negK2 = ops.out(Shape.of(c))) {
            ops.launch1d(MODULE, "bn_grad_finish_f32", c, new KernelArgs().i32(rows).i32(c).i32(partial.dim(1))
                    .ptr(CudaOps.ptr(partial)).ptr(CudaOps.ptrOrNull(scale)).ptr(CudaOps.ptr(variance)).f32(epsilon).i32(training ? 1 : 0)
                    .ptr(CudaOps.ptr(dscale)).ptr(CudaOps.ptr(doffset)).ptr(CudaOps.ptr(k1)).ptr(CudaOps.ptr(c0))
                    .ptr(CudaOps.ptr(negK2)));
            int n = x.numel();
            boolean vec4 = vec4(c, pa, pb) && CudaOps.aligned16(dx, dy, x, mean, k1, c0, negK2);
            ops.launchRun(MODULE, vec4 ? "bn_backward_apply_vec4_f32" : "bn_backward_apply_f32", vec4, n, new KernelArgs().i32(n).i32(c).ptr(CudaOps.ptr(dx)).ptr(CudaOps.ptr(dy))
                    .ptr(CudaOps.ptr(x)).ptr(CudaOps.ptr(mean)).ptr(CudaOps.ptr(k1)).ptr(CudaOps.ptr(c0)).ptr(CudaOps.ptr(negK2))
                    .ptr(pa).ptr(pb).i32(act));
        }
        return new Grads(dx, dscale, doffset);
    }

    @Override
    public Grads trainingBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, Tensor affine, float epsilon,
                                  Activation activation) {
        String op = "fusedBatchNorm trainingBackward";
        if (activation == null) throw new IllegalArgumentException(op + ": activation is required");
        return backward(op, dy, x, scale, mean, variance, epsilon, true, affine, activation);
    }

    @Override
    public Grads trainingBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon) {
        return backward("batchNorm trainingBackward", dy, x, scale, mean, variance, epsilon, true, null, Activation.NONE);
    }

    @Override
    public Grads inferenceBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon) {
        return backward("batchNorm inferenceBackward", dy, x, scale, mean, variance, epsilon, false, null, Activation.NONE);
    }
}
