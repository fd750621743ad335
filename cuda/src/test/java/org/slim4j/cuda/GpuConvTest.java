package org.slim4j.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * {@link CudaConvContract} on a real GPU (cuda:0): every shape of the table, FP32 and TF32 tensor
 * cores. Skipped (not failed) where {@link CudaRuntime#probe()} finds no usable GPU.
 */
@Tag("gpu")
class GpuConvTest extends CudaConvContract {
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
