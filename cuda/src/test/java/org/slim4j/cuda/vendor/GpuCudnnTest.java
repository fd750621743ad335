package org.slim4j.cuda.vendor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOptions;
import org.slim4j.cuda.CudaOptions.Kernels;
import org.slim4j.cuda.CudaOptions.Precision;
import org.slim4j.cuda.CudaRuntime;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/**
 * {@link CudnnConv} on a real GPU against the CPU backend's float64 convolution: forward and both
 * gradients on shapes covering TF's asymmetric SAME padding, stride 2, 1x1, dilation, VALID; exact
 * float32 (FMA math) and TF32; memory accounting and the algorithm cache; and {@link CudnnBatchNorm}. Skipped without a GPU or
 * without cuDNN ({@link CudnnLibrary#status()} says why).
 */
@Tag("gpu")
public class GpuCudnnTest {
    static final double TOL = 1e-5;
    static final double TOL_TF32 = 2e-3;
    /** cuDNN's persistent batch norm reduces in float32 (the CPU reference in float64). */
    static final double BN_TOL = 1e-4;

    /** {input NHWC, filter HWIO, {stride, dilation, padding 0=SAME 1=VALID}}. */
    private static final int[][][] CASES = {
        {{2, 9, 9, 5}, {3, 3, 5, 7}, {1, 1, 0}},
        {{2, 8, 8, 6}, {3, 3, 6, 4}, {2, 1, 0}},      // asymmetric SAME: explicit bottom/right padding
        {{3, 7, 7, 8}, {1, 1, 8, 16}, {1, 1, 1}},     // 1x1
        {{2, 8, 8, 16}, {1, 1, 16, 8}, {2, 1, 0}},    // 1x1 stride 2
        {{1, 11, 10, 3}, {5, 5, 3, 4}, {2, 1, 1}},    // VALID stride 2
        {{2, 9, 9, 4}, {3, 3, 4, 4}, {1, 2, 0}},      // dilation 2
        {{2, 6, 7, 3}, {2, 2, 3, 5}, {1, 1, 0}},      // even kernel: asymmetric at stride 1
        {{4, 14, 14, 32}, {3, 3, 32, 32}, {1, 1, 0}}, // big enough for tensor-core algorithms
        {{2, 14, 14, 64}, {3, 3, 64, 32}, {2, 1, 0}},
    };

    private CudaDevice device;
    private CudaOptions before;

    @BeforeEach
    void open() {
        CudaRuntime.Probe probe = CudaRuntime.probe();
        assumeTrue(probe.available(), () -> "no CUDA GPU: " + probe.reason());
        CudnnLibrary.Status s = CudnnLibrary.status();
        assumeTrue(s.loaded(), () -> "cuDNN did not load: " + s.describe());
        device = CudaDevice.open(0);
        before = device.options();
    }

    @AfterEach
    void restore() {
        if (device != null) device.configure(before);
    }

    private static Conv2dSpec spec(int[] s) {
        return new Conv2dSpec(s[0], s[0], s[1], s[1], s[2] == 0 ? Padding.SAME : Padding.VALID);
    }

    private void compareAll(Precision precision, double tol) {
        device.configure(new CudaOptions(Kernels.VENDOR, precision));
        ConvKernels gpu = Backends.forDevice(device).kernels(ConvKernels.class);
        assertInstanceOf(CudnnConv.class, gpu);
        ConvKernels cpu = CpuBackend.INSTANCE.kernels(ConvKernels.class);
        long dev = device.liveBytes();
        long host = CpuDevice.INSTANCE.liveBytes();
        for (int[][] c : CASES) {
            try (TensorScope scope = TensorScope.open()) {
                Conv2dSpec spec = spec(c[2]);
                Shape xs = Shape.of(c[0]);
                Shape ws = Shape.of(c[1]);
                String what = precision + " " + xs + " * " + ws + " " + spec;
                Tensor x = Tensor.randomUniform(1, DType.FLOAT32, xs, -1, 1);
                Tensor w = Tensor.randomUniform(2, DType.FLOAT32, ws, -1, 1);
                Tensor x64 = x.cast(DType.FLOAT64);
                Tensor w64 = w.cast(DType.FLOAT64);
                Tensor y64 = cpu.conv2d(x64, w64, spec);
                Tensor dy = Tensor.randomUniform(3, DType.FLOAT32, y64.shape(), -1, 1);
                Tensor dy64 = dy.cast(DType.FLOAT64);
                Tensor xd = x.toDevice(device);
                Tensor wd = w.toDevice(device);
                Tensor dyd = dy.toDevice(device);
                Close.assertClose(y64, gpu.conv2d(xd, wd, spec).toDevice(CpuDevice.INSTANCE), tol, "conv2d " + what);
                Close.assertClose(cpu.conv2dBackpropInput(xs, w64, dy64, spec), gpu.conv2dBackpropInput(xs, wd, dyd, spec).toDevice(CpuDevice.INSTANCE),
                        tol, "conv2dBackpropInput " + what);
                Close.assertClose(cpu.conv2dBackpropFilter(x64, ws, dy64, spec), gpu.conv2dBackpropFilter(xd, ws, dyd, spec).toDevice(CpuDevice.INSTANCE),
                        tol, "conv2dBackpropFilter " + what);
            }
        }
        assertEquals(dev, device.liveBytes(), "device memory left allocated (workspaces, KRSC filters, padded inputs)");
        assertEquals(host, CpuDevice.INSTANCE.liveBytes(), "host memory left allocated");
    }

    @Test
    void exactFloat32MatchesTheCpuFloat64Path() {
        compareAll(Precision.FP32, TOL);
    }

    @Test
    void tf32MatchesTheCpuFloat64PathWithinTf32Rounding() {
        compareAll(Precision.TF32, TOL_TF32);
    }

    /** Batch norm through cuDNN (spatial persistent NHWC) against the CPU's float64 path; scale/offset present and absent. */
    @Test
    void batchNormMatchesTheCpuFloat64Path() {
        device.configure(new CudaOptions(Kernels.VENDOR, Precision.FP32));
        BatchNormKernels gpu = Backends.forDevice(device).kernels(BatchNormKernels.class);
        assertInstanceOf(CudnnBatchNorm.class, gpu);
        BatchNormKernels cpu = CpuBackend.INSTANCE.kernels(BatchNormKernels.class);
        long dev = device.liveBytes();
        for (int[] dims : new int[][] {{4, 5, 6, 8}, {2, 7, 7, 64}, {37, 16}, {3, 4, 5, 6, 3}}) {
            for (boolean affine : new boolean[] {true, false}) {
                try (TensorScope scope = TensorScope.open()) {
                    Shape xs = Shape.of(dims);
                    int c = dims[dims.length - 1];
                    String what = "batch norm " + xs + (affine ? "" : " without scale/offset");
                    float eps = 1e-3f;
                    Tensor x = Tensor.randomUniform(7, DType.FLOAT32, xs, -2, 3);
                    Tensor dy = Tensor.randomUniform(8, DType.FLOAT32, xs, -1, 1);
                    Tensor scale = affine ? Tensor.randomUniform(9, DType.FLOAT32, Shape.of(c), 0.5, 1.5) : null;
                    Tensor offset = affine ? Tensor.randomUniform(10, DType.FLOAT32, Shape.of(c), -1, 1) : null;
                    Tensor s64 = scale == null ? null : scale.cast(DType.FLOAT64);
                    Tensor o64 = offset == null ? null : offset.cast(DType.FLOAT64);
                    Tensor x64 = x.cast(DType.FLOAT64);
                    BatchNormKernels.Training ref = cpu.trainingForward(x64, s64, o64, eps);
                    Tensor xd = x.toDevice(device);
                    Tensor sd = scale == null ? null : scale.toDevice(device);
                    Tensor od = offset == null ? null : offset.toDevice(device);
                    BatchNormKernels.Training got = gpu.trainingForward(xd, sd, od, eps);
                    Close.assertClose(ref.y(), got.y().toDevice(CpuDevice.INSTANCE), BN_TOL, what + " y");
                    Close.assertClose(ref.mean(), got.mean().toDevice(CpuDevice.INSTANCE), BN_TOL, what + " mean");
                    Close.assertClose(ref.variance(), got.variance().toDevice(CpuDevice.INSTANCE), BN_TOL, what + " variance");
                    BatchNormKernels.Grads g64 = cpu.trainingBackward(dy.cast(DType.FLOAT64), x64, s64, ref.mean(), ref.variance(), eps);
                    BatchNormKernels.Grads g = gpu.trainingBackward(dy.toDevice(device), xd, sd, got.mean(), got.variance(), eps);
                    Close.assertClose(g64.dx(), g.dx().toDevice(CpuDevice.INSTANCE), BN_TOL, what + " dx");
                    Close.assertClose(g64.dscale(), g.dscale().toDevice(CpuDevice.INSTANCE), BN_TOL, what + " dscale");
                    Close.assertClose(g64.doffset(), g.doffset().toDevice(CpuDevice.INSTANCE), BN_TOL, what + " doffset");
                    Tensor mean = Tensor.randomUniform(11, DType.FLOAT32, Shape.of(c), -1, 1);
                    Tensor var = Tensor.randomUniform(12, DType.FLOAT32, Shape.of(c), 0.1, 2);
                    Tensor inf64 = cpu.inferenceForward(x64, s64, o64, mean.cast(DType.FLOAT64), var.cast(DType.FLOAT64), eps);
                    Tensor inf = gpu.inferenceForward(xd, sd, od, mean.toDevice(device), var.toDevice(device), eps);
                    Close.assertClose(inf64, inf.toDevice(CpuDevice.INSTANCE), BN_TOL, what + " inference");
                }
            }
        }
        assertEquals(dev, device.liveBytes(), "device memory left allocated");
    }

    @Test
    void algorithmsAreChosenOnceAndWarmCallsAllocateNothingFromTheDriver() {
        device.configure(new CudaOptions(Kernels.VENDOR, Precision.FP32));
        ConvKernels gpu = Backends.forDevice(device).kernels(ConvKernels.class);
        CudnnConv conv = assertInstanceOf(CudnnConv.class, gpu, "--kernels=vendor with cuDNN loaded");
        Conv2dSpec spec = Conv2dSpec.of(2, Padding.SAME);
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = Tensor.randomUniform(4, DType.FLOAT32, Shape.of(2, 16, 16, 8), -1, 1).toDevice(device);
            Tensor w = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(3, 3, 8, 8), -1, 1).toDevice(device);
            Tensor dy = Tensor.randomUniform(6, DType.FLOAT32, Shape.of(2, 8, 8, 8), -1, 1).toDevice(device);
            Runnable step = () -> {
                try (TensorScope s = TensorScope.open()) {
                    gpu.conv2d(x, w, spec);
                    gpu.conv2dBackpropInput(x.shape(), w, dy, spec);
                    gpu.conv2dBackpropFilter(x, w.shape(), dy, spec);
                }
            };
            step.run();
            int algos = conv.cachedAlgorithms();
            long mallocs = device.driverAllocations();
            for (int i = 0; i < 3; i++) step.run();
            device.sync();
            assertEquals(algos, conv.cachedAlgorithms(), "no new algorithm search for a seen shape");
            assertEquals(mallocs, device.driverAllocations(), "warm calls take workspaces from the caching allocator");
            assertTrue(algos >= 3, "one algorithm per direction: " + algos);
        }
    }
}
