package org.slim4j.io.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetFactoryTest {
    @TempDir
    Path dir;

    private void touch(String... names) throws IOException {
        for (String n : names) {
            Path p = dir.resolve(n);
            Files.createDirectories(p.getParent());
            Files.write(p, new byte[] {1});
        }
    }

    @Test
    void builtInDescriptorsAreTfSlims() {
        assertEquals(List.of("cifar10", "fashion_mnist", "flowers", "imagenet", "mnist"), DatasetFactory.names());
        DatasetDescriptor flowers = Datasets.FLOWERS;
        assertEquals("flowers_%s_*.tfrecord", flowers.filePattern());
        assertEquals(Map.of("train", 3320L, "validation", 350L), flowers.splits());
        assertEquals(5, flowers.numClasses());
        assertEquals("png", flowers.defaultFormat());
        assertEquals("cifar10_%s.tfrecord", Datasets.CIFAR10.filePattern());
        assertEquals(Map.of("train", 50000L, "test", 10000L), Datasets.CIFAR10.splits());
        assertArrayEquals(new int[] {32, 32, 3}, Datasets.CIFAR10.imageShape());
        assertEquals("mnist_%s.tfrecord", Datasets.MNIST.filePattern());
        assertEquals(Map.of("train", 60000L, "test", 10000L), Datasets.MNIST.splits());
        assertEquals("raw", Datasets.MNIST.defaultFormat());
        assertEquals(1, Datasets.MNIST.channels());
        assertEquals("size", Datasets.MNIST.classNames().get(6), "TF-Slim's typo for six is kept");
        assertEquals("fashion_mnist_%s.tfrecord", Datasets.FASHION_MNIST.filePattern());
        assertEquals("Ankle boot", Datasets.FASHION_MNIST.classNames().get(9));
        assertEquals("%s-*", Datasets.IMAGENET.filePattern());
        assertEquals(Map.of("train", 1281167L, "validation", 50000L), Datasets.IMAGENET.splits());
        assertEquals(1001, Datasets.IMAGENET.numClasses());
        assertEquals(-1L, Datasets.IMAGENET.labelDefault());
        assertTrue(Datasets.IMAGENET.hasObjectBoxes());
        assertEquals("jpeg", Datasets.IMAGENET.defaultFormat());
    }

    @Test
    void getFindsTheSplitsFilesSortedAndReadsLabels() throws IOException {
        touch("flowers_train_00001-of-00005.tfrecord", "flowers_train_00000-of-00005.tfrecord",
                "flowers_validation_00000-of-00005.tfrecord", ".flowers_train_00002-of-00005.tfrecord.123.tmp", "other.txt");
        LabelsFile.write(LabelsFile.fromList(List.of("daisy", "dandelion", "roses", "sunflowers", "tulips")), dir);
        Dataset d = DatasetFactory.get("flowers", "train", dir);
        assertEquals(List.of(dir.resolve("flowers_train_00000-of-00005.tfrecord"), dir.resolve("flowers_train_00001-of-00005.tfrecord")),
                d.dataSources());
        assertEquals(3320, d.numSamples());
        assertEquals(5, d.numClasses());
        assertEquals("tulips", d.labelsToNames().get(4));
        Dataset v = DatasetFactory.get("flowers", "validation", dir);
        assertEquals(1, v.dataSources().size());
        // TF-Slim's file_pattern override
        touch("custom_train.rec");
        assertEquals(List.of(dir.resolve("custom_train.rec")), DatasetFactory.get("flowers", "train", dir, "custom_%s.rec").dataSources());
    }

    @Test
    void imagenetPatternAndLabelsBuiltFromSynsets() throws IOException {
        touch("train-00000-of-00002", "train-00001-of-00002", "validation-00000-of-00001");
        Files.writeString(dir.resolve(ImagenetLabels.SYNSETS_FILENAME), "n01\nn02\n");
        Files.writeString(dir.resolve(ImagenetLabels.METADATA_FILENAME), "n00\tthing\nn02\tgoldfish, Carassius auratus\nn01\ttench\n");
        Dataset d = DatasetFactory.get("imagenet", "train", dir);
        assertEquals(2, d.dataSources().size());
        assertEquals(Map.of(0, "background", 1, "tench", 2, "goldfish, Carassius auratus"), d.labelsToNames());
        assertEquals("0:background\n1:tench\n2:goldfish, Carassius auratus\n", Files.readString(dir.resolve("labels.txt")));
    }

    @Test
    void errorsNameWhatIsWrong() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetFactory.get("mnits", "train", dir));
        assertTrue(e.getMessage().contains("unknown dataset 'mnits'") && e.getMessage().contains("cifar10, fashion_mnist, flowers, imagenet, mnist"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DatasetFactory.get("mnist", "validation", dir));
        assertTrue(e.getMessage().contains("no split 'validation'") && e.getMessage().contains("train, test"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DatasetFactory.get("mnist", "train", null));
        assertTrue(e.getMessage().contains("--dataset_dir is required"), e.getMessage());

        IOException io = assertThrows(IOException.class, () -> DatasetFactory.get("mnist", "train", dir.resolve("nope")));
        assertTrue(io.getMessage().contains("does not exist") && io.getMessage().contains("download_and_convert_data --dataset_name=mnist"),
                io.getMessage());
        io = assertThrows(IOException.class, () -> DatasetFactory.get("mnist", "train", dir));
        assertTrue(io.getMessage().contains("dataset_dir is empty"), io.getMessage());
        touch("mnist_test.tfrecord");
        io = assertThrows(IOException.class, () -> DatasetFactory.get("mnist", "train", dir));
        assertTrue(io.getMessage().contains("mnist_train.tfrecord") && io.getMessage().contains("no files for split 'train'"), io.getMessage());
        io = assertThrows(IOException.class, () -> DatasetFactory.get("imagenet", "train", dir));
        assertTrue(io.getMessage().contains("build_imagenet_data"), io.getMessage());
        Path file = dir.resolve("mnist_test.tfrecord");
        assertThrows(IOException.class, () -> DatasetFactory.get("mnist", "test", file));
    }

    @Test
    void customDatasetIsPickedUpByName() throws IOException {
        Files.writeString(dir.resolve("dataset.json"), """
                {"name": "shapes", "file_pattern": "shapes-%s-*.rec",
                 "splits": {"train": 12, "eval": 4},
                 "class_names": ["circle", "square", "triangle"],
                 "image_format": "png", "image_shape": [16, 16, 3],
                 "items_to_descriptions": {"image": "a shape"}}
                """);
        touch("shapes-train-0.rec", "shapes-train-1.rec", "shapes-eval-0.rec");
        Dataset d = DatasetFactory.get("shapes", "eval", dir);
        assertEquals(3, d.numClasses());
        assertEquals(4, d.numSamples());
        assertEquals(List.of(dir.resolve("shapes-eval-0.rec")), d.dataSources());
        assertArrayEquals(new int[] {16, 16, 3}, d.descriptor().imageShape());
        assertEquals(3, d.descriptor().channels());
        assertEquals(List.of("circle", "square", "triangle"), d.descriptor().classNames());
        assertNull(d.labelsToNames(), "no labels.txt in the folder");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetFactory.get("circles", "eval", dir));
        assertTrue(e.getMessage().contains("describes dataset 'shapes'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DatasetFactory.get("shapes", "train2", dir));
        assertTrue(e.getMessage().contains("train, eval"), e.getMessage());
        // built-in names win over a dataset.json
        assertEquals(Datasets.MNIST, DatasetFactory.descriptor("mnist", dir));
    }

    @Test
    void badCustomDescriptorsAreExplained() throws IOException {
        Path f = dir.resolve("dataset.json");
        String[][] cases = {
                {"{\"name\": \"x\", \"file_pattern\": \"x_%s\", \"splits\": {\"train\": 1}, \"num_classes\": 2, \"num_clases\": 3}", "unknown key 'num_clases'"},
                {"{\"name\": \"x\", \"splits\": {\"train\": 1}, \"num_classes\": 2}", "'file_pattern' is required"},
                {"{\"name\": \"x\", \"file_pattern\": \"x\", \"splits\": {\"train\": 1}, \"num_classes\": 2}", "exactly once"},
                {"{\"name\": \"x\", \"file_pattern\": \"x_%s\", \"splits\": {\"train\": -1}, \"num_classes\": 2}", "splits.train"},
                {"{\"name\": \"x\", \"file_pattern\": \"x_%s\", \"splits\": {}, \"num_classes\": 2}", "'splits'"},
                {"{\"name\": \"x\", \"file_pattern\": \"x_%s\", \"splits\": {\"train\": 1}}", "'num_classes' is required"},
                {"{\"name\": \"x\", \"file_pattern\": \"x_%s\", \"splits\": {\"train\": 1}, \"num_classes\": 3, \"class_names\": [\"a\"]}", "has 1 names"},
                {"{\"name\": \"x\", \"file_pattern\": \"x_%s\", \"splits\": {\"train\": 1}, \"num_classes\": 2, \"image_format\": \"raw\"}", "'image_shape' is required"},
                {"{\"name\": \"x\", \"file_pattern\": \"../x_%s\", \"splits\": {\"train\": 1}, \"num_classes\": 2}", "relative to the dataset folder"},
                {"{\"name\": \"x\", \"file_pattern\": ", "not valid JSON"},
                {"[1, 2]", "expected a JSON object"},
        };
        for (String[] c : cases) {
            Files.writeString(f, c[0]);
            IOException e = assertThrows(IOException.class, () -> DatasetFactory.descriptor("x", dir), c[0]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("dataset.json"), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void labelsFileRoundTripAndFormat() throws IOException {
        Map<Integer, String> labels = new java.util.LinkedHashMap<>();
        labels.put(0, "background");
        labels.put(7, "a: b, c");
        labels.put(3, "über");
        LabelsFile.write(labels, dir);
        assertEquals("0:background\n7:a: b, c\n3:über\n", Files.readString(dir.resolve("labels.txt")));
        assertEquals(labels, LabelsFile.read(dir));
        assertEquals(List.copyOf(labels.keySet()), List.copyOf(LabelsFile.read(dir).keySet()), "file order is kept");
        Files.writeString(dir.resolve("labels.txt"), "0:zero\r\n\n1:one\n");
        assertEquals(Map.of(0, "zero", 1, "one"), LabelsFile.read(dir));
        Files.writeString(dir.resolve("labels.txt"), "0:zero\nnocolon\n");
        IOException e = assertThrows(IOException.class, () -> LabelsFile.read(dir));
        assertTrue(e.getMessage().contains("labels.txt:2"), e.getMessage());
        Files.writeString(dir.resolve("labels.txt"), "x:zero\n");
        e = assertThrows(IOException.class, () -> LabelsFile.read(dir));
        assertTrue(e.getMessage().contains("not an integer"), e.getMessage());
    }

    @Test
    void globMatchesWildcardsWithinFolders() throws IOException {
        touch("a/part-1.rec", "a/part-2.rec", "b/part-1.rec", "part-9.rec");
        assertEquals(List.of(dir.resolve("a/part-1.rec"), dir.resolve("a/part-2.rec")), DatasetFactory.glob(dir, "a/part-*.rec"));
        assertEquals(List.of(dir.resolve("a/part-1.rec"), dir.resolve("b/part-1.rec")), DatasetFactory.glob(dir, "*/part-1.rec"));
        assertEquals(List.of(dir.resolve("part-9.rec")), DatasetFactory.glob(dir, "part-?.rec"));
        assertEquals(List.of(), DatasetFactory.glob(dir, "missing/part-*.rec"));
    }
}
