package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.LrnKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.ResizeKernels;
import org.slim4j.kernels.ResizeMode;
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
 * The depthwise convolution, LRN and resize kernels (depthwise_conv.cu, lrn.cu, resize.cu) against
 * the CPU backend's float64 reference path on odd shapes with batch > 1, TensorFlow's golden cases
 * of these ops, bad-argument messages and memory accounting. {@link EmulatedMiscConvTest} runs it
 * in the CPU emulator, {@link GpuMiscConvTest} on a real GPU (tag gpu).
 */
abstract class CudaMiscConvContract {
    /** max |gpu - reference| <= TOL * max(1, max |reference|). */
    static final double TOL = 1e-5;

    protected abstract CudaDevice device();

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

    private static void close(Tensor expected, Tensor actual, String what) {
        assertEquals(DType.FLOAT32, actual.dtype(), what + ": dtype");
        Close.assertClose(expected, actual, TOL, what);
    }

    /** Runs body in a scope, then checks that neither the device nor the host holds more memory than before. */
    private void scoped(Runnable body) {
        long dev = device().liveBytes();
        long host = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope s = TensorScope.open()) {
            body.run();
        }
        assertEquals(dev, device().liveBytes(), "device memory left allocated");
        assertEquals(host, CpuDevice.INSTANCE.liveBytes(), "host memory left allocated");
    }

    private static void assertMessage(String expectedPart, Runnable r) {
        Throwable e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(expectedPart), "message '" + e.getMessage() + "' lacks '" + expectedPart + "'");
    }

    // =============================================================================================
    // depthwise convolution
    // =============================================================================================

    /** input dims, filter dims, spec: odd sizes, batch > 1, M = 1..3, strides, dilation, both paddings. */
    private record DwCase(int[] x, int[] f, Conv2dSpec spec) {
        @Override
        public String toString() {
            return java.util.Arrays.toString(x) + " * " + java.util.Arrays.toString(f) + " " + spec;
        }
    }

    private static final DwCase[] DW_CASES = {
        // 3x3, M = 1: the shared-memory tile kernel (strides 1 and 2 in either axis, tiles cut short at the edges)
        new DwCase(new int[] {2, 9, 11, 5}, new int[] {3, 3, 5, 1}, Conv2dSpec.of(1, Padding.SAME)),
        new DwCase(new int[] {2, 9, 11, 5}, new int[] {3, 3, 5, 1}, Conv2dSpec.of(2, Padding.SAME)),
        new DwCase(new int[] {3, 8, 7, 3}, new int[] {3, 3, 3, 1}, Conv2dSpec.of(1, Padding.VALID)),
        new DwCase(new int[] {2, 10, 13, 4}, new int[] {3, 3, 4, 1}, Conv2dSpec.of(2, Padding.VALID)),
        new DwCase(new int[] {2, 10, 19, 35}, new int[] {3, 3, 35, 1}, new Conv2dSpec(1, 2, 1, 1, Padding.SAME)),
        new DwCase(new int[] {2, 19, 10, 3}, new int[] {3, 3, 3, 1}, new Conv2dSpec(2, 1, 1, 1, Padding.VALID)),
        // 3x3, M = 1, row stride 3: the register-blocked kernel (4-column groups cut short)
        new DwCase(new int[] {2, 11, 6, 3}, new int[] {3, 3, 3, 1}, new Conv2dSpec(3, 1, 1, 1, Padding.SAME)),
        // the generic kernel
        new DwCase(new int[] {2, 9, 11, 5}, new int[] {3, 3, 5, 1}, new Conv2dSpec(1, 3, 1, 1, Padding.SAME)),
        new DwCase(new int[] {2, 7, 8, 3}, new int[] {3, 3, 3, 2}, Conv2dSpec.of(1, Padding.SAME)),
        new DwCase(new int[] {2, 7, 8, 3}, new int[] {3, 3, 3, 2}, Conv2dSpec.of(2, Padding.SAME)),
        new DwCase(new int[] {2, 9, 10, 4}, new int[] {3, 3, 4, 1}, Conv2dSpec.of(1, Padding.SAME).withDilation(2)),
        new DwCase(new int[] {3, 9, 7, 2}, new int[] {5, 5, 2, 3}, Conv2dSpec.of(2, Padding.SAME)),
        new DwCase(new int[] {2, 6, 9, 3}, new int[] {3, 2, 3, 1}, new Conv2dSpec(2, 1, 1, 2, Padding.VALID)),
        new DwCase(new int[] {2, 5, 5, 7}, new int[] {1, 1, 7, 2}, Conv2dSpec.of(1, Padding.VALID)),
        // more than 32 filter channels (two channel tiles) and slices of the output pixels in the filter gradient
        new DwCase(new int[] {2, 17, 19, 20}, new int[] {3, 3, 20, 2}, Conv2dSpec.of(1, Padding.SAME)),
        new DwCase(new int[] {2, 15, 13, 37}, new int[] {3, 3, 37, 1}, Conv2dSpec.of(1, Padding.SAME)),
    };

    @Test
    void depthwiseConvolutionAndItsGradientsMatchTheCpu() {
        scoped(() -> {
            DepthwiseConvKernels c = cpu(DepthwiseConvKernels.class);
            DepthwiseConvKernels g = gpu(DepthwiseConvKernels.class);
            long seed = 200;
            for (DwCase k : DW_CASES) {
                Tensor x = rand(seed++, -1, 1, k.x());
                Tensor f = rand(seed++, -1, 1, k.f());
                Tensor y64 = c.depthwiseConv2d(f64(x), f64(f), k.spec());
                close(y64, g.depthwiseConv2d(up(x), up(f), k.spec()), "depthwiseConv2d " + k);
                Tensor dy = rand(seed++, -1, 1, y64.dims());
                close(c.depthwiseConv2dBackpropInput(x.shape(), f64(f), f64(dy), k.spec()),
                        g.depthwiseConv2dBackpropInput(x.shape(), up(f), up(dy), k.spec()), "depthwiseConv2dBackpropInput " + k);
                close(c.depthwiseConv2dBackpropFilter(f64(x), f.shape(), f64(dy), k.spec()),
                        g.depthwiseConv2dBackpropFilter(up(x), f.shape(), up(dy), k.spec()), "depthwiseConv2dBackpropFilter " + k);
            }
        });
    }

    @Test
    void depthwiseFilterGradientIsDeterministic() {
        scoped(() -> {
            DepthwiseConvKernels g = gpu(DepthwiseConvKernels.class);
            Tensor x = up(rand(230, -1, 1, 2, 17, 19, 20));
            Tensor dy = up(rand(231, -1, 1, 2, 17, 19, 20));
            Conv2dSpec spec = Conv2dSpec.of(1, Padding.SAME);
            double[] first = g.depthwiseConv2dBackpropFilter(x, Shape.of(3, 3, 20, 1), dy, spec).toDoubleArray();
            double[] second = g.depthwiseConv2dBackpropFilter(x, Shape.of(3, 3, 20, 1), dy, spec).toDoubleArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(first, second, 0.0, "bitwise equal on a rerun");
        });
    }

    // =============================================================================================
    // LRN
    // =============================================================================================

    @Test
    void lrnAndItsGradientMatchTheCpu() {
        scoped(() -> {
            LrnKernels c = cpu(LrnKernels.class);
            LrnKernels g = gpu(LrnKernels.class);
            LrnSpec[] specs = {LrnSpec.cifarNet(), new LrnSpec(2, 2f, 0.01f, 0.5f), new LrnSpec(0, 1f, 0.1f, 1f),
                new LrnSpec(100, 1.5f, 0.05f, 0.3f), new LrnSpec(5, 1f, 1e-4f, 0.75f)};
            int[][] shapes = {{2, 3, 5, 20}, {3, 7}, {2, 4, 3, 1}, {5, 96}};
            long seed = 300;
            for (int[] dims : shapes) {
                for (LrnSpec spec : specs) {
                    String what = spec + " on " + java.util.Arrays.toString(dims);
                    Tensor x = rand(seed++, -3, 3, dims);
                    Tensor dy = rand(seed++, -1, 1, dims);
                    Tensor y64 = c.lrn(f64(x), spec);
                    close(y64, g.lrn(up(x), spec), "lrn " + what);
                    Tensor y32 = y64.cast(DType.FLOAT32);
                    close(c.lrnGrad(f64(x), f64(y32), f64(dy), spec), g.lrnGrad(up(x), up(y32), up(dy), spec), "lrnGrad " + what);
                }
            }
        });
    }

    // =============================================================================================
    // resize
    // =============================================================================================

    private static final int[][] SIZES = {{7, 9}, {3, 4}, {1, 1}, {11, 5}, {1, 6}};

    @Test
    void resizeBilinearAndItsGradientMatchTheCpuInEveryMode() {
        scoped(() -> {
            ResizeKernels c = cpu(ResizeKernels.class);
            ResizeKernels g = gpu(ResizeKernels.class);
            long seed = 400;
            for (int[] in : new int[][] {{2, 5, 7, 3}, {3, 4, 6, 17}, {2, 1, 3, 2}}) {
                Tensor x = rand(seed++, -2, 2, in);
                double[] v = new double[x.numel()];
                CudaKernelsContract.SplitMix r = new CudaKernelsContract.SplitMix(seed);
                for (int i = 0; i < v.length; i++) v[i] = r.nextInt(256);
                Tensor u8 = Tensor.fromDoubles(DType.UINT8, x.shape(), v);
                for (ResizeMode mode : ResizeMode.values()) {
                    for (int[] s : SIZES) {
                        String what = java.util.Arrays.toString(in) + " -> " + s[0] + "x" + s[1] + " " + mode;
                        close(c.resizeBilinear(f64(x), s[0], s[1], mode), g.resizeBilinear(up(x), s[0], s[1], mode), "resizeBilinear " + what);
                        close(c.resizeBilinear(f64(u8), s[0], s[1], mode), g.resizeBilinear(up(u8), s[0], s[1], mode),
                                "resizeBilinear uint8 " + what);
                        Tensor dy = rand(seed++, -1, 1, in[0], s[0], s[1], in[3]);
                        close(c.resizeBilinearGrad(f64(dy), x.shape(), mode), g.resizeBilinearGrad(up(dy), x.shape(), mode),
                                "resizeBilinearGrad " + what);
                    }
                }
            }
        });
    }

    @Test
    void cropAndResizeMatchesTheCpu() {
        scoped(() -> {
            ResizeKernels c = cpu(ResizeKernels.class);
            ResizeKernels g = gpu(ResizeKernels.class);
            Tensor img = rand(500, -2, 2, 3, 9, 11, 4);
            double[] v = new double[img.numel()];
            CudaKernelsContract.SplitMix r = new CudaKernelsContract.SplitMix(501);
            for (int i = 0; i < v.length; i++) v[i] = r.nextInt(256);
            Tensor u8 = Tensor.fromDoubles(DType.UINT8, img.shape(), v);
            // Inside, partly outside, flipped, a single point, wholly outside; no edge lands exactly on the border.
            Tensor boxes = Tensor.of(new float[] {0.1f, 0.2f, 0.8f, 0.9f, -0.15f, 0.05f, 1.25f, 0.7f, 0.9f, 0.85f, 0.1f, 0.15f,
                0.3f, 0.4f, 0.3f, 0.4f, 1.1f, -0.6f, 1.4f, -0.2f}, 5, 4);
            int[] idx = {0, 2, 1, 2, 0};
            long[] idx64 = {0, 2, 1, 2, 0};
            for (int[] crop : new int[][] {{5, 4}, {1, 1}, {1, 6}, {7, 1}}) {
                for (Tensor bi : new Tensor[] {Tensor.of(idx, 5), Tensor.of(idx64, 5)}) {
                    String what = crop[0] + "x" + crop[1] + " boxIndex " + bi.dtype();
                    close(c.cropAndResize(f64(img), boxes, bi, crop[0], crop[1], -7.5f),
                            g.cropAndResize(up(img), up(boxes), up(bi), crop[0], crop[1], -7.5f), "cropAndResize " + what);
                    close(c.cropAndResize(f64(u8), boxes, bi, crop[0], crop[1], 0f),
                            g.cropAndResize(up(u8), up(boxes), up(bi), crop[0], crop[1], 0f), "cropAndResize uint8 " + what);
                }
            }
        });
    }

    // =============================================================================================
    // TensorFlow golden cases
    // =============================================================================================

    private Tensor golden(String c, String f) {
        try (Tensor cpu = GoldenData.opTensor(c, f)) {
            return up(cpu);
        }
    }

    private void goldenCheck(String c, String outFile, Tensor actual) {
        try (Tensor expected = GoldenData.opTensor(c, outFile)) {
            close(expected, actual, c + "/" + outFile);
        }
    }

    private static String caseJson(String c) {
        try {
            return Files.readString(GoldenData.goldenDir().resolve("ops").resolve(c).resolve("case.json"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double attr(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*([-0-9.eE]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return Double.parseDouble(m.group(1));
    }

    private static Shape shapeOf(Tensor sizes) {
        long[] d = sizes.toLongArray();
        int[] dims = new int[d.length];
        for (int i = 0; i < d.length; i++) dims[i] = (int) d[i];
        return Shape.of(dims);
    }

    @Test
    void tensorflowGoldenCasesPass() {
        Path dir;
        try {
            dir = GoldenData.goldenDir();
        } catch (IllegalStateException e) {
            dir = null;  // a device machine without ../shared
        }
        Assumptions.assumeTrue(dir != null && Files.isDirectory(dir.resolve("ops")), "TensorFlow golden data (../shared/golden) not found");
        scoped(() -> {
            DepthwiseConvKernels dw = gpu(DepthwiseConvKernels.class);
            List<String> ran = new ArrayList<>();
            for (String s : new String[] {"s1", "s2"}) {
                for (String m : new String[] {"m1", "m2"}) {
                    String base = "depthwise_3x3_same_" + s + "_" + m;
                    Conv2dSpec spec = Conv2dSpec.of(s.equals("s1") ? 1 : 2, Padding.SAME);
                    assertTrue(caseJson(base).contains("\"strides\": [1, " + spec.strideH() + ", " + spec.strideW() + ", 1]"), base);
                    goldenCheck(base, "out_output.npy", dw.depthwiseConv2d(golden(base, "in_input.npy"), golden(base, "in_filter.npy"), spec));
                    String bi = base + "_backprop_input";
                    try (Tensor sizes = GoldenData.opTensor(bi, "in_input_sizes.npy")) {
                        goldenCheck(bi, "out_output.npy", dw.depthwiseConv2dBackpropInput(shapeOf(sizes), golden(bi, "in_filter.npy"),
                                golden(bi, "in_out_backprop.npy"), spec));
                    }
                    String bf = base + "_backprop_filter";
                    try (Tensor sizes = GoldenData.opTensor(bf, "in_filter_sizes.npy")) {
                        goldenCheck(bf, "out_output.npy", dw.depthwiseConv2dBackpropFilter(golden(bf, "in_input.npy"), shapeOf(sizes),
                                golden(bf, "in_out_backprop.npy"), spec));
                    }
                    ran.add(base);
                }
            }
            assertEquals(4, ran.size());

            LrnKernels lrn = gpu(LrnKernels.class);
            for (String c : new String[] {"lrn_cifarnet", "lrn_r2_b2_a1e-2_b05"}) {
                String json = caseJson(c);
                LrnSpec spec = new LrnSpec((int) attr(json, "depth_radius"), (float) attr(json, "bias"), (float) attr(json, "alpha"),
                        (float) attr(json, "beta"));
                goldenCheck(c, "out_output.npy", lrn.lrn(golden(c, "in_input.npy"), spec));
                String gc = c + "_grad";
                // LRNGrad(input_grads, input_image, output_image) -> lrnGrad(input, output, dy).
                goldenCheck(gc, "out_output.npy", lrn.lrnGrad(golden(gc, "in_input_image.npy"), golden(gc, "in_output_image.npy"),
                        golden(gc, "in_input_grads.npy"), spec));
            }

            ResizeKernels rs = gpu(ResizeKernels.class);
            for (String c : new String[] {"resize_bilinear_up_legacy", "resize_bilinear_down_legacy", "resize_bilinear_up_half_pixel",
                "resize_bilinear_down_half_pixel", "resize_bilinear_up_align_corners", "resize_bilinear_down_align_corners",
                "resize_bilinear_uint8_legacy"}) {
                String json = caseJson(c);
                boolean ac = json.matches("(?s).*\"align_corners\"\\s*:\\s*true.*");
                boolean hp = json.matches("(?s).*\"half_pixel_centers\"\\s*:\\s*true.*");
                ResizeMode mode = ac ? ResizeMode.ALIGN_CORNERS : hp ? ResizeMode.HALF_PIXEL : ResizeMode.LEGACY;
                Tensor images;
                try (Tensor host = GoldenData.opTensor(c, "in_images.npy")) {
                    if (json.contains("\"tf_dtype\": \"uint8\"")) {
                        try (Tensor u8 = host.cast(DType.UINT8)) {  // stored as int64
                            images = up(u8);
                        }
                    } else {
                        images = up(host);
                    }
                }
                long[] size;
                try (Tensor s = GoldenData.opTensor(c, "in_size.npy")) {
                    size = s.toLongArray();
                }
                goldenCheck(c, "out_output.npy", rs.resizeBilinear(images, (int) size[0], (int) size[1], mode));
            }
            String c = "crop_and_resize";
            float ext = (float) attr(caseJson(c), "extrapolation_value");
            long[] crop;
            try (Tensor s = GoldenData.opTensor(c, "in_crop_size.npy")) {
                crop = s.toLongArray();
            }
            Tensor boxInd;
            try (Tensor host = GoldenData.opTensor(c, "in_box_ind.npy"); Tensor i32 = host.cast(DType.INT32)) {
                boxInd = up(i32);
            }
            goldenCheck(c, "out_crops.npy", rs.cropAndResize(golden(c, "in_image.npy"), golden(c, "in_boxes.npy"), boxInd,
                    (int) crop[0], (int) crop[1], ext));
        });
    }

    // =============================================================================================
    // errors
    // =============================================================================================

    @Test
    void badArgumentsAreRejectedWithMessagesNamingOpArgumentAndShapes() {
        scoped(() -> {
            DepthwiseConvKernels dw = gpu(DepthwiseConvKernels.class);
            Conv2dSpec same = Conv2dSpec.of(1, Padding.SAME);
            Tensor x = up(Tensor.zeros(2, 5, 5, 3));
            Tensor f = up(Tensor.zeros(3, 3, 4, 1));
            assertMessage("depthwise_conv2d: filter in-channels 4 != input channels 3 (input [2, 5, 5, 3], filter [3, 3, 4, 1])",
                    () -> dw.depthwiseConv2d(x, f, same));
            Tensor f3 = up(Tensor.zeros(3, 3, 3, 2));
            assertMessage("depthwise_conv2d: input must be rank 4, got shape [5, 3]", () -> dw.depthwiseConv2d(up(Tensor.zeros(5, 3)), f3, same));
            assertMessage("depthwise_conv2d: VALID window of effective size 7 does not fit input size 5",
                    () -> dw.depthwiseConv2d(x, up(Tensor.zeros(7, 7, 3, 1)), Conv2dSpec.of(1, Padding.VALID)));
            Tensor dy = up(Tensor.zeros(2, 5, 5, 3));
            assertMessage("depthwise_conv2d_backprop_input: out_backprop shape [2, 5, 5, 3] != expected output shape [2, 5, 5, 6]",
                    () -> dw.depthwiseConv2dBackpropInput(x.shape(), f3, dy, same));
            assertMessage("depthwise_conv2d_backprop_filter: out_backprop shape [2, 5, 5, 3] != expected output shape [2, 3, 3, 6]",
                    () -> dw.depthwiseConv2dBackpropFilter(x, f3.shape(), dy, Conv2dSpec.of(2, Padding.SAME)));
            Tensor d64 = up(Tensor.zeros(DType.FLOAT64, Shape.of(2, 5, 5, 3)));
            assertMessage("depthwise_conv2d: unsupported dtype FLOAT64 for input [2, 5, 5, 3]", () -> dw.depthwiseConv2d(d64, f3, same));
            assertMessage("lives on cpu", () -> dw.depthwiseConv2d(Tensor.zeros(2, 5, 5, 3), f3, same));

            LrnKernels lrn = gpu(LrnKernels.class);
            assertMessage("lrn: depthRadius -1 must be >= 0 (input [2, 5, 5, 3])", () -> lrn.lrn(x, new LrnSpec(-1, 1f, 1f, 0.5f)));
            assertMessage("lrnGrad: dy shape [2, 5, 5, 6] != input shape [2, 5, 5, 3]",
                    () -> lrn.lrnGrad(x, x, up(Tensor.zeros(2, 5, 5, 6)), LrnSpec.cifarNet()));
            assertMessage("lrn: unsupported dtype FLOAT64 for input", () -> lrn.lrn(d64, LrnSpec.cifarNet()));

            ResizeKernels rs = gpu(ResizeKernels.class);
            assertMessage("resizeBilinear: images dtype FLOAT64 [2, 5, 5, 3] is not supported on cuda",
                    () -> rs.resizeBilinear(d64, 3, 3, ResizeMode.LEGACY));
            assertMessage("resizeBilinear: output size 0x3 must be positive (images [2, 5, 5, 3])",
                    () -> rs.resizeBilinear(x, 0, 3, ResizeMode.LEGACY));
            assertMessage("resizeBilinearGrad: dy [2, 4, 4, 2] and image shape [2, 5, 5, 3] must both be NHWC",
                    () -> rs.resizeBilinearGrad(up(Tensor.zeros(2, 4, 4, 2)), x.shape(), ResizeMode.HALF_PIXEL));
            Tensor boxes = up(Tensor.zeros(2, 4));
            Tensor badIndex = up(Tensor.of(new int[] {0, 2}, 2));
            long before = device().liveBytes();
            assertMessage("cropAndResize: boxIndex[1] = 2 is out of range [0, 2) (images [2, 5, 5, 3])",
                    () -> rs.cropAndResize(x, boxes, badIndex, 3, 3, 0f));
            assertEquals(before, device().liveBytes(), "a rejected box index leaks nothing");
            assertMessage("cropAndResize: boxes must be [B, 4], got [2, 3]", () -> rs.cropAndResize(x, up(Tensor.zeros(2, 3)),
                    up(Tensor.of(new int[] {0, 1}, 2)), 3, 3, 0f));
            assertMessage("cropAndResize: boxIndex shape [3] must be [2] to match boxes [2, 4]",
                    () -> rs.cropAndResize(x, boxes, up(Tensor.of(new int[] {0, 1, 1}, 3)), 3, 3, 0f));
        });
    }
}
