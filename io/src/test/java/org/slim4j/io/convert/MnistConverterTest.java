package org.slim4j.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetFactory;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.io.datasets.LabelsFile;
import org.slim4j.io.download.Downloader;
import org.slim4j.io.example.ExampleFeatures;
import org.slim4j.io.image.ImageDecoder;
import org.slim4j.io.mnist.IdxReader;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;

class MnistConverterTest {
    @TempDir
    Path tmp;

    static DownloadAndConvert.Options options(String source, PrintStream log) {
        return new DownloadAndConvert.Options(source, false, 2, false, new Downloader(log, false, 5000, 5000, 2));
    }

    /** Reads a converted split back and checks every record against the IDX pattern of {@link Idx}. */
    static void checkSplit(Path file, int n) throws IOException {
        List<TfRecord> records = TfRecordReader.readAll(file);
        assertEquals(n, records.size());
        for (TfRecord r : records) {
            ExampleFeatures f = ExampleFeatures.parse(r, file);
            int i = (int) r.index();
            assertEquals("png", f.string("image/format"));
            assertEquals(28, f.int64("image/height"));
            assertEquals(28, f.int64("image/width"));
            assertEquals(Idx.label(i), f.int64("image/class/label"), "label of record " + i);
            try (Tensor img = ImageDecoder.decode(f.bytes("image/encoded"), 0, "rec")) {
                assertArrayEquals(new int[] {28, 28, 1}, img.dims());
                byte[] px = img.byteData();
                for (int y = 0; y < 28; y++) {
                    for (int x = 0; x < 28; x++) assertEquals(Idx.pixel(i, y, x), px[img.offset() + y * 28 + x] & 0xff);
                }
            }
        }
    }

    @Test
    void convertsIdxFilesAsTfSlimDoes() throws IOException {
        long live = CpuDevice.INSTANCE.liveBytes();
        Path src = tmp.resolve("src");
        Idx.writeAll(src, 37, 11);
        Path out = tmp.resolve("mnist");
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        DownloadAndConvert.Result r = DownloadAndConvert.run("mnist", out, options(src.toString(), new PrintStream(logBytes, true)), null);
        assertFalse(r.alreadyExisted());
        assertEquals(List.of(out.resolve("mnist_train.tfrecord").toAbsolutePath(), out.resolve("mnist_test.tfrecord").toAbsolutePath()),
                r.files().stream().map(ConvertedFile::path).toList());
        assertEquals(List.of(37L, 11L), r.files().stream().map(ConvertedFile::records).toList());
        checkSplit(out.resolve("mnist_train.tfrecord"), 37);
        checkSplit(out.resolve("mnist_test.tfrecord"), 11);
        assertEquals("0:zero\n1:one\n2:two\n3:three\n4:four\n5:five\n6:size\n7:seven\n8:eight\n9:nine\n",
                Files.readString(out.resolve("labels.txt")));
        assertTrue(Files.exists(src.resolve("train-images-idx3-ubyte.gz")), "the source is left alone");
        // slim4j's dataset factory reads it back
        Dataset d = DatasetFactory.get("mnist", "test", out);
        assertEquals(List.of(out.resolve("mnist_test.tfrecord")), d.dataSources());
        assertEquals("size", d.labelsToNames().get(6));
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), "no tensor left open");
    }

    @Test
    void fashionMnistFromAnArchiveThenSkippedWhenPresent() throws IOException {
        Path src = tmp.resolve("src");
        Idx.writeAll(src.resolve("fashion"), 5, 3);
        Path tgz = tmp.resolve("fashion.tar.gz");
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(
                new java.util.zip.GZIPOutputStream(Files.newOutputStream(tgz)))) {
            for (String f : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")) {
                Path p = src.resolve("fashion").resolve(f);
                var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(p.toFile(), "data/fashion/" + f);
                tar.putArchiveEntry(e);
                Files.copy(p, tar);
                tar.closeArchiveEntry();
            }
        }
        Path out = tmp.resolve("fm");
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
        DownloadAndConvert.run("fashion_mnist", out, options(tgz.toString(), log), log);
        checkSplit(out.resolve("fashion_mnist_train.tfrecord"), 5);
        checkSplit(out.resolve("fashion_mnist_test.tfrecord"), 3);
        assertEquals(Datasets.FASHION_MNIST_CLASSES, List.copyOf(LabelsFile.read(out).values()));
        try (var s = Files.list(out)) {
            assertEquals(List.of("fashion_mnist_test.tfrecord", "fashion_mnist_train.tfrecord", "labels.txt"),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "the extracted files were removed");
        }
        long modified = Files.getLastModifiedTime(out.resolve("fashion_mnist_train.tfrecord")).toMillis();
        DownloadAndConvert.Result again = DownloadAndConvert.run("fashion_mnist", out, options(tgz.toString(), log), log);
        assertTrue(again.alreadyExisted());
        assertTrue(logBytes.toString(StandardCharsets.UTF_8).contains("Dataset files already exist. Exiting without re-creating them."));
        assertEquals(modified, Files.getLastModifiedTime(out.resolve("fashion_mnist_train.tfrecord")).toMillis());
    }

    @Test
    void badSourcesAreExplained() throws IOException {
        Path src = tmp.resolve("src");
        Idx.writeAll(src, 4, 2);
        Files.delete(src.resolve("t10k-labels-idx1-ubyte.gz"));
        IOException e = assertThrows(IOException.class, () -> DownloadAndConvert.run("mnist", tmp.resolve("o"), options(src.toString(), null), null));
        assertTrue(e.getMessage().contains("IDX files") && e.getMessage().contains("t10k-labels-idx1-ubyte"), e.getMessage());
        Idx.write(src.resolve("x"), "train", 4);
        Idx.write(src.resolve("x"), "t10k", 2);
        // labels for 3 images, 2 test images
        Path labels = src.resolve("x/t10k-labels-idx1-ubyte.gz");
        Files.delete(labels);
        Path other = tmp.resolve("other");
        Idx.write(other, "t10k", 3);
        Files.copy(other.resolve("t10k-labels-idx1-ubyte.gz"), labels);
        e = assertThrows(IOException.class, () -> DownloadAndConvert.run("mnist", tmp.resolve("o2"), options(src.resolve("x").toString(), null), null));
        assertTrue(e.getMessage().contains("holds 2 images but") && e.getMessage().contains("3 labels"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("o2/mnist_test.tfrecord")), "no half-written output");
        e = assertThrows(IOException.class, () -> DownloadAndConvert.run("mnist", tmp.resolve("o3"), options(tmp.resolve("missing").toString(), null), null));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class,
                () -> DownloadAndConvert.run("imagenet", tmp.resolve("o4"), options(null, null), null));
        assertTrue(u.getMessage().contains("mnist, fashion_mnist, cifar10, flowers") && u.getMessage().contains("build_imagenet_data"), u.getMessage());
        Files.writeString(tmp.resolve("afile"), "x");
        e = assertThrows(IOException.class, () -> DownloadAndConvert.run("mnist", tmp.resolve("afile"), options(src.toString(), null), null));
        assertTrue(e.getMessage().contains("not a folder"), e.getMessage());
    }

    @Test
    void remoteFilesOfTheOfficialSites() {
        List<org.slim4j.io.download.RemoteFile> m = MnistConverter.remoteFiles(Datasets.MNIST, null);
        assertEquals("train-images-idx3-ubyte.gz", m.get(0).name());
        assertEquals("http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz", m.get(0).urls().get(0).toString());
        assertEquals(9912422, m.get(0).size());
        List<org.slim4j.io.download.RemoteFile> f = MnistConverter.remoteFiles(Datasets.FASHION_MNIST, null);
        assertEquals(26421880, f.get(0).size());
        assertEquals("8d4fb7e6c68d591d4c3dfef9ec88bf0d", f.get(0).md5());
        List<org.slim4j.io.download.RemoteFile> own = MnistConverter.remoteFiles(Datasets.MNIST, List.of("http://127.0.0.1:1/m"));
        assertEquals("http://127.0.0.1:1/m/t10k-labels-idx1-ubyte.gz", own.get(3).urls().get(0).toString());
        assertEquals(-1, own.get(3).size());
    }

    /**
     * The "done when": all of Debian's Fashion-MNIST converted and read back, labels matching
     * the IDX files (about 15 s on 2 busy cores).
     */
    @Test
    void fullFashionMnistReadsBack() throws IOException {
        Path src = Path.of("/usr/share/datasets/fashion-mnist");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(src), "needs the dataset-fashion-mnist package");
        Path out = tmp.resolve("fm");
        DownloadAndConvert.run("fashion_mnist", out, options(src.toString(), null), null);
        for (String[] s : new String[][] {{"train", "train"}, {"test", "t10k"}}) {
            Dataset d = DatasetFactory.get("fashion_mnist", s[0], out);
            int[] labels;
            try (Tensor l = IdxReader.readLabels(src.resolve(s[1] + "-labels-idx1-ubyte.gz"))) {
                labels = l.toIntArray();
            }
            assertEquals(d.numSamples(), labels.length);
            List<TfRecord> records = TfRecordReader.readAll(d.dataSources().get(0));
            assertEquals(d.numSamples(), records.size());
            try (Tensor images = IdxReader.readImages(src.resolve(s[1] + "-images-idx3-ubyte.gz"))) {
                for (TfRecord r : records) {
                    ExampleFeatures f = ExampleFeatures.parse(r, "x");
                    assertEquals(labels[(int) r.index()], f.int64("image/class/label"));
                    if (r.index() % 997 == 0) {
                        try (Tensor img = ImageDecoder.decode(f.bytes("image/encoded"), 1, "x")) {
                            byte[] want = java.util.Arrays.copyOfRange(images.byteData(), images.offset() + (int) r.index() * 784,
                                    images.offset() + (int) r.index() * 784 + 784);
                            assertArrayEquals(want, java.util.Arrays.copyOfRange(img.byteData(), img.offset(), img.offset() + 784));
                        }
                    }
                }
            }
        }
    }
}
