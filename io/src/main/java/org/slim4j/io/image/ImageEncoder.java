package org.slim4j.io.image;

import java.io.ByteArrayOutputStream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/**
 * Encodes UINT8 images for the dataset converters, as TensorFlow's {@code encode_png} /
 * {@code encode_jpeg} are used by TF-Slim's download_and_convert scripts.
 *
 * <p>PNG: 8-bit gray (1 channel), gray+alpha (2), RGB (3) or RGBA (4), not interlaced, zlib level 6
 * (TensorFlow's default), each row filtered with the filter that minimises the sum of absolute
 * differences (libpng's heuristic). The bytes differ from libpng's, the pixels read back are
 * identical. JPEG: through the JDK's libjpeg-based writer (4:2:0 YCbCr, or gray), as TensorFlow's
 * {@code encode_jpeg} with its default chroma downsampling ({@link JdkJpegWriter}, kept apart so
 * that PNG encoding runs on a Java runtime without the java.desktop module).
 */
public final class ImageEncoder {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

    private ImageEncoder() {
    }

    /** PNG of a UINT8 tensor [height, width, channels] (channels 1..4) or [height, width] (gray). */
    public static byte[] png(Tensor image) {
        int[] hwc = hwc(image, "png", 4);
        return png(image.byteData(), image.offset(), hwc[0], hwc[1], hwc[2]);
    }

    /** PNG of {@code height*width*channels} row-major HWC bytes starting at {@code offset}. */
    public static byte[] png(byte[] pixels, int offset, int height, int width, int channels) {
        if (channels < 1 || channels > 4) throw new IllegalArgumentException("png: channels must be 1..4, not " + channels);
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("png: empty image " + height + "x" + width);
        long need = (long) height * width * channels;
        if (offset < 0 || offset + need > pixels.length) {
            throw new IllegalArgumentException("png: " + height + "x" + width + "x" + channels + " image needs " + need
                    + " bytes from offset " + offset + ", the array has " + pixels.length);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8, need / 2 + 64));
        out.writeBytes(SIGNATURE);
        byte[] ihdr = new byte[13];
        putBe32(ihdr, 0, width);
        putBe32(ihdr, 4, height);
        ihdr[8] = 8;
        ihdr[9] = (byte) switch (channels) {
            case 1 -> 0;
            case 2 -> 4;
            case 3 -> 2;
            default -> 6;
        };
        chunk(out, "IHDR", ihdr, ihdr.length);
        chunk(out, "IDAT", compressRows(pixels, offset, height, width, channels), -1);
        chunk(out, "IEND", new byte[0], 0);
        return out.toByteArray();
    }

    /** JPEG of a UINT8 tensor [height, width, 3] (RGB) or [height, width, 1] / [height, width] (gray); quality 1..100. */
    public static byte[] jpeg(Tensor image, int quality) {
        int[] hwc = hwc(image, "jpeg", 3);
        int h = hwc[0], w = hwc[1], c = hwc[2];
        if (c != 1 && c != 3) throw new IllegalArgumentException("jpeg: channels must be 1 or 3, not " + c + " (shape " + image.shape() + ")");
        if (quality < 1 || quality > 100) throw new IllegalArgumentException("jpeg: quality must be in 1..100, not " + quality);
        return JdkJpegWriter.encode(image.byteData(), image.offset(), h, w, c, quality);
    }

    private static int[] hwc(Tensor image, String op, int maxChannels) {
        if (image.dtype() != DType.UINT8) throw new IllegalArgumentException(op + ": image must be uint8, not " + image.dtype().tfName());
        int[] d = image.dims();
        if (d.length == 2) return new int[] {d[0], d[1], 1};
        if (d.length != 3 || d[2] < 1 || d[2] > maxChannels) {
            throw new IllegalArgumentException(op + ": image must be [height, width, 1.." + maxChannels + "] or [height, width], not " + image.shape());
        }
        return d;
    }

    private static byte[] compressRows(byte[] px, int offset, int height, int width, int channels) {
        int rb = width * channels;
        byte[] prev = new byte[rb];
        byte[][] cand = new byte[5][rb + 1];
        Deflater deflater = new Deflater(6);
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        byte[] zbuf = new byte[1 << 15];
        try {
            for (int y = 0; y < height; y++) {
                int row = offset + y * rb;
                byte[] best = null;
                long bestScore = Long.MAX_VALUE;
                for (int f = 0; f < 5; f++) {
                    byte[] c = cand[f];
                    c[0] = (byte) f;
                    long score = 0;
                    for (int i = 0; i < rb; i++) {
                        int x = px[row + i] & 0xff;
                        int a = i >= channels ? px[row + i - channels] & 0xff : 0;
                        int b = prev[i] & 0xff;
                        int cc = i >= channels ? prev[i - channels] & 0xff : 0;
                        int pred = switch (f) {
                            case 0 -> 0;
                            case 1 -> a;
                            case 2 -> b;
                            case 3 -> (a + b) >>> 1;
                            default -> paeth(a, b, cc);
                        };
                        byte v = (byte) (x - pred);
                        c[1 + i] = v;
                        score += Math.abs(v);
                    }
                    if (score < bestScore) {
                        bestScore = score;
                        best = c;
                    }
                }
                deflater.setInput(best, 0, rb + 1);
                while (!deflater.needsInput()) z.write(zbuf, 0, deflater.deflate(zbuf));
                System.arraycopy(px, row, prev, 0, rb);
            }
            deflater.finish();
            while (!deflater.finished()) z.write(zbuf, 0, deflater.deflate(zbuf));
        } finally {
            deflater.end();
        }
        return z.toByteArray();
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data, int len) {
        if (len < 0) len = data.length;
        byte[] head = new byte[8];
        putBe32(head, 0, len);
        for (int i = 0; i < 4; i++) head[4 + i] = (byte) type.charAt(i);
        CRC32 crc = new CRC32();
        crc.update(head, 4, 4);
        crc.update(data, 0, len);
        byte[] tail = new byte[4];
        putBe32(tail, 0, (int) crc.getValue());
        out.write(head, 0, 8);
        out.write(data, 0, len);
        out.write(tail, 0, 4);
    }

    private static void putBe32(byte[] b, int p, int v) {
        b[p] = (byte) (v >>> 24);
        b[p + 1] = (byte) (v >>> 16);
        b[p + 2] = (byte) (v >>> 8);
        b[p + 3] = (byte) v;
    }
}
