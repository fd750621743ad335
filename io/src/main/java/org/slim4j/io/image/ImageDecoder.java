package org.slim4j.io.image;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/**
 * Decodes encoded images (as stored in {@code image/encoded}) into HWC tensors the way
 * TensorFlow's {@code decode_jpeg} / {@code decode_png} / {@code decode_image} do: a UINT8 tensor
 * [height, width, channels], rows top to bottom, channels RGB(A) or gray.
 *
 * <p>The format is judged by the data's magic bytes, never by a declared format: TensorFlow's
 * decode ops all sniff, so a PNG labelled "jpeg" (one ImageNet training image is) decodes as the PNG
 * it is. {@code channels} follows TensorFlow: 0 keeps the image's own count (JPEG min(components, 3),
 * PNG gray 1 / gray+alpha 2 / RGB 3 / RGBA 4 / palette 3 or 4), 1 gray, 3 RGB, 4 RGBA (PNG only).
 * TF-Slim's decoders ask for 3 (1 for MNIST).
 *
 * <p>PNG pixels are exactly TensorFlow's ({@link PngDecoder}); JPEG pixels are those of
 * TensorFlow's {@code dct_method="INTEGER_ACCURATE"} decode, including grayscale and CMYK/YCCK
 * (Adobe) JPEGs ({@link JpegDecoder}). Bad data of any kind ends in an {@link ImageDecodeException}
 * naming the source; sizes are capped as in TensorFlow, so hostile headers cannot exhaust memory.
 *
 * <p>Thread-safe; decoding state is per thread.
 */
public final class ImageDecoder {
    /** float32(1/255): the factor of tf.image.convert_image_dtype(uint8 → float32). */
    public static final float UINT8_TO_FLOAT = (float) (1.0 / 255.0);

    private ImageDecoder() {
    }

    /** Decodes to 3 channels (RGB), TF-Slim's default. */
    public static Tensor decode(byte[] data) {
        return decode(data, 3, "image");
    }

    public static Tensor decode(byte[] data, int channels) {
        return decode(data, channels, "image");
    }

    /**
     * Decodes {@code data} to a UINT8 tensor [height, width, channels].
     *
     * @param channels 0 (the image's own), 1, 3 or 4
     * @param source   names the image in error messages, e.g. "FILE record 12 (byte offset 3456)"
     * @throws ImageDecodeException when the data is not a decodable JPEG or PNG
     */
    public static Tensor decode(byte[] data, int channels, String source) {
        checkChannels(channels);
        return switch (format(data, source)) {
            case JPEG -> JpegDecoder.decode(data, channels, source);
            case PNG -> PngDecoder.decode(data, channels, source);
            default -> throw new IllegalStateException("unreachable");
        };
    }

    /** {@link #decode(byte[], int, String)} with the source given as a file and record index. */
    public static Tensor decode(byte[] data, int channels, Object file, long recordIndex) {
        return decode(data, channels, file + " record " + recordIndex);
    }

    /**
     * Decodes to FLOAT32 in [0, 1]: the UINT8 pixels times float32(1/255), exactly what
     * {@code tf.image.convert_image_dtype(image, tf.float32)} gives.
     */
    public static Tensor decodeFloat(byte[] data, int channels, String source) {
        try (Tensor u8 = decode(data, channels, source)) {
            Tensor f = Tensor.zeros(DType.FLOAT32, u8.shape());
            byte[] in = u8.byteData();
            float[] out = f.floatData();
            int io = u8.offset(), oo = f.offset();
            for (int i = 0, n = u8.numel(); i < n; i++) out[oo + i] = (in[io + i] & 0xff) * UINT8_TO_FLOAT;
            return f;
        }
    }

    /** Format, size and channel count from the header, without decoding pixels. */
    public static ImageInfo info(byte[] data, String source) {
        return switch (format(data, source)) {
            case JPEG -> JpegDecoder.info(data, source);
            case PNG -> PngDecoder.info(data, source);
            default -> throw new IllegalStateException("unreachable");
        };
    }

    /** The format by magic bytes (UNKNOWN for anything else, including empty data). */
    public static ImageFormat format(byte[] data) {
        return ImageFormat.sniff(data);
    }

    private static ImageFormat format(byte[] data, String source) {
        if (data == null || data.length == 0) throw new ImageDecodeException(source, "empty image data");
        ImageFormat f = ImageFormat.sniff(data);
        return switch (f) {
            case JPEG, PNG -> f;
            case GIF, BMP -> throw new ImageDecodeException(source, f + " images are not supported (JPEG and PNG are)");
            default -> throw new ImageDecodeException(source, "unknown image format (first bytes " + firstBytes(data)
                    + "; expected JPEG FF D8 FF or PNG 89 50 4E 47)");
        };
    }

    private static void checkChannels(int channels) {
        if (channels != 0 && channels != 1 && channels != 3 && channels != 4) {
            throw new IllegalArgumentException("channels must be 0 (as in the image), 1, 3 or 4 (as in TensorFlow), not " + channels);
        }
    }

    private static String firstBytes(byte[] d) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, d.length); i++) {
            if (i > 0) sb.append(' ');
            sb.append(String.format("%02X", d[i] & 0xff));
        }
        return sb.toString();
    }
}
