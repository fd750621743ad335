package org.slim4j.autograd.ops;

import org.slim4j.autograd.Var;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Differentiable 2-D matrix product C = op(A) op(B). */
public final class MatMulOps {
    private MatMulOps() {
    }

    public static Var matmul(Var a, Var b) {
        return matmul(a, b, false, false);
    }

    public static Var matmul(Var a, Var b, boolean transposeA, boolean transposeB) {
        MatMulKernels k = Backends.kernels(a.value(), MatMulKernels.class);
        Tensor y = k.matmul(a.value(), b.value(), transposeA, transposeB);
        return Var.result(y, dy -> {
            Tensor av = a.value();
            Tensor bv = b.value();
            Tensor da = null;
            Tensor db = null;
            // Each case is the product rule written back in the operands' stored orientation.
            if (!transposeA && !transposeB) {
                if (a.requiresGrad()) da = k.matmul(dy, bv, false, true);
                if (b.requiresGrad()) db = k.matmul(av, dy, true, false);
            } else if (transposeA && !transposeB) {
                if (a.requiresGrad()) da = k.matmul(bv, dy, false, true);
                if (b.requiresGrad()) db = k.matmul(av, dy, false, false);
            } else if (!transposeA) {
                if (a.requiresGrad()) da = k.matmul(dy, bv, false, false);
                if (b.requiresGrad()) db = k.matmul(dy, av, true, false);
            } else {
                if (a.requiresGrad()) da = k.matmul(bv, dy, true, true);
                if (b.requiresGrad()) db = k.matmul(dy, av, true, true);
            }
            return new Tensor[] {da, db};
        }, a, b);
    }
}
