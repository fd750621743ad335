package org.slim4j.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Caching device allocator. Requests are rounded up to a size class (at least 512 bytes; above
 * that, quarter steps between powers of two, so at most 25% is wasted) and a released block goes
 * to its class's free list instead of back to the driver. A training loop allocates the same sizes
 * every step, so after the first step every request is served from a free list and the driver's
 * cuMemAlloc/cuMemFree (slow, and synchronising) are never called in the loop.
 *
 * <p>Reuse is safe without events because the device has one stream: a block released by the host
 * is handed out again only to work queued later on the same stream, which runs after every kernel
 * that used the block before. When the driver reports the device full, the cache is returned to
 * the driver and the request retried once; if it still fails, {@link CudaOutOfMemoryError} says
 * what was asked, what is free, and what slim4j holds.
 *
 * <p>Not thread-safe on its own: {@link CudaDevice} calls it under its lock.
 */
public final class CudaAllocator {
    /** Smallest block; also the alignment granule of every class. */
    public static final long MIN_BLOCK = 512;

    private final GpuDriver driver;
    private final String deviceName;
    private final boolean exactSizes;
    private final Map<Long, ArrayDeque<Long>> freeLists = new HashMap<>();
    private long reservedBytes;
    private long cachedBytes;
    private long peakReservedBytes;
    private long driverAllocations;
    private long driverFrees;

    public CudaAllocator(GpuDriver driver, String deviceName) {
        this(driver, deviceName, false);
    }

    /**
     * With {@code exactSizes}, blocks are exactly the requested size (cached per exact size): the
     * CPU emulator uses it so that AddressSanitizer sees every tensor's true end.
     */
    CudaAllocator(GpuDriver driver, String deviceName, boolean exactSizes) {
        this.driver = driver;
        this.deviceName = deviceName;
        this.exactSizes = exactSizes;
    }

    private long blockSize(long bytes) {
        return exactSizes ? Math.max(1, bytes) : sizeClass(bytes);
    }

    /** The block size serving a request of {@code bytes}. */
    public static long sizeClass(long bytes) {
        if (bytes <= MIN_BLOCK) return MIN_BLOCK;
        long step = Long.highestOneBit(bytes - 1) / 4;
        return (bytes + step - 1) / step * step;
    }

    /** A device block of at least {@code bytes}; its size is {@link #sizeClass}(bytes). */
    public long allocate(long bytes) {
        long size = blockSize(bytes);
        ArrayDeque<Long> list = freeLists.get(size);
        if (list != null && !list.isEmpty()) {
            cachedBytes -= size;
            return list.pop();
        }
        long ptr;
        try {
            ptr = driver.malloc(size);
        } catch (GpuDriver.OutOfDeviceMemory first) {
            // Give the cached blocks back to the driver and try once more.
            emptyCache();
            try {
                ptr = driver.malloc(size);
            } catch (GpuDriver.OutOfDeviceMemory second) {
                long[] info = safeMemoryInfo();
                throw new CudaOutOfMemoryError(deviceName, bytes, info[0], info[1], reservedBytes);
            }
        }
        driverAllocations++;
        reservedBytes += size;
        peakReservedBytes = Math.max(peakReservedBytes, reservedBytes);
        return ptr;
    }

    /** Returns a block obtained from {@link #allocate}({@code bytes}) to the cache. */
    public void release(long ptr, long bytes) {
        long size = blockSize(bytes);
        freeLists.computeIfAbsent(size, s -> new ArrayDeque<>()).push(ptr);
        cachedBytes += size;
    }

    /** Frees every cached block to the driver (e.g. before handing the GPU to another process). */
    public void emptyCache() {
        List<Long> sizes = new ArrayList<>(freeLists.keySet());
        for (long size : sizes) {
            ArrayDeque<Long> list = freeLists.get(size);
            while (!list.isEmpty()) {
                driver.free(list.pop());
                driverFrees++;
                reservedBytes -= size;
                cachedBytes -= size;
            }
        }
        freeLists.clear();
    }

    private long[] safeMemoryInfo() {
        try {
            return driver.memoryInfo();
        } catch (RuntimeException e) {
            return new long[] {-1, -1};
        }
    }

    /** Bytes obtained from the driver and not returned (live blocks plus the cache). */
    public long reservedBytes() {
        return reservedBytes;
    }

    /** Bytes sitting in the free lists. */
    public long cachedBytes() {
        return cachedBytes;
    }

    public long peakReservedBytes() {
        return peakReservedBytes;
    }

    /** How many times the driver's allocation function was called (constant in a steady-state loop). */
    public long driverAllocations() {
        return driverAllocations;
    }

    public long driverFrees() {
        return driverFrees;
    }
}
