package org.slim4j.io.preprocessing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

class InceptionPreprocessingTest {
    private static final String CASE = "inception_preprocess_eval";

    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    /** The golden input: uint8 stored as int64 in the .npy. */
    private static Tensor goldenImage() {
        try (Tensor stored = GoldenData.opTensor(CASE, "in_image.npy")) {
            assertEquals(DType.INT64, stored.dtype());
            return stored.cast(DType.UINT8);
        }
    }

    private static double maxErr(Tensor expected, Tensor actual) {
        return Close.maxAbsDiff(expected.toDoubleArray(), actual.toDoubleArray());
    }

    // ---- eval against TensorFlow ----------------------------------------------------------------------

    @Test
    void evalMatchesTensorFlowAtEveryStep() {
        try (Tensor image = goldenImage();
             InceptionPreprocessing.EvalSteps steps = InceptionPreprocessing.evalSteps(image, 29, 29, 0.875)) {
            String[] names = {"converted", "cropped", "resized", "output"};
            Tensor[] mine = {steps.converted(), steps.cropped(), steps.resized(), steps.output()};
            for (int i = 0; i < names.length; i++) {
                try (Tensor expected = GoldenData.opTensor(CASE, "out_" + names[i] + ".npy")) {
                    assertEquals(DType.FLOAT32, mine[i].dtype(), names[i]);
                    Close.assertClose(expected, mine[i], 1e-5, CASE + "/" + names[i]);
                    System.out.printf("%s/%s max abs error %.3e%n", CASE, names[i], maxErr(expected, mine[i]));
                }
            }
            // The fused path (crop before converting) gives the same output.
            try (Tensor fused = InceptionPreprocessing.preprocessForEval(image, 29, 29, 0.875);
                 Tensor viaFactory = PreprocessingFactory.get("inception_v3", false).preprocess(image, 29, 29, null);
                 Tensor expected = GoldenData.opTensor(CASE, "out_output.npy")) {
                Close.assertClose(expected, fused, 1e-5, CASE + "/output (fused)");
                assertArrayEquals(fused.toFloatArray(), viaFactory.toFloatArray());
            }
        }
    }

    @Test
    void goldenComparisonCanFail() {
        // A wrong crop fraction or resize must be caught by the same check.
        try (Tensor image = goldenImage();
             Tensor wrong = InceptionPreprocessing.preprocessForEval(image, 29, 29, 0.8);
             Tensor expected = GoldenData.opTensor(CASE, "out_output.npy")) {
            assertTrue(maxErr(expected, wrong) > 1e-2, "a 0.8 central crop should not match TF's 0.875 output");
        }
    }

    @Test
    void evalWithoutCropOrResize() {
        try (Tensor image = TestImages.uint8(new int[] {0, 51, 102, 153, 204, 255}, 1, 2, 3);
             Tensor out = new InceptionPreprocessing(false, true, true, 0.0).preprocess(image, 0, 0, null)) {
            // No crop, no resize: (x/255 − 0.5)·2.
            assertArrayEquals(new int[] {1, 2, 3}, out.dims());
            float[] v = out.toFloatArray();
            float[] expected = {-1f, -0.6f, -0.2f, 0.2f, 0.6f, 1f};
            for (int i = 0; i < v.length; i++) assertEquals(expected[i], v[i], 1e-6, "element " + i);
        }
    }

    // ---- training: bounds, statistics, determinism ---------------------------------------------------

    @Test
    void trainOutputsAreInRangeAndShaped() {
        ImagePreprocessor p = PreprocessingFactory.get("inception", true);
        assertTrue(p.isTraining());
        SeededRandom rng = new SeededRandom(7);
        double lo = 0;
        double hi = 0;
        try (Tensor image = TestImages.randomUint8(1, 37, 53, 3)) {
            for (int i = 0; i < 60; i++) {
                try (Tensor out = p.preprocess(image, 19, 23, rng)) {
                    assertEquals(DType.FLOAT32, out.dtype());
                    assertArrayEquals(new int[] {19, 23, 3}, out.dims());
                    float[] v = out.toFloatArray();
                    assertTrue(TestImages.min(v) >= -1f && TestImages.max(v) <= 1f, "outside [-1, 1]");
                    lo = Math.min(lo, TestImages.min(v));
                    hi = Math.max(hi, TestImages.max(v));
                }
            }
        }
        // Clipping to [0, 1] before scaling means the extremes are reached on a random image.
        assertEquals(-1.0, lo, 1e-6);
        assertEquals(1.0, hi, 1e-6);
    }

    @Test
    void fullModeUsesAllResizeMethodsAndOrderingsWithinBounds() {
        SeededRandom rng = new SeededRandom(11);
        try (Tensor image = TestImages.randomUint8(2, 30, 41, 3)) {
            for (int i = 0; i < 40; i++) {
                try (Tensor out = InceptionPreprocessing.preprocessForTrain(image, 17, 13, null, false, true, rng)) {
                    assertArrayEquals(new int[] {17, 13, 3}, out.dims());
                    float[] v = out.toFloatArray();
                    assertTrue(TestImages.min(v) >= -1f && TestImages.max(v) <= 1f, "outside [-1, 1]");
                }
            }
        }
    }

    @Test
    void trainIsDeterministicForASeed() {
        ImagePreprocessor p = new InceptionPreprocessing(true);
        try (Tensor image = TestImages.randomUint8(3, 40, 48, 3);
             Tensor a = p.preprocess(image, 24, 24, new SeededRandom(99));
             Tensor b = p.preprocess(image, 24, 24, new SeededRandom(99));
             Tensor c = p.preprocess(image, 24, 24, new SeededRandom(100))) {
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
            assertFalse(Arrays.equals(a.toFloatArray(), c.toFloatArray()), "different seeds gave the same image");
        }
    }

    @Test
    void workersWithTheirOwnRngsMatchASequentialRun() throws Exception {
        ImagePreprocessor p = PreprocessingFactory.get("mobilenet_v1", true);
        int n = 24;
        try (Tensor image = TestImages.randomUint8(4, 33, 45, 3)) {
            List<float[]> sequential = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                try (Tensor out = p.preprocess(image, 16, 16, new SeededRandom(1000 + i))) {
                    sequential.add(out.toFloatArray());
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> futures = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    long seed = 1000 + i;
                    futures.add(pool.submit(() -> {
                        try (Tensor out = p.preprocess(image, 16, 16, new SeededRandom(seed))) {
                            return out.toFloatArray();
                        }
                    }));
                }
                for (int i = 0; i < n; i++) assertArrayEquals(sequential.get(i), futures.get(i).get(), "image " + i);
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void flipsAboutHalfTheTime() {
        // A grey image, dark on the left and bright on the right: brightness shifts both halves alike
        // and saturation leaves grey alone, so only a flip puts the bright half on the left.
        int h = 8;
        int w = 10;
        int[] px = new int[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = x < w / 2 ? 51 : 204;
            }
        }
        int flips = 0;
        int draws = 400;
        SeededRandom rng = new SeededRandom(5);
        try (Tensor image = TestImages.uint8(px, h, w, 3)) {
            for (int i = 0; i < draws; i++) {
                try (Tensor out = InceptionPreprocessing.preprocessForTrain(image, h, w, null, true, false, rng)) {
                    float[] v = out.toFloatArray();
                    float left = v[0];
                    float right = v[(w - 1) * 3];
                    assertTrue(left != right);
                    if (left > right) flips++;
                }
            }
        }
        assertTrue(flips > 160 && flips < 240, "flipped " + flips + " of " + draws);
    }

    @Test
    void distortedCropsFollowTfConstraints() {
        int h = 120;
        int w = 160;
        SeededRandom rng = new SeededRandom(21);
        int n = 3000;
        double sumFraction = 0;
        int small = 0;
        int large = 0;
        for (int i = 0; i < n; i++) {
            ImageOps.CropWindow c = InceptionPreprocessing.distortedBoundingBox(h, w, null, rng);
            assertTrue(c.offsetY() >= 0 && c.offsetX() >= 0 && c.offsetY() + c.height() <= h && c.offsetX() + c.width() <= w, c.toString());
            double fraction = (double) c.area() / (h * w);
            // Whole-image box with min_object_covered 0.1: the crop must cover >= 10% of the image.
            assertTrue(fraction >= 0.1 - 1e-9 && fraction <= 1.0, "area fraction " + fraction);
            double ratio = (double) c.width() / c.height();
            // width = round(height * ratio), ratio in [0.75, 1.33].
            assertTrue(ratio >= 0.75 - 0.5 / c.height() - 1e-9 && ratio <= 1.33 + 0.5 / c.height() + 1e-9, "aspect " + ratio + " of " + c);
            sumFraction += fraction;
            if (fraction < 0.2) small++;
            if (fraction > 0.8) large++;
        }
        double mean = sumFraction / n;
        // Heights are uniform between the area bounds, so areas spread over the whole range.
        assertTrue(mean > 0.3 && mean < 0.7, "mean area fraction " + mean);
        assertTrue(small > n / 50 && large > n / 50, "small " + small + ", large " + large);
    }

    @Test
    void trainAcceptsObjectBoxes() {
        ImagePreprocessor p = PreprocessingFactory.get("inception_v4", true);
        float[] boxes = {0.1f, 0.2f, 0.6f, 0.7f, 0f, 0f, 1f, 0.5f};
        try (Tensor image = TestImages.randomUint8(12, 50, 40, 3);
             Tensor a = p.preprocess(image, 20, 20, new SeededRandom(4), boxes);
             Tensor b = p.preprocess(image, 20, 20, new SeededRandom(4), boxes)) {
            assertArrayEquals(new int[] {20, 20, 3}, a.dims());
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        }
    }

    @Test
    void trainRejectsBadInput() {
        ImagePreprocessor p = new InceptionPreprocessing(true);
        try (Tensor gray = TestImages.randomUint8(1, 8, 8, 1);
             Tensor ok = TestImages.randomUint8(1, 8, 8, 3);
             Tensor flat = Tensor.zeros(DType.UINT8, org.slim4j.tensor.Shape.of(8, 24));
             Tensor ints = Tensor.zeros(DType.INT32, org.slim4j.tensor.Shape.of(8, 8, 3))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.preprocess(gray, 4, 4, new SeededRandom(1)));
            assertTrue(e.getMessage().contains("3 (RGB) channels") && e.getMessage().contains("[8, 8, 1]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.preprocess(flat, 4, 4, new SeededRandom(1)));
            assertTrue(e.getMessage().contains("[height, width, channels]") && e.getMessage().contains("[8, 24]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.preprocess(ints, 4, 4, new SeededRandom(1)));
            assertTrue(e.getMessage().contains("int32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.preprocess(ok, 4, 4, null));
            assertTrue(e.getMessage().contains("SeededRandom"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.preprocess(ok, 4, 4, new SeededRandom(1), new float[] {0f, 0f, 1.5f, 1f}));
            assertTrue(e.getMessage().contains("[0.0, 1.0]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.preprocess(ok, 0, 4, new SeededRandom(1)));
            assertTrue(e.getMessage().contains("0x4"), e.getMessage());
        }
    }

    @Test
    void distortColorKeepsRangeForEveryOrdering() {
        try (Tensor image = TestImages.randomUint8(9, 6, 7, 3);
             Tensor f = ImageOps.convertImageDtype(image)) {
            for (int ordering = 0; ordering < 4; ordering++) {
                for (boolean fast : new boolean[] {true, false}) {
                    try (Tensor out = InceptionPreprocessing.distortColor(f, ordering, fast, new SeededRandom(ordering))) {
                        float[] v = out.toFloatArray();
                        assertTrue(TestImages.min(v) >= 0f && TestImages.max(v) <= 1f);
                        assertFalse(Arrays.equals(v, f.toFloatArray()), "ordering " + ordering + " changed nothing");
                    }
                }
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> InceptionPreprocessing.distortColor(f, 4, false, new SeededRandom(1)));
            assertTrue(e.getMessage().contains("color_ordering"), e.getMessage());
        }
    }
}
