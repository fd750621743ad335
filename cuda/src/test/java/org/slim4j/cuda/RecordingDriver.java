package org.slim4j.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link GpuDriver} that runs nothing and records what it is asked: device memory is fake
 * addresses handed out within a capacity (mallocs, frees and live blocks counted; freeing a block
 * that is not live throws), kernel launches are counted by kernel name, copies to the host read
 * zeros, events take no time. For tests of the layers above the kernels (the caching allocator,
 * what a training step launches) that need neither a GPU nor the emulator. Public for other
 * modules' tests.
 */
public final class RecordingDriver implements GpuDriver {
    /** An event that has always completed, zero milliseconds after any other. */
    static final GpuEvent NO_EVENT = new GpuEvent() {
        @Override
        public void synchronize() {
        }

        @Override
        public float elapsedMillisSince(GpuEvent start) {
            return 0f;
        }

        @Override
        public void close() {
        }
    };

    private final long capacity;
    private long used;
    private long next = 1L << 20;
    private final Map<Long, Long> live = new HashMap<>();
    /** Launches so far, by kernel name. */
    public final Map<String, Integer> launchCounts = new TreeMap<>();
    int mallocs;
    int frees;

    public RecordingDriver(long capacity) {
        this.capacity = capacity;
    }

    /** Launches of {@code kernel} so far. */
    public int launches(String kernel) {
        return launchCounts.getOrDefault(kernel, 0);
    }

    /** Device blocks allocated and not freed. */
    int liveBlocks() {
        return live.size();
    }

    /** All launches so far. */
    public int totalLaunches() {
        return launchCounts.values().stream().mapToInt(Integer::intValue).sum();
    }

    @Override
    public String describe() {
        return "recording driver (runs nothing)";
    }

    @Override
    public long[] memoryInfo() {
        return new long[] {capacity - used, capacity};
    }

    @Override
    public long malloc(long bytes) {
        if (used + bytes > capacity) throw new OutOfDeviceMemory("recording driver: " + bytes + " bytes asked, " + (capacity - used) + " free");
        mallocs++;
        used += bytes;
        long p = next;
        next += (bytes + 511) & ~511L;
        live.put(p, bytes);
        return p;
    }

    @Override
    public void free(long ptr) {
        Long bytes = live.remove(ptr);
        if (bytes == null) throw new IllegalStateException("recording driver: free of " + ptr + ", which is not a live block");
        frees++;
        used -= bytes;
    }

    @Override
    public HostBuffer mallocHost(int bytes) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        return new HostBuffer() {
            @Override
            public ByteBuffer buffer() {
                return b;
            }

            @Override
            public int capacity() {
                return bytes;
            }
        };
    }

    @Override
    public void freeHost(HostBuffer buffer) {
    }

    @Override
    public void copyHostToDevice(long dst, HostBuffer src, int srcOffset, long bytes) {
    }

    @Override
    public void copyDeviceToHost(HostBuffer dst, int dstOffset, long src, long bytes) {
        for (int i = 0; i < bytes; i++) dst.buffer().put(dstOffset + i, (byte) 0);
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) {
    }

    @Override
    public void memset32(long dst, int value, long count) {
    }

    @Override
    public void memset8(long dst, byte value, long count) {
    }

    @Override
    public void launch(String module, String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes,
                       KernelArgs args) {
        launchCounts.merge(kernel, 1, Integer::sum);
    }

    @Override
    public void synchronize() {
    }

    @Override
    public GpuEvent recordEvent() {
        return NO_EVENT;
    }

    @Override
    public void close() {
    }
}
