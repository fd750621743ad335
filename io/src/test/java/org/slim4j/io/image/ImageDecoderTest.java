package org.slim4j.io.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.io.example.ExampleFeatures;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Npy;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.GoldenData;

class ImageDecoderTest {
    static final Path GOLDEN = GoldenData.goldenDir().resolve("tfrecord");

    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    static List<byte[]> goldenImages() throws IOException {
        Path file = GOLDEN.resolve("examples.tfrecord");
        return TfRecordReader.readAll(file).stream().map(r -> ExampleFeatures.parse(r, file).bytes("image/encoded")).toList();
    }

    /** Largest |a - b| over two same-shaped tensors (any integer dtypes), or -1 when shapes differ. */
    static int maxDiff(Tensor a, Tensor b) {
        if (!Arrays.equals(a.dims(), b.dims())) return -1;
        long[] x = a.dtype() == DType.UINT8 ? unsigned(a) : a.toLongArray();
        long[] y = b.dtype() == DType.UINT8 ? unsigned(b) : b.toLongArray();
        long m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return (int) m;
    }

    static long[] unsigned(Tensor t) {
        long[] v = new long[t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = t.byteData()[t.offset() + i] & 0xff;
        return v;
    }

    // ---- TensorFlow's own decodes ----------------------------------------------------------------

    @Test
    void goldenPngsDecodeExactlyAsTensorFlow() throws IOException {
        List<byte[]> imgs = goldenImages();
        for (int i = 0; i < 8; i += 2) {
            assertEquals(ImageFormat.PNG, ImageDecoder.format(imgs.get(i)));
            try (Tensor want = Npy.read(GOLDEN.resolve(String.format("decoded/record_%02d.npy", i)));
                 Tensor got = ImageDecoder.decode(imgs.get(i), 3, "record " + i)) {
                assertEquals(DType.UINT8, got.dtype());
                assertEquals(0, maxDiff(want, got), "record " + i);
            }
        }
    }

    @Test
    void goldenJpegsMatchTensorFlowsIntegerAccurateDecode() throws IOException {
        List<byte[]> imgs = goldenImages();
        StringBuilder report = new StringBuilder();
        for (int i = 1; i < 8; i += 2) {
            assertEquals(ImageFormat.JPEG, ImageDecoder.format(imgs.get(i)));
            try (Tensor accurate = Npy.read(GOLDEN.resolve(String.format("decoded/record_%02d_integer_accurate.npy", i)));
                 Tensor fast = Npy.read(GOLDEN.resolve(String.format("decoded/record_%02d.npy", i)));
                 Tensor got = ImageDecoder.decode(imgs.get(i), 3, "record " + i);
                 Tensor auto = ImageDecoder.decode(imgs.get(i), 0, "record " + i)) {
                assertEquals(0, maxDiff(accurate, got), "record " + i + " vs dct_method=INTEGER_ACCURATE");
                assertEquals(0, maxDiff(got, auto), "channels 0 gives RGB for a color JPEG");
                int d = maxDiff(fast, got);
                assertTrue(d >= 0 && d <= 6, "vs TensorFlow's default IFAST decode: " + d);
                report.append(" record ").append(i).append(": ").append(d);
            }
        }
        System.out.println("JPEG max |slim4j - TF default (IFAST)| per golden record:" + report + "; vs INTEGER_ACCURATE: 0");
    }

    @Test
    void pngLabelledAsJpegIsDecodedAsPng() throws IOException {
        Path file = GOLDEN.resolve("examples.tfrecord");
        TfRecord rec = TfRecordReader.readAll(file).get(0);
        ExampleFeatures f = ExampleFeatures.parse(rec, file);
        assertEquals("png", f.string("image/format"));
        // Relabel it as ImageNet's n02105855_2933.JPEG is labelled: the declared format plays no part.
        byte[] relabelled = new org.slim4j.io.example.ExampleBuilder()
                .bytes("image/encoded", f.bytes("image/encoded")).string("image/format", "jpeg").toByteArray();
        ExampleFeatures g = ExampleFeatures.parse(relabelled, "relabelled");
        assertEquals("jpeg", g.string("image/format"));
        try (Tensor want = Npy.read(GOLDEN.resolve("decoded/record_00.npy"));
             Tensor got = ImageDecoder.decode(g.bytes("image/encoded"), 3, "relabelled")) {
            assertEquals(0, maxDiff(want, got));
        }
    }

    @Test
    void decodeFloatIsConvertImageDtype() throws IOException {
        byte[] jpg = goldenImages().get(3);
        try (Tensor u8 = ImageDecoder.decode(jpg, 3, "x"); Tensor f = ImageDecoder.decodeFloat(jpg, 3, "x")) {
            assertEquals(DType.FLOAT32, f.dtype());
            assertArrayEquals(u8.dims(), f.dims());
            float scale = (float) (1.0 / 255.0);
            for (int i = 0; i < u8.numel(); i++) {
                assertEquals((u8.byteData()[i] & 0xff) * scale, f.floatData()[i]);
            }
            assertEquals(1f, 255 * scale, 1e-6f);
        }
    }

    // ---- JPEG color spaces -----------------------------------------------------------------------

    /** A smooth test pattern, values kept inside [lo, hi]. */
    private static int pattern(int x, int y, int c, int lo, int hi) {
        double v = 0.5 + 0.5 * Math.sin(0.21 * x + 0.13 * y + 1.7 * c) * Math.cos(0.05 * x * (c + 1) - 0.11 * y);
        return (int) Math.round(lo + (hi - lo) * v);
    }

    /** JPEG of a raw raster (samples written as they are, no color transform), quality 100. */
    private static byte[] rawJpeg(Raster r) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            w.setOutput(out);
            ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(1f);
            w.write(null, new IIOImage(r, null, null), p);
        } finally {
            w.dispose();
        }
        return bytes.toByteArray();
    }

    /** Removes APP0..APP15 segments and inserts the given segments right after SOI. */
    private static byte[] withMarkers(byte[] jpg, byte[]... segments) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(0xff);
        o.write(0xd8);
        for (byte[] s : segments) o.writeBytes(s);
        int p = 2;
        while (true) {
            int m = jpg[p + 1] & 0xff;
            int len = (jpg[p + 2] & 0xff) << 8 | (jpg[p + 3] & 0xff);
            if (m == 0xda) break;
            if (m < 0xe0 || m > 0xef) o.write(jpg, p, 2 + len);
            p += 2 + len;
        }
        o.write(jpg, p, jpg.length - p);
        return o.toByteArray();
    }

    private static byte[] adobe(int transform) {
        return new byte[] {(byte) 0xff, (byte) 0xee, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, (byte) transform};
    }

    private static int[] pixel(Tensor t, int y, int x) {
        int c = t.dim(2);
        int[] p = new int[c];
        for (int k = 0; k < c; k++) p[k] = t.byteData()[t.offset() + (y * t.dim(1) + x) * c + k] & 0xff;
        return p;
    }

    @Test
    void cmykAndYcckJpegsConvertAsTensorFlowDoes() throws IOException {
        int w = 23, h = 11;
        WritableRaster cmyk = Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int c = 0; c < 4; c++) cmyk.setSample(x, y, c, pattern(x, y, c, 10, 245));
        byte[] plain = rawJpeg(cmyk);
        byte[] adobeCmyk = withMarkers(plain, adobe(0));
        // YCCK: store (255-C, 255-M, 255-Y) as YCbCr (JFIF equations), K as it is.
        WritableRaster ycck = Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double r = 255 - cmyk.getSample(x, y, 0), g = 255 - cmyk.getSample(x, y, 1), b = 255 - cmyk.getSample(x, y, 2);
                ycck.setSample(x, y, 0, (int) Math.round(0.299 * r + 0.587 * g + 0.114 * b));
                ycck.setSample(x, y, 1, (int) Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b));
                ycck.setSample(x, y, 2, (int) Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b));
                ycck.setSample(x, y, 3, cmyk.getSample(x, y, 3));
            }
        }
        byte[] adobeYcck = withMarkers(rawJpeg(ycck), adobe(2));
        try (Tensor p = ImageDecoder.decode(plain, 3, "plain"); Tensor a = ImageDecoder.decode(adobeCmyk, 0, "adobe");
             Tensor yk = ImageDecoder.decode(adobeYcck, 3, "ycck")) {
            assertArrayEquals(new int[] {h, w, 3}, a.dims(), "channels 0 turns CMYK into RGB");
            int maxPlain = 0, maxAdobe = 0, maxYcck = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int k = cmyk.getSample(x, y, 3);
                    for (int c = 0; c < 3; c++) {
                        int v = cmyk.getSample(x, y, c);
                        maxPlain = Math.max(maxPlain, Math.abs(pixel(p, y, x)[c] - (255 - k) * (255 - v) / 255));
                        maxAdobe = Math.max(maxAdobe, Math.abs(pixel(a, y, x)[c] - k * v / 255));
                        maxYcck = Math.max(maxYcck, Math.abs(pixel(yk, y, x)[c] - k * v / 255));
                    }
                }
            }
            // Lossy coding (quality 100) leaves a level or two; swapping the conventions would be off by ~100.
            assertTrue(maxPlain <= 3, "plain CMYK: " + maxPlain);
            assertTrue(maxAdobe <= 3, "Adobe (inverted) CMYK: " + maxAdobe);
            assertTrue(maxYcck <= 4, "Adobe YCCK: " + maxYcck);
        }
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(adobeCmyk, 1, "cmyk.jpg"));
        assertTrue(e.getMessage().contains("cannot be decoded to 1 channel"), e.getMessage());
        assertEquals(3, ImageDecoder.info(adobeYcck, "x").channels());
    }

    @Test
    void rgbAndGrayJpegs() throws IOException {
        int w = 19, h = 14;
        // 3 components without JFIF: Adobe transform 0, or ids 'R','G','B', mean RGB samples.
        WritableRaster rgb = Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, w, h, 3, null);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int c = 0; c < 3; c++) rgb.setSample(x, y, c, pattern(x, y, c, 20, 235));
        byte[] raw = rawJpeg(rgb);
        byte[] adobeRgb = withMarkers(raw, adobe(0));
        byte[] idsRgb = withMarkers(raw);
        int sof = indexOfSof(idsRgb);
        idsRgb[sof + 10] = 'R';
        idsRgb[sof + 13] = 'G';
        idsRgb[sof + 16] = 'B';
        int sos = indexOfMarker(idsRgb, 0xda); // the scan refers to the components by id too
        for (int k = 0; k < 3; k++) idsRgb[sos + 5 + 2 * k] = (byte) "RGB".charAt(k);
        for (byte[] jpg : List.of(adobeRgb, idsRgb)) {
            try (Tensor t = ImageDecoder.decode(jpg, 3, "rgb")) {
                int max = 0;
                for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int c = 0; c < 3; c++) max = Math.max(max, Math.abs(pixel(t, y, x)[c] - rgb.getSample(x, y, c)));
                assertTrue(max <= 3, "RGB JPEG samples come out unconverted: " + max);
            }
        }
        // The same bytes read as YCbCr (JFIF) come out very differently: the rule matters.
        byte[] jfif = withMarkers(raw, new byte[] {(byte) 0xff, (byte) 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
        try (Tensor a = ImageDecoder.decode(jfif, 3, "jfif"); Tensor b = ImageDecoder.decode(adobeRgb, 3, "adobe")) {
            assertTrue(maxDiff(a, b) > 50);
        }

        // A gray JPEG: 1 channel by default, replicated for 3.
        BufferedImage gray = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) gray.getRaster().setSample(x, y, 0, pattern(x, y, 0, 0, 255));
        byte[] gjpg = rawJpeg(gray.getRaster());
        try (Tensor g1 = ImageDecoder.decode(gjpg, 0, "gray"); Tensor g3 = ImageDecoder.decode(gjpg, 3, "gray")) {
            assertArrayEquals(new int[] {h, w, 1}, g1.dims());
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = pixel(g1, y, x)[0];
                    assertTrue(Math.abs(v - gray.getRaster().getSample(x, y, 0)) <= 2);
                    assertArrayEquals(new int[] {v, v, v}, pixel(g3, y, x));
                }
            }
        }

        // channels 1 of a color JPEG is its luma: close to 0.299 R + 0.587 G + 0.114 B of the RGB decode.
        byte[] color;
        try (Tensor src = rgbTensor(rgb)) {
            color = ImageEncoder.jpeg(src, 95);
        }
        try (Tensor y1 = ImageDecoder.decode(color, 1, "luma"); Tensor c3 = ImageDecoder.decode(color, 3, "rgb")) {
            int max = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int[] p = pixel(c3, y, x);
                    max = Math.max(max, (int) Math.abs(pixel(y1, y, x)[0] - (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])));
                }
            }
            assertTrue(max <= 2, "luma vs RGB: " + max);
        }
        // And of an RGB (Adobe) JPEG, libjpeg's RGB → gray.
        try (Tensor y1 = ImageDecoder.decode(adobeRgb, 1, "luma"); Tensor c3 = ImageDecoder.decode(adobeRgb, 3, "rgb")) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int[] p = pixel(c3, y, x);
                    assertEquals((19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 32768) >> 16, pixel(y1, y, x)[0]);
                }
            }
        }
    }

    private static Tensor rgbTensor(Raster r) {
        byte[] b = new byte[r.getWidth() * r.getHeight() * 3];
        for (int y = 0; y < r.getHeight(); y++) for (int x = 0; x < r.getWidth(); x++) for (int c = 0; c < 3; c++) b[(y * r.getWidth() + x) * 3 + c] = (byte) r.getSample(x, y, c);
        return Tensor.ofBytes(b, r.getHeight(), r.getWidth(), 3);
    }

    private static int indexOfSof(byte[] jpg) {
        return indexOfMarker(jpg, 0xc0);
    }

    private static int indexOfMarker(byte[] jpg, int marker) {
        int p = 2;
        while ((jpg[p + 1] & 0xff) != marker) p += 2 + ((jpg[p + 2] & 0xff) << 8 | (jpg[p + 3] & 0xff));
        return p;
    }

    // ---- bad input -------------------------------------------------------------------------------

    private static void assertFails(byte[] data, int channels, String part) {
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(data, channels, "train-00003 record 12").close());
        assertTrue(e.getMessage().startsWith("train-00003 record 12: ") && e.getMessage().contains(part), e.getMessage());
        assertEquals("train-00003 record 12", e.source());
    }

    @Test
    void undecodableImagesGiveClearErrors() throws IOException {
        byte[] jpg = goldenImages().get(3);
        assertFails(new byte[0], 3, "empty image data");
        assertFails("hello world".getBytes(), 3, "unknown image format (first bytes 68 65 6C 6C 6F 20 77 6F");
        assertFails("GIF89a......".getBytes(), 3, "GIF images are not supported");
        assertFails("BM..........".getBytes(), 3, "BMP images are not supported");
        assertFails(Arrays.copyOf(jpg, jpg.length - 2), 3, "truncated JPEG data");
        assertFails(Arrays.copyOf(jpg, jpg.length / 2), 3, "truncated JPEG");
        assertFails(Arrays.copyOf(jpg, 30), 3, "truncated JPEG");
        assertFails(jpg, 4, "not 4");
        // A frame header claiming 60000 x 60000 pixels.
        byte[] huge = jpg.clone();
        int sof = indexOfSof(huge);
        huge[sof + 5] = (byte) 0xea;
        huge[sof + 6] = 0x60;
        huge[sof + 7] = (byte) 0xea;
        huge[sof + 8] = 0x60;
        assertFails(huge, 3, "too large");
        huge[sof + 7] = 0x07; // 60000 x 2000: allowed by TensorFlow, but far more than 973 bytes can hold
        huge[sof + 8] = (byte) 0xd0;
        assertFails(huge, 3, "cannot hold");
        byte[] noSof = withMarkers(jpg);
        int s = indexOfSof(noSof);
        noSof[s + 1] = (byte) 0xc3; // lossless
        assertFails(noSof, 3, "unsupported JPEG process");
        noSof[s + 1] = (byte) 0xc9;
        assertFails(noSof, 3, "arithmetic-coded");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageDecoder.decode(jpg, 5, "x"));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
        // After failures the per-thread decoder still works.
        try (Tensor t = ImageDecoder.decode(jpg, 3, "again"); Tensor want = Npy.read(GOLDEN.resolve("decoded/record_03_integer_accurate.npy"))) {
            assertEquals(0, maxDiff(want, t));
        }
    }

    @Test
    void decodingFromManyThreads() throws Exception {
        List<byte[]> imgs = goldenImages();
        Tensor[] want = new Tensor[8];
        for (int i = 0; i < 8; i++) want[i] = ImageDecoder.decode(imgs.get(i), 3, "w");
        try {
            List<Thread> threads = new java.util.ArrayList<>();
            java.util.concurrent.atomic.AtomicReference<Throwable> err = new java.util.concurrent.atomic.AtomicReference<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                Thread th = new Thread(() -> {
                    try {
                        for (int k = 0; k < 200; k++) {
                            int i = (k * 3 + seed) % 8;
                            try (Tensor got = ImageDecoder.decode(imgs.get(i), 3, "t")) {
                                if (maxDiff(want[i], got) != 0) throw new AssertionError("thread " + seed + " image " + i);
                            }
                        }
                    } catch (Throwable x) {
                        err.compareAndSet(null, x);
                    }
                });
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) th.join();
            if (err.get() != null) throw new AssertionError(err.get());
        } finally {
            for (Tensor t : want) t.close();
        }
    }
}
