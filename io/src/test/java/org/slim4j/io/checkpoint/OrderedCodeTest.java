package org.slim4j.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slim4j.io.proto.TensorSliceProto;

class OrderedCodeTest {
    private static byte[] signed(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OrderedCode.writeSignedNumIncreasing(out, v);
        return out.toByteArray();
    }

    private static byte[] unsigned(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OrderedCode.writeNumIncreasing(out, v);
        return out.toByteArray();
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Test
    void knownEncodings() {
        // The two examples documented with TensorFlow's OrderedCode, plus edge cases of each length.
        assertEquals("f0424242", hex(signed(0x424242)));
        assertEquals("3800", hex(signed(-0x800)));
        assertEquals("80", hex(signed(0)));
        assertEquals("7f", hex(signed(-1)));
        assertEquals("81", hex(signed(1)));
        assertEquals("bf", hex(signed(63)));
        assertEquals("c040", hex(signed(64)));
        assertEquals("40", hex(signed(-64)));
        assertEquals("3fbf", hex(signed(-65)));
        assertEquals("ffc07fffffffffffffff", hex(signed(Long.MAX_VALUE)));
        assertEquals("003f8000000000000000", hex(signed(Long.MIN_VALUE)));
        assertEquals("00", hex(unsigned(0)));
        assertEquals("0102", hex(unsigned(2)));
        assertEquals("020100", hex(unsigned(256)));
        assertEquals("08ffffffffffffffff", hex(unsigned(-1)));
    }

    @Test
    void signedRoundTripAndOrder() throws Exception {
        Random rnd = new Random(7);
        long[] values = new long[4000];
        for (int i = 0; i < values.length; i++) {
            int bits = rnd.nextInt(64);
            values[i] = rnd.nextLong() >> bits;
        }
        values[0] = Long.MIN_VALUE;
        values[1] = Long.MAX_VALUE;
        values[2] = 0;
        values[3] = -1;
        for (long v : values) {
            OrderedCode.Reader r = new OrderedCode.Reader(signed(v), "test");
            assertEquals(v, r.readSignedNumIncreasing(), "value " + v);
            assertTrue(r.atEnd());
        }
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i - 1] == sorted[i]) continue;
            assertTrue(Arrays.compareUnsigned(signed(sorted[i - 1]), signed(sorted[i])) < 0, sorted[i - 1] + " vs " + sorted[i]);
        }
    }

    @Test
    void stringsEscapeZeroAndFf() throws Exception {
        byte[] s = {'a', 0, (byte) 0xff, 'b'};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OrderedCode.writeString(out, s);
        assertEquals("6100ffff006200" + "01", hex(out.toByteArray()));
        OrderedCode.Reader r = new OrderedCode.Reader(out.toByteArray(), "test");
        assertArrayEquals(s, r.readString());
        assertThrows(CheckpointFormatException.class, () -> new OrderedCode.Reader(new byte[] {'a', 'b'}, "t").readString());
        assertThrows(CheckpointFormatException.class, () -> new OrderedCode.Reader(new byte[] {0, 7}, "t").readString());
    }

    @Test
    void sliceKeysRoundTrip() throws Exception {
        TensorSliceProto slice = TensorSliceProto.newBuilder()
                .addExtent(TensorSliceProto.Extent.newBuilder().setStart(10).setLength(20))
                .addExtent(TensorSliceProto.Extent.newBuilder())
                .build();
        byte[] key = TensorSlices.key("layer/weights", slice);
        // 00 (marker), name, 00 01, 01 02 (rank 2), start 10 = 8a, length 20 = 94, full: 0 = 80, -1 = 7f
        assertEquals("00" + hex("layer/weights".getBytes()) + "0001" + "0102" + "8a94" + "807f", hex(key));
        TensorSlices.SliceKey k = TensorSlices.decodeKey(key, "test");
        assertEquals("layer/weights", k.name());
        assertEquals(slice, k.slice());
        assertThrows(CheckpointFormatException.class, () -> TensorSlices.decodeKey(Arrays.copyOf(key, key.length - 1), "test"));
    }
}
