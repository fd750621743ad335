package org.slim4j.io.preprocessing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

class ImageOpsTest {
    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    private static void assertValues(float[] expected, Tensor actual, double tol) {
        float[] v = actual.toFloatArray();
        assertEquals(expected.length, v.length, "element count");
        for (int i = 0; i < v.length; i++) assertEquals(expected[i], v[i], tol, "element " + i);
    }

    // ---- HSV colour ops, against hand-computed examples -------------------------------------------------

    @Test
    void saturationScalesHsvSaturation() {
        // (0.8, 0.4, 0.2): v 0.8, s 0.75, h 1/18. Half saturation: s 0.375 → min 0.5, mid 0.6.
        // Double saturation clamps s to 1: min 0, mid 0.8 · 1/3. Grey has no saturation to change.
        try (Tensor px = Tensor.of(new float[] {0.8f, 0.4f, 0.2f, 0.3f, 0.3f, 0.3f, 0f, 0f, 0f}, 1, 3, 3);
             Tensor half = ImageOps.adjustSaturation(px, 0.5f);
             Tensor twice = ImageOps.adjustSaturation(px, 2f);
             Tensor none = ImageOps.adjustSaturation(px, 0f)) {
            assertValues(new float[] {0.8f, 0.6f, 0.5f, 0.3f, 0.3f, 0.3f, 0f, 0f, 0f}, half, 1e-6);
            assertValues(new float[] {0.8f, 0.8f / 3, 0f, 0.3f, 0.3f, 0.3f, 0f, 0f, 0f}, twice, 1e-6);
            assertValues(new float[] {0.8f, 0.8f, 0.8f, 0.3f, 0.3f, 0.3f, 0f, 0f, 0f}, none, 1e-6);
        }
    }

    @Test
    void hsvRoundTrip() {
        float[] hsv = new float[3];
        float[] rgb = new float[3];
        ImageOps.rgbToHsv(0.8f, 0.4f, 0.2f, hsv);
        assertEquals(1f / 18, hsv[0], 1e-7);
        assertEquals(0.75f, hsv[1], 1e-7);
        assertEquals(0.8f, hsv[2], 0f);
        ImageOps.rgbToHsv(0.2f, 0.4f, 0.8f, hsv);
        assertEquals(-0.2 / 3.6 + 4.0 / 6, hsv[0], 1e-6);
        SeededRandom r = new SeededRandom(3);
        for (int i = 0; i < 1000; i++) {
            float a = r.nextFloat();
            float b = r.nextFloat();
            float c = r.nextFloat();
            ImageOps.rgbToHsv(a, b, c, hsv);
            assertTrue(hsv[0] >= 0 && hsv[0] < 1 && hsv[1] >= 0 && hsv[1] <= 1);
            ImageOps.hsvToRgb(hsv[0], hsv[1], hsv[2], rgb, 0);
            assertEquals(a, rgb[0], 1e-5);
            assertEquals(b, rgb[1], 1e-5);
            assertEquals(c, rgb[2], 1e-5);
        }
    }

    @Test
    void hueRotatesTheColourWheel() {
        try (Tensor red = Tensor.of(new float[] {1f, 0f, 0f}, 1, 1, 3);
             Tensor green = ImageOps.adjustHue(red, 1f / 3);
             Tensor magenta = ImageOps.adjustHue(red, -1f / 6);
             Tensor orange = Tensor.of(new float[] {0.8f, 0.4f, 0.2f, 0.5f, 0.5f, 0.5f}, 1, 2, 3);
             Tensor complement = ImageOps.adjustHue(orange, 0.5f);
             Tensor full = ImageOps.adjustHue(orange, 1f)) {
            assertValues(new float[] {0f, 1f, 0f}, green, 1e-6);
            assertValues(new float[] {1f, 0f, 1f}, magenta, 1e-6);
            // Half a turn: each channel becomes max + min − x; grey stays grey.
            assertValues(new float[] {0.2f, 0.6f, 0.8f, 0.5f, 0.5f, 0.5f}, complement, 1e-6);
            assertValues(new float[] {0.8f, 0.4f, 0.2f, 0.5f, 0.5f, 0.5f}, full, 1e-6);
        }
    }

    @Test
    void colourOpsRejectNonRgb() {
        try (Tensor gray = Tensor.zeros(DType.FLOAT32, Shape.of(2, 2, 1));
             Tensor bytes = Tensor.zeros(DType.UINT8, Shape.of(2, 2, 3))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageOps.adjustSaturation(gray, 1f));
            assertTrue(e.getMessage().startsWith("adjustSaturation") && e.getMessage().contains("[2, 2, 1]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ImageOps.adjustHue(gray, 0.1f));
            assertTrue(e.getMessage().startsWith("adjustHue"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ImageOps.adjustBrightness(bytes, 0.1f));
            assertTrue(e.getMessage().contains("uint8") && e.getMessage().contains("float32"), e.getMessage());
        }
    }

    // ---- brightness, contrast, standardisation, clipping -----------------------------------------------

    @Test
    void brightnessContrastStandardisation() {
        try (Tensor img = Tensor.of(new float[] {0f, 10f, 1f, 20f, 2f, 30f, 5f, 40f}, 2, 2, 2);
             Tensor bright = ImageOps.adjustBrightness(img, 0.5f);
             Tensor contrast = ImageOps.adjustContrast(img, 2f);
             Tensor two = Tensor.of(new float[] {1f, 3f}, 1, 2, 1);
             Tensor std = ImageOps.perImageStandardization(two);
             Tensor fives = Tensor.fill(5f, 2, 2, 1);
             Tensor constant = ImageOps.perImageStandardization(fives);
             Tensor clipped = ImageOps.clip(img, 1f, 20f)) {
            assertValues(new float[] {0.5f, 10.5f, 1.5f, 20.5f, 2.5f, 30.5f, 5.5f, 40.5f}, bright, 0);
            // Channel means 2 and 25: (x − mean)·2 + mean.
            assertValues(new float[] {-2f, -5f, 0f, 15f, 2f, 35f, 8f, 55f}, contrast, 1e-5);
            assertValues(new float[] {-1f, 1f}, std, 1e-6);
            // Zero stddev: divided by 1/sqrt(N) instead, so all zeros.
            assertValues(new float[] {0f, 0f, 0f, 0f}, constant, 0);
            assertValues(new float[] {1f, 10f, 1f, 20f, 2f, 20f, 5f, 20f}, clipped, 0);
        }
    }

    @Test
    void standardisationGivesZeroMeanUnitStd() {
        try (Tensor img = TestImages.randomUint8(4, 9, 7, 3);
             Tensor f = ImageOps.toFloat(img);
             Tensor s = ImageOps.perImageStandardization(f)) {
            double[] v = s.toDoubleArray();
            double mean = 0;
            for (double x : v) mean += x;
            mean /= v.length;
            double var = 0;
            for (double x : v) var += (x - mean) * (x - mean);
            assertEquals(0, mean, 1e-5);
            assertEquals(1, Math.sqrt(var / v.length), 1e-5);
        }
    }

    // ---- conversion and geometry -------------------------------------------------------------------

    @Test
    void conversions() {
        try (Tensor img = TestImages.uint8(new int[] {0, 1, 128, 255}, 2, 2, 1);
             Tensor unit = ImageOps.convertImageDtype(img);
             Tensor raw = ImageOps.toFloat(img)) {
            assertValues(new float[] {0f, 1 * (float) (1.0 / 255), 128 * (float) (1.0 / 255), 255 * (float) (1.0 / 255)}, unit, 0);
            assertValues(new float[] {0f, 1f, 128f, 255f}, raw, 0);
        }
    }

    @Test
    void centralCropWindowMatchesTf() {
        assertEquals(new ImageOps.CropWindow(3, 3, 44, 54), ImageOps.centralCropWindow(50, 60, 0.875));
        assertEquals(new ImageOps.CropWindow(2, 2, 6, 6), ImageOps.centralCropWindow(10, 10, 0.5));
        assertEquals(new ImageOps.CropWindow(0, 0, 7, 9), ImageOps.centralCropWindow(7, 9, 1.0));
        assertThrows(IllegalArgumentException.class, () -> ImageOps.centralCropWindow(7, 9, 0.0));
        assertThrows(IllegalArgumentException.class, () -> ImageOps.centralCropWindow(7, 9, 1.5));
    }

    @Test
    void cropPadFlip() {
        int[] px = new int[4 * 5];
        for (int i = 0; i < px.length; i++) px[i] = i;
        try (Tensor img = TestImages.uint8(px, 4, 5, 1);
             Tensor crop = ImageOps.crop(img, 1, 2, 2, 3);
             Tensor padded = ImageOps.padToBoundingBox(crop, 1, 0, 3, 4);
             Tensor flipped = ImageOps.flipLeftRight(crop);
             Tensor f = ImageOps.toFloat(crop);
             Tensor flippedF = ImageOps.flipLeftRight(f)) {
            assertEquals(DType.UINT8, crop.dtype());
            assertArrayEquals(new int[] {7, 8, 9, 12, 13, 14}, crop.toIntArray());
            assertArrayEquals(new int[] {0, 0, 0, 0, 7, 8, 9, 0, 12, 13, 14, 0}, padded.toIntArray());
            assertArrayEquals(new int[] {9, 8, 7, 14, 13, 12}, flipped.toIntArray());
            assertValues(new float[] {9, 8, 7, 14, 13, 12}, flippedF, 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageOps.crop(img, 3, 0, 2, 2));
            assertTrue(e.getMessage().contains("[4, 5, 1]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ImageOps.padToBoundingBox(img, 1, 0, 4, 5));
            assertTrue(e.getMessage().contains("4x5"), e.getMessage());
        }
    }

    @Test
    void resizeWithCropOrPadCentres() {
        // 5x3 → 3x5: rows cropped from offset 1, columns padded by 1 on each side.
        int[] px = new int[5 * 3];
        for (int i = 0; i < px.length; i++) px[i] = i + 1;
        try (Tensor img = TestImages.uint8(px, 5, 3, 1);
             Tensor out = ImageOps.resizeWithCropOrPad(img, 3, 5);
             Tensor odd = ImageOps.resizeWithCropOrPad(img, 2, 6)) {
            assertArrayEquals(new int[] {3, 5, 1}, out.dims());
            assertArrayEquals(new int[] {0, 4, 5, 6, 0, 0, 7, 8, 9, 0, 0, 10, 11, 12, 0}, out.toIntArray());
            // Odd differences: crop offset floor(3/2) = 1, pad offset floor(3/2) = 1 (the extra pad goes after).
            assertArrayEquals(new int[] {0, 4, 5, 6, 0, 0, 0, 7, 8, 9, 0, 0}, odd.toIntArray());
        }
    }

    // ---- resize methods, hand-computed ---------------------------------------------------------------

    @Test
    void resizeNearestAreaBicubicLegacy() {
        try (Tensor row4 = Tensor.of(new float[] {1f, 3f, 5f, 7f}, 1, 4, 1);
             Tensor row3 = Tensor.of(new float[] {3f, 6f, 9f}, 1, 3, 1);
             Tensor row2 = Tensor.of(new float[] {0f, 1f}, 1, 2, 1);
             Tensor nearest = ImageOps.resize(row4, 1, 2, ResizeMethod.NEAREST_NEIGHBOR);
             Tensor nearestUp = ImageOps.resize(row2, 1, 4, ResizeMethod.NEAREST_NEIGHBOR);
             Tensor area = ImageOps.resize(row4, 1, 2, ResizeMethod.AREA);
             Tensor area32 = ImageOps.resize(row3, 1, 2, ResizeMethod.AREA);
             Tensor cubic = ImageOps.resize(row2, 1, 4, ResizeMethod.BICUBIC);
             Tensor bilinear = ImageOps.resize(row2, 1, 4, ResizeMethod.BILINEAR)) {
            assertValues(new float[] {1f, 5f}, nearest, 0);
            assertValues(new float[] {0f, 0f, 1f, 1f}, nearestUp, 0);
            assertValues(new float[] {2f, 6f}, area, 1e-6);
            // scale 1.5: out0 = (3 + 6·0.5)/1.5, out1 = (6·0.5 + 9)/1.5.
            assertValues(new float[] {4f, 8f}, area32, 1e-5);
            // Keys cubic, a = −0.75: W(0.5) = 0.59375, W(1.5) = −0.09375; edge pixels repeated.
            assertValues(new float[] {0f, 0.5f, 1f, 1.09375f}, cubic, 1e-6);
            assertValues(new float[] {0f, 0.5f, 1f, 1f}, bilinear, 1e-6);
        }
    }

    @Test
    void resizeMethodsAreIdentityAtTheSameSize() {
        try (Tensor img = TestImages.randomUint8(8, 5, 6, 3);
             Tensor f = ImageOps.convertImageDtype(img)) {
            for (ResizeMethod m : ResizeMethod.values()) {
                try (Tensor out = ImageOps.resize(f, 5, 6, m)) {
                    assertValues(f.toFloatArray(), out, 1e-6);
                }
            }
        }
    }

    @Test
    void resizeRejectsBadSizes() {
        try (Tensor img = Tensor.zeros(DType.FLOAT32, Shape.of(2, 2, 3))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageOps.resize(img, 0, 3, ResizeMethod.AREA));
            assertTrue(e.getMessage().contains("0x3") && e.getMessage().contains("[2, 2, 3]"), e.getMessage());
        }
    }

    // ---- sample_distorted_bounding_box -----------------------------------------------------------------

    @Test
    void distortedBoxCoversTheObject() {
        // An object in the top-left corner: every accepted crop covers at least 30% of it.
        float[] box = {0f, 0f, 0.25f, 0.2f};
        int h = 80;
        int w = 100;
        int objMaxY = 20;
        int objMaxX = 20;
        SeededRandom rng = new SeededRandom(17);
        int whole = 0;
        for (int i = 0; i < 500; i++) {
            ImageOps.CropWindow c = ImageOps.sampleDistortedBoundingBox(h, w, box, 0.3f, new float[] {0.75f, 1.33f},
                    new float[] {0.05f, 1f}, 100, true, rng);
            int ix = Math.max(0, Math.min(c.offsetX() + c.width(), objMaxX) - c.offsetX());
            int iy = Math.max(0, Math.min(c.offsetY() + c.height(), objMaxY) - c.offsetY());
            assertTrue(ix * iy >= 0.3 * objMaxX * objMaxY, c + " covers " + ix * iy);
            if (c.area() == h * w) whole++;
        }
        assertTrue(whole < 500, "never found a crop");
    }

    @Test
    void distortedBoxFallsBackToTheWholeImage() {
        // Crops of at most 6% of the image can never cover 50% of it.
        SeededRandom rng = new SeededRandom(1);
        ImageOps.CropWindow c = ImageOps.sampleDistortedBoundingBox(40, 50, null, 0.5f, new float[] {0.75f, 1.33f},
                new float[] {0.05f, 0.06f}, 100, true, rng);
        assertEquals(new ImageOps.CropWindow(0, 0, 40, 50), c);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageOps.sampleDistortedBoundingBox(40, 50,
                new float[0], 0.1f, new float[] {0.75f, 1.33f}, new float[] {0.05f, 1f}, 100, false, rng));
        assertTrue(e.getMessage().contains("use_image_if_no_bounding_boxes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageOps.sampleDistortedBoundingBox(40, 50,
                null, 0.1f, new float[] {0.75f, 1.33f}, new float[] {0.05f, 1.5f}, 100, true, rng));
        assertTrue(e.getMessage().contains("area_range"), e.getMessage());
    }

    @Test
    void lrintfRoundsHalfToEven() {
        assertEquals(2, ImageOps.lrintf(2.5f));
        assertEquals(4, ImageOps.lrintf(3.5f));
        assertEquals(3, ImageOps.lrintf(2.51f));
    }
}
