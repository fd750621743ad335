package org.slim4j.kernels;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** Dropout masks: the layer multiplies by the mask forward and backward. */
public interface DropoutKernels {
    /**
     * A mask of the given shape whose entries are 1/keepProb with probability keepProb and 0
     * otherwise (TF's inverted dropout), reproducible for a seed.
     */
    Tensor mask(Shape shape, DType dtype, double keepProb, long seed);
}
