package org.slim4j.cuda;

import org.junit.jupiter.api.BeforeAll;

/** {@link CudaShapeContract} with the shape.cu and dropout.cu kernel bodies running in the CPU emulator. */
class EmulatedShapeTest extends CudaShapeContract {
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
