package org.slim4j.cuda;

/**
 * Opens the cuda module's CPU emulator (package-private {@link Emulator}) for other modules' tests:
 * a {@link CudaDevice} whose hand-written kernels run on the CPU, so GPU code paths above the
 * backend (training, the benchmark) are tested on machines without a GPU.
 */
public final class EmulatedCuda {
    private EmulatedCuda() {
    }

    /** A fresh emulated device (its own allocations; exact-size blocks, so AddressSanitizer catches overruns). */
    public static CudaDevice device() {
        return Emulator.device();
    }

    /** An emulated device with only {@code capacityBytes} of memory (out-of-memory tests). */
    public static CudaDevice device(long capacityBytes) {
        return CudaDevice.withDriver("cuda-emu", Emulator.driver(capacityBytes), true);
    }
}
