package org.slim4j.io.image;

import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * JPEG decoding with TensorFlow's {@code DecodeJpeg} semantics for
 * {@code dct_method="INTEGER_ACCURATE"} (libjpeg's ISLOW inverse DCT, fancy upsampling).
 *
 * <p>The entropy decoding, inverse DCT and upsampling are done by the JDK's JPEG reader (built on
 * IJG libjpeg, whose ISLOW IDCT and upsampling libjpeg-turbo reproduces), asked for the raw
 * component samples ({@code readRaster}: no color conversion, no color profile). Everything
 * libjpeg would then do for TensorFlow is done here, following libjpeg's rules:
 * <ul>
 *   <li>the color space is chosen as libjpeg does: 1 component gray; 3 components YCbCr unless an
 *       Adobe marker says transform 0, or (no JFIF/Adobe marker) the component ids are 'R','G','B';
 *       4 components CMYK, or YCCK with an Adobe marker with transform 2 (or unknown);</li>
 *   <li>YCbCr → RGB, YCCK → CMYK and RGB → gray with libjpeg's fixed-point tables (16 fraction
 *       bits), so the output is bit-exact with libjpeg's;</li>
 *   <li>CMYK → RGB as TensorFlow does it: with an Adobe marker (inverted CMYK, as Photoshop writes
 *       it) r = k·c/255, otherwise r = (255−k)(255−c)/255, integer division;</li>
 *   <li>channels 0 gives min(components, 3); 1 gives the luma (Y of YCbCr, gray as is); a CMYK
 *       JPEG cannot be decoded to 1 channel, nor any JPEG to 4 (TensorFlow fails there too);</li>
 *   <li>data that ends before the EOI marker is an error, as in TensorFlow (acceptable_fraction
 *       1, no try_recover_truncated); so is width·height·components ≥ 2^29.</li>
 * </ul>
 * TensorFlow's default {@code dct_method=""} uses libjpeg's faster, less accurate IFAST IDCT; its
 * pixels differ from these by a few levels. Arithmetic-coded, lossless, hierarchical and 12-bit
 * JPEGs are not supported (the JDK reader has no arithmetic decoder; TensorFlow's libjpeg-turbo has).
 */
final class JpegDecoder {
    static final long MAX_SAMPLES = 1L << 29;

    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];
    private static final int[] R_Y = new int[256];
    private static final int[] G_Y = new int[256];
    private static final int[] B_Y = new int[256];

    static {
        // libjpeg's YCbCr→RGB and RGB→Y tables: FIX(x) = round(x * 2^16).
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
            R_Y[i] = fix(0.29900) * i;
            G_Y[i] = fix(0.58700) * i;
            B_Y[i] = fix(0.11400) * i + ONE_HALF;
        }
    }

    private static int fix(double x) {
        return (int) (x * (1 << SCALEBITS) + 0.5);
    }

    /** libjpeg's jpeg_color_space. */
    enum ColorSpace { GRAY, YCBCR, RGB, CMYK, YCCK }

    /** The markers before the first scan, as libjpeg reads them. */
    record Header(int width, int height, int precision, int sofMarker, int[] componentIds,
                  boolean jfif, boolean adobe, int adobeTransform) {
        int components() {
            return componentIds.length;
        }

        ColorSpace colorSpace() {
            switch (components()) {
                case 1:
                    return ColorSpace.GRAY;
                case 3:
                    if (jfif) return ColorSpace.YCBCR;
                    if (adobe) return adobeTransform == 0 ? ColorSpace.RGB : ColorSpace.YCBCR;
                    if (componentIds[0] == 'R' && componentIds[1] == 'G' && componentIds[2] == 'B') return ColorSpace.RGB;
                    return ColorSpace.YCBCR;
                case 4:
                    if (adobe) return adobeTransform == 0 ? ColorSpace.CMYK : ColorSpace.YCCK;
                    return ColorSpace.CMYK;
                default:
                    return null;
            }
        }
    }

    /** One JDK reader per thread (readers are not thread-safe, and creating one costs). */
    private static final ThreadLocal<ReaderSlot> READER = new ThreadLocal<>();

    private static final class ReaderSlot implements IIOReadWarningListener {
        final ImageReader reader;
        String truncation;

        ReaderSlot(ImageReader reader) {
            this.reader = reader;
            reader.addIIOReadWarningListener(this);
        }

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            // The JDK's source manager inserts a fake EOI when the data runs out; TensorFlow's
            // fails instead. Remember it, and stop decoding the rest of a big broken image.
            if (warning != null && (warning.startsWith("Truncated File") || warning.startsWith("Premature end"))) {
                if (truncation == null) truncation = warning;
                source.abort();
            }
        }
    }

    private JpegDecoder() {
    }

    static ImageInfo info(byte[] d, String src) {
        Header h = readHeader(d, src);
        check(h, d, src);
        return new ImageInfo(ImageFormat.JPEG, h.height(), h.width(), Math.min(h.components(), 3), h.precision());
    }

    static Tensor decode(byte[] d, int channels, String src) {
        Header h = readHeader(d, src);
        check(h, d, src);
        ColorSpace cs = h.colorSpace();
        int c = channels == 0 ? Math.min(h.components(), 3) : channels;
        if (c != 1 && c != 3) {
            throw fail(src, "a JPEG decodes to 0 (automatic), 1 or 3 channels, not " + channels);
        }
        if (c == 1 && (cs == ColorSpace.CMYK || cs == ColorSpace.YCCK)) {
            throw fail(src, "a " + cs + " JPEG cannot be decoded to 1 channel (libjpeg has no such conversion)");
        }
        byte[] in = samples(readRaw(d, h, src));
        int n = h.width() * h.height();
        Tensor out = Tensor.zeros(DType.UINT8, Shape.of(h.height(), h.width(), c));
        byte[] o = out.byteData();
        int off = out.offset();
        switch (cs) {
            case GRAY -> {
                if (c == 1) {
                    System.arraycopy(in, 0, o, off, n);
                } else {
                    for (int i = 0; i < n; i++) o[off + 3 * i] = o[off + 3 * i + 1] = o[off + 3 * i + 2] = in[i];
                }
            }
            case YCBCR -> {
                if (c == 1) {
                    for (int i = 0; i < n; i++) o[off + i] = in[3 * i];
                } else {
                    for (int i = 0, k = 0, p = off; i < n; i++, k += 3, p += 3) {
                        int y = in[k] & 0xff, cb = in[k + 1] & 0xff, cr = in[k + 2] & 0xff;
                        o[p] = clamp(y + CR_R[cr]);
                        o[p + 1] = clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
                        o[p + 2] = clamp(y + CB_B[cb]);
                    }
                }
            }
            case RGB -> {
                if (c == 3) {
                    System.arraycopy(in, 0, o, off, 3 * n);
                } else {
                    for (int i = 0, k = 0; i < n; i++, k += 3) {
                        o[off + i] = (byte) ((R_Y[in[k] & 0xff] + G_Y[in[k + 1] & 0xff] + B_Y[in[k + 2] & 0xff]) >> SCALEBITS);
                    }
                }
            }
            case CMYK, YCCK -> {
                boolean ycck = cs == ColorSpace.YCCK;
                boolean inverted = h.adobe();
                for (int i = 0, k = 0, p = off; i < n; i++, k += 4, p += 3) {
                    int cc, m, yy;
                    int kk = in[k + 3] & 0xff;
                    if (ycck) { // libjpeg's ycck_cmyk_convert: YCC → RGB, then complemented
                        int y = in[k] & 0xff, cb = in[k + 1] & 0xff, cr = in[k + 2] & 0xff;
                        cc = 255 - (clamp(y + CR_R[cr]) & 0xff);
                        m = 255 - (clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS)) & 0xff);
                        yy = 255 - (clamp(y + CB_B[cb]) & 0xff);
                    } else {
                        cc = in[k] & 0xff;
                        m = in[k + 1] & 0xff;
                        yy = in[k + 2] & 0xff;
                    }
                    if (inverted) {
                        o[p] = (byte) (kk * cc / 255);
                        o[p + 1] = (byte) (kk * m / 255);
                        o[p + 2] = (byte) (kk * yy / 255);
                    } else {
                        o[p] = (byte) ((255 - kk) * (255 - cc) / 255);
                        o[p + 1] = (byte) ((255 - kk) * (255 - m) / 255);
                        o[p + 2] = (byte) ((255 - kk) * (255 - yy) / 255);
                    }
                }
            }
        }
        return out;
    }

    /** The raster's samples as one pixel-interleaved array, without a copy when it already is one. */
    private static byte[] samples(Raster r) {
        int w = r.getWidth(), h = r.getHeight(), nb = r.getNumBands();
        if (r.getSampleModel() instanceof PixelInterleavedSampleModel sm && r.getDataBuffer() instanceof DataBufferByte db
                && db.getNumBanks() == 1 && db.getOffset() == 0 && r.getSampleModelTranslateX() == 0 && r.getSampleModelTranslateY() == 0
                && sm.getPixelStride() == nb && sm.getScanlineStride() == w * nb && db.getData().length >= w * h * nb) {
            int[] offs = sm.getBandOffsets();
            boolean canonical = true;
            for (int b = 0; b < nb; b++) canonical &= offs[b] == b;
            if (canonical) return db.getData();
        }
        return (byte[]) r.getDataElements(0, 0, w, h, null);
    }

    private static byte clamp(int v) {
        return (byte) (v < 0 ? 0 : v > 255 ? 255 : v);
    }

    /** Rejects what libjpeg (as TensorFlow builds it) or the JDK reader cannot decode, before any pixel work. */
    private static void check(Header h, byte[] d, String src) {
        int sof = h.sofMarker();
        if (sof == 0xc9 || sof == 0xca) throw fail(src, "arithmetic-coded JPEGs are not supported");
        if (sof != 0xc0 && sof != 0xc1 && sof != 0xc2) {
            throw fail(src, String.format("unsupported JPEG process (SOF marker 0x%02x: lossless or hierarchical)", sof));
        }
        if (h.precision() != 8) throw fail(src, h.precision() + "-bit JPEGs are not supported (8-bit only)");
        if (h.width() <= 0 || h.height() <= 0) throw fail(src, "JPEG has an empty size " + h.width() + "x" + h.height());
        if (h.colorSpace() == null) throw fail(src, "JPEG with " + h.components() + " components is not supported (1, 3 or 4)");
        long samples = (long) h.width() * h.height() * h.components();
        if (samples >= MAX_SAMPLES) {
            throw fail(src, "JPEG too large: " + h.width() + "x" + h.height() + "x" + h.components() + " (TensorFlow's limit is 2^29 samples)");
        }
        // Every 8x8 block of a complete JPEG costs at least one bit, so short data cannot be a
        // whole image of this size: refuse before allocating for it.
        long blocks = ((h.width() + 7L) / 8) * ((h.height() + 7L) / 8);
        if (blocks > 8L * d.length) {
            throw fail(src, "truncated JPEG: " + d.length + " bytes cannot hold a " + h.width() + "x" + h.height() + " image");
        }
    }

    private static Raster readRaw(byte[] d, Header h, String src) {
        ReaderSlot slot = READER.get();
        if (slot == null) {
            slot = new ReaderSlot(newReader(src));
            READER.set(slot);
        }
        ImageReader reader = slot.reader;
        slot.truncation = null;
        Raster raster;
        try (MemoryCacheImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(d))) {
            reader.setInput(in, true, true);
            raster = reader.readRaster(0, null);
        } catch (IOException | RuntimeException | LinkageError e) {
            READER.remove(); // the reader's native state may be off: use a fresh one next time
            reader.dispose();
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new ImageDecodeException(src, "invalid JPEG data (" + msg + ")", e);
        } finally {
            try {
                reader.setInput(null);
            } catch (RuntimeException ignored) {
                // A disposed reader cannot take input any more; nothing to release.
            }
        }
        if (slot.truncation != null || raster == null) {
            READER.remove(); // an aborted reader is not reused
            reader.dispose();
            throw fail(src, "truncated JPEG data (the data ends before the EOI marker)");
        }
        if (raster.getWidth() != h.width() || raster.getHeight() != h.height() || raster.getNumBands() != h.components()
                || raster.getTransferType() != DataBuffer.TYPE_BYTE) {
            throw fail(src, "JPEG decoder returned a " + raster.getWidth() + "x" + raster.getHeight() + "x" + raster.getNumBands()
                    + " raster for a " + h.width() + "x" + h.height() + "x" + h.components() + " image");
        }
        return raster;
    }

    private static ImageReader newReader(String src) {
        ImageReader fallback = null;
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg"); it.hasNext(); ) {
            ImageReader r = it.next();
            // The JDK's own reader is the libjpeg one; prefer it over any plugin on the class path.
            if (r.getClass().getName().equals("com.sun.imageio.plugins.jpeg.JPEGImageReader")) return r;
            if (fallback == null) fallback = r;
        }
        if (fallback == null) throw fail(src, "no JPEG reader available in this JVM");
        return fallback;
    }

    /** Reads the markers up to the first SOS: SOF (size, components), JFIF and Adobe APP markers. */
    static Header readHeader(byte[] d, String src) {
        int n = d.length;
        if (n < 4 || (d[0] & 0xff) != 0xff || (d[1] & 0xff) != 0xd8) throw fail(src, "not a JPEG (no SOI marker)");
        int p = 2;
        boolean jfif = false;
        boolean adobe = false;
        int transform = 0;
        int width = 0, height = 0, precision = 0, sof = -1;
        int[] ids = null;
        while (true) {
            // libjpeg skips garbage before a marker (with a warning) and any number of 0xFF fill bytes.
            while (p < n && (d[p] & 0xff) != 0xff) p++;
            while (p < n && (d[p] & 0xff) == 0xff) p++;
            if (p >= n) throw fail(src, "truncated JPEG: the data ends before the image data (no SOS marker)");
            int m = d[p++] & 0xff;
            if (m == 0xd8) throw fail(src, "invalid JPEG structure: two SOI markers");
            if (m == 0xd9) throw fail(src, "JPEG has no image (EOI before any scan)");
            if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // markers without a length
            if (p + 2 > n) throw fail(src, "truncated JPEG: marker 0x" + Integer.toHexString(m) + " cut off");
            int len = (d[p] & 0xff) << 8 | (d[p + 1] & 0xff);
            if (len < 2) throw fail(src, "corrupt JPEG: marker 0x" + Integer.toHexString(m) + " has length " + len);
            if (p + len > n) throw fail(src, "truncated JPEG: marker 0x" + Integer.toHexString(m) + " needs " + len + " bytes");
            int q = p + 2;
            int dl = len - 2;
            if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
                if (sof >= 0) throw fail(src, "invalid JPEG structure: two SOF markers");
                if (dl < 6) throw fail(src, "corrupt JPEG: SOF marker too short");
                precision = d[q] & 0xff;
                height = (d[q + 1] & 0xff) << 8 | (d[q + 2] & 0xff);
                width = (d[q + 3] & 0xff) << 8 | (d[q + 4] & 0xff);
                int nc = d[q + 5] & 0xff;
                if (nc == 0 || dl != 6 + 3 * nc) throw fail(src, "corrupt JPEG: SOF marker with " + nc + " components has length " + len);
                ids = new int[nc];
                for (int i = 0; i < nc; i++) ids[i] = d[q + 6 + 3 * i] & 0xff;
                sof = m;
            } else if (m == 0xe0) {
                if (dl >= 14 && d[q] == 'J' && d[q + 1] == 'F' && d[q + 2] == 'I' && d[q + 3] == 'F' && d[q + 4] == 0) jfif = true;
            } else if (m == 0xee) {
                if (dl >= 12 && d[q] == 'A' && d[q + 1] == 'd' && d[q + 2] == 'o' && d[q + 3] == 'b' && d[q + 4] == 'e') {
                    adobe = true;
                    transform = d[q + 11] & 0xff;
                }
            } else if (m == 0xda) {
                if (sof < 0) throw fail(src, "invalid JPEG structure: scan before the frame header (SOS before SOF)");
                return new Header(width, height, precision, sof, ids, jfif, adobe, transform);
            }
            p += len;
        }
    }

    private static ImageDecodeException fail(String src, String problem) {
        return new ImageDecodeException(src, problem);
    }
}
