package org.slim4j.tools.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetFactory;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.pipeline.Batch;
import org.slim4j.io.pipeline.DatasetDataProvider;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tools.Main;

class DataCommandsTest {
    @TempDir
    Path tmp;

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void idx(Path dir, String prefix, int n) throws IOException {
        Files.createDirectories(dir);
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte.gz"))))) {
            o.writeInt(0x803);
            o.writeInt(n);
            o.writeInt(28);
            o.writeInt(28);
            for (int i = 0; i < n * 784; i++) o.write(i * 13);
        }
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte.gz"))))) {
            o.writeInt(0x801);
            o.writeInt(n);
            for (int i = 0; i < n; i++) o.write(i % 10);
        }
    }

    @Test
    void downloadAndConvertDataFromALocalSourceThenTrainingReadsIt() throws IOException {
        Path src = tmp.resolve("src");
        idx(src, "train", 40);
        idx(src, "t10k", 12);
        Path out = tmp.resolve("fm");
        Run r = run("download_and_convert_data", "--dataset_name=fashion_mnist", "--dataset_dir=" + out, "--source=" + src);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("verified: 52 records read back from 2 files"), r.out());
        assertEquals(40, TfRecordReader.count(out.resolve("fashion_mnist_train.tfrecord"), TfRecordReader.Options.defaults()));
        assertTrue(Files.readString(out.resolve("labels.txt")).startsWith("0:T-shirt/top\n1:Trouser\n"));
        Dataset d = DatasetFactory.get("fashion_mnist", "train", out);
        try (DatasetDataProvider p = DatasetDataProvider.builder(d).numEpochs(1).batchSize(8).shuffle(false).build();
             Batch b = p.next()) {
            assertEquals(8, b.size());
            assertEquals(3, b.labels().toIntArray()[3]);
        }
        Run again = run("download_and_convert_data", "--dataset_name=fashion_mnist", "--dataset_dir=" + out, "--source=" + src);
        assertEquals(0, again.status());
        assertTrue(again.out().contains("Dataset files already exist"), again.out());
    }

    @Test
    void downloadAndConvertDataUsageErrors() throws IOException {
        Run r = run("download_and_convert_data", "--dataset_name=imagenette", "--dataset_dir=" + tmp);
        assertEquals(Main.EXIT_USAGE, r.status());
        assertTrue(r.err().contains("expected one of mnist, fashion_mnist, cifar10, flowers"), r.err());
        r = run("download_and_convert_data", "--dataset_name=mnist");
        assertEquals(Main.EXIT_USAGE, r.status());
        assertTrue(r.err().contains("--dataset_dir is required"), r.err());
        r = run("download_and_convert_data", "--dataset_name=mnist", "--dataset_dir=" + tmp.resolve("o"), "--source=" + tmp.resolve("nothing"));
        assertEquals(Main.EXIT_FAILURE, r.status());
        assertTrue(r.err().contains("nothing") && r.err().contains("does not exist"), r.err());
        Files.createDirectories(tmp.resolve("empty"));
        r = run("download_and_convert_data", "--dataset_name=mnist", "--dataset_dir=" + tmp.resolve("o"), "--source=" + tmp.resolve("empty"));
        assertEquals(Main.EXIT_FAILURE, r.status());
        assertTrue(r.err().contains("no mnist IDX files"), r.err());
        Run help = run("download_and_convert_data", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--source=<string>") && help.out().contains("--[no]skip_corrupt_records"), help.out());
    }

    @Test
    void buildImagenetData() throws IOException {
        Path root = tmp.resolve("in");
        Files.createDirectories(root.resolve("train/n01"));
        Files.createDirectories(root.resolve("train/n02"));
        byte[] img = ImageEncoder.png(new byte[4 * 5 * 3], 0, 4, 5, 3);
        byte[] jpeg;
        try (org.slim4j.tensor.Tensor t = org.slim4j.tensor.Tensor.ofBytes(new byte[4 * 5 * 3], 4, 5, 3)) {
            jpeg = ImageEncoder.jpeg(t, 95);
        }
        for (int i = 0; i < 3; i++) Files.write(root.resolve("train/n01/n01_" + i + ".JPEG"), jpeg);
        Files.write(root.resolve("train/n02/n02_0.JPEG"), img);
        Files.writeString(root.resolve("synsets.txt"), "n01\nn02\n");
        Files.writeString(root.resolve("meta.txt"), "n01\tone\nn02\ttwo\n");
        Path out = tmp.resolve("out");
        Run r = run("build_imagenet_data", "--train_directory=" + root.resolve("train"), "--validation_directory=",
                "--output_directory=" + out, "--train_shards=2", "--num_threads=2", "--labels_file=" + root.resolve("synsets.txt"),
                "--imagenet_metadata_file=" + root.resolve("meta.txt"), "--bounding_box_file=");
        assertEquals(0, r.status(), r.err() + r.out());
        assertTrue(r.out().contains("wrote 4 records"), r.out());
        assertTrue(Files.exists(out.resolve("train-00000-of-00002")) && Files.exists(out.resolve("train-00001-of-00002")));
        assertEquals("0:background\n1:one\n2:two\n", Files.readString(out.resolve("labels.txt")));
        Run bad = run("build_imagenet_data", "--num_threads=3", "--output_directory=" + out);
        assertEquals(Main.EXIT_USAGE, bad.status());
        assertTrue(bad.err().contains("must divide"), bad.err());
    }

    @Test
    void commandsAreListed() {
        Run r = run("help");
        assertTrue(r.out().contains("download_and_convert_data") && r.out().contains("build_imagenet_data"), r.out());
    }
}
