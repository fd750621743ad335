package org.slim4j.io;

import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli) with TensorFlow's mask, used by TFRecord framing, checkpoint index blocks
 * and tensor-bundle entries: masked = ((crc >>> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32).
 * Masking keeps a CRC of data that itself contains CRCs from being degenerate.
 */
public final class MaskedCrc32c {
    private static final int MASK_DELTA = 0xa282ead8;

    private MaskedCrc32c() {
    }

    public static int crc(byte[] data, int offset, int length) {
        CRC32C c = new CRC32C();
        c.update(data, offset, length);
        return (int) c.getValue();
    }

    public static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    public static int unmask(int masked) {
        int rot = masked - MASK_DELTA;
        return (rot >>> 17) | (rot << 15);
    }

    /** The masked CRC-32C of data[offset, offset + length). */
    public static int maskedCrc(byte[] data, int offset, int length) {
        return mask(crc(data, offset, length));
    }

    public static int maskedCrc(byte[] data) {
        return maskedCrc(data, 0, data.length);
    }
}
