package org.slim4j.io.convert;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slim4j.io.datasets.DatasetDescriptor;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.io.datasets.LabelsFile;
import org.slim4j.io.download.RemoteFile;
import org.slim4j.io.example.ExampleBuilder;
import org.slim4j.io.mnist.IdxReader;
import org.slim4j.tensor.Tensor;

/**
 * TF-Slim's {@code download_and_convert_mnist.py}, also for Fashion-MNIST (same IDX files, same
 * record format): each 28x28x1 image PNG-encoded into a tf.Example ({@code image/encoded},
 * {@code image/format = png}, {@code image/class/label}, {@code image/height = 28},
 * {@code image/width = 28}), in file order, into {@code <name>_train.tfrecord} and
 * {@code <name>_test.tfrecord}; then labels.txt. PNG encoding runs on worker threads, records are
 * written in order.
 */
public final class MnistConverter {
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    /** The four files, as downloaded ({@code .gz}). */
    public static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    /** TF-Slim's URL, then a mirror (the original site often refuses scripted downloads). */
    public static final List<String> MNIST_BASE_URLS = List.of("http://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/");
    public static final List<String> FASHION_MNIST_BASE_URLS = List.of("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");

    private MnistConverter() {
    }

    /** The published sizes and MD5 sums of the four .gz files. */
    public static List<RemoteFile> remoteFiles(DatasetDescriptor d, List<String> baseUrls) {
        boolean fashion = d.name().equals(Datasets.FASHION_MNIST.name());
        long[] sizes = fashion ? new long[] {26421880, 29515, 4422102, 5148} : new long[] {9912422, 28881, 1648877, 4542};
        String[] md5 = fashion
                ? new String[] {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                        "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"}
                : new String[] {"f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                        "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"};
        boolean official = baseUrls == null;
        List<String> bases = official ? (fashion ? FASHION_MNIST_BASE_URLS : MNIST_BASE_URLS) : baseUrls;
        List<RemoteFile> files = new ArrayList<>();
        for (int i = 0; i < FILES.size(); i++) {
            String name = FILES.get(i) + ".gz";
            List<URI> urls = new ArrayList<>();
            for (String b : bases) urls.add(URI.create(b.endsWith("/") ? b + name : b + "/" + name));
            // Sizes and sums are those of the official files; another source may compress differently.
            files.add(official ? new RemoteFile(name, urls, sizes[i], null, md5[i]) : new RemoteFile(name, urls, -1, null, null));
        }
        return files;
    }

    /** {@code NAME} or {@code NAME.gz} in {@code dir}, or null. */
    public static Path find(Path dir, String name) {
        for (String n : new String[] {name + ".gz", name}) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    /** Whether {@code dir} holds all four IDX files (plain or .gz). */
    public static boolean hasIdxFiles(Path dir) {
        return FILES.stream().allMatch(f -> find(dir, f) != null);
    }

    /**
     * Converts the IDX files in {@code idxDir} into {@code outDir}: both splits and labels.txt.
     *
     * @param d {@link Datasets#MNIST} or {@link Datasets#FASHION_MNIST}: output names and class names
     */
    public static List<ConvertedFile> convert(DatasetDescriptor d, Path idxDir, Path outDir, int threads, PrintStream log) throws IOException {
        for (String f : FILES) {
            if (find(idxDir, f) == null) {
                throw new java.nio.file.NoSuchFileException(idxDir.resolve(f + ".gz").toString(), null,
                        "missing " + d.name() + " file " + f + "[.gz] in " + idxDir + " (expected " + String.join(", ", FILES) + ")");
            }
        }
        Files.createDirectories(outDir);
        List<ConvertedFile> out = new ArrayList<>();
        try (OrderedParallel pool = new OrderedParallel(threads, "png-encode")) {
            out.add(convertSplit(d, "train", find(idxDir, TRAIN_IMAGES), find(idxDir, TRAIN_LABELS), outDir, pool, log));
            out.add(convertSplit(d, "test", find(idxDir, TEST_IMAGES), find(idxDir, TEST_LABELS), outDir, pool, log));
        }
        LabelsFile.write(LabelsFile.fromList(d.classNames()), outDir);
        return out;
    }

    private static ConvertedFile convertSplit(DatasetDescriptor d, String split, Path imagesFile, Path labelsFile, Path outDir,
                                              OrderedParallel pool, PrintStream log) throws IOException {
        Path target = outDir.resolve(d.patternFor(split));
        if (log != null) log.println("Extracting images from: " + imagesFile);
        try (Tensor images = IdxReader.readImages(imagesFile);
             Tensor labels = IdxReader.readLabels(labelsFile)) {
            int n = images.dim(0);
            if (labels.dim(0) != n) {
                throw new IOException(d.name() + " " + split + ": " + imagesFile + " holds " + n + " images but " + labelsFile + " holds " + labels.dim(0) + " labels");
            }
            int h = images.dim(1);
            int w = images.dim(2);
            int size = h * w;
            byte[] pixels = images.byteData();
            int base = images.offset();
            int[] label = labels.toIntArray();
            ConsoleCounter counter = new ConsoleCounter(log, ">> Converting image %d/%d", n);
            ConvertedFile f = RecordFiles.write(target, split, writer ->
                    pool.run(0, n, i -> ImageCodec.encodePng(pixels, base + i * size, h, w, 1), (i, png) -> {
                        writer.write(ExampleBuilder.image(png, "png", h, w, label[i]).toByteArray());
                        counter.step(i + 1);
                    }));
            counter.done();
            return f;
        }
    }
}
