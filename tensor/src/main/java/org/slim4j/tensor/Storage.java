package org.slim4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A block of device memory of one dtype, reference-counted: every tensor (including views) holds
 * one reference, and the memory goes back to the device when the last one is released.
 */
public abstract class Storage {
    private final Device device;
    private final DType dtype;
    private final int length;
    private final AtomicInteger refs = new AtomicInteger(1);

    protected Storage(Device device, DType dtype, int length) {
        this.device = device;
        this.dtype = dtype;
        this.length = length;
    }

    public Device device() {
        return device;
    }

    public DType dtype() {
        return dtype;
    }

    public int length() {
        return length;
    }

    public boolean isReleased() {
        return refs.get() <= 0;
    }

    /** Live references: the tensors (views included) holding this storage. */
    int references() {
        return refs.get();
    }

    void retain() {
        int r = refs.getAndIncrement();
        if (r <= 0) {
            refs.getAndDecrement();
            throw new IllegalStateException("storage already released");
        }
    }

    void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            free();
        } else if (r < 0) {
            throw new IllegalStateException("storage released more often than retained");
        }
    }

    /** Returns the memory to the device; called exactly once, when the last reference goes. */
    protected abstract void free();
}
