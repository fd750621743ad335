package org.slim4j.cuda;

import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaMiscConvContract} (depthwise convolution, LRN, resize) with the real .cu kernel bodies
 * run in the CPU emulator ({@link Emulator}) under the real Java backend.
 */
class EmulatedMiscConvTest extends CudaMiscConvContract {
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
