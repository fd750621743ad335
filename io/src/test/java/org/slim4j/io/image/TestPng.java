package org.slim4j.io.image;

import java.io.ByteArrayOutputStream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes PNG files of any color type, bit depth and interlacing from given samples, with chosen
 * row filters, palette and tRNS chunks, and IDAT split into small chunks: test inputs for the
 * decoder, independent of {@link ImageEncoder}. Also computes what TensorFlow's DecodePng gives for
 * them, straight from the samples.
 */
final class TestPng {
    static final int[][] ADAM7 = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

    int width;
    int height;
    int bitDepth;
    int colorType;
    boolean interlace;
    /** File samples, row-major, channels of the color type per pixel (palette: indices). */
    int[] samples;
    /** RGB triples, palette images only. */
    int[] palette;
    /** Palette alphas (palette images), or the transparent gray / RGB value. Null: no tRNS chunk. */
    int[] trns;
    /** Row filter type 0..4, or -1 to cycle through them. */
    int filter = -1;
    int idatChunkSize = 37;

    static int fileChannels(int colorType) {
        return switch (colorType) {
            case 0, 3 -> 1;
            case 4 -> 2;
            case 2 -> 3;
            default -> 4;
        };
    }

    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        byte[] ihdr = new byte[13];
        be32(ihdr, 0, width);
        be32(ihdr, 4, height);
        ihdr[8] = (byte) bitDepth;
        ihdr[9] = (byte) colorType;
        ihdr[12] = (byte) (interlace ? 1 : 0);
        chunk(out, "IHDR", ihdr);
        chunk(out, "tEXt", "Comment\0test".getBytes());
        if (palette != null) {
            byte[] p = new byte[palette.length];
            for (int i = 0; i < p.length; i++) p[i] = (byte) palette[i];
            chunk(out, "PLTE", p);
        }
        if (trns != null) {
            byte[] t;
            if (colorType == 3) {
                t = new byte[trns.length];
                for (int i = 0; i < t.length; i++) t[i] = (byte) trns[i];
            } else {
                t = new byte[2 * trns.length];
                for (int i = 0; i < trns.length; i++) {
                    t[2 * i] = (byte) (trns[i] >> 8);
                    t[2 * i + 1] = (byte) trns[i];
                }
            }
            chunk(out, "tRNS", t);
        }
        byte[] z = deflate(rawImage());
        for (int p = 0; p < z.length; p += idatChunkSize) {
            byte[] part = java.util.Arrays.copyOfRange(z, p, Math.min(z.length, p + idatChunkSize));
            chunk(out, "IDAT", part);
        }
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    /** The filtered scanlines (all passes when interlaced). */
    byte[] rawImage() {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        if (!interlace) {
            subImage(raw, 0, 0, 1, 1);
        } else {
            for (int[] a : ADAM7) subImage(raw, a[0], a[1], a[2], a[3]);
        }
        return raw.toByteArray();
    }

    private void subImage(ByteArrayOutputStream raw, int x0, int y0, int dx, int dy) {
        int ch = fileChannels(colorType);
        int pw = width > x0 ? (width - x0 + dx - 1) / dx : 0;
        int ph = height > y0 ? (height - y0 + dy - 1) / dy : 0;
        if (pw == 0 || ph == 0) return;
        int rb = (pw * ch * bitDepth + 7) / 8;
        int bpp = Math.max(1, ch * bitDepth / 8);
        byte[] prev = new byte[rb];
        for (int r = 0; r < ph; r++) {
            int y = y0 + r * dy;
            byte[] row = new byte[rb];
            int bit = 0;
            for (int i = 0; i < pw; i++) {
                int x = x0 + i * dx;
                for (int c = 0; c < ch; c++) {
                    int v = samples[(y * width + x) * ch + c];
                    if (bitDepth == 16) {
                        row[bit / 8] = (byte) (v >> 8);
                        row[bit / 8 + 1] = (byte) v;
                    } else if (bitDepth == 8) {
                        row[bit / 8] = (byte) v;
                    } else {
                        row[bit / 8] |= (byte) (v << (8 - bitDepth - bit % 8));
                    }
                    bit += bitDepth;
                }
            }
            int f = filter >= 0 ? filter : (y + x0) % 5;
            raw.write(f);
            for (int i = 0; i < rb; i++) {
                int a = i >= bpp ? row[i - bpp] & 0xff : 0;
                int b = prev[i] & 0xff;
                int c = i >= bpp ? prev[i - bpp] & 0xff : 0;
                int pred = switch (f) {
                    case 0 -> 0;
                    case 1 -> a;
                    case 2 -> b;
                    case 3 -> (a + b) / 2;
                    default -> {
                        int p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
                        yield pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                    }
                };
                raw.write((row[i] - pred) & 0xff);
            }
            prev = row;
        }
    }

    /**
     * TensorFlow's DecodePng output for {@code channels} (0 = automatic), computed from the
     * samples by the rules of TensorFlow's png_io.cc and libpng's transformations.
     */
    int[] expected(int channels) {
        boolean pal = colorType == 3;
        int c = channels != 0 ? channels : pal ? (trns != null ? 4 : 3) : fileChannels(colorType);
        boolean wantAlpha = c % 2 == 0;
        int ch = fileChannels(colorType);
        int max = bitDepth == 16 ? 65535 : 255;
        int[] out = new int[width * height * c];
        for (int p = 0; p < width * height; p++) {
            int[] s = new int[ch];
            System.arraycopy(samples, p * ch, s, 0, ch);
            int r, g, b;
            Integer a = null;
            boolean color = (colorType & 2) != 0;
            boolean wide = bitDepth == 16;
            if (pal) {
                int idx = s[0];
                boolean in = 3 * idx + 2 < palette.length;
                r = in ? palette[3 * idx] : 0;
                g = in ? palette[3 * idx + 1] : 0;
                b = in ? palette[3 * idx + 2] : 0;
                if (trns != null) a = idx < trns.length ? trns[idx] : 255;
                wide = false;
            } else if (colorType == 0 || colorType == 4) {
                int v = s[0];
                int scaled = bitDepth < 8 ? v * 255 / ((1 << bitDepth) - 1) : v;
                r = g = b = scaled;
                if (colorType == 4) a = s[1];
                else if (trns != null && wantAlpha) a = v == trns[0] ? 0 : (bitDepth < 8 ? 255 : max);
            } else {
                r = s[0];
                g = s[1];
                b = s[2];
                if (colorType == 6) a = s[3];
                else if (trns != null && wantAlpha) a = r == trns[0] && g == trns[1] && b == trns[2] ? 0 : max;
            }
            int shift = wide ? 8 : 0;
            int[] px;
            if (c < 3) {
                int gray;
                if (!color) gray = r;
                else if (wide) gray = (9797 * r + 19234 * g + 3737 * b + 16384) >> 15;
                else gray = r == g && g == b ? r : (9797 * r + 19234 * g + 3737 * b) >> 15;
                px = new int[] {gray >> shift};
            } else {
                px = new int[] {r >> shift, g >> shift, b >> shift};
            }
            for (int k = 0; k < px.length; k++) out[p * c + k] = px[k];
            if (wantAlpha) out[p * c + c - 1] = a != null ? a >> shift : ((1 << bitDepth) - 1) & 0xff;
        }
        return out;
    }

    static byte[] deflate(byte[] raw) {
        Deflater d = new Deflater(9);
        d.setInput(raw);
        d.finish();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!d.finished()) o.write(buf, 0, d.deflate(buf));
        d.end();
        return o.toByteArray();
    }

    static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] len = new byte[4];
        be32(len, 0, data.length);
        out.writeBytes(len);
        byte[] t = type.getBytes();
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        byte[] c = new byte[4];
        be32(c, 0, (int) crc.getValue());
        out.writeBytes(c);
    }

    static void be32(byte[] b, int p, int v) {
        b[p] = (byte) (v >>> 24);
        b[p + 1] = (byte) (v >>> 16);
        b[p + 2] = (byte) (v >>> 8);
        b[p + 3] = (byte) v;
    }
}
