package org.slim4j.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * {@link CudaKernelsContract} on a real GPU (cuda:0) through JCuda: the same comparisons with the
 * CPU backend as the emulated run. Each test is skipped (not failed) where {@link CudaRuntime#probe()}
 * finds no usable GPU.
 */
@Tag("gpu")
class GpuKernelsTest extends CudaKernelsContract {
    private CudaDevice device;

    @BeforeEach
    void openGpu() {
        CudaRuntime.Probe probe = CudaRuntime.probe();
        assumeTrue(probe.available(), () -> "no CUDA GPU: " + probe.reason());
        device = CudaDevice.open(0);
    }

    @Override
    protected CudaDevice device() {
        return device;
    }
}
