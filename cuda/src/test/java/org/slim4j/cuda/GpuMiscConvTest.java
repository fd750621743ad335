package org.slim4j.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * {@link CudaMiscConvContract} (depthwise convolution, LRN, resize) on a real GPU (cuda:0); each
 * test is skipped (not failed) where {@link CudaRuntime#probe()} finds no usable GPU.
 */
@Tag("gpu")
class GpuMiscConvTest extends CudaMiscConvContract {
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
