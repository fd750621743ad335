package org.slim4j.cuda;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.Storage;

/** A block of device memory; {@link #free()} hands it back to the device's caching allocator. */
public final class CudaStorage extends Storage {
    private final long pointer;
    private final long bytes;

    CudaStorage(CudaDevice device, DType dtype, int length, long pointer, long bytes) {
        super(device, dtype, length);
        this.pointer = pointer;
        this.bytes = bytes;
    }

    /** Device address of element 0. */
    public long pointer() {
        if (isReleased()) throw new IllegalStateException("device memory was already released (closed tensor used)");
        return pointer;
    }

    /** Bytes requested for this storage (dtype size x length). */
    public long bytes() {
        return bytes;
    }

    @Override
    protected void free() {
        ((CudaDevice) device()).release(this, pointer, bytes);
    }
}
