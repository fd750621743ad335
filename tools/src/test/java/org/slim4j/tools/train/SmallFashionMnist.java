package org.slim4j.tools.train;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.slim4j.io.convert.MnistConverter;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.io.mnist.IdxReader;
import org.slim4j.tensor.Tensor;

/**
 * Small Fashion-MNIST subsets for the training tests: the first images of Debian's
 * dataset-fashion-mnist files, converted with the real converter, and described by a dataset.json
 * (so the split sizes are the subset's). Tests are skipped where the package is not installed.
 */
final class SmallFashionMnist {
    static final Path SOURCE = Path.of("/usr/share/datasets/fashion-mnist");

    private SmallFashionMnist() {
    }

    static void assumeAvailable() {
        Assumptions.assumeTrue(Files.isRegularFile(SOURCE.resolve("train-images-idx3-ubyte.gz")),
            "needs " + SOURCE + " (apt-get install dataset-fashion-mnist)");
    }

    /**
     * Writes dataset {@code name} into {@code dir}: {@code train} training and {@code test} test
     * images, keeping only labels below {@code classes} (10 = all).
     */
    static Path create(Path dir, String name, int train, int test, int classes) {
        assumeAvailable();
        try {
            Path idx = dir.resolve("idx");
            Files.createDirectories(idx);
            int nTrain = subset(SOURCE.resolve("train-images-idx3-ubyte.gz"), SOURCE.resolve("train-labels-idx1-ubyte.gz"),
                idx.resolve(MnistConverter.TRAIN_IMAGES), idx.resolve(MnistConverter.TRAIN_LABELS), train, classes);
            int nTest = subset(SOURCE.resolve("t10k-images-idx3-ubyte.gz"), SOURCE.resolve("t10k-labels-idx1-ubyte.gz"),
                idx.resolve(MnistConverter.TEST_IMAGES), idx.resolve(MnistConverter.TEST_LABELS), test, classes);
            Path out = dir.resolve(name);
            MnistConverter.convert(Datasets.FASHION_MNIST, idx, out, 2, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            Files.deleteIfExists(out.resolve("labels.txt")); // ten names; the json gives the count
            Files.writeString(out.resolve("dataset.json"), """
                {"name": "%s", "file_pattern": "fashion_mnist_%%s.tfrecord", "splits": {"train": %d, "test": %d},
                 "num_classes": %d, "image_format": "png", "image_shape": [28, 28, 1], "channels": 1}
                """.formatted(name, nTrain, nTest, classes));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the first {@code n} images with a label below {@code classes} into plain IDX files; returns how many. */
    private static int subset(Path images, Path labels, Path imagesOut, Path labelsOut, int n, int classes) throws IOException {
        try (Tensor img = IdxReader.readImages(images, classes == 10 ? n : 6 * n); Tensor lab = IdxReader.readLabels(labels, classes == 10 ? n : 6 * n)) {
            byte[] px = img.byteData();
            int size = img.dim(1) * img.dim(2);
            int[] l = lab.toIntArray();
            ByteArrayOutputStream imgBytes = new ByteArrayOutputStream();
            ByteArrayOutputStream labBytes = new ByteArrayOutputStream();
            int kept = 0;
            for (int i = 0; i < l.length && kept < n; i++) {
                if (l[i] >= classes) continue;
                imgBytes.write(px, img.offset() + i * size, size);
                labBytes.write(l[i]);
                kept++;
            }
            try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(imagesOut))) {
                o.writeInt(IdxReader.IMAGES_MAGIC);
                o.writeInt(kept);
                o.writeInt(img.dim(1));
                o.writeInt(img.dim(2));
                imgBytes.writeTo(o);
            }
            try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(labelsOut))) {
                o.writeInt(IdxReader.LABELS_MAGIC);
                o.writeInt(kept);
                labBytes.writeTo(o);
            }
            return kept;
        }
    }
}
