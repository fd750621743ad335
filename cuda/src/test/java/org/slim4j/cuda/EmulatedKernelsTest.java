package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernels' logic on machines without a GPU: every op of {@link CudaKernelsContract} runs
 * the real .cu kernel bodies in the CPU emulator (see {@link Emulator}), driven by the real Java
 * backend (allocator, staging copies, launch geometry, argument marshalling).
 */
class EmulatedKernelsTest extends CudaKernelsContract {
    private static CudaDevice device;

    @BeforeAll
    static void startEmulator() {
        device = Emulator.device();
    }

    @Override
    protected CudaDevice device() {
        return device;
    }

    /** The pooling contract runs both kernel widths: one channel per thread (3, 5 channels) and four (4, 8). */
    @Test
    void poolingRunsTheOneAndFourChannelKernels() {
        String[] kernels = {"max_pool_f32", "max_pool_grad_f32", "avg_pool_f32", "avg_pool_grad_f32"};
        int[] before = new int[2 * kernels.length];
        for (int i = 0; i < before.length; i++) before[i] = Emulator.launches(kernels[i / 2] + (i % 2 == 1 ? "x4" : ""));
        poolingForwardAndBackwardMatchTheCpu();
        for (int i = 0; i < before.length; i++) {
            String k = kernels[i / 2] + (i % 2 == 1 ? "x4" : "");
            assertTrue(Emulator.launches(k) > before[i], k + " did not run");
        }
    }
}
