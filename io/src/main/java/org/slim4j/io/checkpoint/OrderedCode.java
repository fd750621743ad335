package org.slim4j.io.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * TensorFlow's OrderedCode, used for the keys of sliced tensors (every V1 checkpoint entry, and the
 * slices of a partitioned variable in a V2 bundle): {@code num(0), string(name), num(rank)}, then
 * {@code signed(start), signed(length)} per dimension ({@code length = -1} for a whole dimension).
 * The encodings sort bytewise in the order of the values:
 * <ul>
 * <li>unsigned number: one length byte, then the value big-endian without leading zero bytes;</li>
 * <li>string: the bytes with 0x00 written as 00 ff and 0xff as ff 00, then the separator 00 01;</li>
 * <li>signed number: n bytes (1..10) holding the value big-endian in two's complement, the top n
 *     bits flipped to say the length (set for a value >= 0, cleared for a negative one); n is the
 *     smallest length whose 7n-1 value bits hold the number.</li>
 * </ul>
 */
public final class OrderedCode {
    private OrderedCode() {
    }

    public static void writeNumIncreasing(ByteArrayOutputStream out, long v) {
        int len = (64 - Long.numberOfLeadingZeros(v) + 7) / 8;
        out.write(len);
        for (int i = len - 1; i >= 0; i--) out.write((int) (v >>> (8 * i)));
    }

    public static void writeString(ByteArrayOutputStream out, byte[] s) {
        for (byte b : s) {
            out.write(b);
            if (b == 0) out.write(0xff);
            else if (b == (byte) 0xff) out.write(0x00);
        }
        out.write(0x00);
        out.write(0x01);
    }

    public static void writeSignedNumIncreasing(ByteArrayOutputStream out, long v) {
        long magnitude = v < 0 ? ~v : v;
        int bits = 64 - Long.numberOfLeadingZeros(magnitude);
        int n = (bits + 1 + 6) / 7; // smallest n with bits <= 7n - 1
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            int shift = 8 * (n - 1 - i);
            b[i] = (byte) (shift >= 64 ? (v < 0 ? -1 : 0) : v >> shift);
        }
        // The top n bits become the length marker: n ones for v >= 0, n zeros for v < 0.
        for (int bit = 0; bit < n; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if (v >= 0) b[bit / 8] |= (byte) mask;
            else b[bit / 8] &= (byte) ~mask;
        }
        out.write(b, 0, n);
    }

    /** Reads encodings back; every method throws CheckpointFormatException on malformed input. */
    public static final class Reader {
        private final byte[] buf;
        private int pos;
        private final String where;

        public Reader(byte[] buf, String where) {
            this.buf = buf;
            this.where = where;
        }

        public boolean atEnd() {
            return pos == buf.length;
        }

        private CheckpointFormatException error(String what) {
            return new CheckpointFormatException(where + ": bad OrderedCode key (" + what + ")");
        }

        public long readNumIncreasing() throws CheckpointFormatException {
            if (pos >= buf.length) throw error("missing number");
            int len = buf[pos] & 0xff;
            if (len > 8 || pos + 1 + len > buf.length) throw error("number length " + len);
            long v = 0;
            for (int i = 0; i < len; i++) v = (v << 8) | (buf[pos + 1 + i] & 0xff);
            pos += 1 + len;
            return v;
        }

        public byte[] readString() throws CheckpointFormatException {
            ByteArrayOutputStream s = new ByteArrayOutputStream();
            while (pos + 1 < buf.length) {
                int b = buf[pos] & 0xff;
                if (b == 0x00) {
                    int next = buf[pos + 1] & 0xff;
                    pos += 2;
                    if (next == 0x01) return s.toByteArray();
                    if (next != 0xff) throw error("bad escape 00 " + Integer.toHexString(next));
                    s.write(0);
                } else if (b == 0xff) {
                    int next = buf[pos + 1] & 0xff;
                    pos += 2;
                    if (next != 0x00) throw error("bad escape ff " + Integer.toHexString(next));
                    s.write(0xff);
                } else {
                    s.write(b);
                    pos++;
                }
            }
            throw error("unterminated string");
        }

        public long readSignedNumIncreasing() throws CheckpointFormatException {
            if (pos >= buf.length) throw error("missing signed number");
            boolean nonNegative = (buf[pos] & 0x80) != 0;
            // Count the leading bits equal to the sign bit (up to 10): that is the length.
            int n = 0;
            while (n < 10) {
                int idx = pos + n / 8;
                if (idx >= buf.length) throw error("truncated signed number");
                boolean bit = (buf[idx] & (0x80 >>> (n % 8))) != 0;
                if (bit != nonNegative) break;
                n++;
            }
            if (n == 0 || n > 10 || pos + n > buf.length) throw error("signed number length " + n);
            byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
            for (int bit = 0; bit < n; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if (nonNegative) b[bit / 8] &= (byte) ~mask;
                else b[bit / 8] |= (byte) mask;
            }
            long v = nonNegative ? 0 : -1; // sign-extends encodings shorter than 8 bytes
            for (byte x : b) v = (v << 8) | (x & 0xff);
            pos += n;
            return v;
        }
    }

    /** Convenience for tests and messages: the encoding of a UTF-8 string alone. */
    static byte[] string(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeString(out, s.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
