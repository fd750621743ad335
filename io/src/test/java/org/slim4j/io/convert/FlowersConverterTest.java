package org.slim4j.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetFactory;
import org.slim4j.io.example.ExampleFeatures;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

class FlowersConverterTest {
    @TempDir
    Path tmp;

    static byte[] jpeg(int h, int w, int seed) {
        try (Tensor t = Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(h, w, 3), 0, 255);
             Tensor u = t.cast(DType.UINT8)) {
            return ImageEncoder.jpeg(u, 90);
        }
    }

    /** flower_photos with 3 classes of 5 photos: photo k of class c is (10 + c) x (12 + k) pixels. */
    static Path photos(Path root) throws IOException {
        Path fp = root.resolve("flower_photos");
        String[] classes = {"tulips", "daisy", "roses"};
        for (int c = 0; c < classes.length; c++) {
            Path d = fp.resolve(classes[c]);
            Files.createDirectories(d);
            for (int k = 0; k < 5; k++) Files.write(d.resolve("p" + k + ".jpg"), jpeg(10 + c, 12 + k, c * 10 + k));
        }
        Files.writeString(fp.resolve("LICENSE.txt"), "photos by ...");
        return root;
    }

    @Test
    void splitsShardsAndLabelsAsTfSlim() throws IOException {
        Path src = photos(tmp.resolve("src"));
        Path out = tmp.resolve("flowers");
        List<ConvertedFile> files = FlowersConverter.convert(src, out, 4, 2, false, null);
        // Sorted photo list: daisy p0..p4, roses p0..p4, tulips p0..p4; CPython's random.seed(0); random.shuffle(range(15)):
        int[] order = {1, 10, 9, 5, 11, 2, 3, 7, 8, 4, 0, 14, 12, 6, 13};
        String[] sortedClasses = {"daisy", "roses", "tulips"};
        List<String> expected = new ArrayList<>();
        for (int i : order) expected.add(sortedClasses[i / 5] + "/p" + (i % 5) + ".jpg");
        List<String> validation = expected.subList(0, 4);
        List<String> train = expected.subList(4, 15);

        assertEquals(10, files.size());
        List<String> names = new ArrayList<>();
        for (ConvertedFile f : files) names.add(f.path().getFileName().toString());
        assertEquals("flowers_train_00000-of-00005.tfrecord", names.get(0));
        assertEquals("flowers_validation_00004-of-00005.tfrecord", names.get(9));
        // train: 11 photos, ceil(11/5) = 3 per shard → 3, 3, 3, 2, 0; validation: 4 → 1, 1, 1, 1, 0
        assertEquals(List.of(3L, 3L, 3L, 2L, 0L, 1L, 1L, 1L, 1L, 0L), files.stream().map(ConvertedFile::records).toList());
        assertEquals("0:daisy\n1:roses\n2:tulips\n", Files.readString(out.resolve("labels.txt")));

        Map<String, Integer> classId = new HashMap<>(Map.of("daisy", 0, "roses", 1, "tulips", 2));
        List<String> seenTrain = new ArrayList<>();
        List<String> seenValidation = new ArrayList<>();
        for (ConvertedFile f : files) {
            for (TfRecord r : TfRecordReader.readAll(f.path())) {
                ExampleFeatures ex = ExampleFeatures.parse(r, f.path());
                assertEquals("jpg", ex.string("image/format"));
                long label = ex.int64("image/class/label");
                int h = (int) ex.int64("image/height");
                int w = (int) ex.int64("image/width");
                String cls = sortedClasses[(int) label];
                int k = w - 12;
                assertEquals(10 + List.of("tulips", "daisy", "roses").indexOf(cls), h, "height identifies the class folder");
                String name = cls + "/p" + k + ".jpg";
                assertArrayEquals(Files.readAllBytes(src.resolve("flower_photos").resolve(name)), ex.bytes("image/encoded"), "bytes stored as they are");
                assertEquals(classId.get(cls), (int) label);
                (f.split().equals("train") ? seenTrain : seenValidation).add(name);
            }
        }
        assertEquals(train, seenTrain);
        assertEquals(validation, seenValidation);
        // The descriptor finds the 5 shards of each split.
        Dataset d = DatasetFactory.get("flowers", "validation", out);
        assertEquals(5, d.dataSources().size());
        assertEquals("tulips", d.labelsToNames().get(2));
    }

    @Test
    void undecodablePhotoIsNamedOrSkipped() throws IOException {
        Path src = photos(tmp.resolve("src"));
        Path bad = src.resolve("flower_photos/roses/p2.jpg");
        byte[] b = Files.readAllBytes(bad);
        Files.write(bad, java.util.Arrays.copyOf(b, 40));
        IOException e = assertThrows(IOException.class, () -> FlowersConverter.convert(src, tmp.resolve("o"), 4, 2, false, null));
        assertTrue(e.getMessage().contains("roses/p2.jpg") && e.getMessage().contains("undecodable"), e.getMessage());
        // Shards finished before the failure are complete; the one being written was abandoned, not left truncated.
        int[] full = {3, 3, 3, 2, 0};
        for (int s = 0; s < 5; s++) {
            Path shard = FlowersConverter.shardPath(tmp.resolve("o"), "train", s);
            if (Files.exists(shard)) assertEquals(full[s], TfRecordReader.readAll(shard).size(), shard.toString());
        }
        assertTrue(!Files.exists(FlowersConverter.shardPath(tmp.resolve("o"), "train", 4)), "the run stopped before the last shard");
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        List<ConvertedFile> files = FlowersConverter.convert(src, tmp.resolve("o2"), 4, 2, true,
                new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        assertEquals(14, files.stream().mapToLong(ConvertedFile::records).sum());
        assertTrue(logBytes.toString(StandardCharsets.UTF_8).contains("skipping " + bad), logBytes.toString(StandardCharsets.UTF_8));
        IOException none = assertThrows(IOException.class, () -> FlowersConverter.convert(tmp.resolve("src/flower_photos/roses"), tmp.resolve("o3"), 4, 1, false, null));
        assertTrue(none.getMessage().contains("no flower_photos"), none.getMessage());
    }
}
