package org.slim4j.cuda;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * What every CUDA kernel family shares: argument checks (device, float32), device addresses of
 * tensors, output allocation and 1-D launch geometry.
 */
final class CudaOps {
    /** Threads per block of the 1-D kernels. */
    static final int THREADS = 256;
    /** Grid cap of the grid-stride kernels: enough blocks to fill any current GPU several times over. */
    static final int MAX_BLOCKS = 16384;

    final CudaDevice device;

    CudaOps(CudaDevice device) {
        this.device = device;
    }

    /** Checks that {@code t} lives on this device and is float32. */
    void checkF32(String op, String arg, Tensor t) {
        checkDevice(op, arg, t);
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(op + ": unsupported dtype " + t.dtype() + " for " + arg + " " + t.shape()
                    + " (the cuda backend computes in FLOAT32 only)");
        }
    }

    void checkDevice(String op, String arg, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": " + arg + " is null");
        if (t.device() != device) {
            throw new IllegalArgumentException(op + ": " + arg + " " + t.shape() + " lives on " + t.device().name() + ", not "
                    + device.name() + " (move it with toDevice)");
        }
    }

    /** Device address of {@code t}'s first element. */
    static long ptr(Tensor t) {
        return ((CudaStorage) t.storage()).pointer() + (long) t.offset() * t.dtype().byteSize();
    }

    /** Device address of {@code t}'s first element, or 0 (a null pointer) for a null tensor. */
    static long ptrOrNull(Tensor t) {
        return t == null ? 0 : ptr(t);
    }

    /** A float32 output of the given shape; the kernel writes every element. */
    Tensor out(Shape shape) {
        return device.empty(DType.FLOAT32, shape);
    }

    static int blocks(long n, int threads) {
        return (int) Math.max(1, Math.min(MAX_BLOCKS, (n + threads - 1) / threads));
    }

    /** Launches a grid-stride kernel over n elements (nothing when n == 0). */
    void launch1d(String module, String kernel, long n, KernelArgs args) {
        if (n == 0) return;
        device.launch(module, kernel, blocks(n, THREADS), 1, THREADS, args);
    }

    /** Whether every tensor's first element is 16-byte aligned: the condition of the float4 kernels. */
    static boolean aligned16(Tensor... tensors) {
        for (Tensor t : tensors) {
            if ((ptr(t) & 15) != 0) return false;
        }
        return true;
    }

    /** Launches a float4 grid-stride kernel over n elements: a thread per four (nothing when n == 0). */
    void launchVec4(String module, String kernel, long n, KernelArgs args) {
        if (n == 0) return;
        device.launch(module, kernel, blocks((n + 3) / 4, THREADS), 1, THREADS, args);
    }

    /** Launches a grid-stride kernel over n elements: its float4 variant when {@code vec4}, else the scalar one. */
    void launchRun(String module, String kernel, boolean vec4, long n, KernelArgs args) {
        if (vec4) {
            launchVec4(module, kernel, n, args);
        } else {
            launch1d(module, kernel, n, args);
        }
    }

    void launch(String module, String kernel, int gridX, int gridY, int blockX, KernelArgs args) {
        device.launch(module, kernel, gridX, gridY, blockX, args);
    }

    /** A launch with {@code sharedBytes} of dynamic shared memory. */
    void launch(String module, String kernel, int gridX, int gridY, int blockX, int sharedBytes, KernelArgs args) {
        device.launch(module, kernel, gridX, gridY, blockX, sharedBytes, args);
    }
}
