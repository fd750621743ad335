package org.slim4j.tools.demo;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slim4j.io.mnist.IdxReader;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j demo}: trains {@link TinyConvNet} on (Fashion-)MNIST IDX files and reports loss and
 * accuracy, proving the engine learns end to end on real data.
 */
public final class DemoCommand implements Command {
    private final Flags flags = new Flags("demo");
    private final Flags.Flag<Path> datasetDir = flags.path("dataset_dir", Path.of("/usr/share/datasets/fashion-mnist"),
        "folder with MNIST-format files train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-*");
    private final Flags.Flag<Integer> numTrain = flags.integer("num_train", 4096, "training images used (the first N)");
    private final Flags.Flag<Integer> numTest = flags.integer("num_test", 10000, "test images evaluated at the end (0: none)");
    private final Flags.Flag<Integer> batchSize = flags.integer("batch_size", 64, "images per training step");
    private final Flags.Flag<Integer> maxSteps = flags.integer("max_number_of_steps", 400, "training steps");
    private final Flags.Flag<Double> learningRate = flags.decimal("learning_rate", 0.02, "SGD learning rate (momentum 0.9)");
    private final Flags.Flag<Integer> logEvery = flags.integer("log_every_n_steps", 25, "print loss and accuracy every N steps");
    private final Flags.Flag<Integer> seed = flags.integer("seed", 0, "initialisation and shuffling seed");

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String description() {
        return "train a small conv net on Fashion-MNIST and report loss and accuracy";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        if (numTrain.get() < 1) throw new UsageException("demo: invalid value '" + numTrain.get() + "' for flag --num_train: must be >= 1");
        if (batchSize.get() < 1) throw new UsageException("demo: invalid value '" + batchSize.get() + "' for flag --batch_size: must be >= 1");
        if (maxSteps.get() < 0) throw new UsageException("demo: invalid value '" + maxSteps.get() + "' for flag --max_number_of_steps: must be >= 0");
        if (logEvery.get() < 1) throw new UsageException("demo: invalid value '" + logEvery.get() + "' for flag --log_every_n_steps: must be >= 1");
        Path dir = datasetDir.get();
        try (Tensor trainImages = images(find(dir, "train-images-idx3-ubyte"), numTrain.get());
             Tensor trainLabels = IdxReader.readLabels(find(dir, "train-labels-idx1-ubyte"), numTrain.get());
             TinyConvNet net = new TinyConvNet(trainImages.dim(1), trainImages.dim(2), 1, 10, seed.get())) {
            int n = trainImages.dim(0);
            int batch = Math.min(batchSize.get(), n);
            out.printf("demo: %d training images %s from %s, batch %d, %d steps%n", n, trainImages.shape(), dir, batch, maxSteps.get());
            long start = System.nanoTime();
            double lossSum = 0;
            double accSum = 0;
            int since = 0;
            for (int step = 1; step <= maxSteps.get(); step++) {
                int first = (int) (((long) (step - 1) * batch) % (n - batch + 1));
                try (TensorScope scope = TensorScope.open()) {
                    TinyConvNet.StepResult r = net.trainStep(trainImages.slice0(first, first + batch),
                        trainLabels.slice0(first, first + batch), learningRate.get());
                    lossSum += r.loss();
                    accSum += r.accuracy();
                    since++;
                }
                if (step % logEvery.get() == 0 || step == maxSteps.get()) {
                    double secs = (System.nanoTime() - start) / 1e9;
                    out.printf("step %5d/%d  loss %.4f  batch accuracy %.3f  %.0f images/s%n",
                        step, maxSteps.get(), lossSum / since, accSum / since, step * (double) batch / secs);
                    lossSum = 0;
                    accSum = 0;
                    since = 0;
                }
            }
            TinyConvNet.StepResult train = evaluate(net, trainImages, trainLabels);
            out.printf("train: loss %.4f  accuracy %.4f  (%d images)%n", train.loss(), train.accuracy(), n);
            if (numTest.get() > 0) {
                try (Tensor testImages = images(find(dir, "t10k-images-idx3-ubyte"), numTest.get());
                     Tensor testLabels = IdxReader.readLabels(find(dir, "t10k-labels-idx1-ubyte"), numTest.get())) {
                    TinyConvNet.StepResult test = evaluate(net, testImages, testLabels);
                    out.printf("test:  loss %.4f  accuracy %.4f  (%d held-out images)%n", test.loss(), test.accuracy(), testImages.dim(0));
                }
            }
        }
        return Main.EXIT_OK;
    }

    /** Evaluates in batches of 500 so memory stays flat. */
    static TinyConvNet.StepResult evaluate(TinyConvNet net, Tensor images, Tensor labels) {
        int n = images.dim(0);
        double loss = 0;
        double acc = 0;
        for (int i = 0; i < n; i += 500) {
            int end = Math.min(n, i + 500);
            try (TensorScope scope = TensorScope.open()) {
                TinyConvNet.StepResult r = net.evaluate(images.slice0(i, end), labels.slice0(i, end));
                loss += r.loss() * (end - i);
                acc += r.accuracy() * (end - i);
            }
        }
        return new TinyConvNet.StepResult(loss / n, acc / n);
    }

    /** uint8 [N, H, W, 1] pixels as float32 in [0, 1]. */
    static Tensor images(Path file, int limit) throws java.io.IOException {
        try (Tensor raw = IdxReader.readImages(file, limit)) {
            double[] v = raw.toDoubleArray();
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) f[i] = (float) (v[i] / 255.0);
            return Tensor.of(f, raw.dims());
        }
    }

    /** NAME or NAME.gz in dir, with an error that says what is missing. */
    static Path find(Path dir, String name) throws UsageException {
        if (!Files.isDirectory(dir)) {
            throw new UsageException("demo: invalid value '" + dir + "' for flag --dataset_dir: not a folder"
                + " (on Debian: apt-get install dataset-fashion-mnist)");
        }
        for (String candidate : new String[] {name, name + ".gz"}) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) return p;
        }
        throw new UsageException("demo: --dataset_dir=" + dir + " has neither " + name + " nor " + name + ".gz");
    }

}
