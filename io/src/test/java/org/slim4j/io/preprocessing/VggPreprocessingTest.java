package org.slim4j.io.preprocessing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

class VggPreprocessingTest {
    private static final float[] MEANS = {123.68f, 116.78f, 103.94f};

    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    @Test
    void smallestSizeRoundsHalfToEven() {
        assertArrayEquals(new int[] {3, 8}, VggPreprocessing.smallestSizeAtLeast(4, 10, 3)); // 7.5 → 8
        assertArrayEquals(new int[] {3, 4}, VggPreprocessing.smallestSizeAtLeast(4, 6, 3)); // 4.5 → 4
        assertArrayEquals(new int[] {384, 256}, VggPreprocessing.smallestSizeAtLeast(300, 200, 256));
        assertArrayEquals(new int[] {256, 341}, VggPreprocessing.smallestSizeAtLeast(375, 500, 256)); // 341.33
        assertArrayEquals(new int[] {256, 256}, VggPreprocessing.smallestSizeAtLeast(7, 7, 256));
    }

    @Test
    void evalCentralCropAndMeanSubtraction() {
        // Side 4 on a 4x6 image: no resize; central 2x2 crop at (1, 2).
        int h = 4;
        int w = 6;
        int[] px = new int[h * w * 3];
        for (int i = 0; i < px.length; i++) px[i] = (i * 7) % 256;
        try (Tensor img = TestImages.uint8(px, h, w, 3);
             Tensor out = VggPreprocessing.preprocessForEval(img, 2, 2, 4)) {
            assertArrayEquals(new int[] {2, 2, 3}, out.dims());
            float[] v = out.toFloatArray();
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 2; x++) {
                    for (int c = 0; c < 3; c++) {
                        float expected = px[((1 + y) * w + 2 + x) * 3 + c] - MEANS[c];
                        assertEquals(expected, v[(y * 2 + x) * 3 + c], 1e-4, "(" + y + ", " + x + ", " + c + ")");
                    }
                }
            }
        }
    }

    @Test
    void evalUpscalesWithLegacyBilinear() {
        // 1x2 → side 2 → 2x4: columns p0, (p0+p1)/2, p1, p1; central 2x2 crop keeps columns 1 and 2.
        try (Tensor img = TestImages.uint8(new int[] {10, 20, 30, 50, 60, 70}, 1, 2, 3);
             Tensor out = VggPreprocessing.preprocessForEval(img, 2, 2, 2)) {
            float[] avg = {30, 40, 50};
            float[] p1 = {50, 60, 70};
            float[] expected = new float[12];
            for (int y = 0; y < 2; y++) {
                for (int c = 0; c < 3; c++) {
                    expected[(y * 2) * 3 + c] = avg[c] - MEANS[c];
                    expected[(y * 2 + 1) * 3 + c] = p1[c] - MEANS[c];
                }
            }
            float[] v = out.toFloatArray();
            for (int i = 0; i < v.length; i++) assertEquals(expected[i], v[i], 1e-4, "element " + i);
        }
    }

    @Test
    void evalWithTfSlimDefaults() {
        // A constant image stays constant through the resize to 256 and the 224 crop.
        int[] px = new int[3 * 5 * 3];
        for (int i = 0; i < px.length; i += 3) {
            px[i] = 200;
            px[i + 1] = 100;
            px[i + 2] = 50;
        }
        try (Tensor img = TestImages.uint8(px, 3, 5, 3);
             Tensor out = PreprocessingFactory.get("vgg_16", false).preprocess(img, 224, 224, null)) {
            assertArrayEquals(new int[] {224, 224, 3}, out.dims());
            float[] v = out.toFloatArray();
            for (int i = 0; i < v.length; i++) assertEquals(new float[] {200, 100, 50}[i % 3] - MEANS[i % 3], v[i], 1e-4);
        }
    }

    @Test
    void trainBoundsFlipsAndDeterminism() {
        // A horizontal ramp: the crop increases left to right unless flipped.
        int h = 16;
        int w = 16;
        int[] px = new int[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = x * 17;
            }
        }
        SeededRandom rng = new SeededRandom(3);
        int flips = 0;
        int draws = 300;
        try (Tensor img = TestImages.uint8(px, h, w, 3)) {
            for (int i = 0; i < draws; i++) {
                try (Tensor out = VggPreprocessing.preprocessForTrain(img, 8, 8, 10, 20, rng)) {
                    assertArrayEquals(new int[] {8, 8, 3}, out.dims());
                    float[] v = out.toFloatArray();
                    for (int j = 0; j < v.length; j++) {
                        float raw = v[j] + MEANS[j % 3];
                        assertTrue(raw >= -1e-3 && raw <= 255 + 1e-3, "pixel " + raw);
                    }
                    float left = v[0] + MEANS[0];
                    float right = v[7 * 3] + MEANS[0];
                    assertTrue(left != right);
                    if (left > right) flips++;
                }
            }
            assertTrue(flips > 115 && flips < 185, "flipped " + flips + " of " + draws);
            ImagePreprocessor p = new VggPreprocessing(true);
            try (Tensor a = p.preprocess(img, 224, 224, new SeededRandom(5));
                 Tensor b = p.preprocess(img, 224, 224, new SeededRandom(5));
                 Tensor c = p.preprocess(img, 224, 224, new SeededRandom(6))) {
                assertArrayEquals(new int[] {224, 224, 3}, a.dims());
                assertArrayEquals(a.toFloatArray(), b.toFloatArray());
                assertFalse(Arrays.equals(a.toFloatArray(), c.toFloatArray()));
            }
        }
    }

    @Test
    void rejectsBadInput() {
        try (Tensor gray = TestImages.randomUint8(1, 10, 10, 1);
             Tensor rgb = TestImages.randomUint8(1, 10, 10, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VggPreprocessing.preprocessForEval(gray, 4, 4, 8));
            assertTrue(e.getMessage().contains("3 (RGB) channels") && e.getMessage().contains("[10, 10, 1]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> VggPreprocessing.preprocessForEval(rgb, 9, 9, 8));
            assertTrue(e.getMessage().contains("9x9") && e.getMessage().contains("[8, 8, 3]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> VggPreprocessing.preprocessForTrain(rgb, 4, 4, 8, 16, null));
            assertTrue(e.getMessage().contains("SeededRandom"), e.getMessage());
            try (Tensor ok = VggPreprocessing.preprocessForEval(rgb, 4, 4, 8)) {
                assertEquals(DType.FLOAT32, ok.dtype());
            }
        }
    }
}
