package org.slim4j.cuda;

import org.slim4j.kernels.LrnKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/**
 * Local response normalisation across the last axis on the GPU (lrn.cu), TF's LRN and LRNGrad with
 * {@link LrnSpec}'s depth radius, bias, alpha and beta. LRNGrad runs in two passes through a
 * temporary of the input's size (dy * y / norm, then its window sums).
 */
final class CudaLrn implements LrnKernels {
    private static final String MODULE = "lrn";

    private final CudaOps ops;

    CudaLrn(CudaOps ops) {
        this.ops = ops;
    }

    private void check(String op, Tensor input, LrnSpec spec) {
        ops.checkF32(op, "input", input);
        if (spec == null) throw new IllegalArgumentException(op + ": spec is null");
        if (input.rank() < 1) throw new IllegalArgumentException(op + ": input must have a channel axis, got shape " + input.shape());
        if (spec.depthRadius() < 0) {
            throw new IllegalArgumentException(op + ": depthRadius " + spec.depthRadius() + " must be >= 0 (input " + input.shape() + ")");
        }
    }

    private void checkLike(String op, String arg, Tensor t, Tensor input) {
        ops.checkF32(op, arg, t);
        if (!t.shape().equals(input.shape())) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != input shape " + input.shape());
        }
    }

    /** The radius clipped to the channel count (a wider window is the whole row; keeps k + r in int range). */
    private static int radius(LrnSpec spec, int c) {
        return Math.min(spec.depthRadius(), c);
    }

    @Override
    public Tensor lrn(Tensor input, LrnSpec spec) {
        check("lrn", input, spec);
        Tensor y = ops.out(input.shape());
        int total = y.numel();
        if (total == 0) return y;
        int c = input.dim(-1);
        ops.launch1d(MODULE, "lrn_f32", total, new KernelArgs().i32(total).ptr(CudaOps.ptr(y)).ptr(CudaOps.ptr(input)).i32(c)
                .i32(radius(spec, c)).f32(spec.bias()).f32(spec.alpha()).f32(spec.beta()));
        return y;
    }

    @Override
    public Tensor lrnGrad(Tensor input, Tensor output, Tensor dy, LrnSpec spec) {
        check("lrnGrad", input, spec);
        checkLike("lrnGrad", "output", output, input);
        checkLike("lrnGrad", "dy", dy, input);
        Tensor dx = ops.out(input.shape());
        int total = dx.numel();
        if (total == 0) return dx;
        int c = input.dim(-1);
        int r = radius(spec, c);
        try (Tensor s = ops.device.empty(DType.FLOAT32, input.shape())) {
            ops.launch1d(MODULE, "lrn_grad_scaled_f32", total, new KernelArgs().i32(total).ptr(CudaOps.ptr(s)).ptr(CudaOps.ptr(input))
                    .ptr(CudaOps.ptr(output)).ptr(CudaOps.ptr(dy)).i32(c).i32(r).f32(spec.bias()).f32(spec.alpha()));
            ops.launch1d(MODULE, "lrn_grad_f32", total, new KernelArgs().i32(total).ptr(CudaOps.ptr(dx)).ptr(CudaOps.ptr(input))
                    .ptr(CudaOps.ptr(dy)).ptr(CudaOps.ptr(s)).i32(c).i32(r).f32(spec.bias()).f32(spec.alpha()).f32(spec.beta()));
        }
        return dx;
    }
}
