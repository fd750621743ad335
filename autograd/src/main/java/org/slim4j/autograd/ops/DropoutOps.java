package org.slim4j.autograd.ops;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.DropoutKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Inverted dropout: keeps each element with probability keepProb and scales it by 1/keepProb. */
public final class DropoutOps {
    private DropoutOps() {
    }

    public static Var dropout(Var x, double keepProb, long seed) {
        if (!(keepProb > 0 && keepProb <= 1)) throw new IllegalArgumentException("dropout keep_prob must be in (0, 1], got " + keepProb);
        if (keepProb == 1) return x;
        Tensor v = x.value();
        Tensor mask = Backends.kernels(v, DropoutKernels.class).mask(v.shape(), v.dtype(), keepProb, seed);
        ElementwiseKernels ew = Backends.kernels(v, ElementwiseKernels.class);
        Tensor y = ew.binary(BinaryOp.MUL, v, mask);
        return Var.result(y, dy -> new Tensor[] {ew.binary(BinaryOp.MUL, dy, mask)}, List.of(mask), x);
    }
}
