package org.slim4j.autograd.ops;

import org.slim4j.autograd.Var;
import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Differentiable BiasAdd over the last axis. */
public final class BiasAddOps {
    private BiasAddOps() {
    }

    public static Var biasAdd(Var x, Var bias) {
        BiasAddKernels k = Backends.kernels(x.value(), BiasAddKernels.class);
        Tensor y = k.biasAdd(x.value(), bias.value());
        return Var.result(y, dy -> new Tensor[] {
            x.requiresGrad() ? dy.reshape(dy.shape()) : null,  // pass-through: a view of dy, no copy
            bias.requiresGrad() ? k.biasAddGrad(dy) : null}, x, bias);
    }
}
