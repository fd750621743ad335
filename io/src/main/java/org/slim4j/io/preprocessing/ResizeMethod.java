package org.slim4j.io.preprocessing;

/**
 * TF1's {@code tf.image.ResizeMethod}, in its order (inception's non-fast training mode picks one
 * uniformly by index). All four use TF1's legacy coordinates: align_corners = false,
 * half_pixel_centers = false, source = destination * in / out.
 */
public enum ResizeMethod {
    BILINEAR,
    NEAREST_NEIGHBOR,
    BICUBIC,
    AREA
}
