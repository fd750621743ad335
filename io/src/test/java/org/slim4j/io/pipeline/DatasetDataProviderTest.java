package org.slim4j.io.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetDescriptor;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.io.example.ExampleBuilder;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.preprocessing.PreprocessingFactory;
import org.slim4j.io.tfrecord.TfRecordWriter;
import org.slim4j.tensor.CpuDevice;

class DatasetDataProviderTest {
    static final int H = 6;
    static final int W = 5;
    static final DatasetDescriptor SHAPES = new DatasetDescriptor("shapes", "shapes_%s_*.rec", Map.of("train", 17L), 10, "png",
            new int[] {H, W, 3}, 3, null, false, null, null);

    @TempDir
    Path dir;
    long liveAtStart;

    @BeforeEach
    void recordMemory() {
        liveAtStart = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noTensorLeft() {
        assertEquals(liveAtStart, CpuDevice.INSTANCE.liveBytes(), "tensors left open");
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("slim4j-reader") || t.getName().startsWith("slim4j-preprocess")
                    || t.getName().startsWith("slim4j-mixer") || t.getName().startsWith("slim4j-batcher")) {
                assertFalse(t.isAlive(), t.getName() + " still running");
            }
        }
    }

    /** The pixels of record i: its index in the first two channels of pixel (0, 0), the rest a pattern. */
    static byte[] pixels(int i) {
        byte[] px = new byte[H * W * 3];
        for (int k = 0; k < px.length; k++) px[k] = (byte) (i * 3 + k * 7);
        px[0] = (byte) (i & 0xff);
        px[1] = (byte) (i >> 8);
        return px;
    }

    static byte[] record(int i) {
        return ExampleBuilder.image(ImageEncoder.png(pixels(i), 0, H, W, 3), "png", H, W, i % 10).toByteArray();
    }

    /** Shards with the given record counts; record numbers run on across shards. */
    List<Path> shards(int... counts) throws IOException {
        List<Path> files = new ArrayList<>();
        int next = 0;
        for (int s = 0; s < counts.length; s++) {
            Path p = dir.resolve(String.format("shapes_train_%05d-of-%05d.rec", s, counts.length));
            try (TfRecordWriter w = TfRecordWriter.create(p)) {
                for (int k = 0; k < counts[s]; k++) w.write(record(next++));
            }
            files.add(p);
        }
        return files;
    }

    Dataset dataset(List<Path> files) {
        return new Dataset(SHAPES, "train", dir, files, 17, null);
    }

    /** Record numbers of a batch, read back from the pixels, after checking every pixel and label. */
    static int[] ids(Batch b) {
        int n = b.size();
        assertArrayEquals(new int[] {n, H, W, 3}, b.images().dims());
        float[] img = b.images().floatData();
        int[] labels = b.labels().toIntArray();
        int[] ids = new int[n];
        int per = H * W * 3;
        for (int j = 0; j < n; j++) {
            int o = b.images().offset() + j * per;
            int id = (int) img[o] + 256 * (int) img[o + 1];
            ids[j] = id;
            byte[] want = pixels(id);
            for (int k = 0; k < per; k++) assertEquals(want[k] & 0xff, img[o + k], 0f, "pixel " + k + " of record " + id);
            assertEquals(id % 10, labels[j], "label of record " + id);
        }
        return ids;
    }

    static List<Integer> drain(DatasetDataProvider p) throws IOException {
        List<Integer> all = new ArrayList<>();
        for (Batch b = p.next(); b != null; b = p.next()) {
            try (Batch batch = b) {
                for (int id : ids(batch)) all.add(id);
            }
        }
        return all;
    }

    @Test
    void inFileOrderWithoutShuffle() throws IOException {
        List<Path> files = shards(10, 7, 0);
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(files)).numReaders(1).shuffle(false).numEpochs(1)
                .batchSize(4).numThreads(3).allowSmallerFinalBatch(true).build()) {
            List<Integer> ids = drain(p);
            List<Integer> want = new ArrayList<>();
            for (int i = 0; i < 17; i++) want.add(i);
            assertEquals(want, ids);
            assertEquals(5, p.batchesDelivered());
            assertNull(p.next(), "stays finished");
        }
    }

    @Test
    void epochsCoverEveryRecordAndTheRemainderIsDropped() throws IOException {
        List<Path> files = shards(6, 6, 5);
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(files)).numReaders(2).numEpochs(3).batchSize(5)
                .numThreads(3).commonQueue(20, 8).seed(3).build()) {
            List<Integer> ids = drain(p);
            assertEquals(50, ids.size(), "51 records, batches of 5, the last one dropped");
        }
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(files)).numReaders(2).numEpochs(3).batchSize(5)
                .numThreads(3).commonQueue(20, 8).seed(3).allowSmallerFinalBatch(true).build()) {
            List<Integer> ids = drain(p);
            int[] count = new int[17];
            for (int id : ids) count[id]++;
            int[] three = new int[17];
            Arrays.fill(three, 3);
            assertArrayEquals(three, count);
            List<Integer> firstEpochOrder = ids.subList(0, 17);
            List<Integer> sorted = new ArrayList<>(firstEpochOrder);
            sorted.sort(null);
            assertNotEquals(sorted, firstEpochOrder, "shuffled");
        }
    }

    private List<int[]> firstBatches(Dataset d, long seed, int readers, int threads, boolean preprocess, int n) throws IOException {
        DatasetDataProvider.Builder b = DatasetDataProvider.builder(d).numReaders(readers).numThreads(threads).seed(seed)
                .batchSize(4).commonQueue(12, 6);
        if (preprocess) b.preprocessing(PreprocessingFactory.get("inception", true), 8, 7);
        List<int[]> out = new ArrayList<>();
        try (DatasetDataProvider p = b.build()) {
            for (int i = 0; i < n; i++) {
                try (Batch batch = p.next()) {
                    float[] px = batch.images().toFloatArray();
                    int[] bits = new int[px.length + batch.size()];
                    for (int k = 0; k < px.length; k++) bits[k] = Float.floatToIntBits(px[k]);
                    int[] labels = batch.labels().toIntArray();
                    System.arraycopy(labels, 0, bits, px.length, labels.length);
                    if (!preprocess) ids(batch);
                    out.add(bits);
                }
            }
        }
        return out;
    }

    @Test
    void aSeedGivesTheSameBatchesWhateverTheThreads() throws IOException {
        Dataset d = dataset(shards(5, 4, 6, 2));
        List<int[]> a = firstBatches(d, 11, 3, 1, false, 12);
        List<int[]> b = firstBatches(d, 11, 3, 4, false, 12);
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i), "batch " + i);
        List<int[]> c = firstBatches(d, 12, 3, 4, false, 12);
        boolean differs = false;
        for (int i = 0; i < a.size(); i++) differs |= !Arrays.equals(a.get(i), c.get(i));
        assertTrue(differs, "another seed, another order");
        // Random preprocessing (inception training: crops, flips, colour) too.
        List<int[]> p1 = firstBatches(d, 5, 2, 1, true, 6);
        List<int[]> p2 = firstBatches(d, 5, 2, 3, true, 6);
        for (int i = 0; i < p1.size(); i++) assertArrayEquals(p1.get(i), p2.get(i), "preprocessed batch " + i);
    }

    @Test
    void preprocessingGivesTheOutputSize() throws IOException {
        Dataset d = dataset(shards(9));
        try (DatasetDataProvider p = DatasetDataProvider.builder(d).numEpochs(1).batchSize(3).shuffle(false)
                .preprocessing(PreprocessingFactory.get("inception", false), 11, 9).labelsOffset(1).build()) {
            int n = 0;
            for (Batch b : p) {
                try (b) {
                    assertArrayEquals(new int[] {3, 11, 9, 3}, b.images().dims());
                    for (float v : b.images().toFloatArray()) assertTrue(v >= -1f && v <= 1f, "inception output in [-1, 1]");
                    int[] l = b.labels().toIntArray();
                    for (int j = 0; j < 3; j++) assertEquals((n + j) % 10 - 1, l[j], "labels_offset subtracted");
                    n += 3;
                }
            }
            assertEquals(9, n);
        }
    }

    @Test
    void corruptRecordFailsWithFileAndOffsetOrIsSkipped() throws IOException {
        List<Path> files = shards(4, 5);
        byte[] b = Files.readAllBytes(files.get(1));
        int rec = record(0).length + 16;
        b[2 * rec + 40] ^= 0x10; // inside the data of the third record of shard 1
        Files.write(files.get(1), b);
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(files)).numReaders(1).shuffle(false).numEpochs(1)
                .batchSize(2).build()) {
            IOException e = assertThrows(IOException.class, () -> drain(p));
            assertTrue(e.getMessage().contains(files.get(1).toString()) && e.getMessage().contains("byte offset " + 2 * rec)
                    && e.getMessage().contains("CRC"), e.getMessage());
        }
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(files)).numReaders(2).numEpochs(1).batchSize(2)
                .allowSmallerFinalBatch(true).skipCorruptRecords(true).log(new PrintStream(logBytes, true, StandardCharsets.UTF_8)).build()) {
            List<Integer> ids = drain(p);
            assertEquals(8, ids.size());
            assertFalse(ids.contains(6), "record 6 was the corrupt one");
            assertEquals(1, p.skippedRecords());
            assertTrue(logBytes.toString(StandardCharsets.UTF_8).contains("skipped corrupt data at byte offset " + 2 * rec));
        }
    }

    @Test
    void undecodableImageNamesFileAndRecordOrIsSkipped() throws IOException {
        Path f = dir.resolve("shapes_train_00000-of-00001.rec");
        try (TfRecordWriter w = TfRecordWriter.create(f)) {
            for (int i = 0; i < 6; i++) {
                if (i == 3) {
                    w.write(ExampleBuilder.image(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 1, 2, 3}, "jpeg", H, W, 3).toByteArray());
                } else if (i == 4) {
                    w.write(new byte[] {1, 2, 3}); // not an Example
                } else {
                    w.write(record(i));
                }
            }
        }
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(List.of(f))).numReaders(1).shuffle(false).numEpochs(1)
                .batchSize(1).numThreads(2).build()) {
            IOException e = assertThrows(IOException.class, () -> drain(p));
            assertTrue(e.getMessage().contains(f + " record 3") && e.getMessage().contains("undecodable image"), e.getMessage());
        }
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(List.of(f))).numReaders(1).shuffle(false).numEpochs(1)
                .batchSize(1).skipCorruptRecords(true).log(null).build()) {
            assertEquals(List.of(0, 1, 2, 5), drain(p));
            assertEquals(2, p.skippedRecords());
        }
    }

    @Test
    void closingEarlyStopsEverythingAndFreesMemory() throws IOException {
        Dataset d = dataset(shards(8, 8));
        DatasetDataProvider p = DatasetDataProvider.builder(d).numReaders(2).numThreads(3).batchSize(3).prefetchBatches(2).build();
        try (Batch b = p.next()) {
            assertEquals(3, b.size());
        }
        // Let the stages fill every queue, then stop them while they are blocked.
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        p.close();
        p.close();
        assertThrows(IllegalStateException.class, p::next);
    }

    @Test
    void emptyFilesEndAFiniteRunAndFailAnEndlessOne() throws IOException {
        List<Path> files = shards(0, 0);
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(files)).numEpochs(2).build()) {
            assertNull(p.next());
        }
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(files)).numReaders(3).build()) {
                IOException e = assertThrows(IOException.class, p::next);
                assertTrue(e.getMessage().contains("no readable records"), e.getMessage());
            }
        });
    }

    @Test
    void imagesOfDifferentSizesNeedAPreprocessing() throws IOException {
        Path f = dir.resolve("shapes_train_00000-of-00001.rec");
        try (TfRecordWriter w = TfRecordWriter.create(f)) {
            w.write(record(0));
            w.write(ExampleBuilder.image(ImageEncoder.png(new byte[4 * 4 * 3], 0, 4, 4, 3), "png", 4, 4, 1).toByteArray());
        }
        try (DatasetDataProvider p = DatasetDataProvider.builder(dataset(List.of(f))).shuffle(false).numEpochs(1).batchSize(2).build()) {
            IOException e = assertThrows(IOException.class, p::next);
            assertTrue(e.getMessage().contains(f + " record 1") && e.getMessage().contains("[4, 4, 3]"), e.getMessage());
        }
        Dataset flowers = new Dataset(Datasets.FLOWERS, "train", dir, List.of(f), 2, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetDataProvider.builder(flowers).build());
        assertTrue(e.getMessage().contains("varying size"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DatasetDataProvider.builder(dataset(List.of(f))).batchSize(0).build());
        assertThrows(IllegalArgumentException.class, () -> DatasetDataProvider.builder(dataset(List.of(f))).commonQueue(4, 4).build());
    }

    @Test
    void rawMnistStyleRecords() throws IOException {
        Path f = dir.resolve("mnist_train.tfrecord");
        try (TfRecordWriter w = TfRecordWriter.create(f)) {
            for (int i = 0; i < 3; i++) {
                byte[] raw = new byte[28 * 28];
                Arrays.fill(raw, (byte) (100 + i));
                w.write(new ExampleBuilder().bytes("image/encoded", raw).int64("image/class/label", i).toByteArray());
            }
        }
        Dataset d = new Dataset(Datasets.MNIST, "train", dir, List.of(f), 3, null);
        try (DatasetDataProvider p = DatasetDataProvider.builder(d).shuffle(false).numEpochs(1).batchSize(3).build();
             Batch b = p.next()) {
            assertArrayEquals(new int[] {3, 28, 28, 1}, b.images().dims());
            assertEquals(101f, b.images().floatData()[b.images().offset() + 784 + 5]);
            assertArrayEquals(new int[] {0, 1, 2}, b.labels().toIntArray());
        }
    }

    @Test
    void aCrashingStageIsReportedNotHung() throws IOException {
        Dataset d = dataset(shards(12));
        org.slim4j.io.preprocessing.ImagePreprocessor crashing = new org.slim4j.io.preprocessing.ImagePreprocessor() {
            @Override
            public org.slim4j.tensor.Tensor preprocess(org.slim4j.tensor.Tensor image, int h, int w, org.slim4j.tensor.SeededRandom rng, float[] boxes) {
                if (image.byteData()[image.offset()] == 5) throw new AssertionError("bug in a preprocessing");
                return PreprocessingFactory.get("lenet", false).preprocess(image, h, w, rng, boxes);
            }

            @Override
            public String name() {
                return "crashing";
            }

            @Override
            public boolean isTraining() {
                return false;
            }
        };
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (DatasetDataProvider p = DatasetDataProvider.builder(d).shuffle(false).numReaders(1).numEpochs(1).batchSize(2)
                    .prefetchBatches(1).preprocessing(crashing, H, W).build()) {
                IOException e = assertThrows(IOException.class, () -> {
                    for (Batch b = p.next(); b != null; b = p.next()) b.close();
                });
                assertTrue(e.getMessage().contains("slim4j-preprocess") && e.getMessage().contains("bug in a preprocessing"), e.getMessage());
            }
        });
    }
}
