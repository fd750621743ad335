package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/** Softmax family over the last axis of a [N, C] (or any rank, last axis = classes) tensor. */
public interface SoftmaxKernels {
    /** Per-row loss [N] and its gradient w.r.t. the logits [N, C] (TF returns both together). */
    record CrossEntropy(Tensor loss, Tensor backprop) {
    }

    Tensor softmax(Tensor logits);

    Tensor logSoftmax(Tensor logits);

    /** -sum(labels * log_softmax(logits)); labels are a probability row per example (already smoothed). */
    CrossEntropy softmaxCrossEntropy(Tensor logits, Tensor labels);

    /** Same with integer class labels [N] (int32 or int64); out-of-range labels are an error. */
    CrossEntropy sparseSoftmaxCrossEntropy(Tensor logits, Tensor labels);
}
