package org.slim4j.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The host: Java heap arrays, with allocations counted so leaks show up in tests. Large arrays of
 * released storages are recycled ({@link CpuArrayPool}): a released tensor's array may back a later
 * tensor, so no code may keep using a tensor's array after closing the tensor.
 */
public final class CpuDevice implements Device {
    public static final CpuDevice INSTANCE = new CpuDevice();

    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong liveAllocations = new AtomicLong();
    /** Released arrays recycled by later allocations of the same size (see {@link CpuArrayPool}). */
    private final CpuArrayPool pool = CpuArrayPool.fromSystemProperty();

    private CpuDevice() {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Storage allocate(DType dtype, int length) {
        Object a = pool.take(dtype, length);
        if (a != null) CpuArrayPool.zero(a);
        return wrap(dtype, length, a);
    }

    /** Like {@link #allocate} but a recycled array keeps its stale values: for outputs a kernel overwrites entirely. */
    @Override
    public Storage allocateUninitialized(DType dtype, int length) {
        Object a = pool.take(dtype, length);
        if (a != null && pool.poisons()) CpuArrayPool.poison(a);
        return wrap(dtype, length, a);
    }

    private Storage wrap(DType dtype, int length, Object recycled) {
        Object a = recycled;
        if (a == null) {
            try {
                a = CpuStorage.newArray(dtype, length);
            } catch (OutOfMemoryError e) {
                // The pool may hold the heap the new array needs: give it back and try once more.
                pool.clear();
                a = CpuStorage.newArray(dtype, length);
            }
        }
        CpuStorage s = new CpuStorage(this, dtype, length, a);
        liveBytes.addAndGet(dtype.byteSize() * (long) length);
        liveAllocations.incrementAndGet();
        return s;
    }

    void onFree(DType dtype, int length, Object array) {
        liveBytes.addAndGet(-dtype.byteSize() * (long) length);
        liveAllocations.decrementAndGet();
        pool.give(dtype, length, array);
    }

    /** Bytes of released arrays kept for reuse (not counted in {@link #liveBytes}). */
    public long pooledBytes() {
        return pool.pooledBytes();
    }

    /** Drops the arrays kept for reuse. */
    public void clearPool() {
        pool.clear();
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
