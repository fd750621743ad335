package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/**
 * Inference-mode fused depthwise convolution: y = act(depthwise_conv2d(x, W) * scale + shift), the
 * scale and shift per output channel (in * multiplier of them); input NHWC, filter
 * [kh, kw, in, multiplier], output NHWC, as {@link DepthwiseConvKernels}. MobileNet's depthwise
 * layers with an inference batch norm fold it in as in {@link FusedConvKernels}. A null scale
 * means 1 and a null shift means 0.
 */
public interface FusedDepthwiseConvKernels {
    Tensor depthwiseConv2dScaleShift(Tensor input, Tensor filter, Tensor scale, Tensor shift, Conv2dSpec spec,
                                     FusedConvKernels.Activation activation);
}
