package org.slim4j.cuda;

import org.junit.jupiter.api.BeforeAll;

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
}
