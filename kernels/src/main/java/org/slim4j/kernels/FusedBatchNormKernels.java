package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/**
 * Training-mode batch normalisation followed by its layer's activation, y = act(z) with
 * z = scale * (x - mean) / sqrt(var + epsilon) + offset over the last (channel) axis, as
 * {@link BatchNormKernels} with the activation applied in the same pass. Its backward masks dy
 * where the activation is flat while it forms the batch-norm sums, so neither z nor the masked
 * gradient is ever stored: a conv -> batch_norm -> relu layer reads and writes its activations
 * two times fewer each way than the two ops in a row.
 */
public interface FusedBatchNormKernels {
    /**
     * y, the batch mean and biased variance (each [C], as {@link BatchNormKernels.Training}), and
     * {@code affine}: the exact per-channel constants z was computed from (layout up to the
     * backend), which the backward needs to find the activation's flat regions bit for bit.
     */
    record Training(Tensor y, Tensor mean, Tensor variance, Tensor affine) {
    }

    /** y = act(batch_norm(x)) with the batch statistics. */
    Training trainingForward(Tensor x, Tensor scale, Tensor offset, float epsilon, FusedConvKernels.Activation activation);

    /**
     * Gradients of {@link #trainingForward} for dy = dL/dy, given its x, mean, variance and affine:
     * the batch-norm gradients of dy masked by act'(z).
     */
    BatchNormKernels.Grads trainingBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, Tensor affine,
                                            float epsilon, FusedConvKernels.Activation activation);
}
