package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.ResizeKernels;
import org.slim4j.kernels.ResizeMode;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;
import org.slim4j.tensor.testing.OwnedTensors;

class ResizeCpuTest extends OwnedTensors {
    private static final ResizeKernels K = CpuBackend.INSTANCE.kernels(ResizeKernels.class);

    private Tensor rand(long seed, DType dt, int... dims) {
        return own(Tensor.randomUniform(seed, dt, Shape.of(dims), -2, 2));
    }

    private Tensor f64(Tensor t) {
        return own(t.cast(DType.FLOAT64));
    }

    private Tensor golden(String c, String f) {
        return own(GoldenData.opTensor(c, f));
    }

    private static double dot(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        assertEquals(x.length, y.length);
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    private static final int[][] SIZES = {{9, 12}, {4, 5}, {7, 9}, {1, 1}, {1, 13}, {14, 3}, {90, 100}};

    // ---- resizeBilinear --------------------------------------------------------------------------

    @Test
    void resizeFloat32MatchesFloat64() {
        long seed = 1;
        for (int[] in : new int[][] {{3, 7, 9, 5}, {2, 6, 5, 19}, {1, 1, 4, 2}, {2, 40, 50, 16}}) {
            Tensor x = rand(seed++, DType.FLOAT32, in);
            for (ResizeMode mode : ResizeMode.values()) {
                for (int[] s : SIZES) {
                    Tensor y = own(K.resizeBilinear(x, s[0], s[1], mode));
                    assertArrayEquals(new int[] {in[0], s[0], s[1], in[3]}, y.dims());
                    assertEquals(DType.FLOAT32, y.dtype());
                    Tensor y64 = own(K.resizeBilinear(f64(x), s[0], s[1], mode));
                    assertEquals(DType.FLOAT64, y64.dtype());
                    Close.assertClose(y64, y, 1e-5, "resize " + java.util.Arrays.toString(in) + " -> " + s[0] + "x" + s[1] + " " + mode);
                }
            }
        }
    }

    @Test
    void knownValues() {
        // 1x2x2x1 image [[0, 1], [2, 3]] upsampled to 4x4.
        Tensor x = own(Tensor.of(new float[] {0, 1, 2, 3}, 1, 2, 2, 1));
        // legacy: src = dst / 2 -> 0, .5, 1, 1.5 (clamped to the last pixel)
        assertArrayEquals(new double[] {0, .5, 1, 1, 1, 1.5, 2, 2, 2, 2.5, 3, 3, 2, 2.5, 3, 3},
                own(K.resizeBilinear(x, 4, 4, ResizeMode.LEGACY)).toDoubleArray(), 1e-7);
        // align corners: src = dst / 3
        double[] ac = own(K.resizeBilinear(x, 4, 4, ResizeMode.ALIGN_CORNERS)).toDoubleArray();
        assertEquals(0, ac[0], 1e-7);
        assertEquals(1, ac[3], 1e-7);
        assertEquals(3, ac[15], 1e-6);
        assertEquals(1.0 / 3, ac[1], 1e-6);
        // half pixel: src = (dst + .5) / 2 - .5 -> -.25 (clamped to 0), .25, .75, 1.25 (clamped to 1)
        double[] hp = own(K.resizeBilinear(x, 4, 4, ResizeMode.HALF_PIXEL)).toDoubleArray();
        assertArrayEquals(new double[] {0, 0.25, 0.75, 1}, java.util.Arrays.copyOf(hp, 4), 1e-6);
        assertEquals(0.5, hp[4], 1e-6); // row src .25: 0 + .25 * 2
    }

    @Test
    void uint8InputGivesFloat32() {
        SeededRandom r = new SeededRandom(5);
        byte[] b = new byte[2 * 5 * 6 * 3];
        for (int i = 0; i < b.length; i++) b[i] = (byte) r.nextInt(256);
        Tensor u = own(Tensor.ofBytes(b, 2, 5, 6, 3));
        Tensor asFloat = own(u.cast(DType.FLOAT32));
        for (ResizeMode mode : ResizeMode.values()) {
            Tensor y = own(K.resizeBilinear(u, 7, 4, mode));
            assertEquals(DType.FLOAT32, y.dtype());
            assertArrayEquals(own(K.resizeBilinear(asFloat, 7, 4, mode)).toDoubleArray(), y.toDoubleArray(), mode.toString());
        }
    }

    // ---- golden ----------------------------------------------------------------------------------

    private static ResizeMode modeOf(String json) {
        boolean ac = Pattern.compile("\"align_corners\"\\s*:\\s*true").matcher(json).find();
        boolean hp = Pattern.compile("\"half_pixel_centers\"\\s*:\\s*true").matcher(json).find();
        assertTrue(!(ac && hp), "both align_corners and half_pixel_centers");
        return ac ? ResizeMode.ALIGN_CORNERS : hp ? ResizeMode.HALF_PIXEL : ResizeMode.LEGACY;
    }

    @Test
    void goldenResizeBilinear() throws IOException {
        String[] cases = {"resize_bilinear_up_legacy", "resize_bilinear_down_legacy", "resize_bilinear_up_half_pixel",
            "resize_bilinear_down_half_pixel", "resize_bilinear_up_align_corners", "resize_bilinear_down_align_corners",
            "resize_bilinear_uint8_legacy"};
        for (String c : cases) {
            String json = Files.readString(GoldenData.goldenDir().resolve("ops").resolve(c).resolve("case.json"));
            assertTrue(json.contains("\"ResizeBilinear\""), c);
            ResizeMode mode = modeOf(json);
            Tensor images = golden(c, "in_images.npy");
            if (json.contains("\"tf_dtype\": \"uint8\"")) images = own(images.cast(DType.UINT8)); // stored as int64
            long[] size = golden(c, "in_size.npy").toLongArray();
            Tensor expected = golden(c, "out_output.npy");
            Tensor y = own(K.resizeBilinear(images, (int) size[0], (int) size[1], mode));
            System.out.printf("golden %s (%s, %s): max |err| float32 %.3g%n", c, mode, images.dtype(),
                    Close.maxAbsDiff(expected.toDoubleArray(), y.toDoubleArray()));
            Close.assertClose(expected, y, 1e-5, c);
            Close.assertClose(expected, own(K.resizeBilinear(f64(images), (int) size[0], (int) size[1], mode)), 1e-5, c + " float64 path");
        }
    }

    @Test
    void goldenCropAndResize() throws IOException {
        String c = "crop_and_resize";
        String json = Files.readString(GoldenData.goldenDir().resolve("ops").resolve(c).resolve("case.json"));
        Matcher m = Pattern.compile("\"extrapolation_value\"\\s*:\\s*([-0-9.eE]+)").matcher(json);
        assertTrue(m.find());
        float ext = Float.parseFloat(m.group(1));
        Tensor image = golden(c, "in_image.npy");
        Tensor boxes = golden(c, "in_boxes.npy");
        Tensor boxInd = own(golden(c, "in_box_ind.npy").cast(DType.INT32));
        long[] crop = golden(c, "in_crop_size.npy").toLongArray();
        Tensor expected = golden(c, "out_crops.npy");
        Tensor y = own(K.cropAndResize(image, boxes, boxInd, (int) crop[0], (int) crop[1], ext));
        System.out.printf("golden %s: max |err| float32 %.3g%n", c, Close.maxAbsDiff(expected.toDoubleArray(), y.toDoubleArray()));
        Close.assertClose(expected, y, 1e-5, c);
        Close.assertClose(expected, own(K.cropAndResize(f64(image), boxes, golden(c, "in_box_ind.npy"), (int) crop[0], (int) crop[1], ext)),
                1e-5, c + " float64 path, int64 box index");
    }

    // ---- gradient --------------------------------------------------------------------------------

    /** resize is linear, so its gradient is its adjoint: <resize(x), g> == <x, grad(g)>. */
    @Test
    void gradIsAdjointAndFloat32MatchesFloat64() {
        long seed = 100;
        for (int[] in : new int[][] {{2, 5, 7, 3}, {1, 4, 6, 17}, {2, 1, 3, 2}, {2, 60, 70, 8}}) {
            Tensor x = rand(seed++, DType.FLOAT64, in);
            for (ResizeMode mode : ResizeMode.values()) {
                for (int[] s : SIZES) {
                    String what = java.util.Arrays.toString(in) + " -> " + s[0] + "x" + s[1] + " " + mode;
                    Tensor g = rand(seed++, DType.FLOAT64, in[0], s[0], s[1], in[3]);
                    Tensor dx = own(K.resizeBilinearGrad(g, x.shape(), mode));
                    assertEquals(x.shape(), dx.shape());
                    double lhs = dot(own(K.resizeBilinear(x, s[0], s[1], mode)), g);
                    assertEquals(lhs, dot(x, dx), 1e-9 * Math.max(1, Math.abs(lhs)), "adjoint " + what);
                    Tensor g32 = own(g.cast(DType.FLOAT32));
                    Tensor dx32 = own(K.resizeBilinearGrad(g32, x.shape(), mode));
                    assertEquals(DType.FLOAT32, dx32.dtype());
                    Close.assertClose(own(K.resizeBilinearGrad(f64(g32), x.shape(), mode)), dx32, 1e-5, "grad " + what);
                }
            }
        }
    }

    /** Central differences of L(x) = sum(resize(x) * g) in float64, per input element. */
    @Test
    void gradFiniteDifferences() {
        long seed = 200;
        for (ResizeMode mode : ResizeMode.values()) {
            Tensor x = rand(seed++, DType.FLOAT64, 2, 4, 5, 2);
            Tensor g = rand(seed++, DType.FLOAT64, 2, 7, 3, 2);
            double[] dx = own(K.resizeBilinearGrad(g, x.shape(), mode)).toDoubleArray();
            double[] xv = x.toDoubleArray();
            double eps = 1e-3;
            for (int i = 0; i < xv.length; i++) {
                double[] plus = xv.clone();
                double[] minus = xv.clone();
                plus[i] += eps;
                minus[i] -= eps;
                Tensor xp = own(Tensor.of(plus, x.dims()));
                Tensor xm = own(Tensor.of(minus, x.dims()));
                double fd = (dot(own(K.resizeBilinear(xp, 7, 3, mode)), g) - dot(own(K.resizeBilinear(xm, 7, 3, mode)), g)) / (2 * eps);
                assertEquals(fd, dx[i], 1e-7, mode + " element " + i);
            }
        }
    }

    // ---- cropAndResize ---------------------------------------------------------------------------

    @Test
    void cropAndResizeFloat32MatchesFloat64() {
        Tensor img = rand(300, DType.FLOAT32, 3, 8, 11, 18);
        Tensor boxes = own(Tensor.of(new float[] {
            0.1f, 0.2f, 0.8f, 0.9f, // inside
            -0.3f, 0.5f, 0.6f, 1.4f, // leaves the image
            0.9f, 0.8f, 0.2f, 0.1f, // flipped
            0.5f, 0.5f, 0.5f, 0.5f, // a point
            0f, 0f, 1f, 1f, // the whole image
        }, 5, 4));
        Tensor idx = own(Tensor.of(new int[] {0, 2, 1, 1, 2}, 5));
        for (int[] crop : new int[][] {{5, 4}, {1, 1}, {1, 6}, {9, 1}, {64, 48}}) {
            Tensor y = own(K.cropAndResize(img, boxes, idx, crop[0], crop[1], 0.25f));
            assertArrayEquals(new int[] {5, crop[0], crop[1], 18}, y.dims());
            Close.assertClose(own(K.cropAndResize(f64(img), boxes, idx, crop[0], crop[1], 0.25f)), y, 1e-5, "crop " + crop[0] + "x" + crop[1]);
        }
        // a view with a non-zero offset
        Tensor view = own(img.slice0(1, 3));
        Tensor copy = own(view.copy());
        Tensor idx01 = own(Tensor.of(new int[] {0, 1, 1, 0, 1}, 5));
        assertArrayEquals(own(K.cropAndResize(copy, boxes, idx01, 5, 4, 0f)).toDoubleArray(), own(K.cropAndResize(view, boxes, idx01, 5, 4, 0f)).toDoubleArray());
        assertArrayEquals(own(K.resizeBilinear(copy, 5, 13, ResizeMode.LEGACY)).toDoubleArray(), own(K.resizeBilinear(view, 5, 13, ResizeMode.LEGACY)).toDoubleArray());
        // The whole-image box at the image size reproduces the image; out-of-range samples take the fill value.
        Tensor whole = own(K.cropAndResize(img, own(Tensor.of(new float[] {0, 0, 1, 1}, 1, 4)), own(Tensor.of(new int[] {2}, 1)), 8, 11, 0f));
        Close.assertClose(own(img.slice0(2, 3)), whole, 1e-6, "identity crop");
        Tensor out = own(K.cropAndResize(img, own(Tensor.of(new float[] {1.5f, 0, 2f, 1}, 1, 4)), own(Tensor.of(new int[] {0}, 1)), 2, 3, -7f));
        for (double v : out.toDoubleArray()) assertEquals(-7.0, v);
        // uint8 images give float32 crops equal to cropping the widened image
        Tensor u = own(Tensor.fromDoubles(DType.UINT8, Shape.of(1, 6, 7, 3), own(Tensor.randomUniform(301, DType.FLOAT64, Shape.of(1, 6, 7, 3), 0, 255)).toDoubleArray()));
        Tensor zero = own(Tensor.of(new int[] {0, 0}, 2));
        Tensor b2 = own(Tensor.of(new float[] {0.1f, 0.1f, 0.7f, 0.9f, 0.2f, -0.1f, 0.4f, 0.3f}, 2, 4));
        Tensor yu = own(K.cropAndResize(u, b2, zero, 4, 5, 1f));
        assertEquals(DType.FLOAT32, yu.dtype());
        assertArrayEquals(own(K.cropAndResize(own(u.cast(DType.FLOAT32)), b2, zero, 4, 5, 1f)).toDoubleArray(), yu.toDoubleArray());
    }

    // ---- errors ----------------------------------------------------------------------------------

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void errors() {
        Tensor img = rand(400, DType.FLOAT32, 2, 4, 5, 3);
        Tensor rank3 = rand(401, DType.FLOAT32, 4, 5, 3);
        Tensor ints = own(Tensor.zeros(DType.INT32, Shape.of(1, 2, 2, 1)));
        assertMessage(() -> K.resizeBilinear(rank3, 2, 2, ResizeMode.LEGACY), "resizeBilinear", "[4, 5, 3]");
        assertMessage(() -> K.resizeBilinear(ints, 2, 2, ResizeMode.LEGACY), "resizeBilinear", "INT32");
        assertMessage(() -> K.resizeBilinear(img, 0, 2, ResizeMode.LEGACY), "resizeBilinear", "0x2");
        Tensor dy = rand(402, DType.FLOAT32, 2, 6, 6, 4);
        assertMessage(() -> K.resizeBilinearGrad(dy, img.shape(), ResizeMode.LEGACY), "resizeBilinearGrad", "[2, 6, 6, 4]", "[2, 4, 5, 3]");
        Tensor boxes = own(Tensor.of(new float[] {0, 0, 1, 1}, 1, 4));
        Tensor idx = own(Tensor.of(new int[] {2}, 1));
        assertMessage(() -> K.cropAndResize(img, boxes, idx, 3, 3, 0), "cropAndResize", "boxIndex[0] = 2", "[2, 4, 5, 3]");
        Tensor badBoxes = own(Tensor.of(new float[] {0, 0, 1}, 1, 3));
        assertMessage(() -> K.cropAndResize(img, badBoxes, idx, 3, 3, 0), "cropAndResize", "[1, 3]");
        Tensor idx2 = own(Tensor.of(new int[] {0, 0}, 2));
        assertMessage(() -> K.cropAndResize(img, boxes, idx2, 3, 3, 0), "cropAndResize", "[2]", "[1, 4]");
        assertMessage(() -> K.cropAndResize(img, boxes, own(Tensor.of(new int[] {0}, 1)), 0, 3, 0), "cropAndResize", "0x3");
    }
}
