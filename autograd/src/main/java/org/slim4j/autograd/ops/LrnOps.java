package org.slim4j.autograd.ops;

import org.slim4j.autograd.Var;
import org.slim4j.kernels.LrnKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Differentiable local response normalisation. */
public final class LrnOps {
    private LrnOps() {
    }

    public static Var lrn(Var x, LrnSpec spec) {
        LrnKernels k = Backends.kernels(x.value(), LrnKernels.class);
        Tensor y = k.lrn(x.value(), spec);
        return Var.result(y, dy -> new Tensor[] {k.lrnGrad(x.value(), y, dy, spec)}, x);
    }
}
