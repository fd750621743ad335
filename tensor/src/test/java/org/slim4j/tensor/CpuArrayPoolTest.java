package org.slim4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CpuArrayPoolTest {
    private static final int N = CpuArrayPool.MIN_LENGTH * 2;

    @Test
    void releasedArrayIsRecycledAndZeroedForZeros() {
        Tensor a = Tensor.zeros(DType.FLOAT32, Shape.of(N));
        float[] data = a.floatData();
        java.util.Arrays.fill(data, 7f);
        long live = CpuDevice.INSTANCE.liveBytes();
        a.close();
        assertEquals(live - 4L * N, CpuDevice.INSTANCE.liveBytes(), "a pooled array is not live");
        Tensor b = Tensor.zeros(DType.FLOAT32, Shape.of(N));
        assertSame(data, b.floatData(), "the most recently released array of the size comes back");
        for (float v : b.floatData()) assertEquals(0f, v, "zeros() clears a recycled array");
        b.close();
        Tensor c = Tensor.empty(DType.FLOAT32, Shape.of(2, N / 2));
        assertSame(data, c.floatData());
        assertEquals(Shape.of(2, N / 2), c.shape());
        c.close();
        assertThrows(IllegalStateException.class, c::floatData);
    }

    @Test
    void poolKeysOnDtypeAndLengthAndRespectsItsCap() {
        CpuArrayPool pool = new CpuArrayPool(4L * N);
        float[] f = new float[N];
        pool.give(DType.FLOAT32, N, f);
        assertNull(pool.take(DType.INT32, N), "another dtype of the same length");
        assertNull(pool.take(DType.FLOAT32, N + 1), "another length");
        pool.give(DType.FLOAT32, N, new float[N]);
        assertEquals(4L * N, pool.pooledBytes(), "the second array would pass the cap");
        assertSame(f, pool.take(DType.FLOAT32, N));
        assertNull(pool.take(DType.FLOAT32, N));
        pool.give(DType.FLOAT32, 16, new float[16]);
        assertEquals(0, pool.pooledBytes(), "small arrays are not pooled");
    }

    @Test
    void disabledPoolKeepsNothing() {
        CpuArrayPool pool = new CpuArrayPool(0);
        pool.give(DType.FLOAT64, N, new double[N]);
        assertNull(pool.take(DType.FLOAT64, N));
    }
}
