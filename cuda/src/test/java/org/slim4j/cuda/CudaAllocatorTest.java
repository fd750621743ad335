package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The caching allocator's size classes, reuse, cache release and out-of-memory handling, on a driver that runs nothing and counts calls. */
class CudaAllocatorTest {
    @Test
    void sizeClassesRoundUpByAtMostAQuarter() {
        assertEquals(512, CudaAllocator.sizeClass(1));
        assertEquals(512, CudaAllocator.sizeClass(512));
        assertEquals(640, CudaAllocator.sizeClass(513));
        assertEquals(1024, CudaAllocator.sizeClass(1000));
        assertEquals(1 << 20, CudaAllocator.sizeClass(1 << 20));
        assertEquals(1_310_720, CudaAllocator.sizeClass((1 << 20) + 1));
        long prev = 0;
        for (long b = 1; b < 50_000_000L; b = b * 3 / 2 + 1) {
            long c = CudaAllocator.sizeClass(b);
            assertTrue(c >= b && (b <= 512 || c <= b * 1.25 + 1), b + " -> " + c);
            assertTrue(c % 128 == 0, "class " + c + " keeps 128-byte alignment");
            assertTrue(c >= prev, "monotone");
            prev = c;
        }
    }

    @Test
    void releasedBlocksAreReusedWithoutCallingTheDriver() {
        RecordingDriver d = new RecordingDriver(1L << 30);
        CudaAllocator a = new CudaAllocator(d, "fake:0");
        long p1 = a.allocate(1000);
        long p2 = a.allocate(4000);
        assertEquals(2, d.mallocs);
        a.release(p1, 1000);
        a.release(p2, 4000);
        assertEquals(1024 + 4096, a.cachedBytes());
        // Same classes again (different exact sizes): served from the cache.
        for (int step = 0; step < 5; step++) {
            long q1 = a.allocate(900);
            long q2 = a.allocate(3900);
            assertEquals(p1, q1);
            assertEquals(p2, q2);
            a.release(q1, 900);
            a.release(q2, 3900);
        }
        assertEquals(2, d.mallocs, "a warm loop never calls cuMemAlloc");
        assertEquals(2, a.driverAllocations());
        assertEquals(1024 + 4096, a.reservedBytes());
        a.emptyCache();
        assertEquals(0, a.reservedBytes());
        assertEquals(2, d.frees);
        assertEquals(0, d.liveBlocks());
    }

    @Test
    void outOfMemoryFirstReturnsTheCacheThenExplains() {
        RecordingDriver d = new RecordingDriver(10_000);
        CudaAllocator a = new CudaAllocator(d, "fake:0");
        long big = a.allocate(6000);     // class 6144
        a.release(big, 6000);            // cached
        long other = a.allocate(5000);   // needs the cached 6144 back first
        assertEquals(1, d.frees, "the cache went back to the driver before failing");
        assertNotEquals(0, other);
        CudaOutOfMemoryError e = assertThrows(CudaOutOfMemoryError.class, () -> a.allocate(8000));
        assertEquals(8000, e.requestedBytes());
        assertTrue(e.getMessage().contains("fake:0 is out of memory: asked for 7.8 KiB"), e.getMessage());
        assertTrue(e.getMessage().contains("free of 9.8 KiB"), e.getMessage());
        assertTrue(e.getMessage().contains("Reduce the batch size"), e.getMessage());
    }

    @Test
    void manyLiveBlocksAreDistinct() {
        RecordingDriver d = new RecordingDriver(1L << 30);
        CudaAllocator a = new CudaAllocator(d, "fake:0");
        List<Long> ptrs = new ArrayList<>();
        for (int i = 0; i < 50; i++) ptrs.add(a.allocate(777));
        assertEquals(50, new HashSet<>(ptrs).size());
        for (long p : ptrs) a.release(p, 777);
        for (int i = 0; i < 50; i++) assertTrue(ptrs.contains(a.allocate(800)), "same class (896 bytes) as 777");
        assertEquals(50, d.mallocs);
    }
}
