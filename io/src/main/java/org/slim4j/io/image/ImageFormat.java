package org.slim4j.io.image;

/**
 * Encoded image formats, told apart by their magic bytes the way TensorFlow's decode ops do
 * (so a PNG stored under {@code image/format = "jpeg"}, as some ImageNet files are, is still
 * decoded as the PNG it is).
 */
public enum ImageFormat {
    /** FF D8 FF. */
    JPEG,
    /** 89 'P' 'N' 'G' 0D 0A 1A 0A. */
    PNG,
    /** "GIF8". Recognised but not decoded. */
    GIF,
    /** "BM". Recognised but not decoded. */
    BMP,
    UNKNOWN;

    /** The format {@code data} is in, judged by its first bytes. */
    public static ImageFormat sniff(byte[] data) {
        if (data == null) return UNKNOWN;
        int n = data.length;
        if (n >= 3 && (data[0] & 0xff) == 0xff && (data[1] & 0xff) == 0xd8 && (data[2] & 0xff) == 0xff) return JPEG;
        if (n >= 8 && (data[0] & 0xff) == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G'
                && data[4] == 0x0d && data[5] == 0x0a && data[6] == 0x1a && data[7] == 0x0a) return PNG;
        if (n >= 4 && data[0] == 'G' && data[1] == 'I' && data[2] == 'F' && data[3] == '8') return GIF;
        if (n >= 2 && data[0] == 'B' && data[1] == 'M') return BMP;
        return UNKNOWN;
    }
}
