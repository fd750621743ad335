package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/** BiasAdd over the last (channel) axis and its gradient. */
public interface BiasAddKernels {
    /** x[..., c] + bias[c]. */
    Tensor biasAdd(Tensor x, Tensor bias);

    /** Sum of dy over every axis but the last: the bias gradient, shape [C]. */
    Tensor biasAddGrad(Tensor dy);
}
