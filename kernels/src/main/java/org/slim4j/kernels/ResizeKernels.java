package org.slim4j.kernels;

import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** Bilinear resizing and TF's CropAndResize, NHWC. Inputs float32, float64 or uint8; outputs float. */
public interface ResizeKernels {
    Tensor resizeBilinear(Tensor images, int outHeight, int outWidth, ResizeMode mode);

    /** Gradient w.r.t. the (float) images of shape {@code imageShape}. */
    Tensor resizeBilinearGrad(Tensor dy, Shape imageShape, ResizeMode mode);

    /**
     * TF's CropAndResize (bilinear): boxes [B, 4] as normalised (y1, x1, y2, x2), boxIndex [B] int32,
     * output [B, cropH, cropW, C]; samples outside the image take {@code extrapolationValue}.
     */
    Tensor cropAndResize(Tensor images, Tensor boxes, Tensor boxIndex, int cropHeight, int cropWidth, float extrapolationValue);
}
