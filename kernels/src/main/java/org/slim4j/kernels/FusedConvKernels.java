package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/**
 * Inference-mode fused convolution: y = act(conv2d(x, W) * scale + shift), the scale and shift per
 * output channel; input NHWC, filter HWIO [kh, kw, in, out], output NHWC, as {@link ConvKernels}.
 * A convolution with a bias is {@code scale = null, shift = bias}; one followed by inference batch
 * norm folds it in as {@code scale = gamma / sqrt(variance + epsilon)},
 * {@code shift = beta - mean * scale}. A null scale means 1 and a null shift means 0.
 */
public interface FusedConvKernels {
    /** The activation applied last. */
    enum Activation {
        NONE, RELU, RELU6
    }

    Tensor conv2dScaleShift(Tensor input, Tensor filter, Tensor scale, Tensor shift, Conv2dSpec spec, Activation activation);
}
