package org.slim4j.io.tfrecord;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.io.example.ExampleFeatures;
import org.slim4j.io.image.ImageDecoder;
import org.slim4j.io.image.ImageFormat;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.GoldenData;

/**
 * The TensorFlow-written TFRecord files of shared/testdata/tf (see its SOURCES.md): record counts,
 * compression, feature keys and types, and the images they hold, decoded and cross-checked
 * against the JDK's own decoders (PNG samples must agree exactly; JPEG RGB too, both being
 * libjpeg's ISLOW IDCT with libjpeg's color conversion).
 */
class RealTfFilesTest {
    static final Path TF = GoldenData.sharedDir().resolve("testdata/tf");

    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    private static int jpegsCrossChecked;

    /** Whether a JPEG has an APP2 ICC_PROFILE segment before its first scan. */
    private static boolean hasIccProfile(byte[] d) {
        int p = 2;
        while (p + 4 <= d.length && (d[p] & 0xff) == 0xff) {
            int m = d[p + 1] & 0xff;
            int len = (d[p + 2] & 0xff) << 8 | (d[p + 3] & 0xff);
            if (m == 0xda) return false;
            if (m == 0xe2 && len >= 14 && new String(d, p + 4, 11, StandardCharsets.US_ASCII).equals("ICC_PROFILE")) return true;
            p += 2 + len;
        }
        return false;
    }

    private static List<ExampleFeatures> examples(String rel, int count, Compression compression) throws IOException {
        Path p = TF.resolve(rel);
        assertEquals(compression, Compression.detect(p), rel);
        try (TfRecordReader r = TfRecordReader.open(p)) {
            List<ExampleFeatures> out = r.readAll().stream().map(rec -> ExampleFeatures.parse(rec, p)).toList();
            assertEquals(count, out.size(), rel);
            return out;
        }
    }

    /** Decodes with channels 0 and 3, checks the size, and compares with the JDK's decoder. */
    private static void checkImage(byte[] data, ImageFormat format, int height, int width, int channels, String what) throws IOException {
        assertEquals(format, ImageDecoder.format(data), what);
        try (Tensor own = ImageDecoder.decode(data, 0, what); Tensor rgb = ImageDecoder.decode(data, 3, what)) {
            assertArrayEquals(new int[] {height, width, channels}, own.dims(), what);
            assertArrayEquals(new int[] {height, width, 3}, rgb.dims(), what);
            byte[] o = own.byteData();
            byte[] c = rgb.byteData();
            if (format == ImageFormat.PNG) {
                Raster r = ImageIO.read(new ByteArrayInputStream(data)).getRaster();
                assertEquals(channels, r.getNumBands(), what);
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        for (int b = 0; b < channels; b++) {
                            int i = (y * width + x) * channels + b;
                            if ((o[i] & 0xff) != r.getSample(x, y, b)) {
                                throw new AssertionError(what + ": pixel (" + y + "," + x + "," + b + ") " + (o[i] & 0xff) + " != ImageIO's " + r.getSample(x, y, b));
                            }
                        }
                    }
                }
            } else if (!hasIccProfile(data)) {
                // (ImageIO.read applies an embedded ICC profile; TensorFlow ignores it, as we do.)
                jpegsCrossChecked++;
                BufferedImage bi = ImageIO.read(new ByteArrayInputStream(data));
                int maxDiff = 0;
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        int p = bi.getRGB(x, y);
                        int i = (y * width + x) * 3;
                        maxDiff = Math.max(maxDiff, Math.abs((c[i] & 0xff) - ((p >> 16) & 0xff)));
                        maxDiff = Math.max(maxDiff, Math.abs((c[i + 1] & 0xff) - ((p >> 8) & 0xff)));
                        maxDiff = Math.max(maxDiff, Math.abs((c[i + 2] & 0xff) - (p & 0xff)));
                    }
                }
                assertEquals(0, maxDiff, what + ": RGB differs from ImageIO's libjpeg conversion");
            }
        }
    }

    @Test
    void deeplabPascalVoc() throws IOException {
        List<ExampleFeatures> ex = examples("models/research/deeplab/testing/pascal_voc_seg/val-00000-of-00001.tfrecord", 3, Compression.NONE);
        for (ExampleFeatures f : ex) {
            assertEquals(Set.of("image/channels", "image/encoded", "image/filename", "image/format", "image/height",
                    "image/segmentation/class/encoded", "image/segmentation/class/format", "image/width"), f.keys());
            assertEquals("jpeg", f.string("image/format"));
            assertEquals("png", f.string("image/segmentation/class/format"));
            int h = f.int32("image/height"), w = f.int32("image/width");
            checkImage(f.bytes("image/encoded"), ImageFormat.JPEG, h, w, (int) f.int64("image/channels"), f.source() + " image");
            checkImage(f.bytes("image/segmentation/class/encoded"), ImageFormat.PNG, h, w, 1, f.source() + " mask");
        }
        assertEquals("2007_000033", ex.get(0).string("image/filename"));
    }

    @Test
    void attentionOcrFsns() throws IOException {
        List<ExampleFeatures> ex = examples("models/research/attention_ocr/python/datasets/testdata/fsns/fsns-00000-of-00001", 5, Compression.NONE);
        for (ExampleFeatures f : ex) {
            assertEquals(Set.of("image/class", "image/encoded", "image/format", "image/height", "image/orig_width",
                    "image/text", "image/unpadded_class", "image/width"), f.keys());
            assertEquals(37, f.int64List("image/class").length);
            long[] unpadded = f.int64List("image/unpadded_class");
            assertEquals(f.string("image/text").length(), unpadded.length, "one class per character of " + f.string("image/text"));
            checkImage(f.bytes("image/encoded"), ImageFormat.PNG, f.int32("image/height"), f.int32("image/width"), 3, f.source());
        }
        assertEquals("Rue Perreyon", ex.get(0).string("image/text"));
        assertEquals("Rue de la Taillée", ex.get(1).string("image/text"), "UTF-8 text");
    }

    @Test
    void tfxFlowersJpegs() throws IOException {
        jpegsCrossChecked = 0;
        List<ExampleFeatures> ex = examples("tfx/pr-3618_flowers_GAN/data/flowers.tfrecord", 25, Compression.NONE);
        for (ExampleFeatures f : ex) {
            assertEquals(Set.of("depth", "height", "image_raw", "label", "width"), f.keys());
            checkImage(f.bytes("image_raw"), ImageFormat.JPEG, f.int32("height"), f.int32("width"), f.int32("depth"), f.source());
        }
        assertTrue(jpegsCrossChecked >= 12, "JPEGs compared with ImageIO: " + jpegsCrossChecked);
    }

    @Test
    void tfxCifar10Pngs() throws IOException {
        List<ExampleFeatures> ex = examples("tfx/examples/cifar10/data/test/cifar10_test.tfrecord", 128, Compression.NONE);
        for (ExampleFeatures f : ex) {
            assertEquals(Set.of("id", "image", "label"), f.keys());
            assertTrue(f.string("id").startsWith("test_"), f.string("id"));
            long label = f.int64("label");
            assertTrue(label >= 0 && label < 10, "label " + label);
            checkImage(f.bytes("image"), ImageFormat.PNG, 32, 32, 3, f.source());
        }
    }

    @Test
    void tfxPenguinGzip() throws IOException {
        for (String split : List.of("eval:100", "train:234")) {
            String[] s = split.split(":");
            List<ExampleFeatures> ex = examples("tfx/penguin/data/Split-" + s[0] + "/data_tfrecord-00000-of-00001.gz", Integer.parseInt(s[1]), Compression.GZIP);
            for (ExampleFeatures f : ex) {
                assertEquals(Set.of("body_mass_g", "culmen_depth_mm", "culmen_length_mm", "flipper_length_mm", "species"), f.keys());
                for (String k : List.of("body_mass_g", "culmen_depth_mm", "culmen_length_mm", "flipper_length_mm")) {
                    float v = f.float32(k);
                    assertTrue(v >= 0 && v <= 1, k + " is normalised: " + v);
                }
                long sp = f.int64("species");
                assertTrue(sp >= 0 && sp <= 2, "species " + sp);
            }
        }
    }

    @Test
    void rustRawRecord() throws IOException {
        List<TfRecord> recs = TfRecordReader.readAll(TF.resolve("rust/test_resources/io/expected.tfrecord"));
        assertEquals(1, recs.size());
        assertEquals("The Quick Brown Fox", new String(recs.get(0).data(), StandardCharsets.US_ASCII));
    }
}
