package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SnappyTest {
    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    private static byte[] dec(byte[] b) throws CheckpointFormatException {
        return Snappy.decompress(b, 0, b.length, "test");
    }

    @Test
    void handMadeStreams() throws Exception {
        // literal "abc"
        assertArrayEquals("abc".getBytes(), dec(bytes(3, 2 << 2, 'a', 'b', 'c')));
        // literal "ab", then copy-1 of length 6 at offset 2 (overlapping): "abababab"
        assertArrayEquals("abababab".getBytes(), dec(bytes(8, 1 << 2, 'a', 'b', 0x01 | (2 << 2), 2)));
        // literal "x", copy-2 of 5 at offset 1: "xxxxxx"
        assertArrayEquals("xxxxxx".getBytes(), dec(bytes(6, 0, 'x', 0x02 | (4 << 2), 1, 0)));
        // literal "xy", copy-4 of 3 at offset 2: "xyxyx"
        assertArrayEquals("xyxyx".getBytes(), dec(bytes(5, 1 << 2, 'x', 'y', 0x03 | (2 << 2), 2, 0, 0, 0)));
        // a literal of 61 bytes with its length in one extra byte (tag 60)
        byte[] lit = new byte[61];
        Arrays.fill(lit, (byte) 'q');
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        s.write(61);
        s.write(60 << 2);
        s.write(60);
        s.writeBytes(lit);
        assertArrayEquals(lit, dec(s.toByteArray()));
        assertArrayEquals(new byte[0], dec(bytes(0)));
    }

    @Test
    void malformedStreamsAreRejected() {
        assertThrows(CheckpointFormatException.class, () -> dec(bytes(3, 0x01 | (2 << 2), 0)));        // copy before any output (offset 0)
        assertThrows(CheckpointFormatException.class, () -> dec(bytes(8, 0, 'a', 0x01 | (2 << 2), 5))); // offset beyond output
        assertThrows(CheckpointFormatException.class, () -> dec(bytes(4, 2 << 2, 'a', 'b', 'c')));      // produces 3, announces 4
        assertThrows(CheckpointFormatException.class, () -> dec(bytes(2, 2 << 2, 'a', 'b', 'c')));      // literal overruns announced length
        assertThrows(CheckpointFormatException.class, () -> dec(bytes(3, 2 << 2, 'a')));                // truncated literal
        assertThrows(CheckpointFormatException.class, () -> dec(bytes(0xff, 0xff, 0xff, 0xff, 0x0f))); // absurd length, nothing allocated
        assertThrows(CheckpointFormatException.class, () -> dec(bytes(0x80)));                          // truncated varint
        assertThrows(CheckpointFormatException.class, () -> dec(bytes(5, 0x03 | (2 << 2), 2, 0)));      // truncated 4-byte offset
    }

    /** A simple greedy snappy compressor (test only) using every element kind, to round-trip data. */
    static byte[] compress(byte[] in) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteCursor.putVarint64(out, in.length);
        Map<Integer, Integer> last = new HashMap<>();
        int litStart = 0;
        int i = 0;
        while (i + 4 <= in.length) {
            int h = (in[i] & 0xff) | (in[i + 1] & 0xff) << 8 | (in[i + 2] & 0xff) << 16 | (in[i + 3] & 0xff) << 24;
            Integer cand = last.put(h, i);
            if (cand != null && i - cand < 70000) {
                int len = 0;
                while (i + len < in.length && in[cand + len] == in[i + len] && len < 64) len++;
                if (len >= 4) {
                    literal(out, in, litStart, i - litStart);
                    int off = i - cand;
                    if (len <= 11 && off < 2048) {
                        out.write(0x01 | ((len - 4) << 2) | ((off >>> 8) << 5));
                        out.write(off & 0xff);
                    } else if (off < 65536) {
                        out.write(0x02 | ((len - 1) << 2));
                        out.write(off & 0xff);
                        out.write(off >>> 8);
                    } else {
                        out.write(0x03 | ((len - 1) << 2));
                        ByteCursor.putFixed32(out, off);
                    }
                    i += len;
                    litStart = i;
                    continue;
                }
            }
            i++;
        }
        literal(out, in, litStart, in.length - litStart);
        return out.toByteArray();
    }

    private static void literal(ByteArrayOutputStream out, byte[] in, int from, int n) {
        if (n == 0) return;
        int v = n - 1;
        if (v < 60) {
            out.write(v << 2);
        } else {
            int extra = v < 256 ? 1 : v < 65536 ? 2 : v < (1 << 24) ? 3 : 4;
            out.write((59 + extra) << 2);
            for (int k = 0; k < extra; k++) out.write(v >>> (8 * k));
        }
        out.write(in, from, n);
    }

    @Test
    void roundTripsCompressedData() throws Exception {
        Random rnd = new Random(11);
        for (int t = 0; t < 40; t++) {
            int n = t == 0 ? 0 : rnd.nextInt(1 << (4 + t % 14));
            byte[] data = new byte[n];
            int alphabet = 1 + rnd.nextInt(t % 3 == 0 ? 256 : 4);
            for (int i = 0; i < n; i++) data[i] = (byte) (i > 100 && rnd.nextInt(4) == 0 ? data[i - 1 - rnd.nextInt(100)] : rnd.nextInt(alphabet));
            byte[] c = compress(data);
            if (n > 10000 && alphabet <= 4) assertTrue(c.length < n, "test compressor compresses");
            assertArrayEquals(data, dec(c), "case " + t);
            // Any truncation of a non-empty stream is an error, never an exception of another kind.
            if (c.length > 1) {
                byte[] cut = Arrays.copyOf(c, rnd.nextInt(c.length - 1) + 1);
                assertThrows(CheckpointFormatException.class, () -> dec(cut));
            }
        }
    }
}
