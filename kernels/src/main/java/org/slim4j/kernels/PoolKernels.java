package org.slim4j.kernels;

import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Max and average pooling, NHWC. Max pool treats padding as -infinity; average pool divides by the
 * number of in-bounds cells of each window (padding is not counted), as TensorFlow does.
 */
public interface PoolKernels {
    Tensor maxPool(Tensor input, PoolSpec spec);

    /** TF's MaxPoolGrad: dy flows to the first maximum of each window (row-major scan order). */
    Tensor maxPoolGrad(Tensor input, Tensor output, Tensor dy, PoolSpec spec);

    Tensor avgPool(Tensor input, PoolSpec spec);

    Tensor avgPoolGrad(Shape inputShape, Tensor dy, PoolSpec spec);
}
