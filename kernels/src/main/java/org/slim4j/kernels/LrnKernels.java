package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/** Local response normalisation across the last axis (TensorFlow's LRN and LRNGrad). */
public interface LrnKernels {
    Tensor lrn(Tensor input, LrnSpec spec);

    Tensor lrnGrad(Tensor input, Tensor output, Tensor dy, LrnSpec spec);
}
