package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The packed kernel-parameter block: every address in the array leads to its value, aligned, in order. */
class LaunchParamsTest {
    private static final long BASE = 0x7f00_1234_5000L;

    private static ByteBuffer block() {
        return ByteBuffer.allocate(LaunchParams.BYTES).order(ByteOrder.nativeOrder());
    }

    private static int offset(ByteBuffer b, int param) {
        long address = b.getLong(8 * param);
        assertTrue(address >= BASE + LaunchParams.VALUES && address < BASE + LaunchParams.BYTES, "param " + param + " at " + address);
        assertEquals(0, (address - BASE) % 8, "param " + param + " is 8-byte aligned");
        return (int) (address - BASE);
    }

    @Test
    void everyKindLandsWhereItsAddressPoints() {
        KernelArgs args = new KernelArgs().ptr(0x7000_0000_0040L).i32(-7).f32(1.5).struct(3, 4, 5).i64(-2L).f64(0.25).i32(true);
        ByteBuffer b = block();
        assertTrue(LaunchParams.pack(args.list(), b, BASE));
        assertEquals(0x7000_0000_0040L, b.getLong(offset(b, 0)));
        assertEquals(-7, b.getInt(offset(b, 1)));
        assertEquals(1.5f, b.getFloat(offset(b, 2)));
        int s = offset(b, 3);
        assertEquals(3, b.getInt(s));
        assertEquals(4, b.getInt(s + 4));
        assertEquals(5, b.getInt(s + 8));
        assertEquals(-2L, b.getLong(offset(b, 4)));
        assertEquals(0.25, b.getDouble(offset(b, 5)));
        assertEquals(1, b.getInt(offset(b, 6)));
        // Values do not overlap: each starts after the previous one's bytes.
        assertEquals(offset(b, 3) + 16, offset(b, 4));
        for (int i = 1; i < 7; i++) assertTrue(offset(b, i) > offset(b, i - 1));
    }

    @Test
    void aBlockIsReusedWithoutStaleValues() {
        ByteBuffer b = block();
        assertTrue(LaunchParams.pack(new KernelArgs().i32(1).i32(2).i32(3).list(), b, BASE));
        assertTrue(LaunchParams.pack(new KernelArgs().f32(9).list(), b, BASE));
        assertEquals(9f, b.getFloat(offset(b, 0)));
        assertEquals(LaunchParams.VALUES, offset(b, 0));
    }

    @Test
    void tooManyOrTooLargeParametersAreRefused() {
        List<KernelArgs.Arg> many = new ArrayList<>();
        for (int i = 0; i <= LaunchParams.MAX_PARAMS; i++) many.add(new KernelArgs.Arg(KernelArgs.INT, i));
        assertFalse(LaunchParams.pack(many, block(), BASE));
        assertTrue(LaunchParams.pack(many.subList(0, LaunchParams.MAX_PARAMS), block(), BASE));
        int[] huge = new int[(LaunchParams.BYTES - LaunchParams.VALUES) / 4 + 1];
        assertFalse(LaunchParams.pack(new KernelArgs().struct(huge).list(), block(), BASE));
        assertTrue(LaunchParams.pack(new KernelArgs().struct(new int[huge.length - 1]).list(), block(), BASE));
    }
}
