package org.slim4j.cuda;

import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaConvContract} in the CPU emulator: the real conv.cu kernels (FP32 and the WMMA TF32
 * path, through the emulated wmma API of src/test/emu/mma.h) driven by the real Java launcher, on
 * a reduced shape table so the suite stays well under a minute.
 */
class EmulatedConvTest extends CudaConvContract {
    private static CudaDevice device;

    @BeforeAll
    static void startEmulator() {
        device = Emulator.device();
    }

    @Override
    protected CudaDevice device() {
        return device;
    }

    @Override
    protected boolean fullTable() {
        return false;
    }
}
