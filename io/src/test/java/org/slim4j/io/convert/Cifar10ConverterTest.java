package org.slim4j.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.io.datasets.LabelsFile;
import org.slim4j.io.example.ExampleFeatures;
import org.slim4j.io.image.ImageDecoder;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.Tensor;

class Cifar10ConverterTest {
    @TempDir
    Path tmp;

    /** Planar pixel (image g, channel c, y, x) of the test batches, g counted over all batches. */
    static int pixel(int g, int c, int y, int x) {
        return (g * 13 + c * 101 + y * 5 + x * 3) & 0xff;
    }

    static int label(int g) {
        return (g * 3 + 1) % 10;
    }

    /** cifar-10-batches-py with n images per batch (5 training batches + test_batch). */
    static Path writeBatches(Path root, int n, boolean binary) throws IOException {
        Path dir = root.resolve(binary ? "cifar-10-batches-bin" : "cifar-10-batches-py");
        Files.createDirectories(dir);
        String[] names = {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"};
        for (int b = 0; b < names.length; b++) {
            int[] labels = new int[n];
            byte[] planar = new byte[n * 3072];
            for (int i = 0; i < n; i++) {
                int g = b * n + i;
                labels[i] = label(g);
                for (int c = 0; c < 3; c++) for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) {
                    planar[i * 3072 + c * 1024 + y * 32 + x] = (byte) pixel(g, c, y, x);
                }
            }
            if (binary) {
                byte[] out = new byte[n * 3073];
                for (int i = 0; i < n; i++) {
                    out[i * 3073] = (byte) labels[i];
                    System.arraycopy(planar, i * 3072, out, i * 3073 + 1, 3072);
                }
                Files.write(dir.resolve(names[b] + ".bin"), out);
            } else {
                Files.write(dir.resolve(names[b]), CifarPickles.python2Batch(labels, planar));
            }
        }
        Files.writeString(dir.resolve("batches.meta"), "ignored");
        return root;
    }

    static void check(Path file, int firstGlobal, int n) throws IOException {
        List<TfRecord> records = TfRecordReader.readAll(file);
        assertEquals(n, records.size());
        for (TfRecord r : records) {
            int g = firstGlobal + (int) r.index();
            ExampleFeatures f = ExampleFeatures.parse(r, file);
            assertEquals("png", f.string("image/format"));
            assertEquals(32, f.int64("image/height"));
            assertEquals(32, f.int64("image/width"));
            assertEquals(label(g), f.int64("image/class/label"));
            try (Tensor img = ImageDecoder.decode(f.bytes("image/encoded"), 0, "x")) {
                assertArrayEquals(new int[] {32, 32, 3}, img.dims());
                byte[] px = img.byteData();
                for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) for (int c = 0; c < 3; c++) {
                    assertEquals(pixel(g, c, y, x), px[img.offset() + (y * 32 + x) * 3 + c] & 0xff, "HWC pixel " + y + "," + x + "," + c);
                }
            }
        }
    }

    @Test
    void convertsThePythonBatchesFromAnArchive() throws IOException {
        Path src = writeBatches(tmp.resolve("src"), 3, false);
        Path tgz = tmp.resolve("cifar-10-python.tar.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(tgz)); TarArchiveOutputStream tar = new TarArchiveOutputStream(o)) {
            try (var s = Files.list(src.resolve("cifar-10-batches-py"))) {
                for (Path p : s.sorted().toList()) {
                    TarArchiveEntry e = new TarArchiveEntry(p.toFile(), "cifar-10-batches-py/" + p.getFileName());
                    tar.putArchiveEntry(e);
                    Files.copy(p, tar);
                    tar.closeArchiveEntry();
                }
            }
        }
        Path out = tmp.resolve("cifar10");
        DownloadAndConvert.run("cifar10", out, MnistConverterTest.options(tgz.toString(), null), null);
        check(out.resolve("cifar10_train.tfrecord"), 0, 15);
        check(out.resolve("cifar10_test.tfrecord"), 15, 3);
        assertEquals(Datasets.CIFAR10_CLASSES, List.copyOf(LabelsFile.read(out).values()));
        try (var s = Files.list(out)) {
            assertEquals(3, s.count(), "only the two record files and labels.txt remain");
        }
    }

    @Test
    void convertsTheBinaryBatchesFromAFolder() throws IOException {
        Path src = writeBatches(tmp.resolve("src"), 2, true);
        Path out = tmp.resolve("cifar10");
        DownloadAndConvert.run("cifar10", out, MnistConverterTest.options(src.toString(), null), null);
        check(out.resolve("cifar10_train.tfrecord"), 0, 10);
        check(out.resolve("cifar10_test.tfrecord"), 10, 2);
    }

    @Test
    void truncatedOrMissingBatchesAreExplained() throws IOException {
        Path src = writeBatches(tmp.resolve("src"), 2, false);
        Path b3 = src.resolve("cifar-10-batches-py/data_batch_3");
        byte[] full = Files.readAllBytes(b3);
        Files.write(b3, java.util.Arrays.copyOf(full, full.length - 5000));
        IOException e = assertThrows(IOException.class, () -> DownloadAndConvert.run("cifar10", tmp.resolve("o"),
                MnistConverterTest.options(src.toString(), null), null));
        assertTrue(e.getMessage().contains("data_batch_3") && e.getMessage().contains("malformed pickle"), e.getMessage());
        Files.delete(b3);
        e = assertThrows(IOException.class, () -> DownloadAndConvert.run("cifar10", tmp.resolve("o"),
                MnistConverterTest.options(src.toString(), null), null));
        assertTrue(e.getMessage().contains("data_batch_3"), e.getMessage());
        Path bin = writeBatches(tmp.resolve("bin"), 1, true);
        Path f = bin.resolve("cifar-10-batches-bin/test_batch.bin");
        Files.write(f, java.util.Arrays.copyOf(Files.readAllBytes(f), 3000));
        e = assertThrows(IOException.class, () -> DownloadAndConvert.run("cifar10", tmp.resolve("o2"),
                MnistConverterTest.options(bin.toString(), null), null));
        assertTrue(e.getMessage().contains("test_batch.bin") && e.getMessage().contains("3073"), e.getMessage());
    }
}
