package org.slim4j.io.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;

/**
 * Damaged JPEG and PNG data (truncations, bit flips, overwritten runs, patched sizes) must decode
 * to a tensor of a sane size or fail with an {@link ImageDecodeException} naming the source;
 * never another exception, an OutOfMemoryError or a hang. Nothing may stay allocated.
 */
class ImageFuzzTest {
    @Test
    void damagedImagesDecodeOrFailClearly() {
        long liveBefore = CpuDevice.INSTANCE.liveBytes();
        assertTimeoutPreemptively(Duration.ofSeconds(90), () -> {
            List<byte[]> seeds = new ArrayList<>(ImageDecoderTest.goldenImages());
            Random r = new Random(77);
            for (int[] t : new int[][] {{3, 4}, {0, 16}, {6, 8}, {2, 8}}) {
                seeds.add(PngDecoderTest.random(r, t[0], t[1], 11, 9, t[0] == 3, t[0] != 6).encode());
            }
            int ok = 0, failed = 0;
            for (int it = 0; it < 3000; it++) {
                byte[] b = seeds.get(r.nextInt(seeds.size())).clone();
                switch (r.nextInt(5)) {
                    case 0 -> b = Arrays.copyOf(b, 1 + r.nextInt(b.length));
                    case 1 -> {
                        for (int k = 1 + r.nextInt(3); k > 0; k--) b[3 + r.nextInt(b.length - 3)] ^= (byte) (1 << r.nextInt(8));
                    }
                    case 2 -> {
                        int at = 3 + r.nextInt(b.length - 3), len = Math.min(b.length - at, 1 + r.nextInt(16));
                        for (int k = 0; k < len; k++) b[at + k] = (byte) r.nextInt(256);
                    }
                    case 3 -> { // the size fields of the header (PNG IHDR / early JPEG segments)
                        int at = 16 + r.nextInt(Math.min(200, b.length - 16));
                        b[at] = (byte) (r.nextBoolean() ? 0xff : r.nextInt(256));
                    }
                    default -> {
                        int at = 2 + r.nextInt(b.length - 2);
                        b[at] = (byte) 0xff;
                    }
                }
                int channels = new int[] {0, 1, 3}[r.nextInt(3)];
                String src = "fuzz " + it;
                try (Tensor t = ImageDecoder.decode(b, channels, src)) {
                    ok++;
                    assertEquals(3, t.rank());
                    assertTrue(t.numel() < (1 << 29), "size " + t.shape());
                } catch (ImageDecodeException e) {
                    failed++;
                    assertTrue(e.getMessage().startsWith(src + ": "), e.getMessage());
                } catch (Throwable e) {
                    throw new AssertionError(src + " (" + ImageFormat.sniff(b) + ", channels " + channels + "): unexpected " + e, e);
                }
            }
            assertTrue(ok > 100 && failed > 500, "decoded " + ok + ", rejected " + failed);
        });
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }
}
