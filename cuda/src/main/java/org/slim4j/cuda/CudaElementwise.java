package org.slim4j.cuda;

import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Elementwise kernels on the GPU (elementwise.cu). Binary ops first simplify the broadcast as the
 * CPU backend does (size-1 axes dropped, neighbouring axes that both operands step through alike
 * merged): equal shapes and scalar operands become one flat run ({@code binary_flat_f32}), anything
 * else indexes through at most {@value #MAX_RANK} merged axes ({@code binary_broadcast_f32}).
 * Op codes are the Java enums' ordinals.
 */
final class CudaElementwise implements ElementwiseKernels {
    private static final String MODULE = "elementwise";
    static final int MAX_RANK = 8;

    private final CudaOps ops;

    CudaElementwise(CudaOps ops) {
        this.ops = ops;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = "binary " + op;
        ops.checkF32(name, "a", a);
        ops.checkF32(name, "b", b);
        Shape outShape = Shape.broadcast(name, a.shape(), b.shape());
        Tensor out = ops.out(outShape);
        int n = outShape.numel();
        if (n == 0) return out;
        int[][] g = simplify(outShape.dims(), a.shape().broadcastStrides(outShape.rank()), b.shape().broadcastStrides(outShape.rank()));
        int[] dims = g[0], sa = g[1], sb = g[2];
        int rank = dims.length;
        if (rank == 1 && sa[0] == 1 && sb[0] == 1 && CudaOps.aligned16(out, a, b)) {
            ops.launchVec4(MODULE, "binary_vec4_f32", n, new KernelArgs().i32(op.ordinal()).i32(n).ptr(CudaOps.ptr(out))
                    .ptr(CudaOps.ptr(a)).ptr(CudaOps.ptr(b)));
            return out;
        }
        if (rank == 1 && sa[0] <= 1 && sb[0] <= 1) {
            ops.launch1d(MODULE, "binary_flat_f32", n, new KernelArgs().i32(op.ordinal()).i32(n).ptr(CudaOps.ptr(out))
                    .ptr(CudaOps.ptr(a)).i32(sa[0]).ptr(CudaOps.ptr(b)).i32(sb[0]));
            return out;
        }
        if (rank > MAX_RANK) {
            out.close();
            throw new IllegalArgumentException(name + ": broadcasting " + a.shape() + " with " + b.shape() + " needs " + rank
                    + " axes after merging; the cuda kernel handles at most " + MAX_RANK);
        }
        int[] s = new int[1 + 3 * MAX_RANK];
        s[0] = rank;
        for (int i = 0; i < rank; i++) {
            s[1 + i] = dims[i];
            s[1 + MAX_RANK + i] = sa[i];
            s[1 + 2 * MAX_RANK + i] = sb[i];
        }
        ops.launch1d(MODULE, "binary_broadcast_f32", n, new KernelArgs().i32(op.ordinal()).i32(n).ptr(CudaOps.ptr(out))
                .ptr(CudaOps.ptr(a)).ptr(CudaOps.ptr(b)).struct(s));
        return out;
    }

    /**
     * Drops size-1 output axes and merges an axis into its inner neighbour when both operands step
     * through the pair as one axis. Returns {dims, stridesA, stridesB}, outermost first (at least one axis).
     */
    static int[][] simplify(int[] od, int[] as, int[] bs) {
        int r = od.length;
        int[] dims = new int[r];
        int[] sa = new int[r];
        int[] sb = new int[r];
        int q = 0;
        for (int i = r - 1; i >= 0; i--) {
            if (od[i] == 1) continue;
            if (q > 0 && as[i] == sa[q - 1] * dims[q - 1] && bs[i] == sb[q - 1] * dims[q - 1]) {
                dims[q - 1] *= od[i];
            } else {
                dims[q] = od[i];
                sa[q] = as[i];
                sb[q] = bs[i];
                q++;
            }
        }
        if (q == 0) return new int[][] {{1}, {0}, {0}};
        int[][] g = new int[3][q];
        for (int i = 0; i < q; i++) {
            g[0][i] = dims[q - 1 - i];
            g[1][i] = sa[q - 1 - i];
            g[2][i] = sb[q - 1 - i];
        }
        return g;
    }

    /**
     * Launches {@code <name>_f32} over n elements, or its float4 variant {@code <name>_vec4_f32}
     * when every operand is 16-byte aligned (the allocator's blocks are; offset views may not be).
     */
    private void launchRun(String name, int n, KernelArgs args, Tensor... operands) {
        boolean vec4 = CudaOps.aligned16(operands);
        ops.launchRun(MODULE, vec4 ? name + "_vec4_f32" : name + "_f32", vec4, n, args);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Equal shapes (any activation) take one pass, {@code add_act_f32}; broadcasts take the two ops.
     */
    @Override
    public Tensor addActivation(Tensor a, Tensor b, UnaryOp activation) {
        String name = "addActivation " + activation;
        ops.checkF32(name, "a", a);
        ops.checkF32(name, "b", b);
        if (!a.shape().equals(b.shape())) return ElementwiseKernels.super.addActivation(a, b, activation);
        Tensor out = ops.out(a.shape());
        int n = a.numel();
        launchRun("add_act", n, new KernelArgs().i32(activation.ordinal()).i32(n).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(a))
                .ptr(CudaOps.ptr(b)), out, a, b);
        return out;
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        ops.checkF32("unary " + op, "x", x);
        Tensor out = ops.out(x.shape());
        int n = x.numel();
        launchRun("unary", n, new KernelArgs().i32(op.ordinal()).i32(n).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(x)), out, x);
        return out;
    }

    /** Ops whose TensorFlow gradient is written in terms of the output y. */
    private static boolean usesY(UnaryOp op) {
        return switch (op) {
            case SIGMOID, TANH, EXP, SQRT, RSQRT, RECIPROCAL -> true;
            default -> false;
        };
    }

    /**
     * {@inheritDoc}
     *
     * <p>As on the CPU: only the tensor the formula needs must be given; a y-based op given only x
     * recomputes y; NEG needs neither.
     */
    @Override
    public Tensor unaryGrad(UnaryOp op, Tensor x, Tensor y, Tensor dy) {
        String name = "unaryGrad " + op;
        ops.checkF32(name, "dy", dy);
        for (Tensor t : new Tensor[] {x, y}) {
            if (t == null) continue;
            String arg = t == x ? "x" : "y";
            ops.checkF32(name, arg, t);
            if (!t.shape().equals(dy.shape())) {
                throw new IllegalArgumentException(name + ": " + arg + " shape " + t.shape() + " != dy shape " + dy.shape());
            }
        }
        Tensor src;
        Tensor recomputed = null;
        if (op == UnaryOp.NEG) {
            src = dy;
        } else if (usesY(op)) {
            if (y != null) {
                src = y;
            } else if (x != null) {
                recomputed = unary(op, x);
                src = recomputed;
            } else {
                throw new IllegalArgumentException(name + ": needs y (or x to recompute it); both are null (dy " + dy.shape() + ")");
            }
        } else {
            if (x == null) throw new IllegalArgumentException(name + ": needs x, which is null (dy " + dy.shape() + ")");
            src = x;
        }
        try {
            Tensor out = ops.out(dy.shape());
            int n = dy.numel();
            launchRun("unary_grad", n, new KernelArgs().i32(op.ordinal()).i32(n).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(src))
                    .ptr(CudaOps.ptr(dy)), out, src, dy);
            return out;
        } finally {
            // Safe right away: the block is reused only by work queued after the kernel above.
            if (recomputed != null) recomputed.close();
        }
    }

    @Override
    public Tensor affine(Tensor x, double scale, double shift) {
        ops.checkF32("affine", "x", x);
        Tensor out = ops.out(x.shape());
        int n = x.numel();
        ops.launch1d(MODULE, "affine_f32", n, new KernelArgs().i32(n).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(x)).f32(scale).f32(shift));
        return out;
    }

    @Override
    public Tensor pow(Tensor x, double exponent) {
        ops.checkF32("pow", "x", x);
        Tensor out = ops.out(x.shape());
        int n = x.numel();
        ops.launch1d(MODULE, "pow_f32", n, new KernelArgs().i32(n).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(x)).f32(exponent));
        return out;
    }

    @Override
    public void addInPlace(Tensor dst, Tensor src, double alpha) {
        ops.checkF32("addInPlace", "dst", dst);
        ops.checkF32("addInPlace", "src", src);
        if (!dst.shape().equals(src.shape())) {
            throw new IllegalArgumentException("addInPlace: src shape " + src.shape() + " != dst shape " + dst.shape());
        }
        int n = dst.numel();
        launchRun("axpy", n, new KernelArgs().i32(n).ptr(CudaOps.ptr(dst)).ptr(CudaOps.ptr(src)).f32(alpha), dst, src);
    }

    @Override
    public void movingAverageInPlace(Tensor moving, Tensor batch, double factor, double decay) {
        ops.checkF32("movingAverageInPlace", "moving", moving);
        ops.checkF32("movingAverageInPlace", "batch", batch);
        if (!moving.shape().equals(batch.shape())) {
            throw new IllegalArgumentException("movingAverageInPlace: batch shape " + batch.shape() + " != moving shape " + moving.shape());
        }
        int n = moving.numel();
        ops.launch1d(MODULE, "moving_average_f32", n, new KernelArgs().i32(n).ptr(CudaOps.ptr(moving)).ptr(CudaOps.ptr(batch)).f32(factor)
                .f32(-(1.0 - decay)));
    }

    @Override
    public void scaleInPlace(Tensor dst, double factor) {
        ops.checkF32("scaleInPlace", "dst", dst);
        int n = dst.numel();
        ops.launch1d(MODULE, "scale_f32", n, new KernelArgs().i32(n).ptr(CudaOps.ptr(dst)).f32(factor));
    }

    @Override
    public void fillInPlace(Tensor dst, double value) {
        ops.checkF32("fillInPlace", "dst", dst);
        int n = dst.numel();
        ops.launch1d(MODULE, "fill_f32", n, new KernelArgs().i32(n).ptr(CudaOps.ptr(dst)).f32(value));
    }
}
