package org.slim4j.kernels;

/**
 * How ResizeBilinear maps output to input coordinates.
 * LEGACY (TF1 and TF-Slim default: align_corners=false, half_pixel_centers=false): src = dst * in/out.
 * HALF_PIXEL: src = (dst + 0.5) * in/out - 0.5. ALIGN_CORNERS: src = dst * (in-1)/(out-1).
 */
public enum ResizeMode {
    LEGACY,
    HALF_PIXEL,
    ALIGN_CORNERS
}
