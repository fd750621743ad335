package org.slim4j.io.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

class ImageEncoderTest {
    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    private static byte[] randomImage(Random r, int n, boolean smooth) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (smooth ? (i / 7) * 3 + r.nextInt(3) : r.nextInt(256));
        return b;
    }

    @Test
    void pngRoundTripsForEveryChannelCount() throws IOException {
        Random r = new Random(4);
        for (int c = 1; c <= 4; c++) {
            for (int[] hw : new int[][] {{28, 28}, {1, 1}, {5, 33}, {32, 32}}) {
                for (boolean smooth : new boolean[] {false, true}) {
                    byte[] px = randomImage(r, hw[0] * hw[1] * c, smooth);
                    try (Tensor img = Tensor.ofBytes(px, hw[0], hw[1], c)) {
                        byte[] png = ImageEncoder.png(img);
                        try (Tensor back = ImageDecoder.decode(png, 0, "png")) {
                            assertArrayEquals(img.dims(), back.dims());
                            assertArrayEquals(px, java.util.Arrays.copyOf(back.byteData(), px.length), c + " channels");
                        }
                        // The JDK's reader (independent of ours) sees the same pixels.
                        Raster ras = ImageIO.read(new ByteArrayInputStream(png)).getRaster();
                        assertEquals(c, ras.getNumBands());
                        for (int y = 0; y < hw[0]; y++) {
                            for (int x = 0; x < hw[1]; x++) {
                                for (int k = 0; k < c; k++) assertEquals(px[(y * hw[1] + x) * c + k] & 0xff, ras.getSample(x, y, k));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void pngFromRawBytesAndTwoDimensionalGray() {
        byte[] mnistLike = new byte[3 * 28 * 28];
        new Random(1).nextBytes(mnistLike);
        byte[] png = ImageEncoder.png(mnistLike, 28 * 28, 28, 28, 1); // the second image
        try (Tensor back = ImageDecoder.decode(png, 1, "mnist"); Tensor flat = Tensor.ofBytes(java.util.Arrays.copyOfRange(mnistLike, 784, 1568), 28, 28)) {
            assertArrayEquals(new int[] {28, 28, 1}, back.dims());
            assertArrayEquals(flat.byteData(), java.util.Arrays.copyOf(back.byteData(), 784));
            assertArrayEquals(png, ImageEncoder.png(flat), "[H, W] is gray");
        }
        // Smooth content compresses well (row filters at work).
        byte[] smooth = new byte[64 * 64 * 3];
        for (int i = 0; i < smooth.length; i++) smooth[i] = (byte) ((i / 3) % 64 + (i / 192));
        assertTrue(ImageEncoder.png(smooth, 0, 64, 64, 3).length < smooth.length / 4);
    }

    @Test
    void jpegEncodesRgbAndGray() {
        int h = 40, w = 52;
        byte[] px = new byte[h * w * 3];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = (byte) (40 + x * 2 + y + 30 * c);
        try (Tensor img = Tensor.ofBytes(px, h, w, 3); Tensor gray = Tensor.ofBytes(java.util.Arrays.copyOf(px, h * w), h, w, 1)) {
            byte[] jpg = ImageEncoder.jpeg(img, 95);
            assertEquals(ImageFormat.JPEG, ImageDecoder.format(jpg));
            try (Tensor back = ImageDecoder.decode(jpg, 0, "jpg")) {
                assertArrayEquals(img.dims(), back.dims());
                double se = 0;
                for (int i = 0; i < px.length; i++) se += Math.pow((px[i] & 0xff) - (back.byteData()[i] & 0xff), 2);
                assertTrue(Math.sqrt(se / px.length) < 3, "RMSE " + Math.sqrt(se / px.length));
            }
            try (Tensor back = ImageDecoder.decode(ImageEncoder.jpeg(gray, 100), 0, "gray")) {
                assertArrayEquals(new int[] {h, w, 1}, back.dims());
            }
        }
    }

    @Test
    void badArguments() {
        try (Tensor f = Tensor.zeros(DType.FLOAT32, Shape.of(4, 4, 3)); Tensor five = Tensor.zeros(DType.UINT8, Shape.of(4, 4, 5));
             Tensor rgba = Tensor.zeros(DType.UINT8, Shape.of(4, 4, 4))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageEncoder.png(f));
            assertTrue(e.getMessage().contains("uint8") && e.getMessage().contains("float32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ImageEncoder.png(five));
            assertTrue(e.getMessage().contains("[4, 4, 5]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ImageEncoder.jpeg(rgba, 90));
            assertTrue(e.getMessage().contains("jpeg"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ImageEncoder.png(new byte[10], 0, 2, 2, 3));
            assertThrows(IllegalArgumentException.class, () -> ImageEncoder.png(new byte[12], 0, 2, 2, 0));
        }
    }
}
