package org.slim4j.io.tfrecord;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.slim4j.io.MaskedCrc32c;

/**
 * How a TFRecord file is compressed, as TensorFlow's {@code compression_type} names it.
 * {@link #GZIP}: the whole file is one gzip stream (RFC 1952); {@link #ZLIB}: one zlib stream
 * (RFC 1950). The record framing inside is the same for all three.
 */
public enum Compression {
    NONE(""),
    GZIP("GZIP"),
    ZLIB("ZLIB");

    private final String tfName;

    Compression(String tfName) {
        this.tfName = tfName;
    }

    /** TensorFlow's spelling: "", "GZIP" or "ZLIB". */
    public String tfName() {
        return tfName;
    }

    /** Parses TensorFlow's compression_type: "" or "NONE", "GZIP", "ZLIB" (any case). */
    public static Compression fromName(String name) {
        if (name == null) return NONE;
        return switch (name.trim().toUpperCase(Locale.ROOT)) {
            case "", "NONE" -> NONE;
            case "GZIP" -> GZIP;
            case "ZLIB" -> ZLIB;
            default -> throw new IllegalArgumentException(
                    "unknown TFRecord compression '" + name + "' (expected one of \"\", NONE, GZIP, ZLIB)");
        };
    }

    /** Guesses from the file name alone: .gz/.gzip → GZIP, .zlib/.zz → ZLIB, otherwise NONE. */
    public static Compression forFileName(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".gz") || n.endsWith(".gzip")) return GZIP;
        if (n.endsWith(".zlib") || n.endsWith(".zz")) return ZLIB;
        return NONE;
    }

    /**
     * Detects the compression from the first bytes of a file. An uncompressed TFRecord file starts
     * with a length whose masked CRC follows it; that is checked first, because a raw length can
     * happen to look like a zlib header. Otherwise the gzip magic (1f 8b) or a valid zlib header
     * (deflate method, header checksum divisible by 31) decide. Empty or unrecognised files are NONE
     * (the reader then reports what is wrong with them).
     */
    public static Compression detect(Path file) throws IOException {
        byte[] head = new byte[12];
        int n = 0;
        try (InputStream in = Files.newInputStream(file)) {
            while (n < head.length) {
                int r = in.read(head, n, head.length - n);
                if (r < 0) break;
                n += r;
            }
        }
        return detect(head, n);
    }

    /** {@link #detect(Path)} on the first {@code n} bytes of a file. */
    public static Compression detect(byte[] head, int n) {
        if (n >= 12) {
            int stored = (head[8] & 0xff) | (head[9] & 0xff) << 8 | (head[10] & 0xff) << 16 | (head[11] & 0xff) << 24;
            if (MaskedCrc32c.maskedCrc(head, 0, 8) == stored) return NONE;
        }
        if (n >= 2) {
            int b0 = head[0] & 0xff, b1 = head[1] & 0xff;
            if (b0 == 0x1f && b1 == 0x8b) return GZIP;
            if ((b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0) return ZLIB;
        }
        return NONE;
    }
}
