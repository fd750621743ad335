package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.DropoutKernels;
import org.slim4j.kernels.ShapeKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * {@link CudaShapeContract} on a real GPU (cuda:0), plus the shape copies' and dropout masks'
 * bandwidth on network-sized tensors; skipped where {@link CudaRuntime#probe()} finds no GPU.
 */
@Tag("gpu")
class GpuShapeTest extends CudaShapeContract {
    /** A floor far below any current GPU's copy bandwidth: fails only for a pathological kernel. */
    private static final double MIN_GB_PER_S = 200;

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

    /** GB/s of {@code op} moving {@code bytes} per call (mean of 20 calls after 3 warm-ups); prints a row. */
    private double rate(String name, long bytes, Supplier<Object> op) {
        for (int i = 0; i < 3; i++) {
            try (TensorScope s = TensorScope.open()) {
                op.get();
            }
        }
        device.sync();
        GpuDriver.GpuEvent start = device.recordEvent();
        int iters = 20;
        for (int i = 0; i < iters; i++) {
            try (TensorScope s = TensorScope.open()) {
                op.get();
            }
        }
        GpuDriver.GpuEvent end = device.recordEvent();
        end.synchronize();
        double ms = end.elapsedMillisSince(start) / iters;
        start.close();
        end.close();
        double gbs = bytes / ms / 1e6;
        System.out.println(String.format(Locale.ROOT, "| %s | %.3f ms | %.1f GB/s |", name, ms, gbs));
        return gbs;
    }

    @Test
    void shapeCopiesAndDropoutMasksRunAtMemoryBandwidth() {
        long live = device.liveBytes();
        ShapeKernels k = Backends.forDevice(device).kernels(ShapeKernels.class);
        DropoutKernels dk = Backends.forDevice(device).kernels(DropoutKernels.class);
        System.out.println("| op on " + device.describe() + " | ms | bandwidth |");
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> branches = new ArrayList<>();
            for (int c : new int[] {64, 64, 96, 32}) branches.add(Tensor.zeros(device, DType.FLOAT32, Shape.of(32, 35, 35, c)));
            long concatBytes = 2L * 4 * 32 * 35 * 35 * 256;
            List<Double> rates = new ArrayList<>();
            rates.add(rate("concat 4 branches -> [32,35,35,256]", concatBytes, () -> k.concat(branches, 3)));
            Tensor cat = k.concat(branches, 3);
            rates.add(rate("split [32,35,35,256] -> 4", concatBytes, () -> k.split(cat, 3, new int[] {64, 64, 96, 32})));
            Tensor act = Tensor.zeros(device, DType.FLOAT32, Shape.of(32, 56, 56, 256));
            long actBytes = 2L * 4 * act.numel();
            rates.add(rate("transpose NHWC->NCHW [32,56,56,256]", actBytes, () -> k.transpose(act, new int[] {0, 3, 1, 2})));
            rates.add(rate("transpose [32,56,56,256] perm 0,2,1,3", actBytes, () -> k.transpose(act, new int[] {0, 2, 1, 3})));
            rates.add(rate("slice [32,56,56,256] -> [32,56,56,128]", actBytes / 2,
                    () -> k.slice(act, new int[] {0, 0, 0, 64}, new int[] {-1, -1, -1, 128})));
            Tensor img = Tensor.zeros(device, DType.FLOAT32, Shape.of(32, 112, 112, 64));
            int[][] same = {{0, 0}, {3, 3}, {3, 3}, {0, 0}};
            rates.add(rate("pad conv2d_same [32,112,112,64] +3", 4L * (img.numel() + 32L * 118 * 118 * 64), () -> k.pad(img, same, 0)));
            rates.add(rate("dropout mask [32,56,56,256]", 4L * act.numel(), () -> dk.mask(act.shape(), DType.FLOAT32, 0.8, 7)));
            for (double r : rates) assertTrue(r >= MIN_GB_PER_S, "a shape copy or mask ran at " + r + " GB/s");
        }
        assertEquals(live, device.liveBytes(), "the benchmark frees everything it allocates");
    }
}
