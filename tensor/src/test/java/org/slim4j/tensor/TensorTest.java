package org.slim4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorTest {
    @Test
    void viewsShareMemoryAndReleaseOnLastClose() {
        long before = CpuDevice.INSTANCE.liveBytes();
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Tensor r = t.reshape(2, -1);
        Tensor s = t.slice0(1, 3);
        assertArrayEquals(new int[] {2, 3}, r.dims());
        assertArrayEquals(new float[] {3, 4, 5, 6}, s.toFloatArray());
        t.close();
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, r.toFloatArray(), "a view keeps memory alive");
        r.close();
        s.close();
        s.close();
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
        assertThrows(IllegalStateException.class, t::toFloatArray);
    }

    @Test
    void scopeReleasesEverythingButKeptTensors() {
        long before = CpuDevice.INSTANCE.liveAllocations();
        Tensor kept;
        try (TensorScope outer = TensorScope.open()) {
            try (TensorScope inner = TensorScope.open()) {
                Tensor.zeros(4, 4);
                kept = inner.keep(Tensor.fill(2f, 3));
            }
            assertEquals(1, outer.size());
            assertEquals(2f, kept.toFloatArray()[0]);
        }
        assertTrue(kept.isClosed());
        assertEquals(before, CpuDevice.INSTANCE.liveAllocations());
    }

    @Test
    void seededRandomIsRepeatableAndTruncatedNormalIsBounded() {
        Tensor a = Tensor.truncatedNormal(7, DType.FLOAT32, Shape.of(1000), 0, 0.5);
        Tensor b = Tensor.truncatedNormal(7, DType.FLOAT32, Shape.of(1000), 0, 0.5);
        assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        for (float v : a.toFloatArray()) assertTrue(Math.abs(v) <= 1.0f);
        double mean = 0;
        Tensor u = Tensor.randomUniform(3, -1, 1, 10000);
        for (float v : u.toFloatArray()) mean += v;
        assertEquals(0, mean / 10000, 0.05);
    }

    @Test
    void shapeChecksNameTheProblem() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(4, 6).reshape(5, -1));
        assertEquals("Tensor(int32[2] on cpu, [3, -4])", Tensor.of(new int[] {3, -4}).toString());
    }

    @Test
    void npyRoundTrip(@TempDir Path dir) throws Exception {
        Tensor t = Tensor.randomNormal(1, DType.FLOAT64, Shape.of(2, 3, 4), 0, 1);
        Path f = dir.resolve("x.npy");
        Npy.write(t, f);
        Tensor r = Npy.read(f);
        assertArrayEquals(t.dims(), r.dims());
        assertArrayEquals(t.toDoubleArray(), r.toDoubleArray());
        Files.write(f, new byte[] {1, 2, 3});
        var e = assertThrows(java.io.IOException.class, () -> Npy.read(f));
        assertTrue(e.getMessage().contains("x.npy"));
    }
}
