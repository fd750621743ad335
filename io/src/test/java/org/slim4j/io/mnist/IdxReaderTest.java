package org.slim4j.io.mnist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

class IdxReaderTest {
    /** Debian's dataset-fashion-mnist package. */
    private static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    @TempDir
    Path tmp;

    private long liveBefore;

    @BeforeEach
    void countMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
    }

    // ---- small files written here --------------------------------------------------------------

    /** An IDX file: magic, big-endian dims, then the data bytes. */
    private static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(raw);
        }
        return bos.toByteArray();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** 3 images of 2x4 whose pixel i is 7*i mod 256, spanning values above 127 (unsigned). */
    private static byte[] pixels() {
        byte[] px = new byte[3 * 2 * 4];
        for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 37 % 256);
        return px;
    }

    private static final byte[] LABELS = {3, 0, (byte) 255, 9, 1};

    @Test
    void readsPlainImagesAsUint8Nhwc() throws IOException {
        Path f = write("imgs.idx", idx(IdxReader.IMAGES_MAGIC, new int[] {3, 2, 4}, pixels()));
        try (Tensor t = IdxReader.readImages(f)) {
            assertEquals(DType.UINT8, t.dtype());
            assertArrayEquals(new int[] {3, 2, 4, 1}, t.dims());
            double[] v = t.toDoubleArray();
            for (int i = 0; i < v.length; i++) assertEquals(i * 37 % 256, v[i], "pixel " + i);
        }
    }

    @Test
    void readsLabelsAsInt32() throws IOException {
        Path f = write("labels.idx", idx(IdxReader.LABELS_MAGIC, new int[] {5}, LABELS));
        try (Tensor t = IdxReader.readLabels(f)) {
            assertEquals(DType.INT32, t.dtype());
            assertArrayEquals(new int[] {5}, t.dims());
            assertArrayEquals(new int[] {3, 0, 255, 9, 1}, t.toIntArray());
        }
    }

    @Test
    void gzipIsDetectedByMagicNotByName() throws IOException {
        // Compressed data under a plain name, plain data under a .gz name.
        Path gz = write("images-plain-name", gzip(idx(IdxReader.IMAGES_MAGIC, new int[] {3, 2, 4}, pixels())));
        Path plain = write("labels.gz", idx(IdxReader.LABELS_MAGIC, new int[] {5}, LABELS));
        try (Tensor images = IdxReader.readImages(gz); Tensor labels = IdxReader.readLabels(plain)) {
            assertArrayEquals(new int[] {3, 2, 4, 1}, images.dims());
            assertEquals(37 * 5 % 256, images.toDoubleArray()[5]);
            assertArrayEquals(new int[] {3, 0, 255, 9, 1}, labels.toIntArray());
        }
    }

    @Test
    void limitTakesTheFirstItems() throws IOException {
        Path imgs = write("imgs.gz", gzip(idx(IdxReader.IMAGES_MAGIC, new int[] {3, 2, 4}, pixels())));
        Path labels = write("labels", idx(IdxReader.LABELS_MAGIC, new int[] {5}, LABELS));
        try (Tensor two = IdxReader.readImages(imgs, 2);
                Tensor none = IdxReader.readImages(imgs, 0);
                Tensor many = IdxReader.readLabels(labels, 100);
                Tensor first = IdxReader.readLabels(labels, 2)) {
            assertArrayEquals(new int[] {2, 2, 4, 1}, two.dims());
            assertArrayEquals(Arrays.copyOf(pixelsAsDoubles(), 16), two.toDoubleArray());
            assertArrayEquals(new int[] {0, 2, 4, 1}, none.dims());
            assertArrayEquals(new int[] {3, 0, 255, 9, 1}, many.toIntArray());
            assertArrayEquals(new int[] {3, 0}, first.toIntArray());
        }
        assertThrows(IllegalArgumentException.class, () -> IdxReader.readLabels(labels, -1));
    }

    private static double[] pixelsAsDoubles() {
        byte[] p = pixels();
        double[] d = new double[p.length];
        for (int i = 0; i < p.length; i++) d[i] = p[i] & 0xff;
        return d;
    }

    private void assertFails(Path f, boolean images, String... fragments) {
        IOException e = assertThrows(IOException.class, () -> {
            try (Tensor t = images ? IdxReader.readImages(f) : IdxReader.readLabels(f)) {
                // not reached
            }
        });
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()), "message names the file: " + m);
        for (String frag : fragments) assertTrue(m.contains(frag), "'" + frag + "' in: " + m);
    }

    @Test
    void badMagicIsRejected() throws IOException {
        assertFails(write("bad.idx", idx(0x00000903, new int[] {3, 2, 4}, pixels())), true, "bad magic 0x00000903", "expected 0x00000803");
        assertFails(write("text.idx", "hello, world, not idx".getBytes()), false, "bad magic", "not an IDX file");
        // The right format but the wrong kind of file.
        Path labels = write("labels.idx", idx(IdxReader.LABELS_MAGIC, new int[] {5}, LABELS));
        assertFails(labels, true, "bad magic 0x00000801", "this is an IDX labels file");
        Path images = write("images.idx", idx(IdxReader.IMAGES_MAGIC, new int[] {3, 2, 4}, pixels()));
        assertFails(images, false, "this is an IDX images file");
    }

    @Test
    void truncatedAndOverlongFilesAreRejected() throws IOException {
        byte[] full = idx(IdxReader.IMAGES_MAGIC, new int[] {3, 2, 4}, pixels());
        assertFails(write("short.idx", Arrays.copyOf(full, full.length - 1)), true, "truncated", "announces 24 data bytes", "holds 23");
        assertFails(write("header.idx", Arrays.copyOf(full, 10)), true, "truncated IDX header");
        assertFails(write("tiny.idx", new byte[] {0, 0}), true, "too short");
        assertFails(write("long.idx", Arrays.copyOf(full, full.length + 3)), true, "trailing bytes");
        // Truncation is detected even when a limit stops reading early.
        Path shortFile = tmp.resolve("short.idx");
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(shortFile, 1).close());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        byte[] labels = idx(IdxReader.LABELS_MAGIC, new int[] {5}, LABELS);
        byte[] gzLabels = gzip(Arrays.copyOf(labels, labels.length - 2));
        assertFails(write("short-labels.gz", gzLabels), false, "truncated", "holds 3");
        // A gzip stream cut in the middle.
        byte[] gz = gzip(full);
        assertFails(write("cut.gz", Arrays.copyOf(gz, gz.length - 12)), true, "gzip");
    }

    @Test
    void badDimensionsAreRejected() throws IOException {
        assertFails(write("zero-rows.idx", idx(IdxReader.IMAGES_MAGIC, new int[] {3, 0, 4}, new byte[0])), true, "bad IDX dimension 1");
        assertFails(write("negative.idx", idx(IdxReader.LABELS_MAGIC, new int[] {-5}, new byte[0])), false, "bad IDX dimension 0");
    }

    // ---- real Fashion-MNIST files ---------------------------------------------------------------

    @Test
    void fashionMnistTestSet() throws IOException {
        assumeTrue(Files.isDirectory(FASHION), "dataset-fashion-mnist is not installed");
        try (Tensor labels = IdxReader.readLabels(FASHION.resolve("t10k-labels-idx1-ubyte.gz"));
                Tensor images = IdxReader.readImages(FASHION.resolve("t10k-images-idx3-ubyte.gz"))) {
            assertArrayEquals(new int[] {10000}, labels.dims());
            int[] l = labels.toIntArray();
            assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1, 2, 4, 8, 0}, Arrays.copyOf(l, 20));
            // Fashion-MNIST's test set holds 1000 examples of each of the 10 classes.
            int[] counts = new int[10];
            for (int c : l) counts[c]++;
            for (int c = 0; c < 10; c++) assertEquals(1000, counts[c], "class " + c);

            assertArrayEquals(new int[] {10000, 28, 28, 1}, images.dims());
            byte[] px = images.byteData();
            int base = images.offset();
            long sum = 0;
            for (int i = 0; i < 784; i++) sum += px[base + i] & 0xff;
            assertEquals(33456, sum, "pixel sum of the first test image");
            int[] row14 = new int[28];
            for (int x = 0; x < 28; x++) row14[x] = px[base + 14 * 28 + x] & 0xff;
            assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 2, 4, 1, 0, 0, 0, 98, 136, 110, 109, 110, 162, 135, 144, 149, 159, 167, 144, 158, 169, 119, 0}, row14);
        }
    }

    @Test
    void fashionMnistTrainingLabelsWithLimit() throws IOException {
        assumeTrue(Files.isDirectory(FASHION), "dataset-fashion-mnist is not installed");
        try (Tensor first = IdxReader.readLabels(FASHION.resolve("train-labels-idx1-ubyte.gz"), 10);
                Tensor images = IdxReader.readImages(FASHION.resolve("train-images-idx3-ubyte.gz"), 4)) {
            assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, first.toIntArray());
            assertArrayEquals(new int[] {4, 28, 28, 1}, images.dims());
        }
    }
}
