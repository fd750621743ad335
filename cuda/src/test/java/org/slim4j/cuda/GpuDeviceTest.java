package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** The JCuda side of CudaDevice on a real GPU: discovery, large copies, events, memory info. Skipped without a GPU. */
@Tag("gpu")
class GpuDeviceTest {
    private CudaDevice d;

    @BeforeEach
    void openGpu() {
        CudaRuntime.Probe probe = CudaRuntime.probe();
        assumeTrue(probe.available(), () -> "no CUDA GPU: " + probe.reason());
        d = CudaDevice.open(0);
    }

    @Test
    void discoveryDescribesTheGpu() {
        CudaRuntime.Probe p = CudaRuntime.probe();
        assertTrue(p.driverVersion() >= 12000, "driver CUDA version " + p.driverVersion());
        CudaRuntime.GpuInfo g = p.gpus().get(0);
        assertTrue(g.computeMajor() >= 8, "compute_80 PTX needs sm_80 or newer: " + g);
        assertTrue(d.describe().contains(g.name()), d.describe());
        long[] mem = d.memoryInfo();
        assertTrue(mem[0] > 0 && mem[0] <= mem[1], java.util.Arrays.toString(mem));
        assertEquals(d, CudaDevice.open(0), "one CudaDevice per GPU");
    }

    @Test
    void largeCopiesRoundTripAndEventsTimeThem() {
        int n = 25_000_000;  // 100 MB: many staging chunks
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (i % 1000) * 0.25f;
        try (Tensor h = Tensor.of(a, n)) {
            GpuDriver.GpuEvent start = d.recordEvent();
            try (Tensor on = h.toDevice(d)) {
                GpuDriver.GpuEvent end = d.recordEvent();
                end.synchronize();
                float ms = end.elapsedMillisSince(start);
                assertTrue(ms > 0, "upload took " + ms + " ms");
                System.out.printf("upload of 100 MB: %.2f ms (%.1f GB/s through the staging buffers)%n", ms, 0.1 / (ms / 1000));
                assertArrayEquals(a, on.toFloatArray(), 0f);
                start.close();
                end.close();
            }
        }
    }

    @Test
    void kernelsOnViewsAndDeviceCopies() {
        try (Tensor h = Tensor.randomUniform(3, DType.FLOAT32, Shape.of(10, 1000), -1, 1); Tensor on = h.toDevice(d);
             Tensor rows = on.slice0(3, 7); Tensor hostRows = h.slice0(3, 7);
             Tensor twice = Backends.forDevice(d).kernels(ElementwiseKernels.class).binary(BinaryOp.ADD, rows, rows)) {
            float[] e = hostRows.toFloatArray();
            float[] g = twice.toFloatArray();
            for (int i = 0; i < e.length; i++) assertEquals(2 * e[i], g[i], 0f);
        }
    }
}
