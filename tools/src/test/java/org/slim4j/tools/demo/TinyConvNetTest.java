package org.slim4j.tools.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.slim4j.io.mnist.IdxReader;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tools.Main;

/** The foundation's proof that slim4j learns: a tiny conv net fits 64 real Fashion-MNIST images. */
class TinyConvNetTest {
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    @Test
    void fitsAFixedBatchOfRealImages() throws Exception {
        long liveBefore = CpuDevice.INSTANCE.liveBytes();
        double first;
        double last;
        try (Tensor images = DemoCommand.images(DemoCommand.find(FASHION, "train-images-idx3-ubyte"), 64);
             Tensor labels = IdxReader.readLabels(DemoCommand.find(FASHION, "train-labels-idx1-ubyte"), 64);
             TinyConvNet net = new TinyConvNet(28, 28, 1, 10, 1)) {
            first = net.evaluate(images, labels).loss();
            TinyConvNet.StepResult r = null;
            for (int step = 0; step < 150; step++) {
                r = net.trainStep(images, labels, 0.02);
                if (step > 20 && r.accuracy() >= 0.99) break;
            }
            TinyConvNet.StepResult end = net.evaluate(images, labels);
            last = end.loss();
            assertTrue(end.accuracy() >= 0.95, "train accuracy " + end.accuracy() + " after training (last step " + r + ")");
        }
        assertTrue(last < first / 5, "loss fell from " + first + " to " + last);
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "memory left allocated after the net was closed");
    }

    @Test
    void demoCommandPrintsLossAndAccuracy() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"demo", "--dataset_dir=" + FASHION, "--num_train=256", "--num_test=200",
            "--max_number_of_steps=20", "--log_every_n_steps=10"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, text + err.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("step    20/20  loss "), text);
        assertTrue(text.contains("test:  loss "), text);
    }

    @Test
    void missingDatasetIsAUsageErrorNamingTheFlag() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"demo", "--dataset_dir=/nonexistent/fm"}, new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(Main.EXIT_USAGE, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--dataset_dir"), err.toString(StandardCharsets.UTF_8));
    }
}
