package org.slim4j.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetFactory;
import org.slim4j.io.example.ExampleFeatures;
import org.slim4j.io.image.ImageDecoder;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

class ImagenetBuilderTest {
    @TempDir
    Path tmp;

    /** A 4-component (CMYK-style) JPEG, as 22 ImageNet training files are. */
    static byte[] fourComponentJpeg(int h, int w) throws IOException {
        WritableRaster r = Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int b = 0; b < 4; b++) r.setSample(x, y, b, (x * 9 + y * 5 + b * 60) & 0xff);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(r, null, null), null);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    static byte[] png(int h, int w) {
        try (Tensor t = Tensor.randomUniform(7, DType.FLOAT32, Shape.of(h, w, 3), 0, 255); Tensor u = t.cast(DType.UINT8)) {
            return ImageEncoder.png(u);
        }
    }

    private Path tree() throws IOException {
        Path root = tmp.resolve("imagenet");
        Files.createDirectories(root);
        Files.writeString(root.resolve("synsets.txt"), "n01\nn02\nn03\n");
        Files.writeString(root.resolve("metadata.txt"), "n00\tentity\nn01\ttench, Tinca tinca\nn02\tgoldfish\nn03\twhite shark\n");
        Files.writeString(root.resolve("boxes.csv"), "n01_0.JPEG,0.1000,0.2000,0.3000,0.4000\nn01_0.JPEG,0.5000,0.5000,0.9000,1.0000\n"
                + "ILSVRC2012_val_00000002.JPEG,0.0000,0.0000,1.0000,0.5000\n");
        Path train = root.resolve("train");
        for (int k = 0; k < 3; k++) write(train.resolve("n01/n01_" + k + ".JPEG"), FlowersConverterTest.jpeg(20 + k, 30, k));
        write(train.resolve("n02/n02_0.JPEG"), png(17, 19)); // a PNG named .JPEG
        write(train.resolve("n02/n02_1.JPEG"), FlowersConverterTest.jpeg(24, 30, 9));
        write(train.resolve("n03/n03_0.JPEG"), fourComponentJpeg(16, 24));
        write(train.resolve("n03/notes.txt"), new byte[] {1});
        write(train.resolve("n99/n99_0.JPEG"), FlowersConverterTest.jpeg(8, 8, 1)); // not in the synset list
        Path val = root.resolve("val");
        for (int i = 1; i <= 4; i++) write(val.resolve(String.format("ILSVRC2012_val_%08d.JPEG", i)), FlowersConverterTest.jpeg(30 + i, 20, 40 + i));
        Files.writeString(root.resolve("val_labels.txt"), "n02\nn01\nn03\nn01\n");
        return root;
    }

    private static void write(Path p, byte[] b) throws IOException {
        Files.createDirectories(p.getParent());
        Files.write(p, b);
    }

    private static ImagenetBuilder.Options options(Path root, Path out, int threads) {
        return new ImagenetBuilder.Options(root.resolve("train"), root.resolve("val"), out, 4, 2, threads,
                root.resolve("synsets.txt"), root.resolve("metadata.txt"), root.resolve("boxes.csv"), root.resolve("val_labels.txt"), false);
    }

    @Test
    void buildsShardsInTfSlimsOrderWithBoxes() throws IOException {
        Path root = tree();
        Path out = tmp.resolve("out");
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        List<ConvertedFile> files = ImagenetBuilder.run(options(root, out, 2), new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        String log = logBytes.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("Converting PNG to JPEG for " + root.resolve("train/n02/n02_0.JPEG")), log);
        assertTrue(log.contains("Converting CMYK to RGB for " + root.resolve("train/n03/n03_0.JPEG")), log);

        // Python 2's random.seed(12345); shuffle(range(6)) = [1, 5, 4, 3, 0, 2]; np.linspace ranges per thread and shard.
        List<List<String>> want = List.of(
                List.of("ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000003.JPEG"),
                List.of("ILSVRC2012_val_00000002.JPEG", "ILSVRC2012_val_00000004.JPEG"),
                List.of("n01_1.JPEG"), List.of("n03_0.JPEG", "n02_1.JPEG"), List.of("n02_0.JPEG"), List.of("n01_0.JPEG", "n01_2.JPEG"));
        List<String> names = List.of("validation-00000-of-00002", "validation-00001-of-00002",
                "train-00000-of-00004", "train-00001-of-00004", "train-00002-of-00004", "train-00003-of-00004");
        assertEquals(names.stream().map(n -> out.resolve(n).toAbsolutePath()).sorted().toList(),
                files.stream().map(ConvertedFile::path).sorted().toList());
        for (int s = 0; s < names.size(); s++) {
            List<String> got = new ArrayList<>();
            for (TfRecord r : TfRecordReader.readAll(out.resolve(names.get(s)))) {
                ExampleFeatures f = ExampleFeatures.parse(r, names.get(s));
                String file = f.string("image/filename");
                got.add(file);
                String synset = f.string("image/class/synset");
                long label = f.int64("image/class/label");
                assertEquals(List.of("n01", "n02", "n03").indexOf(synset) + 1, label, file);
                assertEquals(List.of("tench, Tinca tinca", "goldfish", "white shark").get((int) label - 1), f.string("image/class/text"));
                assertEquals("JPEG", f.string("image/format"));
                assertEquals("RGB", f.string("image/colorspace"));
                assertEquals(3, f.int64("image/channels"));
                byte[] enc = f.bytes("image/encoded");
                try (Tensor img = ImageDecoder.decode(enc, 0, file)) {
                    assertEquals(3, img.dim(2), file + " is stored as RGB");
                    assertEquals(img.dim(0), f.int64("image/height"));
                    assertEquals(img.dim(1), f.int64("image/width"));
                }
                Path original = file.startsWith("ILSVRC") ? root.resolve("val").resolve(file) : root.resolve("train").resolve(synset).resolve(file);
                if (file.equals("n02_0.JPEG") || file.equals("n03_0.JPEG")) {
                    assertTrue(ImageCodec.isCmykJpeg(Files.readAllBytes(original)) || ImageCodec.isPng(Files.readAllBytes(original)));
                    assertFalse(ImageCodec.isPng(enc) || ImageCodec.isCmykJpeg(enc), file + " was re-encoded as an RGB JPEG");
                } else {
                    assertArrayEquals(Files.readAllBytes(original), enc, file + " is stored as it is");
                }
                float[] xmin = f.floatList("image/object/bbox/xmin");
                long[] boxLabels = f.int64List("image/object/bbox/label");
                assertEquals(xmin.length, boxLabels.length);
                for (long l : boxLabels) assertEquals(label, l);
                if (file.equals("n01_0.JPEG")) {
                    assertArrayEquals(new float[] {0.1f, 0.5f}, xmin);
                    assertArrayEquals(new float[] {0.2f, 0.5f}, f.floatList("image/object/bbox/ymin"));
                    assertArrayEquals(new float[] {0.3f, 0.9f}, f.floatList("image/object/bbox/xmax"));
                    assertArrayEquals(new float[] {0.4f, 1.0f}, f.floatList("image/object/bbox/ymax"));
                } else if (file.equals("ILSVRC2012_val_00000002.JPEG")) {
                    assertArrayEquals(new float[] {1.0f}, f.floatList("image/object/bbox/xmax"));
                } else {
                    assertEquals(0, xmin.length);
                }
            }
            assertEquals(want.get(s), got, names.get(s));
        }
        assertEquals("0:background\n1:tench, Tinca tinca\n2:goldfish\n3:white shark\n", Files.readString(out.resolve("labels.txt")));
        Dataset d = DatasetFactory.get("imagenet", "train", out);
        assertEquals(4, d.dataSources().size());
        assertEquals("goldfish", d.labelsToNames().get(2));
    }

    @Test
    void sameOutputWithOneThread() throws IOException {
        Path root = tree();
        ImagenetBuilder.Options two = options(root, tmp.resolve("a"), 2);
        ImagenetBuilder.run(two, null);
        ImagenetBuilder.Options one = options(root, tmp.resolve("b"), 1);
        ImagenetBuilder.run(one, null);
        for (String n : List.of("train-00000-of-00004", "train-00003-of-00004", "validation-00001-of-00002")) {
            List<TfRecord> a = TfRecordReader.readAll(tmp.resolve("a").resolve(n));
            List<TfRecord> b = TfRecordReader.readAll(tmp.resolve("b").resolve(n));
            assertEquals(a.size(), b.size(), n);
            for (int i = 0; i < a.size(); i++) {
                assertEquals(ExampleFeatures.parse(a.get(i), n).string("image/filename"), ExampleFeatures.parse(b.get(i), n).string("image/filename"));
            }
        }
    }

    @Test
    void badInputsAreExplained() throws IOException {
        Path root = tree();
        ImagenetBuilder.Options o = options(root, tmp.resolve("o"), 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImagenetBuilder.run(o, null));
        assertTrue(e.getMessage().contains("commensurate"), e.getMessage());
        Files.writeString(root.resolve("metadata.txt"), "n01\ttench\nn02\tgoldfish\n");
        IOException io = assertThrows(IOException.class, () -> ImagenetBuilder.run(options(root, tmp.resolve("o"), 2), null));
        assertTrue(io.getMessage().contains("Failed to find: n03"), io.getMessage());
        Files.writeString(root.resolve("metadata.txt"), "n01\ttench\nn02\tgoldfish\nn03\tshark\n");
        Path broken = root.resolve("train/n02/n02_1.JPEG");
        Files.write(broken, java.util.Arrays.copyOf(Files.readAllBytes(broken), 30));
        io = assertThrows(IOException.class, () -> ImagenetBuilder.run(options(root, tmp.resolve("o2"), 2), null));
        assertTrue(io.getMessage().contains("n02_1.JPEG") && io.getMessage().contains("undecodable"), io.getMessage());
        ImagenetBuilder.Options skip = new ImagenetBuilder.Options(root.resolve("train"), null, tmp.resolve("o3"), 2, 2, 2,
                root.resolve("synsets.txt"), root.resolve("metadata.txt"), null, null, true);
        List<ConvertedFile> files = ImagenetBuilder.run(skip, null);
        assertEquals(5, files.stream().mapToLong(ConvertedFile::records).sum(), "one of 6 skipped");
        Files.writeString(root.resolve("boxes.csv"), "n01_0.JPEG,0.1,0.2\n");
        io = assertThrows(IOException.class, () -> ImagenetBuilder.run(options(root, tmp.resolve("o4"), 2), null));
        assertTrue(io.getMessage().contains("boxes.csv:1") && io.getMessage().contains("Failed to parse"), io.getMessage());
    }

    @Test
    void linspaceLikeNumpy() {
        assertArrayEquals(new long[] {0, 160145, 320291, 480437, 640583, 800729, 960875, 1121021, 1281167},
                ImagenetBuilder.linspaceInt(0, 1281167, 9));
        assertArrayEquals(new long[] {3, 4, 6}, ImagenetBuilder.linspaceInt(3, 6, 3));
    }

    @Test
    void recognisesCmykJpegHeaders() throws IOException {
        assertTrue(ImageCodec.isCmykJpeg(fourComponentJpeg(8, 8)));
        assertFalse(ImageCodec.isCmykJpeg(FlowersConverterTest.jpeg(8, 8, 1)));
        assertFalse(ImageCodec.isCmykJpeg(png(4, 4)));
        assertFalse(ImageCodec.isCmykJpeg(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff}));
    }
}
