package org.slim4j.io.checkpoint;

import java.io.ByteArrayOutputStream;

/**
 * Bounds-checked little-endian / varint reading over {@code buf[pos, limit)}. Every read that would
 * run past {@code limit} throws {@link CheckpointFormatException} prefixed with {@code where}
 * (the file and structure being parsed), so malformed input never causes an index error.
 */
final class ByteCursor {
    final byte[] buf;
    int pos;
    final int limit;
    private final String where;

    ByteCursor(byte[] buf, int pos, int limit, String where) {
        if (pos < 0 || limit > buf.length || pos > limit) throw new IllegalArgumentException("bad range");
        this.buf = buf;
        this.pos = pos;
        this.limit = limit;
        this.where = where;
    }

    int remaining() {
        return limit - pos;
    }

    CheckpointFormatException error(String what) {
        return new CheckpointFormatException(where + ": " + what);
    }

    int u8() throws CheckpointFormatException {
        if (pos >= limit) throw error("unexpected end of data at byte " + pos);
        return buf[pos++] & 0xff;
    }

    int fixed32() throws CheckpointFormatException {
        need(4);
        int v = getInt(buf, pos);
        pos += 4;
        return v;
    }

    long fixed64() throws CheckpointFormatException {
        need(8);
        long v = getLong(buf, pos);
        pos += 8;
        return v;
    }

    /** A varint of at most 10 bytes; values that overflow 64 bits are an error. */
    long varint64() throws CheckpointFormatException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = u8();
            if (shift == 63 && (b & 0x7e) != 0) throw error("varint64 overflows 64 bits");
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return v;
        }
        throw error("varint64 longer than 10 bytes");
    }

    /** A varint of at most 5 bytes holding a value below 2^32, returned as a long (>= 0). */
    long varint32() throws CheckpointFormatException {
        long v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = u8();
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (v > 0xffffffffL) throw error("varint32 overflows 32 bits");
                return v;
            }
        }
        throw error("varint32 longer than 5 bytes");
    }

    /** A length that must fit in what is left of the buffer (so nothing is allocated for absurd values). */
    int length(long n, String what) throws CheckpointFormatException {
        if (n < 0 || n > remaining()) {
            throw error(what + " of " + Long.toUnsignedString(n) + " bytes runs past the end (" + remaining() + " bytes left)");
        }
        return (int) n;
    }

    private void need(int n) throws CheckpointFormatException {
        if (limit - pos < n) throw error("unexpected end of data at byte " + pos + " (need " + n + ", have " + (limit - pos) + ")");
    }

    static int getInt(byte[] b, int p) {
        return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
    }

    static long getLong(byte[] b, int p) {
        return (getInt(b, p) & 0xffffffffL) | (long) getInt(b, p + 4) << 32;
    }

    static void putVarint64(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }

    static void putFixed32(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    static void putFixed64(ByteArrayOutputStream out, long v) {
        putFixed32(out, (int) v);
        putFixed32(out, (int) (v >>> 32));
    }
}
