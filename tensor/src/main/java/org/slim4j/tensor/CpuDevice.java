package org.slim4j.tensor;

import java.util.concurrent.atomic.AtomicLong;

/** The host: Java heap arrays, with allocations counted so leaks show up in tests. */
public final class CpuDevice implements Device {
    public static final CpuDevice INSTANCE = new CpuDevice();

    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong liveAllocations = new AtomicLong();

    private CpuDevice() {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Storage allocate(DType dtype, int length) {
        CpuStorage s = new CpuStorage(this, dtype, length);
        liveBytes.addAndGet(dtype.byteSize() * (long) length);
        liveAllocations.incrementAndGet();
        return s;
    }

    void onFree(long bytes) {
        liveBytes.addAndGet(-bytes);
        liveAllocations.decrementAndGet();
    }

    @Override
    public void copyFromHost(Object hostArray, int hostOffset, Storage dst, int dstOffset, int length) {
        System.arraycopy(hostArray, hostOffset, ((CpuStorage) dst).array(), dstOffset, length);
    }

    @Override
    public void copyToHost(Storage src, int srcOffset, Object hostArray, int hostOffset, int length) {
        System.arraycopy(((CpuStorage) src).array(), srcOffset, hostArray, hostOffset, length);
    }

    @Override
    public void copy(Storage src, int srcOffset, Storage dst, int dstOffset, int length) {
        System.arraycopy(((CpuStorage) src).array(), srcOffset, ((CpuStorage) dst).array(), dstOffset, length);
    }

    @Override
    public void sync() {
        // CPU kernels complete before they return.
    }

    @Override
    public long liveBytes() {
        return liveBytes.get();
    }

    @Override
    public long liveAllocations() {
        return liveAllocations.get();
    }

    @Override
    public String toString() {
        return name();
    }
}
