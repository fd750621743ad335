package org.slim4j.io.tfrecord;

import java.io.IOException;
import java.io.OutputStream;
import org.slim4j.io.MaskedCrc32c;

/**
 * One TFRecord frame: {@code uint64 length (LE) | uint32 masked CRC-32C of the length | data |
 * uint32 masked CRC-32C of the data}. Shared by data shards and TensorBoard event files.
 */
public final class TfRecordFraming {
    private TfRecordFraming() {
    }

    /** Bytes a record of {@code length} data bytes takes on disk. */
    public static long framedSize(long length) {
        return 16L + length;
    }

    public static void write(OutputStream out, byte[] data, int offset, int length) throws IOException {
        byte[] header = new byte[12];
        long len = length;
        for (int i = 0; i < 8; i++) header[i] = (byte) (len >>> (8 * i));
        putLe32(header, 8, MaskedCrc32c.maskedCrc(header, 0, 8));
        byte[] footer = new byte[4];
        putLe32(footer, 0, MaskedCrc32c.maskedCrc(data, offset, length));
        out.write(header);
        out.write(data, offset, length);
        out.write(footer);
    }

    private static void putLe32(byte[] b, int at, int v) {
        for (int i = 0; i < 4; i++) b[at + i] = (byte) (v >>> (8 * i));
    }
}
