package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

/**
 * The CUDA convolution kernels (conv.cu) against the CPU backend's float64 path on odd shapes:
 * forward, input gradient, filter gradient (split-K and not), the fused inference convolution, in
 * FP32, TF32 (WMMA and mma.sync tensor cores), BF16 and FP16 (mma.sync), the tensor-core matmul,
 * TensorFlow's golden conv cases, argument
 * errors and memory accounting. Subclasses supply the device: {@link EmulatedConvTest} (CPU
 * emulator, a reduced shape table), {@link GpuConvTest} (a real GPU, tag gpu).
 */
abstract class CudaConvContract {
    /** FP32: max |gpu - ref| <= TOL * max |ref|. */
    static final double TOL = 1e-5;
    /** TF32: operands keep 10 mantissa bits (relative rounding 2^-11), products accumulate in float. */
    static final double TF32_TOL = 2e-3;
    /** BF16: 7 fraction bits (relative rounding 2^-9), float accumulation: TF32_TOL scaled by 2^2 x 2. */
    static final double BF16_TOL = 1.6e-2;
    /** FP16: 10 fraction bits as TF32 (rounded to nearest even); the test data stay far inside its range. */
    static final double FP16_TOL = TF32_TOL;

    protected abstract CudaDevice device();

    /** Whether to run every case of the shape table (the emulator runs a subset). */
    protected boolean fullTable() {
        return true;
    }

    /** One convolution: batch, input h x w x cin, filter kh x kw x cin x cout, stride, padding, dilation. */
    record Case(int n, int h, int w, int cin, int cout, int kh, int kw, int stride, Padding padding, int dilation) {
        Conv2dSpec spec() {
            return new Conv2dSpec(stride, stride, dilation, dilation, padding);
        }

        @Override
        public String toString() {
            return "[" + n + "," + h + "," + w + "," + cin + "] * " + kh + "x" + kw + "x" + cin + "x" + cout + " s" + stride + " "
                    + padding + (dilation > 1 ? " d" + dilation : "");
        }
    }

    /** Odd shapes: every kernel size, stride, padding, channel count (vector and scalar loads, 64 and 128 column tiles). */
    static final List<Case> CASES = List.of(
            new Case(2, 7, 9, 3, 5, 3, 3, 1, Padding.SAME, 1),
            new Case(1, 5, 6, 8, 16, 1, 1, 1, Padding.VALID, 1),
            new Case(3, 13, 11, 17, 33, 3, 3, 2, Padding.SAME, 1),
            new Case(2, 9, 10, 8, 72, 5, 5, 1, Padding.SAME, 1),
            new Case(1, 11, 12, 1, 1, 1, 7, 1, Padding.SAME, 1),
            new Case(2, 12, 7, 16, 5, 7, 1, 1, Padding.SAME, 1),
            new Case(3, 10, 13, 8, 16, 3, 3, 1, Padding.SAME, 2),
            new Case(2, 13, 13, 3, 16, 5, 5, 2, Padding.VALID, 1),
            new Case(1, 8, 8, 17, 65, 1, 1, 2, Padding.SAME, 1),
            new Case(2, 11, 9, 8, 33, 3, 3, 2, Padding.VALID, 1),
            new Case(3, 6, 5, 3, 1, 3, 3, 1, Padding.VALID, 2),
            new Case(2, 13, 12, 16, 130, 3, 3, 1, Padding.SAME, 1));

    /** ResNet-like sizes, GPU only: many M tiles, split-K over many slabs, 2 blocks per SM. */
    static final List<Case> LARGE = List.of(
            new Case(4, 28, 28, 64, 64, 3, 3, 1, Padding.SAME, 1),
            new Case(4, 28, 28, 64, 128, 1, 1, 2, Padding.SAME, 1),
            new Case(2, 56, 56, 3, 64, 7, 7, 2, Padding.SAME, 1));

    /**
     * Shapes for conv_tc.cu's mma.sync kernels (channels and Cout multiples of 4): several k steps,
     * both column tiles and a partial one, stride-2 phases with TF's uneven SAME padding, dilation,
     * a split-K filter gradient (512 output pixels), a 1x1 stride-2 with two column tiles, an input
     * gradient on the 128-column tile (68 input channels), split-K forward and input gradient (K 576),
     * one k quad (K 4), stride 2 with dilation 2.
     */
    static final List<Case> TENSOR_CORE = List.of(
            new Case(2, 9, 10, 8, 72, 5, 5, 1, Padding.SAME, 1),
            new Case(2, 11, 9, 8, 36, 3, 3, 2, Padding.SAME, 1),
            new Case(3, 10, 13, 8, 16, 3, 3, 1, Padding.SAME, 2),
            new Case(2, 16, 16, 8, 16, 3, 3, 1, Padding.SAME, 1),
            new Case(1, 8, 8, 12, 132, 1, 1, 2, Padding.SAME, 1),
            new Case(1, 6, 7, 68, 8, 3, 3, 1, Padding.SAME, 1),
            new Case(1, 5, 6, 64, 64, 3, 3, 1, Padding.SAME, 1),
            new Case(1, 3, 3, 4, 4, 1, 1, 1, Padding.VALID, 1),
            new Case(2, 9, 8, 4, 8, 3, 3, 2, Padding.SAME, 2));

    /** The TF32 cases: emulated tensor-core ops cost a warp barrier each, so the emulator runs small ones
     * (conv.cu's WMMA kernels: scalar loads, stride 2, dilation; conv_tc.cu's mma.sync kernels). */
    List<Case> tf32Cases() {
        List<Case> all = new ArrayList<>(fullTable() ? cases() : List.of(CASES.get(8), CASES.get(10)));
        all.addAll(TENSOR_CORE);
        return all;
    }

    private List<Case> cases() {
        if (fullTable()) {
            List<Case> all = new ArrayList<>(CASES);
            all.addAll(LARGE);
            return all;
        }
        List<Case> some = new ArrayList<>();
        for (int i = 0; i < CASES.size(); i++) {
            if (i % 2 == 0 || i == 3) some.add(CASES.get(i));
        }
        return some;
    }

    private <K> K gpu(Class<K> family) {
        return Backends.forDevice(device()).kernels(family);
    }

    private static <K> K cpu(Class<K> family) {
        return CpuBackend.INSTANCE.kernels(family);
    }

    private Tensor up(Tensor cpu) {
        return cpu.toDevice(device());
    }

    private static Tensor f64(Tensor t) {
        return t.cast(DType.FLOAT64);
    }

    private static Tensor rand(long seed, double lo, double hi, int... dims) {
        return Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), lo, hi);
    }

    /** max |actual - expected| <= tol * max |expected| (expected non-zero). */
    private static void close(Tensor expected, Tensor actual, double tol, String what) {
        assertArrayEquals(expected.dims(), actual.dims(), what + ": shape");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        double err = Close.maxAbsDiff(e, a);
        double scale = Close.maxAbs(e);
        if (!(err <= tol * scale)) fail(what + ": max abs error " + err + " exceeds " + tol + " * max |ref| " + scale);
    }

    private void scoped(Runnable body) {
        long dev = device().liveBytes();
        long host = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope s = TensorScope.open()) {
            body.run();
        }
        assertEquals(dev, device().liveBytes(), "device memory left allocated");
        assertEquals(host, CpuDevice.INSTANCE.liveBytes(), "host memory left allocated");
    }

    /** Runs body with the device's precision set to p, restoring the previous options. */
    void withPrecision(CudaOptions.Precision p, Runnable body) {
        CudaOptions before = device().options();
        device().configure(before.withPrecision(p));
        try {
            body.run();
        } finally {
            device().configure(before);
        }
    }

    private static Shape outShape(Case c) {
        Padding.Window wy = c.padding().window(c.h(), c.kh(), c.stride(), c.dilation());
        Padding.Window wx = c.padding().window(c.w(), c.kw(), c.stride(), c.dilation());
        return Shape.of(c.n(), wy.outSize(), wx.outSize(), c.cout());
    }

    void allThreeOps(List<Case> cases, double tol, String precision) {
        scoped(() -> {
            int s = 0;
            for (Case c : cases) {
                s++;
                Tensor x = rand(100 + s, -1, 1, c.n(), c.h(), c.w(), c.cin());
                Tensor w = rand(200 + s, -1, 1, c.kh(), c.kw(), c.cin(), c.cout());
                Tensor dy = rand(300 + s, -1, 1, outShape(c).dims());
                String what = precision + " " + c;
                close(cpu(ConvKernels.class).conv2d(f64(x), f64(w), c.spec()), gpu(ConvKernels.class).conv2d(up(x), up(w), c.spec()),
                        tol, "conv2d " + what);
                close(cpu(ConvKernels.class).conv2dBackpropInput(x.shape(), f64(w), f64(dy), c.spec()),
                        gpu(ConvKernels.class).conv2dBackpropInput(x.shape(), up(w), up(dy), c.spec()), tol, "backprop input " + what);
                close(cpu(ConvKernels.class).conv2dBackpropFilter(f64(x), w.shape(), f64(dy), c.spec()),
                        gpu(ConvKernels.class).conv2dBackpropFilter(up(x), w.shape(), up(dy), c.spec()), tol, "backprop filter " + what);
            }
        });
    }

    @Test
    void fp32ForwardAndBothGradientsMatchTheCpu() {
        allThreeOps(cases(), TOL, "fp32");
    }

    @Test
    void tf32ForwardAndBothGradientsMatchTheCpuWithinTf32Rounding() {
        withPrecision(CudaOptions.Precision.TF32, () -> allThreeOps(tf32Cases(), TF32_TOL, "tf32"));
    }

    /** Few output tiles and a long K: forward and input gradient split K over blocks (FP32 kernels here). */
    @Test
    void splitKForwardAndInputGradientMatchTheCpu() {
        allThreeOps(List.of(TENSOR_CORE.get(6)), TOL, "fp32 split-K");
    }

    @Test
    void tf32IsReallyUsedAndFp32IsNot() {
        scoped(() -> {
            Case c = CASES.get(fullTable() ? 3 : 0);
            Tensor hx = rand(401, -1, 1, c.n(), c.h(), c.w(), c.cin());
            Tensor hw = rand(402, -1, 1, c.kh(), c.kw(), c.cin(), c.cout());
            Tensor x = up(hx);
            Tensor w = up(hw);
            Tensor ref = cpu(ConvKernels.class).conv2d(f64(hx), f64(hw), c.spec());
            double[] fp32 = gpu(ConvKernels.class).conv2d(x, w, c.spec()).toDoubleArray();
            double[][] tf32 = new double[1][];
            withPrecision(CudaOptions.Precision.TF32, () -> tf32[0] = gpu(ConvKernels.class).conv2d(x, w, c.spec()).toDoubleArray());
            double[] e = ref.toDoubleArray();
            double scale = Close.maxAbs(e);
            double errFp32 = Close.maxAbsDiff(e, fp32) / scale;
            double errTf32 = Close.maxAbsDiff(e, tf32[0]) / scale;
            // tf32 rounds every operand to 11 significant bits: its error is orders of magnitude above float32's.
            assertTrue(errFp32 < 1e-6, "fp32 relative error " + errFp32);
            assertTrue(errTf32 > 20 * errFp32 && errTf32 > 1e-5, "tf32 relative error " + errTf32 + " vs fp32 " + errFp32);
        });
    }

    /**
     * The BF16 / FP16 cases: the mma.sync shapes (the emulator a subset: both column tiles, a K tail of
     * 4 in a 16-deep slice, stride-2 phases, split-K filter gradient) and, on conv.cu's TF32 WMMA
     * fallback, a 3-channel layer.
     */
    List<Case> halfCases() {
        List<Case> all = new ArrayList<>(fullTable() ? TENSOR_CORE
                : List.of(TENSOR_CORE.get(1), TENSOR_CORE.get(3), TENSOR_CORE.get(4), TENSOR_CORE.get(7)));
        all.add(CASES.get(fullTable() ? 7 : 10));
        return all;
    }

    @Test
    void bf16ForwardAndBothGradientsMatchTheCpuWithinBf16Rounding() {
        withPrecision(CudaOptions.Precision.BF16, () -> allThreeOps(halfCases(), BF16_TOL, "bf16"));
    }

    @Test
    void fp16ForwardAndBothGradientsMatchTheCpuWithinFp16Rounding() {
        withPrecision(CudaOptions.Precision.FP16, () -> allThreeOps(halfCases(), FP16_TOL, "fp16"));
    }

    /**
     * Each precision runs its own arithmetic: bf16's 7 fraction bits err several times more than
     * tf32's 10, and only fp16 overflows (operands past 65504 become infinite) where tf32 and bf16,
     * with float32's exponent range, stay finite.
     */
    @Test
    void bf16AndFp16AreReallyUsed() {
        scoped(() -> {
            Case c = TENSOR_CORE.get(3);
            Tensor hx = rand(411, -1, 1, c.n(), c.h(), c.w(), c.cin());
            Tensor hw = rand(412, -1, 1, c.kh(), c.kw(), c.cin(), c.cout());
            Tensor x = up(hx);
            Tensor w = up(hw);
            double[] e = cpu(ConvKernels.class).conv2d(f64(hx), f64(hw), c.spec()).toDoubleArray();
            double scale = Close.maxAbs(e);
            double[] err = new double[3];
            CudaOptions.Precision[] ps = {CudaOptions.Precision.TF32, CudaOptions.Precision.BF16, CudaOptions.Precision.FP16};
            for (int i = 0; i < 3; i++) {
                int k = i;
                withPrecision(ps[i], () -> err[k] = Close.maxAbsDiff(e, gpu(ConvKernels.class).conv2d(x, w, c.spec()).toDoubleArray()) / scale);
            }
            assertTrue(err[1] > 3 * err[0] && err[1] > 3 * err[2], "bf16 relative error " + err[1] + " vs tf32 " + err[0] + ", fp16 " + err[2]);
            assertTrue(err[2] > 1e-5, "fp16 relative error " + err[2] + ": operands not rounded");
            Tensor big = up(Tensor.fill(DType.FLOAT32, hx.shape(), 1e5));
            for (CudaOptions.Precision p : ps) {
                withPrecision(p, () -> {
                    double[] y = gpu(ConvKernels.class).conv2d(big, w, c.spec()).toDoubleArray();
                    boolean finite = java.util.Arrays.stream(y).allMatch(Double::isFinite);
                    assertEquals(p != CudaOptions.Precision.FP16, finite, p + ": inputs of 1e5 gave " + (finite ? "finite" : "non-finite") + " outputs");
                });
            }
        });
    }

    @Test
    void fusedScaleShiftActivationMatchesTheCpu() {
        for (CudaOptions.Precision p : CudaOptions.Precision.values()) {
            double tol = switch (p) {
                case FP32 -> TOL;
                case TF32 -> TF32_TOL;
                case BF16 -> BF16_TOL;
                case FP16 -> FP16_TOL;
            };
            List<Case> fusedCases = p == CudaOptions.Precision.FP32 || fullTable() ? List.of(CASES.get(0), CASES.get(2), CASES.get(3))
                    : List.of(p == CudaOptions.Precision.TF32 ? CASES.get(0) : TENSOR_CORE.get(7));
            withPrecision(p, () -> scoped(() -> {
                int s = 0;
                for (Case c : fusedCases) {
                    s++;
                    Tensor x = rand(500 + s, -1, 1, c.n(), c.h(), c.w(), c.cin());
                    Tensor w = rand(510 + s, -1, 1, c.kh(), c.kw(), c.cin(), c.cout());
                    Tensor scale = rand(520 + s, 0.5, 1.5, c.cout());
                    Tensor shift = rand(530 + s, -2, 2, c.cout());
                    // Every activation, and each of scale / shift present or null.
                    Object[][] variants = {{Activation.NONE, scale, shift}, {Activation.RELU, null, shift}, {Activation.RELU6, scale, null},
                        {Activation.RELU, null, null}, {Activation.RELU6, scale, shift}};
                    for (Object[] o : variants) {
                        Activation act = (Activation) o[0];
                        Tensor[] v = {(Tensor) o[1], (Tensor) o[2]};
                        Tensor e = cpu(FusedConvKernels.class).conv2dScaleShift(f64(x), f64(w), v[0] == null ? null : f64(v[0]),
                                v[1] == null ? null : f64(v[1]), c.spec(), act);
                        Tensor a = gpu(FusedConvKernels.class).conv2dScaleShift(up(x), up(w), v[0] == null ? null : up(v[0]),
                                v[1] == null ? null : up(v[1]), c.spec(), act);
                        close(e, a, tol, "fused " + p + " " + act + " scale " + (v[0] != null) + " shift " + (v[1] != null) + " " + c);
                    }
                }
            }));
        }
    }

    @Test
    void tf32MatmulMatchesTheCpuForEveryTranspose() {
        matmulMatchesTheCpuForEveryTranspose(CudaOptions.Precision.TF32, TF32_TOL);
    }

    @Test
    void bf16AndFp16MatmulsMatchTheCpuForEveryTranspose() {
        matmulMatchesTheCpuForEveryTranspose(CudaOptions.Precision.BF16, BF16_TOL);
        matmulMatchesTheCpuForEveryTranspose(CudaOptions.Precision.FP16, FP16_TOL);
    }

    private void matmulMatchesTheCpuForEveryTranspose(CudaOptions.Precision p, double tol) {
        withPrecision(p, () -> scoped(() -> {
            // Multiples of 4 (m, k, n) run on conv_tc.cu's mma.sync kernels, the others on conv.cu's WMMA ones.
            int[][] sizes = fullTable() ? new int[][] {{1, 1, 1}, {37, 19, 5}, {130, 70, 66}, {7, 129, 200}, {300, 257, 129}, {260, 132, 516}}
                    : new int[][] {{1, 1, 1}, {37, 19, 5}, {20, 33, 70}, {20, 36, 44}};
            for (int[] s : sizes) {
                for (boolean ta : new boolean[] {false, true}) {
                    for (boolean tb : new boolean[] {false, true}) {
                        Tensor a = ta ? rand(601, -1, 1, s[1], s[0]) : rand(601, -1, 1, s[0], s[1]);
                        Tensor b = tb ? rand(602, -1, 1, s[2], s[1]) : rand(602, -1, 1, s[1], s[2]);
                        close(cpu(MatMulKernels.class).matmul(f64(a), f64(b), ta, tb), gpu(MatMulKernels.class).matmul(up(a), up(b), ta, tb),
                                tol, p + " matmul m,k,n=" + java.util.Arrays.toString(s) + " ta=" + ta + " tb=" + tb);
                    }
                }
            }
        }));
    }

    @Test
    void filterGradientIsReproducibleRunToRun() {
        scoped(() -> {
            // Enough output pixels for several K splits.
            Tensor x = up(rand(801, -1, 1, 3, 13, 13, 8));
            Tensor dy = up(rand(802, -1, 1, 3, 13, 13, 16));
            Shape fs = Shape.of(3, 3, 8, 16);
            Conv2dSpec spec = Conv2dSpec.of(1, Padding.SAME);
            double[] first = gpu(ConvKernels.class).conv2dBackpropFilter(x, fs, dy, spec).toDoubleArray();
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(first, gpu(ConvKernels.class).conv2dBackpropFilter(x, fs, dy, spec).toDoubleArray(), 0.0, "run " + i);
            }
        });
    }

    @Test
    void tensorFlowGoldenConvolutionsMatch() {
        java.nio.file.Path dir;
        try {
            dir = GoldenData.goldenDir();
        } catch (RuntimeException e) {
            dir = null;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(dir != null && java.nio.file.Files.isDirectory(dir.resolve("ops/conv2d_3x3_same_s1")),
                "TensorFlow golden data (../shared/golden) not found");
        // name, stride, padding, dilation
        Object[][] cases = {
            {"conv2d_1x1_same_s2", 2, Padding.SAME, 1}, {"conv2d_1x1_valid", 1, Padding.VALID, 1}, {"conv2d_1x7_same_s1", 1, Padding.SAME, 1},
            {"conv2d_3x3_same_s1", 1, Padding.SAME, 1}, {"conv2d_3x3_same_s1_wide", 1, Padding.SAME, 1},
            {"conv2d_3x3_same_s2_even", 2, Padding.SAME, 1}, {"conv2d_3x3_same_s2_odd", 2, Padding.SAME, 1},
            {"conv2d_3x3_valid_s1", 1, Padding.VALID, 1}, {"conv2d_3x3_valid_s2", 2, Padding.VALID, 1},
            {"conv2d_7x1_same_s1", 1, Padding.SAME, 1}, {"conv2d_7x7_same_s2", 2, Padding.SAME, 1},
        };
        scoped(() -> {
            ConvKernels k = gpu(ConvKernels.class);
            Tensor dil = k.conv2d(golden("conv2d_3x3_same_dil2", "in_input.npy"), golden("conv2d_3x3_same_dil2", "in_filter.npy"),
                    Conv2dSpec.of(1, Padding.SAME).withDilation(2));
            goldenCheck("conv2d_3x3_same_dil2", dil);
            for (Object[] c : cases) {
                String name = (String) c[0];
                Conv2dSpec spec = Conv2dSpec.of((Integer) c[1], (Padding) c[2]);
                goldenCheck(name, k.conv2d(golden(name, "in_input.npy"), golden(name, "in_filter.npy"), spec));
                String bi = name + "_backprop_input";
                if (!java.nio.file.Files.isDirectory(GoldenData.goldenDir().resolve("ops/" + bi))) continue;
                Shape inShape = Shape.of(GoldenData.opTensor(bi, "in_input_sizes.npy").toIntArray());
                goldenCheck(bi, k.conv2dBackpropInput(inShape, golden(bi, "in_filter.npy"), golden(bi, "in_out_backprop.npy"), spec));
                String bf = name + "_backprop_filter";
                Shape fShape = Shape.of(GoldenData.opTensor(bf, "in_filter_sizes.npy").toIntArray());
                goldenCheck(bf, k.conv2dBackpropFilter(golden(bf, "in_input.npy"), fShape, golden(bf, "in_out_backprop.npy"), spec));
            }
        });
    }

    private Tensor golden(String c, String f) {
        try (Tensor cpu = GoldenData.opTensor(c, f)) {
            return up(cpu);
        }
    }

    /** The golden selftest's rule: max |slim4j - TF| <= 1e-4 * max(1, max |TF|). */
    private void goldenCheck(String c, Tensor actual) {
        try (Tensor expected = GoldenData.opTensor(c, "out_output.npy")) {
            Close.assertClose(expected, actual, 1e-4, c);
        }
    }

    @Test
    void badArgumentsNameTheOpAndTheShapes() {
        scoped(() -> {
            ConvKernels k = gpu(ConvKernels.class);
            Tensor x = up(rand(901, -1, 1, 2, 6, 6, 3));
            Tensor w = up(rand(902, -1, 1, 3, 3, 4, 5));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.conv2d(x, w, Conv2dSpec.of(1, Padding.SAME)));
            assertTrue(e.getMessage().contains("conv2d: filter in-channels 4 != input channels 3"), e.getMessage());
            Tensor w3 = up(rand(903, -1, 1, 3, 3, 3, 5));
            Tensor badDy = up(rand(904, -1, 1, 2, 5, 6, 5));
            e = assertThrows(IllegalArgumentException.class,
                    () -> k.conv2dBackpropInput(x.shape(), w3, badDy, Conv2dSpec.of(1, Padding.SAME)));
            assertTrue(e.getMessage().contains("conv2d_backprop_input: out_backprop shape [2, 5, 6, 5] != expected output shape"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> k.conv2dBackpropFilter(x, Shape.of(3, 3, 3, 5), badDy, Conv2dSpec.of(1, Padding.SAME)));
            assertTrue(e.getMessage().contains("conv2d_backprop_filter: out_backprop shape"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> k.conv2d(x, w3, Conv2dSpec.of(1, Padding.VALID).withDilation(4)));
            assertTrue(e.getMessage().startsWith("conv2d: VALID window"), e.getMessage());
            Tensor badScale = up(rand(905, -1, 1, 4));
            e = assertThrows(IllegalArgumentException.class, () -> gpu(FusedConvKernels.class).conv2dScaleShift(x, w3, badScale, null,
                    Conv2dSpec.of(1, Padding.SAME), Activation.RELU));
            assertTrue(e.getMessage().contains("conv2d_scale_shift: scale shape [4] != [5]"), e.getMessage());
        });
    }
}
