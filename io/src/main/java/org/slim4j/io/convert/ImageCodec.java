package org.slim4j.io.convert;

import java.io.IOException;
import org.slim4j.io.image.ImageDecodeException;
import org.slim4j.io.image.ImageDecoder;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.image.ImageFormat;
import org.slim4j.tensor.Tensor;

/**
 * The image operations the converters and the input pipeline need, on top of
 * {@link ImageDecoder} / {@link ImageEncoder}: decode with errors as IOExceptions naming the file,
 * PNG encoding of raw pixels, and build_imagenet_data's clean-up of PNG and CMYK files (recognised
 * by their bytes: the PNG signature, a JPEG frame with 4 components).
 */
public final class ImageCodec {
    private ImageCodec() {
    }

    /** PNG of {@code h*w*c} HWC bytes at {@code offset}. */
    public static byte[] encodePng(byte[] pixels, int offset, int h, int w, int c) {
        return ImageEncoder.png(pixels, offset, h, w, c);
    }

    /**
     * Decodes {@code data} (JPEG or PNG, by its bytes) to UINT8 [H, W, channels] (0: as encoded).
     *
     * @throws ImageDecodeException naming {@code source} when it does not decode
     */
    public static Tensor decode(byte[] data, int channels, String source) {
        return ImageDecoder.decode(data, channels, source);
    }

    /** Fully decodes {@code data} to RGB, as TF-Slim's converters do to validate it; returns {height, width, 3}. */
    public static int[] dimensions(byte[] data, String source) throws IOException {
        try (Tensor t = ImageDecoder.decode(data, 3, source)) {
            return t.dims();
        } catch (ImageDecodeException e) {
            throw new IOException("undecodable image " + e.getMessage(), e);
        }
    }

    public static boolean isPng(byte[] data) {
        return ImageFormat.sniff(data) == ImageFormat.PNG;
    }

    /** Whether {@code data} is a JPEG whose frame header (SOF) declares 4 components (CMYK / YCCK). */
    public static boolean isCmykJpeg(byte[] data) {
        if (ImageFormat.sniff(data) != ImageFormat.JPEG) return false;
        int p = 2;
        while (p + 4 <= data.length) {
            if ((data[p] & 0xff) != 0xff) return false; // lost sync: not our business here
            int marker = data[p + 1] & 0xff;
            if (marker == 0xff) { // fill byte
                p++;
                continue;
            }
            if (marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01) {
                p += 2;
                continue;
            }
            if (marker == 0xd9 || marker == 0xda) return false; // end of image / start of scan before any frame
            int len = ((data[p + 2] & 0xff) << 8) | (data[p + 3] & 0xff);
            boolean sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
            if (sof) return p + 9 < data.length && (data[p + 9] & 0xff) == 4;
            if (len < 2) return false;
            p += 2 + len;
        }
        return false;
    }

    /** Decodes any JPEG/PNG (CMYK included) and re-encodes it as an RGB JPEG at quality 100. */
    public static byte[] toRgbJpeg(byte[] data, String source) throws IOException {
        try (Tensor rgb = ImageDecoder.decode(data, 3, source)) {
            return ImageEncoder.jpeg(rgb, 100);
        } catch (ImageDecodeException e) {
            throw new IOException("undecodable image " + e.getMessage(), e);
        }
    }
}
