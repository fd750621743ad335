package org.slim4j.io.checkpoint;

/**
 * Snappy block-format decompressor (the format LevelDB tables use for compression type 1).
 * A block is a varint32 uncompressed length followed by elements, each starting with a tag byte
 * whose low two bits say what follows: 0 a literal (length-1 in the upper six bits, or in 1-4
 * extra little-endian bytes when those bits are 60-63), 1 a copy of 4-11 bytes at an 11-bit offset,
 * 2 a copy of 1-64 bytes at a 16-bit offset, 3 the same with a 32-bit offset. Copies may overlap
 * their own output (run-length style). Any inconsistency is a {@link CheckpointFormatException}.
 */
public final class Snappy {
    /** A snappy element expands at most ~21x (a 3-byte copy yields 64 bytes); used to reject absurd lengths. */
    private static final int MAX_EXPANSION = 22;

    private Snappy() {
    }

    /** The uncompressed length a block announces (checked against the block size). */
    public static int uncompressedLength(byte[] src, int off, int len, String where) throws CheckpointFormatException {
        ByteCursor c = new ByteCursor(src, off, off + len, where);
        return checkedLength(c.varint32(), len, where);
    }

    private static int checkedLength(long n, int compressedLen, String where) throws CheckpointFormatException {
        if (n > (long) MAX_EXPANSION * compressedLen + 16 || n > Integer.MAX_VALUE - 16) {
            throw new CheckpointFormatException(where + ": snappy block of " + compressedLen + " bytes claims an impossible uncompressed length " + n);
        }
        return (int) n;
    }

    /** Decompresses {@code src[off, off+len)}; {@code where} prefixes error messages. */
    public static byte[] decompress(byte[] src, int off, int len, String where) throws CheckpointFormatException {
        ByteCursor c = new ByteCursor(src, off, off + len, where);
        int outLen = checkedLength(c.varint32(), len, where);
        byte[] out = new byte[outLen];
        int op = 0;
        while (c.remaining() > 0) {
            int tag = c.u8();
            int kind = tag & 3;
            if (kind == 0) {
                int n = tag >>> 2;
                if (n >= 60) {
                    int extra = n - 59;
                    long v = 0;
                    for (int i = 0; i < extra; i++) v |= (long) c.u8() << (8 * i);
                    n = (int) Math.min(v, Integer.MAX_VALUE - 1);
                }
                long litLen = (long) n + 1;
                if (litLen > c.remaining() || litLen > outLen - op) {
                    throw new CheckpointFormatException(where + ": snappy literal of " + litLen + " bytes overruns the block");
                }
                System.arraycopy(src, c.pos, out, op, (int) litLen);
                c.pos += (int) litLen;
                op += (int) litLen;
                continue;
            }
            int copyLen;
            long offset;
            if (kind == 1) {
                copyLen = 4 + ((tag >>> 2) & 7);
                offset = ((long) (tag >>> 5) << 8) | c.u8();
            } else if (kind == 2) {
                copyLen = 1 + (tag >>> 2);
                offset = c.u8() | (c.u8() << 8);
            } else {
                copyLen = 1 + (tag >>> 2);
                offset = c.fixed32() & 0xffffffffL;
            }
            if (offset == 0 || offset > op) {
                throw new CheckpointFormatException(where + ": snappy copy offset " + offset + " outside the " + op + " bytes written so far");
            }
            if (copyLen > outLen - op) {
                throw new CheckpointFormatException(where + ": snappy copy of " + copyLen + " bytes overruns the announced length " + outLen);
            }
            int from = op - (int) offset;
            if (offset >= copyLen) {
                System.arraycopy(out, from, out, op, copyLen);
                op += copyLen;
            } else {
                // Overlapping copy: byte by byte, so the pattern repeats.
                for (int i = 0; i < copyLen; i++) out[op++] = out[from++];
            }
        }
        if (op != outLen) {
            throw new CheckpointFormatException(where + ": snappy block produced " + op + " bytes, announced " + outLen);
        }
        return out;
    }
}
