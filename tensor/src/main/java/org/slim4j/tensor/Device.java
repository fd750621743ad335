package org.slim4j.tensor;

/**
 * Where tensor memory lives. Deliberately small: allocate, copy between host and device, and
 * synchronise. Compute goes through {@link Backend}; a device never computes.
 */
public interface Device {
    /** Short name used by flags and messages, e.g. "cpu" or "cuda:0". */
    String name();

    /** Allocates zero-filled storage for {@code length} elements. */
    Storage allocate(DType dtype, int length);

    /**
     * Storage whose contents are unspecified (stale values of recycled memory), for an output that
     * is overwritten entirely before it is read. Devices that do not recycle memory zero it anyway.
     */
    default Storage allocateUninitialized(DType dtype, int length) {
        return allocate(dtype, length);
    }

    /** Copies {@code length} elements from a Java primitive array (float[], double[], int[], long[], byte[]). */
    void copyFromHost(Object hostArray, int hostOffset, Storage dst, int dstOffset, int length);

    /** Copies {@code length} elements into a Java primitive array of the storage's element type. */
    void copyToHost(Storage src, int srcOffset, Object hostArray, int hostOffset, int length);

    /** Copies between two storages of this device. */
    void copy(Storage src, int srcOffset, Storage dst, int dstOffset, int length);

    /** Waits until all work queued on this device has finished. */
    void sync();

    /**
     * Copies {@code length} elements of {@code src}, a storage of {@code source} (another device),
     * into {@code dst} of this device without going through host memory (a GPU peer copy), once
     * both devices' earlier work is done; returns when the copy is. False when this device cannot
     * (the caller then copies through the host).
     */
    default boolean copyFromDevice(Device source, Storage src, int srcOffset, Storage dst, int dstOffset, int length) {
        return false;
    }

    /** Bytes currently allocated and not yet released; tests assert this returns to its start value. */
    long liveBytes();

    /** Number of storages currently allocated and not yet released. */
    long liveAllocations();
}
