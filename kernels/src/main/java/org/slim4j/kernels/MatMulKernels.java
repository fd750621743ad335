package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/** 2-D matrix products. float32 (fast) and float64 (reference) inputs, both operands one dtype. */
public interface MatMulKernels {
    /** op(a) x op(b), where op transposes when the flag is set. a: [M,K] (or [K,M]), b: [K,N] (or [N,K]). */
    Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB);
}
