package org.slim4j.kernels;

import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Depthwise 2-D convolution (TF's DepthwiseConv2dNative): input NHWC, filter [kh, kw, C, M],
 * output NHWC with C*M channels, output channel c*M + m.
 */
public interface DepthwiseConvKernels {
    Tensor depthwiseConv2d(Tensor input, Tensor filter, Conv2dSpec spec);

    Tensor depthwiseConv2dBackpropInput(Shape inputShape, Tensor filter, Tensor dy, Conv2dSpec spec);

    Tensor depthwiseConv2dBackpropFilter(Tensor input, Shape filterShape, Tensor dy, Conv2dSpec spec);
}
