package org.slim4j.kernels;

import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** Regular 2-D convolution, input NHWC, filter HWIO [kh, kw, in, out], output NHWC. */
public interface ConvKernels {
    Tensor conv2d(Tensor input, Tensor filter, Conv2dSpec spec);

    /** Gradient w.r.t. the input (TF's Conv2DBackpropInput); result has {@code inputShape}. */
    Tensor conv2dBackpropInput(Shape inputShape, Tensor filter, Tensor dy, Conv2dSpec spec);

    /** Gradient w.r.t. the filter (TF's Conv2DBackpropFilter); result has {@code filterShape}. */
    Tensor conv2dBackpropFilter(Tensor input, Shape filterShape, Tensor dy, Conv2dSpec spec);
}
