package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/**
 * Fused batch normalisation over the last (channel) axis, TensorFlow's FusedBatchNormV3
 * semantics: y = scale * (x - mean) / sqrt(var + epsilon) + offset. A null scale means 1 and a
 * null offset means 0 (slim's scale=False / center=False).
 */
public interface BatchNormKernels {
    /** Training-mode result: y, the batch mean and the biased (divide-by-N) batch variance, each [C]. */
    record Training(Tensor y, Tensor mean, Tensor variance) {
    }

    /** Gradients; dscale/doffset are always computed (the caller drops what it does not need). */
    record Grads(Tensor dx, Tensor dscale, Tensor doffset) {
    }

    /** Normalises with the batch statistics (biased variance). */
    Training trainingForward(Tensor x, Tensor scale, Tensor offset, float epsilon);

    /** Normalises with given (moving) statistics. */
    Tensor inferenceForward(Tensor x, Tensor scale, Tensor offset, Tensor mean, Tensor variance, float epsilon);

    /** Backward of trainingForward given its saved batch mean and biased variance. */
    Grads trainingBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon);

    /** Backward of inferenceForward (statistics are constants). */
    Grads inferenceBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon);
}
