package org.slim4j.autograd.ops;

import org.slim4j.autograd.Var;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Differentiable max and average pooling (NHWC). */
public final class PoolOps {
    private PoolOps() {
    }

    public static Var maxPool(Var x, PoolSpec spec) {
        PoolKernels k = Backends.kernels(x.value(), PoolKernels.class);
        Tensor y = k.maxPool(x.value(), spec);
        return Var.result(y, dy -> new Tensor[] {k.maxPoolGrad(x.value(), y, dy, spec)}, x);
    }

    public static Var avgPool(Var x, PoolSpec spec) {
        PoolKernels k = Backends.kernels(x.value(), PoolKernels.class);
        Tensor y = k.avgPool(x.value(), spec);
        return Var.result(y, dy -> new Tensor[] {k.avgPoolGrad(x.value().shape(), dy, spec)}, x);
    }
}
