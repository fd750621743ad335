package org.slim4j.io.preprocessing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

class CifarNetAndLeNetPreprocessingTest {
    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    /** (x − mean) / max(std, 1/√N), computed directly in double. */
    private static double[] standardised(double[] x) {
        double mean = Arrays.stream(x).average().orElseThrow();
        double var = Arrays.stream(x).map(v -> (v - mean) * (v - mean)).sum() / x.length;
        double s = Math.max(Math.sqrt(var), 1 / Math.sqrt(x.length));
        return Arrays.stream(x).map(v -> (v - mean) / s).toArray();
    }

    private static void assertValues(double[] expected, Tensor actual, double tol) {
        float[] v = actual.toFloatArray();
        assertEquals(expected.length, v.length);
        for (int i = 0; i < v.length; i++) assertEquals(expected[i], v[i], tol, "element " + i);
    }

    // ---- cifarnet ---------------------------------------------------------------------------------------

    @Test
    void cifarnetEvalPadsAndStandardises() {
        // 2x2 → 4x4: the image sits at (1, 1) in zeros.
        try (Tensor img = TestImages.uint8(new int[] {0, 10, 20, 30}, 2, 2, 1);
             Tensor out = PreprocessingFactory.get("cifarnet", false).preprocess(img, 4, 4, null)) {
            assertArrayEquals(new int[] {4, 4, 1}, out.dims());
            double[] raw = new double[16];
            raw[5] = 0;
            raw[6] = 10;
            raw[9] = 20;
            raw[10] = 30;
            assertValues(standardised(raw), out, 1e-5);
        }
    }

    @Test
    void cifarnetEvalCropsCentrally() {
        try (Tensor img = TestImages.randomUint8(3, 32, 32, 3);
             Tensor out = CifarNetPreprocessing.preprocessForEval(img, 28, 28)) {
            assertArrayEquals(new int[] {28, 28, 3}, out.dims());
            double[] all = img.toDoubleArray();
            double[] raw = new double[28 * 28 * 3];
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    for (int c = 0; c < 3; c++) raw[(y * 28 + x) * 3 + c] = all[((y + 2) * 32 + x + 2) * 3 + c];
                }
            }
            assertValues(standardised(raw), out, 1e-5);
        }
    }

    @Test
    void cifarnetEvalSwapsHeightAndWidthLikeTfSlim() {
        // resize_image_with_crop_or_pad(image, output_width, output_height).
        try (Tensor img = TestImages.randomUint8(4, 6, 6, 3);
             Tensor out = CifarNetPreprocessing.preprocessForEval(img, 4, 2)) {
            assertArrayEquals(new int[] {2, 4, 3}, out.dims());
        }
    }

    @Test
    void cifarnetTrainStatistics() {
        ImagePreprocessor p = PreprocessingFactory.get("cifarnet", true);
        SeededRandom rng = new SeededRandom(8);
        try (Tensor img = TestImages.randomUint8(5, 32, 32, 3)) {
            for (int i = 0; i < 50; i++) {
                try (Tensor out = p.preprocess(img, 32, 32, rng)) {
                    assertArrayEquals(new int[] {32, 32, 3}, out.dims());
                    double[] v = out.toDoubleArray();
                    double mean = Arrays.stream(v).average().orElseThrow();
                    double var = Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / v.length;
                    assertEquals(0, mean, 1e-4);
                    assertEquals(1, Math.sqrt(var), 1e-4);
                    assertTrue(Arrays.stream(v).allMatch(Double::isFinite));
                }
            }
            try (Tensor a = p.preprocess(img, 32, 32, new SeededRandom(1));
                 Tensor b = p.preprocess(img, 32, 32, new SeededRandom(1));
                 Tensor c = p.preprocess(img, 32, 32, new SeededRandom(2))) {
                assertArrayEquals(a.toFloatArray(), b.toFloatArray());
                assertFalse(Arrays.equals(a.toFloatArray(), c.toFloatArray()));
            }
        }
    }

    @Test
    void cifarnetTrainCropsFromThePaddedImage() {
        // A constant image: a crop that includes padding has two values, the crop at (4, 4) one.
        int[] px = new int[32 * 32 * 3];
        Arrays.fill(px, 200);
        SeededRandom rng = new SeededRandom(12);
        int withPadding = 0;
        int draws = 200;
        Set<Integer> paddedRows = new HashSet<>();
        try (Tensor img = TestImages.uint8(px, 32, 32, 3)) {
            for (int i = 0; i < draws; i++) {
                try (Tensor out = CifarNetPreprocessing.preprocessForTrain(img, 32, 32, 4, rng)) {
                    float[] v = out.toFloatArray();
                    Set<Float> distinct = new HashSet<>();
                    for (float x : v) distinct.add(x);
                    assertTrue(distinct.size() <= 2, "values " + distinct);
                    if (distinct.size() == 2) {
                        withPadding++;
                        // Count the zero-padded rows at the top (their value is the minimum).
                        float min = Float.MAX_VALUE;
                        for (float x : v) min = Math.min(min, x);
                        int rows = 0;
                        while (rows < 32 && v[(rows * 32 + 16) * 3] == min) rows++;
                        paddedRows.add(rows);
                    }
                }
            }
        }
        // Offsets are uniform in [0, 8]², so only 1 in 81 crops avoids the padding.
        assertTrue(withPadding > draws * 0.9, withPadding + " of " + draws);
        // Row offsets 0..4 leave 4..0 padded rows on top (5 cases); all of them occur.
        assertTrue(paddedRows.containsAll(Set.of(0, 1, 2, 3, 4)), "padded rows seen " + paddedRows);
    }

    @Test
    void cifarnetFlipsAboutHalfTheTime() {
        // A horizontal ramp; brightness, contrast (factor > 0) and standardisation keep the order of
        // values, and crop columns 8 and 24 always come from the image (padding is at most 4).
        int[] px = new int[32 * 32 * 3];
        for (int i = 0; i < px.length; i++) px[i] = 40 + ((i / 3) % 32) * 6;
        SeededRandom rng = new SeededRandom(30);
        int flips = 0;
        int draws = 300;
        try (Tensor img = TestImages.uint8(px, 32, 32, 3)) {
            for (int i = 0; i < draws; i++) {
                try (Tensor out = CifarNetPreprocessing.preprocessForTrain(img, 32, 32, 4, rng)) {
                    float[] v = out.toFloatArray();
                    float a = v[(16 * 32 + 8) * 3];
                    float b = v[(16 * 32 + 24) * 3];
                    assertTrue(a != b);
                    if (a > b) flips++;
                }
            }
        }
        assertTrue(flips > 115 && flips < 185, "flipped " + flips + " of " + draws);
    }

    @Test
    void cifarnetHandlesGrayscale() {
        try (Tensor img = TestImages.randomUint8(6, 28, 28, 1);
             Tensor train = new CifarNetPreprocessing(true).preprocess(img, 28, 28, new SeededRandom(3));
             Tensor eval = new CifarNetPreprocessing(false).preprocess(img, 28, 28, null)) {
            assertArrayEquals(new int[] {28, 28, 1}, train.dims());
            assertValues(standardised(img.toDoubleArray()), eval, 1e-5);
        }
    }

    @Test
    void cifarnetRejectsCropsLargerThanThePaddedImage() {
        try (Tensor img = TestImages.randomUint8(6, 8, 8, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CifarNetPreprocessing.preprocessForTrain(img, 17, 16, 4, new SeededRandom(1)));
            assertTrue(e.getMessage().contains("17x16") && e.getMessage().contains("[16, 16, 3]") && e.getMessage().contains("[8, 8, 3]"),
                    e.getMessage());
        }
    }

    // ---- lenet -----------------------------------------------------------------------------------------

    @Test
    void lenetScalesAndPads() {
        int[] px = {0, 64, 128, 192, 255, 32};
        try (Tensor img = TestImages.uint8(px, 2, 3, 1);
             Tensor same = LeNetPreprocessing.preprocessImage(img, 3, 2);
             Tensor padded = PreprocessingFactory.get("lenet", true).preprocess(img, 4, 4, new SeededRandom(1));
             Tensor evalPadded = PreprocessingFactory.get("lenet", false).preprocess(img, 4, 4, null)) {
            // (out_height 3, out_width 2) → target height 2, width 3: the image itself.
            assertArrayEquals(new int[] {2, 3, 1}, same.dims());
            assertValues(new double[] {-1, -0.5, 0, 0.5, 127 / 128.0, -0.75}, same, 1e-7);
            // 2x3 → 4x4: rows padded 1 above, columns 0 before; zeros become −1.
            double[] expected = new double[16];
            Arrays.fill(expected, -1);
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 3; x++) expected[(y + 1) * 4 + x] = (px[y * 3 + x] - 128) / 128.0;
            }
            assertValues(expected, padded, 1e-7);
            assertArrayEquals(padded.toFloatArray(), evalPadded.toFloatArray());
        }
    }

    @Test
    void lenetOnMnistSizedImages() {
        try (Tensor img = TestImages.randomUint8(7, 28, 28, 1);
             Tensor out = new LeNetPreprocessing(false).preprocess(img, 28, 28, null)) {
            double[] in = img.toDoubleArray();
            double[] expected = Arrays.stream(in).map(v -> (v - 128) / 128).toArray();
            assertValues(expected, out, 1e-7);
        }
    }
}
