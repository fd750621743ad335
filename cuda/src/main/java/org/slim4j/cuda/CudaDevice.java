package org.slim4j.cuda;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.DeviceClock;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Storage;
import org.slim4j.tensor.Tensor;

/**
 * One NVIDIA GPU: a context, one stream (so all work runs in the order it was queued), a caching
 * allocator ({@link CudaAllocator}: no cuMemAlloc once a training loop is warm), live-byte
 * accounting, and host copies through two page-locked staging buffers.
 *
 * <p>Host to device: the Java array is copied into a staging buffer and an asynchronous copy is
 * queued; the two buffers alternate, and a buffer is refilled only after the event recorded behind
 * its previous copy has completed, so large uploads overlap packing with the transfer and the
 * caller's array is free as soon as the call returns. Device to host waits for the stream (the
 * caller wants the values).
 *
 * <p>Memory is released deterministically: closing a tensor returns its block to the allocator at
 * once (it is reused by later work on the same stream). {@link #allocate} zero-fills, as the
 * {@link Device} contract requires; kernels get their outputs from {@link #empty}, which skips the
 * fill because the kernel writes every element.
 */
public final class CudaDevice implements Device, DeviceClock {
    /** Bytes of each of the two staging buffers. */
    static final int STAGING_BYTES = 4 << 20;

    private static final Map<Integer, CudaDevice> OPENED = new HashMap<>();

    private final String name;
    private final GpuDriver driver;
    private final CudaAllocator allocator;
    private final Object lock = new Object();
    /** See {@link #hostWaitNanos()}; guarded by lock. */
    private long hostWaitNanos;
    /** Kernels queued since the device opened (see {@link #launchCount()}); guarded by lock. */
    private long launches;
    private final ThreadLocal<Boolean> skipZeroFill = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private final GpuDriver.HostBuffer[] staging = new GpuDriver.HostBuffer[2];
    private final GpuDriver.GpuEvent[] stagingDone = new GpuDriver.GpuEvent[2];
    private int nextStaging;
    private long liveBytes;
    private long liveAllocations;
    private long peakLiveBytes;
    private boolean closed;
    private final CudaBackend backend;
    private volatile CudaOptions options = CudaOptions.EXACT;

    private CudaDevice(String name, GpuDriver driver, boolean exactSizes) {
        this.name = name;
        this.driver = driver;
        this.allocator = new CudaAllocator(driver, name, exactSizes);
        this.backend = new CudaBackend(this);
    }

    /**
     * The GPU with index {@code ordinal} (opened once, then shared). Throws IllegalStateException
     * with the reason when CUDA is unavailable ({@link CudaRuntime#probe()} says why without throwing).
     */
    public static CudaDevice open(int ordinal) {
        synchronized (OPENED) {
            CudaDevice d = OPENED.get(ordinal);
            if (d == null) {
                CudaRuntime.Probe probe = CudaRuntime.probe();
                if (!probe.available()) throw new IllegalStateException("cuda:" + ordinal + " is not available: " + probe.reason());
                if (ordinal < 0 || ordinal >= probe.gpus().size()) {
                    throw new IllegalStateException("cuda:" + ordinal + " does not exist: this machine has " + probe.gpus().size() + " GPU(s)");
                }
                d = new CudaDevice("cuda:" + ordinal, JCudaDriverApi.open(ordinal), false);
                OPENED.put(ordinal, d);
            }
            return d;
        }
    }

    /** A device on an explicit driver (the tests' CPU emulator, or a custom binding). */
    public static CudaDevice withDriver(String name, GpuDriver driver) {
        return new CudaDevice(name, driver, false);
    }

    /** As {@link #withDriver(String, GpuDriver)}, with exact-size blocks (see {@link CudaAllocator}). */
    static CudaDevice withDriver(String name, GpuDriver driver, boolean exactSizes) {
        return new CudaDevice(name, driver, exactSizes);
    }

    @Override
    public String name() {
        return name;
    }

    /** The backend computing on this device. */
    public CudaBackend backend() {
        return backend;
    }

    /** The kernels and precision this device computes with (see {@link CudaOptions}). */
    public CudaOptions options() {
        return options;
    }

    /** Sets the kernels and precision for the ops launched from now on (a CLI sets it once at start). */
    public void configure(CudaOptions options) {
        if (options == null) throw new IllegalArgumentException("CudaDevice.configure: options is null");
        this.options = options;
    }

    /** The GPU as the driver describes it. */
    public String describe() {
        synchronized (lock) {
            return driver.describe();
        }
    }

    GpuDriver driver() {
        return driver;
    }

    /**
     * Runs {@code work} under the device lock with this device's context current on the calling
     * thread, giving it the stream everything is queued on: how a vendor library (cuDNN) queues its
     * work in order with the hand-written kernels. Only a real GPU has such a stream; on another
     * driver (the tests' emulator) this throws IllegalStateException.
     */
    public <T> T onStream(java.util.function.Function<jcuda.driver.CUstream, T> work) {
        synchronized (lock) {
            checkOpen();
            if (!(driver instanceof JCudaDriverApi jcuda)) {
                throw new IllegalStateException(name + " runs on " + driver.getClass().getSimpleName()
                        + ", not on JCuda's driver API: vendor libraries (cuDNN) need a real CUDA stream");
            }
            return work.apply(jcuda.boundStream());
        }
    }

    Object lock() {
        return lock;
    }

    // ---- memory --------------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int length) {
        long bytes = (long) dtype.byteSize() * length;
        synchronized (lock) {
            checkOpen();
            long ptr = bytes == 0 ? 0 : allocator.allocate(bytes);
            if (bytes > 0 && !skipZeroFill.get()) {
                if (bytes % 4 == 0) driver.memset32(ptr, 0, bytes / 4);
                else driver.memset8(ptr, (byte) 0, bytes);
            }
            liveBytes += bytes;
            liveAllocations++;
            peakLiveBytes = Math.max(peakLiveBytes, liveBytes);
            return new CudaStorage(this, dtype, length, ptr, bytes);
        }
    }

    /** A tensor on this device whose contents are undefined (for kernel outputs that are fully written). */
    public Tensor empty(DType dtype, Shape shape) {
        skipZeroFill.set(Boolean.TRUE);
        try {
            return Tensor.zeros(this, dtype, shape);
        } finally {
            skipZeroFill.set(Boolean.FALSE);
        }
    }

    void release(CudaStorage storage, long ptr, long bytes) {
        synchronized (lock) {
            if (bytes > 0 && !closed) allocator.release(ptr, bytes);
            liveBytes -= bytes;
            liveAllocations--;
        }
    }

    @Override
    public long liveBytes() {
        synchronized (lock) {
            return liveBytes;
        }
    }

    @Override
    public long liveAllocations() {
        synchronized (lock) {
            return liveAllocations;
        }
    }

    /** The most bytes live at once since the device opened or {@link #resetPeak()}. */
    public long peakLiveBytes() {
        synchronized (lock) {
            return peakLiveBytes;
        }
    }

    public void resetPeak() {
        synchronized (lock) {
            peakLiveBytes = liveBytes;
        }
    }

    /** Bytes held from the driver: live blocks (rounded to size classes) plus the cache. */
    public long reservedBytes() {
        synchronized (lock) {
            return allocator.reservedBytes();
        }
    }

    public long cachedBytes() {
        synchronized (lock) {
            return allocator.cachedBytes();
        }
    }

    /** Calls of the driver's allocation function so far; constant across the steps of a warm training loop. */
    public long driverAllocations() {
        synchronized (lock) {
            return allocator.driverAllocations();
        }
    }

    /** Returns cached blocks to the driver. */
    public void emptyCache() {
        synchronized (lock) {
            allocator.emptyCache();
        }
    }

    /** {free, total} device memory in bytes, as the driver reports it. */
    public long[] memoryInfo() {
        synchronized (lock) {
            return driver.memoryInfo();
        }
    }

    // ---- copies --------------------------------------------------------------------------------

    private static CudaStorage cuda(Storage s, String what) {
        if (!(s instanceof CudaStorage cs)) throw new IllegalArgumentException(what + " is not CUDA memory (" + s.device().name() + ")");
        return cs;
    }

    @Override
    public void copyFromHost(Object hostArray, int hostOffset, Storage dst, int dstOffset, int length) {
        CudaStorage d = cuda(dst, "copyFromHost destination");
        int es = d.dtype().byteSize();
        checkHostArray(hostArray, d.dtype());
        synchronized (lock) {
            checkOpen();
            int perChunk = STAGING_BYTES / es;
            for (int done = 0; done < length; done += perChunk) {
                int n = Math.min(perChunk, length - done);
                int slot = takeStaging();
                ByteBuffer b = staging[slot].buffer();
                b.clear();
                put(b, hostArray, hostOffset + done, n);
                driver.copyHostToDevice(d.pointer() + (long) (dstOffset + done) * es, staging[slot], 0, (long) n * es);
                stagingDone[slot] = driver.recordEvent();
            }
        }
    }

    @Override
    public void copyToHost(Storage src, int srcOffset, Object hostArray, int hostOffset, int length) {
        CudaStorage s = cuda(src, "copyToHost source");
        int es = s.dtype().byteSize();
        checkHostArray(hostArray, s.dtype());
        synchronized (lock) {
            checkOpen();
            int perChunk = STAGING_BYTES / es;
            for (int done = 0; done < length; done += perChunk) {
                int n = Math.min(perChunk, length - done);
                int slot = takeStaging();
                driver.copyDeviceToHost(staging[slot], 0, s.pointer() + (long) (srcOffset + done) * es, (long) n * es);
                waitForStream();
                ByteBuffer b = staging[slot].buffer();
                b.clear();
                get(b, hostArray, hostOffset + done, n);
            }
        }
    }

    @Override
    public void copy(Storage src, int srcOffset, Storage dst, int dstOffset, int length) {
        CudaStorage s = cuda(src, "copy source");
        CudaStorage d = cuda(dst, "copy destination");
        int es = s.dtype().byteSize();
        if (length == 0) return;
        synchronized (lock) {
            checkOpen();
            driver.copyDeviceToDevice(d.pointer() + (long) dstOffset * es, s.pointer() + (long) srcOffset * es, (long) length * es);
        }
    }

    /**
     * A peer copy from another GPU (both driven by the same kind of driver): the source GPU is
     * synced first (its pending writes), and this one after the copy, so the source block may be
     * reused at once. Other devices, or drivers that cannot, return false (the copy then goes
     * through host memory).
     */
    @Override
    public boolean copyFromDevice(Device source, Storage src, int srcOffset, Storage dst, int dstOffset, int length) {
        if (!(source instanceof CudaDevice other) || other == this || !(src instanceof CudaStorage s)) return false;
        CudaStorage d = cuda(dst, "copyFromDevice destination");
        int es = s.dtype().byteSize();
        if (length == 0) return true;
        other.sync();
        synchronized (lock) {
            checkOpen();
            if (!driver.copyFromPeer(d.pointer() + (long) dstOffset * es, other.driver, s.pointer() + (long) srcOffset * es, (long) length * es)) {
                return false;
            }
            waitForStream();
        }
        return true;
    }

    /** The next staging buffer, once the copy that last used it has completed. */
    private int takeStaging() {
        int slot = nextStaging;
        nextStaging = 1 - nextStaging;
        if (staging[slot] == null) staging[slot] = driver.mallocHost(STAGING_BYTES);
        if (stagingDone[slot] != null) {
            stagingDone[slot].synchronize();
            stagingDone[slot].close();
            stagingDone[slot] = null;
        }
        return slot;
    }

    private static void checkHostArray(Object a, DType dtype) {
        boolean ok = switch (dtype) {
            case FLOAT32 -> a instanceof float[];
            case FLOAT64 -> a instanceof double[];
            case INT32 -> a instanceof int[];
            case INT64 -> a instanceof long[];
            case UINT8 -> a instanceof byte[];
            case FLOAT16, BFLOAT16 -> a instanceof short[];
        };
        if (!ok) throw new IllegalArgumentException("host array " + a.getClass().getSimpleName() + " does not hold " + dtype + " elements");
    }

    private static void put(ByteBuffer b, Object a, int off, int n) {
        if (a instanceof float[] f) b.asFloatBuffer().put(f, off, n);
        else if (a instanceof double[] d) b.asDoubleBuffer().put(d, off, n);
        else if (a instanceof int[] i) b.asIntBuffer().put(i, off, n);
        else if (a instanceof long[] l) b.asLongBuffer().put(l, off, n);
        else if (a instanceof short[] s) b.asShortBuffer().put(s, off, n);
        else b.put((byte[]) a, off, n);
    }

    private static void get(ByteBuffer b, Object a, int off, int n) {
        if (a instanceof float[] f) b.asFloatBuffer().get(f, off, n);
        else if (a instanceof double[] d) b.asDoubleBuffer().get(d, off, n);
        else if (a instanceof int[] i) b.asIntBuffer().get(i, off, n);
        else if (a instanceof long[] l) b.asLongBuffer().get(l, off, n);
        else if (a instanceof short[] s) b.asShortBuffer().get(s, off, n);
        else b.get((byte[]) a, off, n);
    }

    /** Queues setting {@code count} 32-bit words at device address {@code ptr} to {@code value}. */
    void memset32(long ptr, int value, long count) {
        synchronized (lock) {
            checkOpen();
            driver.memset32(ptr, value, count);
        }
    }

    // ---- execution -----------------------------------------------------------------------------

    /** Queues a kernel on this device's stream. */
    void launch(String module, String kernel, int gridX, int gridY, int blockX, KernelArgs args) {
        launch(module, kernel, gridX, gridY, blockX, 0, args);
    }

    /** Queues a kernel that takes {@code sharedBytes} of dynamic shared memory on this device's stream. */
    void launch(String module, String kernel, int gridX, int gridY, int blockX, int sharedBytes, KernelArgs args) {
        synchronized (lock) {
            checkOpen();
            driver.launch(module, kernel, gridX, gridY, 1, blockX, 1, 1, sharedBytes, args);
            launches++;
        }
    }

    /**
     * Kernels queued on this device since it opened (cuDNN's own launches not included): a
     * benchmark's launches per step, since each costs the host several microseconds.
     */
    public long launchCount() {
        synchronized (lock) {
            return launches;
        }
    }

    @Override
    public void sync() {
        synchronized (lock) {
            checkOpen();
            waitForStream();
        }
    }

    /** Blocks until the stream is idle, counting the time in {@link #hostWaitNanos}. */
    private void waitForStream() {
        long t0 = System.nanoTime();
        driver.synchronize();
        hostWaitNanos += System.nanoTime() - t0;
    }

    /**
     * Nanoseconds the host has spent blocked on this device's stream (syncs and reads back to the
     * host) since the device opened: a step's time minus its share of this is the host's own work,
     * so a benchmark can tell a GPU-bound step from a launch-bound one.
     */
    public long hostWaitNanos() {
        synchronized (lock) {
            return hostWaitNanos;
        }
    }

    /** Records a timing event on the stream; {@code end.elapsedMillisSince(start)} after {@code end.synchronize()}. */
    public GpuDriver.GpuEvent recordEvent() {
        synchronized (lock) {
            checkOpen();
            return driver.recordEvent();
        }
    }

    /** Marks are timing events on this device's stream. */
    @Override
    public DeviceClock.Mark mark() {
        return new EventMark(recordEvent());
    }

    private final class EventMark implements DeviceClock.Mark {
        private final GpuDriver.GpuEvent event;

        EventMark(GpuDriver.GpuEvent event) {
            this.event = event;
        }

        @Override
        public double millisSince(DeviceClock.Mark earlier) {
            synchronized (lock) {
                event.synchronize();
                return event.elapsedMillisSince(((EventMark) earlier).event);
            }
        }

        @Override
        public void close() {
            synchronized (lock) {
                event.close();
            }
        }
    }

    /**
     * Waits for queued work, frees the staging buffers, the cache and the driver. Live tensors must
     * not be used afterwards. Devices from {@link #open} normally live as long as the JVM.
     */
    public void shutdown() {
        synchronized (lock) {
            if (closed) return;
            driver.synchronize();
            for (int i = 0; i < 2; i++) {
                if (stagingDone[i] != null) stagingDone[i].close();
                if (staging[i] != null) driver.freeHost(staging[i]);
                staging[i] = null;
                stagingDone[i] = null;
            }
            allocator.emptyCache();
            closed = true;
            driver.close();
        }
        synchronized (OPENED) {
            OPENED.values().remove(this);  // a later open() gets a fresh device
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(name + " was shut down");
    }

    @Override
    public String toString() {
        return name;
    }
}
