package org.slim4j.cuda;

import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * BiasAdd over the last (channel) axis on the GPU: the forward pass is bias_add.cu; the gradient,
 * a column sum of dy viewed as [rows, C], runs on the deterministic reduction kernels of reduce.cu.
 */
final class CudaBiasAdd implements BiasAddKernels {
    private final CudaOps ops;
    private final CudaReduce reduce;

    CudaBiasAdd(CudaOps ops, CudaReduce reduce) {
        this.ops = ops;
        this.reduce = reduce;
    }

    @Override
    public Tensor biasAdd(Tensor x, Tensor bias) {
        ops.checkF32("biasAdd", "x", x);
        ops.checkF32("biasAdd", "bias", bias);
        if (x.rank() < 1) throw new IllegalArgumentException("biasAdd: x must have rank >= 1 (x " + x.shape() + ", bias " + bias.shape() + ")");
        int c = x.dim(-1);
        if (bias.rank() != 1 || bias.dim(0) != c) {
            throw new IllegalArgumentException("biasAdd: bias must be [" + c + "] to match the last axis of x (x " + x.shape()
                    + ", bias " + bias.shape() + ")");
        }
        Tensor out = ops.out(x.shape());
        int n = x.numel();
        ops.launch1d("bias_add", "bias_add_f32", n, new KernelArgs().i32(n).i32(c).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(x))
                .ptr(CudaOps.ptr(bias)));
        return out;
    }

    @Override
    public Tensor biasAddGrad(Tensor dy) {
        ops.checkF32("biasAddGrad", "dy", dy);
        if (dy.rank() < 1) throw new IllegalArgumentException("biasAddGrad: dy must have rank >= 1 (dy " + dy.shape() + ")");
        int c = dy.dim(-1);
        Tensor out = ops.out(Shape.of(c));
        boolean[] red = new boolean[dy.rank()];
        for (int i = 0; i < red.length - 1; i++) red[i] = true;
        reduce.sumInto(dy, red, out, false, 1.0);
        return out;
    }
}
