package org.slim4j.io.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;

/**
 * Every PNG color type and bit depth, interlaced or not, with palettes and tRNS chunks, every row
 * filter, decoded to every channel count and compared with TensorFlow's DecodePng rules applied to
 * the samples the file was made from. The test files themselves are checked against the JDK's
 * PNG reader (an independent decoder) where it reports raw samples.
 */
class PngDecoderTest {
    private static final int[][] TYPES = { // color type, bit depth
        {0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1}, {3, 2}, {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16}};

    private static final String GAMMA_0 = "nMeeRL7RV5Gv6zuFu0yva9mggNl3Tk27tTvA6Ym6QHiHhLnQZ11wtL44gsBqtKLAI6FqkMCVbZOySGJIBKKSm2Ci93WshGZsbW9KK3hfiidrvmV/kg==";
    private static final String GAMMA_1 = "dOrIl0A4yHqm6aZcNaWwLsvOl7mku0JufnWuK92Wuo6CSuS2nUSwWqY1l1dUhHJzj6JSTsiujMuxnK2YxXrPOLF6rYGylDNMVcnlTLqWhsAEg1yQkw==";
    private static final String GAMMA_2 = "h79AecyHm4NcTKGnU6SYYImgqJnPHe4Mpwe0rZUux52vQZJ6t5JU7WM8RZEZwZ0YHOf0i6GLb+P83rGVioJvqkyCu5N9znunfqmnm9/zfMiI7GO4/A==";
    private static final String GAMMA_3 = "uImvu7zBVJ+n8MVWCpPiV3W6PRFSiZV3O3Y6oKacZ6ObgTmeWa6ZVY+TloePwc4/xotOjnSyuegnaVfePVGO87rb136Bn3atAI6TgZRxp9HCK4t9cw==";
    private static final String GAMMA_4 = "AADPAGnGAACPkAAAvniQAJAAkLoAfQAAAAAAlmkAKwCQAAAAAJAAkwCQkAAApXSWAKUAkAAyAHQAAJQAAFWPAJAAXYAAAFUAAAAArAB1AO0AAAAAAA==";
    private static final String GAMMA_5 = "fnT/do2gcdKfsc6SXrTek5aSO2teIqVZ5EY9VH5cTP+IlYh/+dsWLJk30MWjFZxbUDtjkjZJXmrSmHKgZG1y1ePXRbo4VSKNfmJnpISP2dPUY5vP0w==";
    private static final String GAMMA_6 = "a2NflCtKpLPZ0luKnk6aI8IBtuZqTTF5xbiqhZTI8Nv4xaWUXRE/tnsXtj6scU2HdYuND75qO8cdQEUhnH98pYyEfpfutk6KT18sX2Q0MkSKLEFkvA==";
    private static final String GAMMA_7 = "We31eKXLeL5TRX1X4jQVFbxN0q/Aq2tqpsqYb3W7McSFpWtkbK+GYUG70qbOqU2ebxpElq3aULUUkOrUuQeYs2/gKXHh6FWDdI6ZSKSkW4+UZqh6ew==";
    private static final String GAMMA_8 = "VZFyipBSBXqrWqeJmdyyf41ffWD8dHPNinbpVdFwE1JyzNvJk2fHfa2gFciMrX2DYMBGD29ftmZfVFx/Z0JXV7NgTCeawi7K4PN8kZ1p0eCmlMiKAA==";
    private static final String GAMMA_9 = "2sBISoxKl6qVhe6cNaXVNqhwXNeO/1GwwMPOldWVv4KFTrIp6k7FilcLsbaa0dRpvN5CZUxjC5dGODKRh2cZCpW+nGDAjcmtJ1ncQnnHuKduMpGQdw==";

    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    static TestPng random(Random r, int colorType, int bitDepth, int w, int h, boolean interlace, boolean withTrns) {
        TestPng p = new TestPng();
        p.width = w;
        p.height = h;
        p.colorType = colorType;
        p.bitDepth = bitDepth;
        p.interlace = interlace;
        int ch = TestPng.fileChannels(colorType);
        int maxV = (1 << bitDepth) - 1;
        p.samples = new int[w * h * ch];
        // Mostly random, with some gray (r = g = b) pixels and repeats so tRNS matches occur.
        for (int i = 0; i < w * h; i++) {
            boolean grayish = r.nextInt(4) == 0;
            int v0 = r.nextInt(maxV + 1);
            for (int c = 0; c < ch; c++) {
                p.samples[i * ch + c] = grayish && c < 3 ? v0 : r.nextInt(maxV + 1);
            }
        }
        if (colorType == 3) {
            int n = 1 + r.nextInt(maxV + 1); // indices >= n read as black
            p.palette = new int[3 * n];
            for (int i = 0; i < p.palette.length; i++) p.palette[i] = r.nextInt(256);
            if (withTrns) {
                p.trns = new int[1 + r.nextInt(n)];
                for (int i = 0; i < p.trns.length; i++) p.trns[i] = r.nextInt(256);
            }
        } else if (withTrns && (colorType == 0 || colorType == 2)) {
            int pick = r.nextInt(w * h) * ch;
            p.trns = Arrays.copyOfRange(p.samples, pick, pick + ch);
        }
        return p;
    }

    @Test
    void everyColorTypeDepthInterlaceAndChannelCountMatchesTensorFlowsRules() throws IOException {
        Random r = new Random(5);
        int cases = 0;
        for (int[] t : TYPES) {
            for (boolean interlace : new boolean[] {false, true}) {
                for (boolean trns : new boolean[] {false, true}) {
                    if (trns && (t[0] == 4 || t[0] == 6)) continue;
                    for (int[] size : new int[][] {{13, 7}, {1, 1}, {3, 10}, {9, 2}}) {
                        TestPng p = random(r, t[0], t[1], size[0], size[1], interlace, trns);
                        byte[] png = p.encode();
                        checkAgainstImageIo(p, png);
                        for (int channels : new int[] {0, 1, 3, 4}) {
                            String what = "type " + t[0] + " depth " + t[1] + (interlace ? " interlaced" : "") + (trns ? " tRNS" : "")
                                    + " " + size[0] + "x" + size[1] + " channels " + channels;
                            int[] want = p.expected(channels);
                            try (Tensor got = ImageDecoder.decode(png, channels, what)) {
                                int c = want.length / (size[0] * size[1]);
                                assertArrayEquals(new int[] {size[1], size[0], c}, got.dims(), what);
                                int[] g = new int[want.length];
                                for (int i = 0; i < g.length; i++) g[i] = got.byteData()[got.offset() + i] & 0xff;
                                assertArrayEquals(want, g, what);
                            }
                            cases++;
                        }
                        ImageInfo info = ImageDecoder.info(png, "x");
                        assertEquals(new ImageInfo(ImageFormat.PNG, size[1], size[0], p.expected(0).length / (size[0] * size[1]), t[1]), info);
                    }
                }
            }
        }
        assertTrue(cases > 800, "cases " + cases);
    }

    /** The JDK's reader sees the samples the test file was written from (for the types it reports raw). */
    private static void checkAgainstImageIo(TestPng p, byte[] png) throws IOException {
        Raster r = ImageIO.read(new ByteArrayInputStream(png)).getRaster();
        int ch = TestPng.fileChannels(p.colorType);
        if (r.getNumBands() != ch) return; // e.g. gray+tRNS promoted by the JDK
        for (int y = 0; y < p.height; y++) {
            for (int x = 0; x < p.width; x++) {
                for (int c = 0; c < ch; c++) {
                    int want = p.samples[(y * p.width + x) * ch + c];
                    int got = r.getSample(x, y, c);
                    if (p.colorType == 0 && p.bitDepth < 8 && got != want) got = got * ((1 << p.bitDepth) - 1) / 255;
                    assertEquals(want, got, "test PNG sample (" + y + "," + x + "," + c + ") per ImageIO");
                }
            }
        }
    }

    /** Cases whose color → gray conversion libpng does in linear light: {color type, depth, chunks...}. */
    static byte[] gammaCase(int k) {
        int[][] spec = {{2, 8}, {2, 8}, {2, 16}, {2, 16}, {3, 8}, {6, 8}, {2, 8}, {6, 16}, {2, 8}, {2, 8}};
        TestPng p = random(new Random(100 + k), spec[k][0], spec[k][1], 17, 5, false, false);
        byte[] gama45 = {0, 0, (byte) 0xb1, (byte) 0x8f};
        byte[] gama100 = {0, 1, (byte) 0x86, (byte) 0xa0};
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        byte[] png = p.encode();
        o.write(png, 0, 33);
        switch (k) {
            case 0, 2, 4 -> TestPng.chunk(o, "gAMA", gama45);
            case 1 -> TestPng.chunk(o, "sRGB", new byte[] {0});
            case 3 -> {
                TestPng.chunk(o, "sBIT", new byte[] {10, 10, 10});
                TestPng.chunk(o, "gAMA", gama45);
            }
            case 5 -> TestPng.chunk(o, "gAMA", gama100);
            case 6 -> TestPng.chunk(o, "gAMA", new byte[] {0, 3, 0x5b, 0x60}); // 2.2
            case 7 -> TestPng.chunk(o, "gAMA", new byte[] {0, 1, 0x38, (byte) 0x80}); // 0.8
            case 8 -> {
                TestPng.chunk(o, "gAMA", gama100);
                TestPng.chunk(o, "sRGB", new byte[] {1});
            }
            default -> {
                TestPng.chunk(o, "sRGB", new byte[] {0});
                TestPng.chunk(o, "gAMA", gama100);
            }
        }
        o.write(png, 33, png.length - 33);
        return o.toByteArray();
    }

    /**
     * TensorFlow 2.18's DecodePng(channels=1) of {@link #gammaCase} 0..9 (run through TensorFlow Java
     * 1.1.0), base64 of the 17x5 gray bytes.
     */
    private static final String[] TF_GAMMA_GRAY = {
        GAMMA_0, GAMMA_1, GAMMA_2, GAMMA_3, GAMMA_4, GAMMA_5, GAMMA_6, GAMMA_7, GAMMA_8, GAMMA_9};

    @Test
    void colorToGrayInLinearLightWhenTheFileHasAGammaAsTensorFlowDoes() {
        int differsFromPlain = 0;
        for (int k = 0; k < TF_GAMMA_GRAY.length; k++) {
            byte[] want = java.util.Base64.getDecoder().decode(TF_GAMMA_GRAY[k]);
            byte[] png = gammaCase(k);
            try (Tensor got = ImageDecoder.decode(png, 1, "gamma case " + k)) {
                assertArrayEquals(new int[] {5, 17, 1}, got.dims());
                assertArrayEquals(want, Arrays.copyOf(got.byteData(), 85), "gamma case " + k);
            }
            // The plain (no gamma) conversion differs where libpng used its tables.
            TestPng p = random(new Random(100 + k), new int[] {2, 2, 2, 2, 3, 6, 2, 6, 2, 2}[k], new int[] {8, 8, 16, 16, 8, 8, 8, 16, 8, 8}[k], 17, 5, false, false);
            int[] plain = p.expected(1);
            for (int i = 0; i < 85; i++) {
                if (plain[i] != (want[i] & 0xff)) {
                    differsFromPlain++;
                    break;
                }
            }
            try (Tensor rgb = ImageDecoder.decode(png, 3, "x")) {
                int[] e = p.expected(3);
                for (int i = 0; i < e.length; i++) assertEquals(e[i], rgb.byteData()[i] & 0xff, "gamma leaves RGB output alone");
            }
        }
        assertTrue(differsFromPlain >= 7, "cases where gamma matters: " + differsFromPlain);
    }

    @Test
    void twoChannelsAreRefusedAsInTensorFlow() {
        byte[] png = random(new Random(1), 4, 8, 3, 3, false, false).encode();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageDecoder.decode(png, 2, "x"));
        assertTrue(e.getMessage().contains("0 (as in the image), 1, 3 or 4"), e.getMessage());
        try (Tensor t = ImageDecoder.decode(png, 0, "x")) {
            assertArrayEquals(new int[] {3, 3, 2}, t.dims(), "but a gray+alpha file keeps its 2 channels with channels 0");
        }
    }

    @Test
    void eachFilterAlone() {
        Random r = new Random(11);
        for (int f = 0; f < 5; f++) {
            for (int[] t : new int[][] {{2, 8}, {6, 16}, {0, 4}}) {
                TestPng p = random(r, t[0], t[1], 17, 6, false, false);
                p.filter = f;
                try (Tensor got = ImageDecoder.decode(p.encode(), 0, "f" + f)) {
                    int[] g = new int[got.numel()];
                    for (int i = 0; i < g.length; i++) g[i] = got.byteData()[i] & 0xff;
                    assertArrayEquals(p.expected(0), g, "filter " + f + " type " + t[0]);
                }
            }
        }
    }

    @Test
    void damagedPngsGiveClearErrors() {
        TestPng p = random(new Random(1), 2, 8, 20, 20, false, false);
        p.idatChunkSize = 1 << 20;
        byte[] png = p.encode();
        // A flipped bit in the image data: the chunk CRC catches it.
        byte[] flip = png.clone();
        flip[png.length - 30] ^= 4;
        assertMessage(flip, "CRC mismatch in PNG chunk IDAT");
        // Cut short: no IEND.
        assertMessage(Arrays.copyOf(png, png.length - 12), "without an IEND chunk");
        assertMessage(Arrays.copyOf(png, png.length - 40), "truncated PNG: chunk IDAT");
        // Too little image data (a valid but short IDAT).
        TestPng shortData = random(new Random(2), 0, 8, 10, 10, false, false);
        byte[] raw = shortData.rawImage();
        byte[] z = TestPng.deflate(Arrays.copyOf(raw, raw.length - 25));
        assertMessage(withIdat(shortData, z), "not enough PNG image data");
        // A bad filter type.
        raw[0] = 9;
        assertMessage(withIdat(shortData, TestPng.deflate(raw)), "bad PNG filter type 9");
        // Not zlib data at all.
        assertMessage(withIdat(shortData, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), "corrupt PNG image data");
        // Hostile sizes are refused before any allocation.
        assertMessage(header(100_000, 100_000, 8, 2), "too large");
        assertMessage(header(2_000_000, 1, 8, 0), "exceeds libpng's limit");
        assertMessage(header(0, 5, 8, 0), "empty size");
        assertMessage(header(5, 5, 3, 0), "invalid PNG color type 0 with bit depth 3");
        assertMessage(header(30_000, 10_000, 8, 6), "not enough image data"); // 1.2 GB claimed by a few bytes
    }

    /** A PNG with p's header and the given IDAT payload. */
    private static byte[] withIdat(TestPng p, byte[] idat) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        o.writeBytes(Arrays.copyOf(p.encode(), 33)); // signature + IHDR
        TestPng.chunk(o, "IDAT", idat);
        TestPng.chunk(o, "IEND", new byte[0]);
        return o.toByteArray();
    }

    private static byte[] header(int w, int h, int depth, int type) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        o.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        byte[] ihdr = new byte[13];
        TestPng.be32(ihdr, 0, w);
        TestPng.be32(ihdr, 4, h);
        ihdr[8] = (byte) depth;
        ihdr[9] = (byte) type;
        TestPng.chunk(o, "IHDR", ihdr);
        TestPng.chunk(o, "IDAT", TestPng.deflate(new byte[100]));
        TestPng.chunk(o, "IEND", new byte[0]);
        return o.toByteArray();
    }

    private static void assertMessage(byte[] png, String part) {
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(png, 3, "shard-7 record 42").close());
        assertTrue(e.getMessage().startsWith("shard-7 record 42: ") && e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void ancillaryChunkWithBadCrcIsIgnoredButUnknownCriticalChunkIsNot() {
        TestPng p = random(new Random(3), 0, 8, 5, 5, false, true);
        byte[] png = p.encode();
        // The tRNS chunk follows IHDR (33 bytes) and tEXt (12 + 12 bytes).
        int trnsAt = 33 + 24;
        assertEquals("tRNS", new String(png, trnsAt + 4, 4));
        byte[] bad = png.clone();
        bad[trnsAt + 8] ^= 1; // its data, so its CRC fails: libpng drops the chunk
        try (Tensor t = ImageDecoder.decode(bad, 0, "x")) {
            assertArrayEquals(new int[] {5, 5, 1}, t.dims());
        }
        try (Tensor t = ImageDecoder.decode(bad, 4, "x")) {
            for (int i = 0; i < 25; i++) assertEquals(255, t.byteData()[4 * i + 3] & 0xff, "no tRNS: opaque filler");
        }
        try (Tensor t = ImageDecoder.decode(png, 4, "x")) {
            int transparent = 0;
            for (int i = 0; i < 25; i++) if ((t.byteData()[4 * i + 3] & 0xff) == 0) transparent++;
            assertTrue(transparent > 0, "with its tRNS chunk, the marked gray is transparent");
        }
        byte[] crit = png.clone();
        crit[trnsAt + 4] = 'T'; // "TRNS": unknown and critical
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(crit, trnsAt + 4, 4 + 2);
        TestPng.be32(crit, trnsAt + 8 + 2, (int) crc.getValue());
        assertMessage(crit, "unknown critical PNG chunk TRNS");
    }
}
