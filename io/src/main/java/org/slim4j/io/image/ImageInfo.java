package org.slim4j.io.image;

/**
 * What an encoded image's header says, without decoding its pixels.
 *
 * @param format   the format found by its magic bytes
 * @param height   rows
 * @param width    columns
 * @param channels the channel count a decode with {@code channels = 0} gives (TensorFlow's rule:
 *                 JPEG min(components, 3); PNG gray 1, gray+alpha 2, RGB 3, RGBA 4, palette 3 or
 *                 4 with a tRNS chunk)
 * @param bitDepth bits per sample in the file (JPEG 8; PNG 1, 2, 4, 8 or 16)
 */
public record ImageInfo(ImageFormat format, int height, int width, int channels, int bitDepth) {
}
