package org.slim4j.kernels.cpu;

import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.FusedBatchNormKernels;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.tensor.Tensor;

/**
 * Training batch norm with its layer's relu / relu6 on the CPU: {@link BatchNormCpu}'s two
 * passes each way, the forward clamping as it normalises, the backward masking dy as it reads
 * it. float32 {@code affine} is [4, C]: the forward's per-channel m, mLo, a, b (z = (x - m - mLo)
 * * a + b); float64 {@code affine} is the offset [C] (the reference recomputes z in double).
 */
public final class FusedBatchNormCpu implements FusedBatchNormKernels {
    @Override
    public Training trainingForward(Tensor x, Tensor scale, Tensor offset, float epsilon, Activation activation) {
        if (activation == null) throw new IllegalArgumentException("fusedBatchNorm trainingForward: activation is null (use NONE)");
        return BatchNormCpu.training("fusedBatchNorm trainingForward", x, scale, offset, epsilon, activation);
    }

    @Override
    public BatchNormKernels.Grads trainingBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, Tensor affine,
                                                   float epsilon, Activation activation) {
        if (activation == null) throw new IllegalArgumentException("fusedBatchNorm trainingBackward: activation is null (use NONE)");
        return BatchNormCpu.trainingGrads("fusedBatchNorm trainingBackward", dy, x, scale, mean, variance, affine, epsilon, activation);
    }
}
