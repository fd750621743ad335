package org.slim4j.io.image;

import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * PNG decoding with TensorFlow's {@code DecodePng} semantics (libpng driven as TensorFlow's
 * png_io does), 8-bit output:
 * <ul>
 *   <li>channels 0: palette → 3, or 4 with a tRNS chunk; otherwise the file's own count;</li>
 *   <li>even channel counts want alpha: the file's alpha, else tRNS turned into alpha, else a filler
 *       of {@code (1 << bit_depth) - 1} (libpng's add_alpha, low byte: 255 for 8/16-bit files);
 *       odd counts drop alpha;</li>
 *   <li>16-bit samples keep their high byte (png_set_strip_16), gray below 8 bits is scaled to
 *       0..255, palettes are expanded (indices past the palette read as black);</li>
 *   <li>color to gray (channels 1) uses libpng's rgb_to_gray with TensorFlow's weights 0.299,
 *       0.587 (fixed point 9797, 19234, 3737 / 32768, truncated in 8 bits, rounded in 16 bits,
 *       equal r = g = b kept as is), in linear light through libpng's gamma tables when the file
 *       has a gAMA or sRGB chunk ({@link GammaGray}); gray to RGB replicates.</li>
 * </ul>
 * Like libpng: chunk CRCs are checked (a bad critical chunk is an error, a bad ancillary chunk is
 * ignored), unknown critical chunks are an error, the image must be complete and end with IEND,
 * width and height are at most 1,000,000; TensorFlow further requires width·height &lt; 2^29.
 * Adam7-interlaced images are supported. Gamma (apart from color-to-gray), color profiles and
 * background chunks do not change the pixels, as in TensorFlow. Channel count 2 (gray + alpha) is
 * decoded here, though TensorFlow's ops, and so {@link ImageDecoder}, accept only 0, 1, 3 and 4.
 */
final class PngDecoder {
    /** libpng's default user limit on width and height. */
    static final int MAX_SIDE = 1_000_000;
    /** TensorFlow's DecodePng limit: width * height must stay below this. */
    static final long MAX_PIXELS = 1L << 29;
    /** Deflate cannot expand data by more than this factor (a 258-byte match costs at least 2 bits). */
    private static final long MAX_DEFLATE_RATIO = 1032;

    private static final int RC = 9797;  // floor(29900 * 32768 / 100000): libpng's red coefficient for 0.299
    private static final int GC = 19234; // floor(58700 * 32768 / 100000): green for 0.587
    private static final int BC = 32768 - RC - GC;

    private static final int FP_1 = 100_000; // libpng's fixed point 1.0
    private static final int SRGB_GAMMA = 45_455;

    private static final int[][] ADAM7 = { // x0, y0, dx, dy
        {0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

    private static final ThreadLocal<Inflater> INFLATER = ThreadLocal.withInitial(Inflater::new);

    private PngDecoder() {
    }

    /** What the chunks say: IHDR, palette, transparency and where the image data lies. */
    static final class Header {
        int width;
        int height;
        int bitDepth;
        int colorType;
        int interlace;
        byte[] palette; // RGB triples
        int paletteSize;
        byte[] trnsAlpha; // palette images
        int trnsCount;
        boolean hasTrns;
        int trnsGray;
        int trnsR;
        int trnsG;
        int trnsB;
        int gamma; // file gamma × 100000 from gAMA / sRGB (0: none), as libpng's colorspace keeps it
        boolean gammaFromSrgb;
        int colorSigBits; // sBIT: most significant bits of the color channels (0: no sBIT chunk)
        final List<int[]> idat = new ArrayList<>(); // {offset, length}
        long idatBytes;

        int fileChannels() {
            return switch (colorType) {
                case 0, 3 -> 1;
                case 4 -> 2;
                case 2 -> 3;
                default -> 4;
            };
        }

        /** TensorFlow's channel count for channels = 0. */
        int autoChannels() {
            if (colorType == 3) return hasTrns ? 4 : 3;
            return fileChannels();
        }

        boolean isColor() {
            return (colorType & 2) != 0;
        }

        boolean hasAlphaChannel() {
            return (colorType & 4) != 0;
        }
    }

    static ImageInfo info(byte[] d, String src) {
        Header h = readHeader(d, src);
        return new ImageInfo(ImageFormat.PNG, h.height, h.width, h.autoChannels(), h.bitDepth);
    }

    static Tensor decode(byte[] d, int channels, String src) {
        Header h = readHeader(d, src);
        int c = channels == 0 ? h.autoChannels() : channels;
        long rawBytes = rawSize(h);
        if (rawBytes > MAX_DEFLATE_RATIO * h.idatBytes + 64) {
            throw fail(src, "not enough image data: " + h.idatBytes + " compressed bytes cannot hold a "
                    + h.width + "x" + h.height + " image (truncated or corrupt PNG)");
        }
        Tensor out = Tensor.zeros(DType.UINT8, Shape.of(h.height, h.width, c));
        try {
            new Rows(d, h, c, out.byteData(), out.offset(), src).decodeAll();
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    // ---- chunks ---------------------------------------------------------------------------

    static Header readHeader(byte[] d, String src) {
        if (ImageFormat.sniff(d) != ImageFormat.PNG) throw fail(src, "not a PNG (bad signature)");
        Header h = new Header();
        CRC32 crc = new CRC32();
        int n = d.length;
        int p = 8;
        boolean haveIhdr = false;
        boolean havePlte = false;
        boolean idatSeen = false;
        boolean afterIdat = false;
        while (true) {
            if (p > n - 8) throw fail(src, "truncated PNG: the data ends at byte " + n + " without an IEND chunk");
            long len = be32(d, p) & 0xffffffffL;
            String type = chunkType(d, p + 4, src);
            if (len > Integer.MAX_VALUE) throw fail(src, "PNG chunk " + type + " at byte " + p + " has an invalid length " + len);
            if (len > n - p - 12L) {
                throw fail(src, "truncated PNG: chunk " + type + " at byte " + p + " needs " + len + " bytes, "
                        + Math.max(0, n - p - 12) + " are left");
            }
            int dataAt = p + 8;
            int l = (int) len;
            if (idatSeen && !type.equals("IDAT")) afterIdat = true;
            boolean critical = Character.isUpperCase(type.charAt(0));
            crc.reset();
            crc.update(d, p + 4, l + 4);
            boolean crcOk = (int) crc.getValue() == be32(d, dataAt + l);
            p = dataAt + l + 4;
            if (!crcOk) {
                if (critical) throw fail(src, "CRC mismatch in PNG chunk " + type + " at byte " + (dataAt - 8) + " (corrupt data)");
                continue; // libpng discards an ancillary chunk with a bad CRC
            }
            if (!haveIhdr && !type.equals("IHDR")) throw fail(src, "PNG chunk " + type + " before IHDR");
            switch (type) {
                case "IHDR" -> {
                    if (haveIhdr) throw fail(src, "duplicate PNG IHDR chunk");
                    if (l != 13) throw fail(src, "PNG IHDR chunk has length " + l + ", expected 13");
                    parseIhdr(d, dataAt, h, src);
                    haveIhdr = true;
                }
                case "PLTE" -> {
                    if (idatSeen) continue; // libpng ignores PLTE after IDAT
                    if (h.colorType == 3) {
                        if (havePlte) throw fail(src, "duplicate PNG PLTE chunk");
                        if (l == 0 || l % 3 != 0 || l > 3 * 256) throw fail(src, "invalid PNG palette of " + l + " bytes");
                        h.paletteSize = Math.min(l / 3, 1 << h.bitDepth);
                        h.palette = new byte[3 * 256];
                        System.arraycopy(d, dataAt, h.palette, 0, 3 * h.paletteSize);
                        havePlte = true;
                    } // a PLTE in a truecolor or gray file is only a suggestion: ignored
                }
                case "gAMA" -> {
                    if (idatSeen || havePlte || l != 4) continue; // libpng: out of place / invalid, ignored
                    int g = be32(d, dataAt);
                    if (g >= 16 && g <= 625_000_000) setGamma(h, g, false);
                }
                case "sRGB" -> {
                    if (idatSeen || havePlte || l != 1 || (d[dataAt] & 0xff) > 3 || h.gammaFromSrgb) continue;
                    setGamma(h, SRGB_GAMMA, true);
                }
                case "sBIT" -> {
                    if (idatSeen || havePlte) continue;
                    int want = h.colorType == 3 ? 3 : h.fileChannels();
                    int depth = h.colorType == 3 ? 8 : h.bitDepth;
                    boolean valid = l == want;
                    for (int i = 0; valid && i < l; i++) valid = d[dataAt + i] != 0 && (d[dataAt + i] & 0xff) <= depth;
                    if (valid && h.isColor()) {
                        h.colorSigBits = Math.max(d[dataAt] & 0xff, Math.max(d[dataAt + 1] & 0xff, d[dataAt + 2] & 0xff));
                    }
                }
                case "tRNS" -> {
                    if (idatSeen || h.hasTrns) continue;
                    readTrns(d, dataAt, l, h, havePlte);
                }
                case "IDAT" -> {
                    if (afterIdat) continue; // libpng: "Too many IDATs found", ignored
                    if (h.colorType == 3 && !havePlte) throw fail(src, "PNG palette image without a PLTE chunk before its data");
                    idatSeen = true;
                    if (l > 0) {
                        h.idat.add(new int[] {dataAt, l});
                        h.idatBytes += l;
                    }
                }
                case "IEND" -> {
                    if (!idatSeen) throw fail(src, "PNG has no image data (no IDAT chunk)");
                    return h;
                }
                default -> {
                    if (critical) throw fail(src, "unknown critical PNG chunk " + type);
                }
            }
        }
    }

    /**
     * libpng's png_colorspace_set_gamma / check_gamma: a second gamma that differs by more than 5%
     * does not replace one that came from an sRGB chunk, and an sRGB chunk always sets 0.45455.
     */
    private static void setGamma(Header h, int g, boolean fromSrgb) {
        if (h.gamma != 0 && h.gammaFromSrgb && !fromSrgb && significant((long) Math.floor((double) h.gamma * FP_1 / g + 0.5))) {
            return;
        }
        h.gamma = g;
        if (fromSrgb) h.gammaFromSrgb = true;
    }

    private static void parseIhdr(byte[] d, int p, Header h, String src) {
        long w = be32(d, p) & 0xffffffffL;
        long ht = be32(d, p + 4) & 0xffffffffL;
        int depth = d[p + 8] & 0xff;
        int type = d[p + 9] & 0xff;
        if (w == 0 || ht == 0) throw fail(src, "PNG has an empty size " + w + "x" + ht);
        if (w > MAX_SIDE || ht > MAX_SIDE) {
            throw fail(src, "PNG size " + w + "x" + ht + " exceeds libpng's limit of " + MAX_SIDE + " per side");
        }
        if (w * ht >= MAX_PIXELS) throw fail(src, "PNG size too large: " + w + "x" + ht + " (TensorFlow's limit is width*height < 2^29)");
        boolean ok = switch (type) {
            case 0 -> depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
            case 3 -> depth == 1 || depth == 2 || depth == 4 || depth == 8;
            case 2, 4, 6 -> depth == 8 || depth == 16;
            default -> false;
        };
        if (!ok) throw fail(src, "invalid PNG color type " + type + " with bit depth " + depth);
        if (d[p + 10] != 0) throw fail(src, "unknown PNG compression method " + (d[p + 10] & 0xff));
        if (d[p + 11] != 0) throw fail(src, "unknown PNG filter method " + (d[p + 11] & 0xff));
        int interlace = d[p + 12] & 0xff;
        if (interlace > 1) throw fail(src, "unknown PNG interlace method " + interlace);
        h.width = (int) w;
        h.height = (int) ht;
        h.bitDepth = depth;
        h.colorType = type;
        h.interlace = interlace;
    }

    /** tRNS as libpng accepts it; malformed ones are ignored (a benign error in libpng). */
    private static void readTrns(byte[] d, int p, int l, Header h, boolean havePlte) {
        switch (h.colorType) {
            case 3 -> {
                if (!havePlte || l == 0 || l > h.paletteSize) return;
                h.trnsAlpha = new byte[256];
                System.arraycopy(d, p, h.trnsAlpha, 0, l);
                h.trnsCount = l;
                h.hasTrns = true;
            }
            case 0 -> {
                if (l != 2) return;
                h.trnsGray = be16(d, p);
                h.hasTrns = true;
            }
            case 2 -> {
                if (l != 6) return;
                h.trnsR = be16(d, p);
                h.trnsG = be16(d, p + 2);
                h.trnsB = be16(d, p + 4);
                h.hasTrns = true;
            }
            default -> {
                // tRNS is not allowed with an alpha channel: ignored.
            }
        }
    }

    private static String chunkType(byte[] d, int p, String src) {
        char[] c = new char[4];
        for (int i = 0; i < 4; i++) {
            int b = d[p + i] & 0xff;
            if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z'))) {
                throw fail(src, String.format("invalid PNG chunk type %02x %02x %02x %02x at byte %d (corrupt data)",
                        d[p] & 0xff, d[p + 1] & 0xff, d[p + 2] & 0xff, d[p + 3] & 0xff, p - 4));
            }
            c[i] = (char) b;
        }
        return new String(c);
    }

    private static long rawSize(Header h) {
        if (h.interlace == 0) return (long) h.height * (1 + rowBytes(h, h.width));
        long total = 0;
        for (int[] a : ADAM7) {
            long pw = passSize(h.width, a[0], a[2]);
            long ph = passSize(h.height, a[1], a[3]);
            if (pw > 0 && ph > 0) total += ph * (1 + rowBytes(h, pw));
        }
        return total;
    }

    private static long rowBytes(Header h, long pixels) {
        return (pixels * h.fileChannels() * h.bitDepth + 7) / 8;
    }

    private static long passSize(int size, int start, int step) {
        return size <= start ? 0 : (size - start + step - 1) / step;
    }

    // ---- pixels ---------------------------------------------------------------------------

    /** Inflates, unfilters and converts the rows of one image into the output array. */
    private static final class Rows {
        private final byte[] d;
        private final Header h;
        private final int c;
        private final byte[] out;
        private final int outOff;
        private final String src;
        private final Inflater inflater;
        private int nextChunk;
        private final int fileCh;
        private final int bpp; // bytes per complete pixel, at least 1: the filter's left neighbour
        private final boolean wantAlpha;
        private final int filler;
        private int[] samples = new int[0];
        private final GammaGray gammaGray; // libpng's gamma-aware color → gray, when the file has a gamma


        Rows(byte[] d, Header h, int c, byte[] out, int outOff, String src) {
            this.d = d;
            this.h = h;
            this.c = c;
            this.out = out;
            this.outOff = outOff;
            this.src = src;
            this.fileCh = h.fileChannels();
            this.bpp = Math.max(1, fileCh * h.bitDepth / 8);
            this.wantAlpha = (c & 1) == 0;
            this.filler = ((1 << h.bitDepth) - 1) & 0xff;
            this.inflater = INFLATER.get();
            this.gammaGray = c < 3 && h.isColor() ? GammaGray.forHeader(h) : null;
        }

        void decodeAll() {
            inflater.reset();
            try {
                if (h.interlace == 0) {
                    pass(0, 0, 1, 1, h.width, h.height);
                } else {
                    for (int[] a : ADAM7) {
                        int pw = (int) passSize(h.width, a[0], a[2]);
                        int ph = (int) passSize(h.height, a[1], a[3]);
                        if (pw > 0 && ph > 0) pass(a[0], a[1], a[2], a[3], pw, ph);
                    }
                }
            } finally {
                inflater.reset(); // drop the reference to this image's data
            }
        }

        private void pass(int x0, int y0, int dx, int dy, int pw, int ph) {
            int rb = (int) rowBytes(h, pw);
            byte[] prev = new byte[rb + 1];
            byte[] cur = new byte[rb + 1];
            for (int r = 0; r < ph; r++) {
                inflateFully(cur, rb + 1, r);
                unfilter(cur, prev, rb, r);
                emit(cur, pw, x0, y0 + r * dy, dx);
                byte[] t = prev;
                prev = cur;
                cur = t;
            }
        }

        private void inflateFully(byte[] b, int len, int row) {
            int got = 0;
            try {
                while (got < len) {
                    int k = inflater.inflate(b, got, len - got);
                    got += k;
                    if (k > 0) continue;
                    if (inflater.finished()) break;
                    if (inflater.needsDictionary()) throw fail(src, "PNG image data asks for a zlib preset dictionary (corrupt data)");
                    if (inflater.needsInput()) {
                        if (nextChunk == h.idat.size()) break;
                        int[] ch = h.idat.get(nextChunk++);
                        inflater.setInput(d, ch[0], ch[1]);
                    }
                }
            } catch (DataFormatException e) {
                throw fail(src, "corrupt PNG image data (" + e.getMessage() + ") in row " + row);
            }
            if (got < len) throw fail(src, "not enough PNG image data: it ends in row " + row + " (truncated or corrupt PNG)");
        }

        /** Reverses the PNG row filter in place; cur[0] is the filter type, data from cur[1]. */
        private void unfilter(byte[] cur, byte[] prev, int rb, int row) {
            int type = cur[0] & 0xff;
            switch (type) {
                case 0 -> {
                }
                case 1 -> {
                    for (int i = 1 + bpp; i <= rb; i++) cur[i] += cur[i - bpp];
                }
                case 2 -> {
                    for (int i = 1; i <= rb; i++) cur[i] += prev[i];
                }
                case 3 -> {
                    for (int i = 1; i <= rb; i++) {
                        int left = i > bpp ? cur[i - bpp] & 0xff : 0;
                        cur[i] += (byte) ((left + (prev[i] & 0xff)) >>> 1);
                    }
                }
                case 4 -> {
                    for (int i = 1; i <= rb; i++) {
                        int a = i > bpp ? cur[i - bpp] & 0xff : 0;
                        int b = prev[i] & 0xff;
                        int cc = i > bpp ? prev[i - bpp] & 0xff : 0;
                        int p = a + b - cc;
                        int pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - cc);
                        int pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : cc;
                        cur[i] += (byte) pred;
                    }
                }
                default -> throw fail(src, "bad PNG filter type " + type + " in row " + row + " (corrupt data)");
            }
        }

        /** Converts one unfiltered row of {@code pw} pixels to output pixels x0, x0+dx, ... of row y. */
        private void emit(byte[] row, int pw, int x0, int y, int dx) {
            int base = outOff + y * h.width * c;
            if (h.bitDepth == 8 && h.colorType != 3 && dx == 1 && emitFast(row, pw, base)) return;
            unpack(row, pw);
            int[] s = samples;
            boolean depth16 = h.bitDepth == 16;
            int max = depth16 ? 0xffff : 0xff;
            for (int i = 0; i < pw; i++) {
                int r, g, b, a = -1; // a = -1: no alpha
                boolean color;
                int k = i * fileCh;
                switch (h.colorType) {
                    case 0 -> {
                        int v = s[k];
                        if (wantAlpha && h.hasTrns) a = v == (h.trnsGray & sampleMask()) ? 0 : max;
                        r = g = b = h.bitDepth < 8 ? v * 255 / ((1 << h.bitDepth) - 1) : v;
                        color = false;
                    }
                    case 4 -> {
                        r = g = b = s[k];
                        a = s[k + 1];
                        color = false;
                    }
                    case 2 -> {
                        r = s[k];
                        g = s[k + 1];
                        b = s[k + 2];
                        if (wantAlpha && h.hasTrns) {
                            int m = sampleMask();
                            a = r == (h.trnsR & m) && g == (h.trnsG & m) && b == (h.trnsB & m) ? 0 : max;
                        }
                        color = true;
                    }
                    case 6 -> {
                        r = s[k];
                        g = s[k + 1];
                        b = s[k + 2];
                        a = s[k + 3];
                        color = true;
                    }
                    default -> { // palette: expanded to 8-bit RGB(A) before anything else
                        int idx = s[k];
                        if (idx < h.paletteSize) {
                            r = h.palette[3 * idx] & 0xff;
                            g = h.palette[3 * idx + 1] & 0xff;
                            b = h.palette[3 * idx + 2] & 0xff;
                        } else {
                            r = g = b = 0;
                        }
                        if (h.hasTrns) a = idx < h.trnsCount ? h.trnsAlpha[idx] & 0xff : 255;
                        color = true;
                    }
                }
                boolean sixteen = depth16 && h.colorType != 3;
                int o = base + (x0 + i * dx) * c;
                if (c < 3) {
                    int gray = !color ? r : gammaGray != null ? gammaGray.gray(r, g, b) : toGray(r, g, b, sixteen);
                    out[o] = (byte) (sixteen ? gray >>> 8 : gray);
                    if (c == 2) out[o + 1] = (byte) (a < 0 ? filler : sixteen ? a >>> 8 : a);
                } else {
                    int sh = sixteen ? 8 : 0;
                    out[o] = (byte) (r >>> sh);
                    out[o + 1] = (byte) (g >>> sh);
                    out[o + 2] = (byte) (b >>> sh);
                    if (c == 4) out[o + 3] = (byte) (a < 0 ? filler : a >>> sh);
                }
            }
        }

        /** Straight 8-bit cases that need no per-sample arithmetic. False when not applicable. */
        private boolean emitFast(byte[] row, int pw, int o) {
            if (c == fileCh && !(wantAlpha && h.hasTrns)) {
                System.arraycopy(row, 1, out, o, pw * c);
                return true;
            }
            if (c == 3 && fileCh == 1) {
                for (int i = 0; i < pw; i++, o += 3) {
                    byte v = row[1 + i];
                    out[o] = v;
                    out[o + 1] = v;
                    out[o + 2] = v;
                }
                return true;
            }
            if (c == 3 && fileCh == 4) {
                for (int i = 0, k = 1; i < pw; i++, k += 4, o += 3) {
                    out[o] = row[k];
                    out[o + 1] = row[k + 1];
                    out[o + 2] = row[k + 2];
                }
                return true;
            }
            if (c == 1 && fileCh == 2) {
                for (int i = 0; i < pw; i++) out[o + i] = row[1 + 2 * i];
                return true;
            }
            return false;
        }

        private int sampleMask() {
            return h.bitDepth == 16 ? 0xffff : (1 << h.bitDepth) - 1;
        }

        /** Splits a row into samples at the file's bit depth (MSB-first packing below 8 bits). */
        private void unpack(byte[] row, int pw) {
            int n = pw * fileCh;
            if (samples.length < n) samples = new int[n];
            int[] s = samples;
            int depth = h.bitDepth;
            if (depth == 8) {
                for (int i = 0; i < n; i++) s[i] = row[1 + i] & 0xff;
            } else if (depth == 16) {
                for (int i = 0; i < n; i++) s[i] = (row[1 + 2 * i] & 0xff) << 8 | (row[2 + 2 * i] & 0xff);
            } else {
                int perByte = 8 / depth;
                int mask = (1 << depth) - 1;
                for (int i = 0; i < n; i++) {
                    int byt = row[1 + i / perByte] & 0xff;
                    int shift = 8 - depth * (1 + i % perByte);
                    s[i] = (byt >>> shift) & mask;
                }
            }
        }

        /** libpng's rgb_to_gray without gamma: truncating at 8 bits, rounding at 16 bits. */
        private static int toGray(int r, int g, int b, boolean sixteen) {
            if (sixteen) return (RC * r + GC * g + BC * b + 16384) >>> 15;
            if (r == g && r == b) return r;
            return (RC * r + GC * g + BC * b) >>> 15;
        }
    }

    // ---- libpng's rgb_to_gray in linear light ----------------------------------------------------

    /** libpng's png_gamma_significant: more than 5% away from 1. */
    private static boolean significant(long g) {
        return g < FP_1 - 5000 || g > FP_1 + 5000;
    }

    /** png_reciprocal: 1/a in fixed point, rounded. */
    private static long reciprocal(long a) {
        return (long) Math.floor(1e10 / a + 0.5);
    }

    /**
     * When a file carries a gamma (gAMA or sRGB) and TensorFlow asks for gray from color, libpng
     * (with no screen gamma set, it assumes screen = 1/file gamma) converts to linear light through
     * tables, weighs there and converts back; pixels with r = g = b go through the overall gamma
     * table (the identity for these gammas). This reproduces those tables: 8-bit ones for depths
     * up to 8 (palette included), and for 16-bit files the 16-bit tables indexed by the top
     * {@code 16 - shift} bits, shift = max(5, 16 - sBIT) (at most 8), with the 16-to-8 table for gray.
     */
    private static final class GammaGray {
        private final boolean sixteen;
        private final int shift;
        private final int[] toLinear;
        private final int[] fromLinear;
        private final int[] grayTable;

        private GammaGray(boolean sixteen, int shift, int[] toLinear, int[] fromLinear, int[] grayTable) {
            this.sixteen = sixteen;
            this.shift = shift;
            this.toLinear = toLinear;
            this.fromLinear = fromLinear;
            this.grayTable = grayTable;
        }

        static GammaGray forHeader(Header h) {
            if (h.gamma == 0) return null;
            long file = h.gamma;
            long screen = reciprocal(file);
            if (!significant(file) && !significant(screen)) return null;
            if (h.bitDepth <= 8 || h.colorType == 3) {
                return new GammaGray(false, 0, table8(reciprocal(file)), table8(reciprocal(screen)),
                        table8((long) Math.floor(1e15 / file / screen + 0.5)));
            }
            int shift = h.colorSigBits > 0 && h.colorSigBits < 16 ? 16 - h.colorSigBits : 0;
            shift = Math.min(8, Math.max(shift, 16 - 11));
            return new GammaGray(true, shift, table16(shift, reciprocal(file)), table16(shift, reciprocal(screen)),
                    table16to8(shift, (long) Math.floor(file * 1e-5 * screen + 0.5)));
        }

        /** Gray at the file's depth (8 or 16 bits) from r, g, b at that depth. */
        int gray(int r, int g, int b) {
            if (!sixteen) {
                if (r == g && r == b) return grayTable[r];
                return fromLinear[(RC * toLinear[r] + GC * toLinear[g] + BC * toLinear[b] + 16384) >> 15];
            }
            if (r == g && r == b) return grayTable[index(r)];
            int lin = (RC * toLinear[index(r)] + GC * toLinear[index(g)] + BC * toLinear[index(b)] + 16384) >>> 15;
            return fromLinear[index(lin)];
        }

        /** libpng's 16-bit table lookup table[(v &amp; 0xff) >> shift][v >> 8], flattened. */
        private int index(int v) {
            return ((v & 0xff) >> shift) * 256 + (v >> 8);
        }

        private static int[] table8(long gv) {
            int[] t = new int[256];
            for (int i = 0; i < 256; i++) {
                t[i] = significant(gv) && i > 0 && i < 255 ? (int) Math.floor(255 * Math.pow(i / 255.0, gv * 0.00001) + 0.5) : i;
            }
            return t;
        }

        private static int[] table16(int shift, long gv) {
            int num = 1 << (8 - shift);
            int max = (1 << (16 - shift)) - 1;
            int maxBy2 = 1 << (15 - shift);
            double fmax = 1.0 / max;
            int[] t = new int[num * 256];
            for (int i = 0; i < num; i++) {
                for (int j = 0; j < 256; j++) {
                    long ig = ((long) j << (8 - shift)) + i;
                    int v;
                    if (significant(gv)) v = (int) Math.floor(65535.0 * Math.pow(ig * fmax, gv * 0.00001) + 0.5);
                    else v = (int) (shift != 0 ? (ig * 65535 + maxBy2) / max : ig);
                    t[i * 256 + j] = v;
                }
            }
            return t;
        }

        private static int[] table16to8(int shift, long gv) {
            int num = 1 << (8 - shift);
            long max = (1L << (16 - shift)) - 1;
            int[] t = new int[num * 256];
            long last = 0;
            for (int i = 0; i < 255; i++) {
                int out = i * 257;
                long bound = gamma16(out + 128, gv);
                bound = (bound * max + 32768) / 65535 + 1;
                for (; last < bound; last++) t[(int) (last & (0xff >> shift)) * 256 + (int) (last >> (8 - shift))] = out;
            }
            for (; last < ((long) num << 8); last++) t[(int) (last & (0xff >> shift)) * 256 + (int) (last >> (8 - shift))] = 65535;
            return t;
        }

        private static long gamma16(int value, long gv) {
            if (value <= 0 || value >= 65535) return value;
            return (long) Math.floor(65535 * Math.pow(value / 65535.0, gv * 0.00001) + 0.5);
        }
    }

    private static int be32(byte[] d, int p) {
        return (d[p] & 0xff) << 24 | (d[p + 1] & 0xff) << 16 | (d[p + 2] & 0xff) << 8 | (d[p + 3] & 0xff);
    }

    private static int be16(byte[] d, int p) {
        return (d[p] & 0xff) << 8 | (d[p + 1] & 0xff);
    }

    private static ImageDecodeException fail(String src, String problem) {
        return new ImageDecodeException(src, problem);
    }
}
