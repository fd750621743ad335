package org.slim4j.cuda;

import java.nio.ByteBuffer;

/**
 * The few driver operations the CUDA backend needs, on one device and one stream, in stream order.
 * Device memory is addressed by raw 64-bit device addresses, so views are plain pointer
 * arithmetic. {@link JCudaDriverApi} implements it with JCuda's driver API on a real GPU; the tests
 * implement it with a CPU emulator that runs the same kernels (compiled by g++), which is how the
 * whole backend — allocator, staging copies, launch geometry, argument marshalling and the kernel
 * bodies — is tested on machines without a GPU.
 *
 * <p>Calls are made under the owning {@link CudaDevice}'s lock; implementations need not be
 * thread-safe.
 */
public interface GpuDriver extends AutoCloseable {
    /** One line: GPU name, compute capability, memory, driver version. */
    String describe();

    /** Device memory: {free, total} bytes. */
    long[] memoryInfo();

    /** Allocates device memory (contents undefined); throws {@link OutOfDeviceMemory} when the device is full. */
    long malloc(long bytes);

    void free(long ptr);

    /** Page-locked host memory for staging copies, as a direct native-order buffer. */
    HostBuffer mallocHost(int bytes);

    void freeHost(HostBuffer buffer);

    /** Queues a copy of {@code bytes} from {@code src} (at {@code srcOffset}) to device address {@code dst}. */
    void copyHostToDevice(long dst, HostBuffer src, int srcOffset, long bytes);

    /** Queues a copy from device address {@code src} into {@code dst} (at {@code dstOffset}). */
    void copyDeviceToHost(HostBuffer dst, int dstOffset, long src, long bytes);

    void copyDeviceToDevice(long dst, long src, long bytes);

    /**
     * Queues a copy of {@code bytes} from address {@code src} of another GPU, driven by
     * {@code source}, into {@code dst} of this one (a peer copy; the caller orders it against both
     * GPUs' queues). False when this driver cannot copy from that one directly.
     */
    default boolean copyFromPeer(long dst, GpuDriver source, long src, long bytes) {
        return false;
    }

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value}. */
    void memset32(long dst, int value, long count);

    /** Sets {@code count} bytes at {@code dst} to {@code value}. */
    void memset8(long dst, byte value, long count);

    /**
     * Queues kernel {@code kernel} of PTX module {@code module} (a .cu file's base name) with
     * {@code sharedBytes} of dynamic shared memory (0 for kernels that declare none).
     */
    void launch(String module, String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                int sharedBytes, KernelArgs args);

    /** Waits until everything queued has finished. */
    void synchronize();

    /** A timing event recorded on the stream. */
    GpuEvent recordEvent();

    @Override
    void close();

    /** Page-locked host memory: the buffer and the driver's handle for it. */
    interface HostBuffer {
        ByteBuffer buffer();

        int capacity();
    }

    /** A recorded stream event. */
    interface GpuEvent extends AutoCloseable {
        /** Waits until the work queued before this event has finished. */
        void synchronize();

        /** Milliseconds between {@code start} and this event (both must have completed). */
        float elapsedMillisSince(GpuEvent start);

        @Override
        void close();
    }

    /** The device has no room for an allocation (after the caller released its cache). */
    final class OutOfDeviceMemory extends RuntimeException {
        public OutOfDeviceMemory(String message) {
            super(message);
        }
    }
}
