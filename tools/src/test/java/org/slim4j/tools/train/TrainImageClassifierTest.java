package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.checkpoint.BundleWriter;
import org.slim4j.io.checkpoint.CheckpointEntry;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.checkpoint.CheckpointState;
import org.slim4j.io.proto.Event;
import org.slim4j.io.proto.Summary;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.kernels.FrozenWeights;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tools.Main;

/**
 * train_image_classifier and eval_image_classifier end to end on small Fashion-MNIST subsets with
 * LeNet: learning, checkpoints and their TF names, exact resume, fine-tuning rules, divergence,
 * summaries, evaluation with and without moving averages.
 */
class TrainImageClassifierTest {
    @TempDir
    static Path shared;
    static Path data10;
    static Path data5;
    /** A run of 60 steps on data10, shared by the tests that need a trained checkpoint. */
    static Path trained;
    static Run trainedRun;

    record Run(int status, String out, String err) {
        String all() {
            return out + err;
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static String[] train(Path data, String dataset, Path trainDir, String... extra) {
        List<String> a = new ArrayList<>(List.of("train_image_classifier", "--dataset_name=" + dataset, "--dataset_dir=" + data,
            "--train_dir=" + trainDir, "--model_name=lenet", "--num_readers=2", "--num_preprocessing_threads=2",
            "--save_interval_secs=0", "--weight_decay=0.0005"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @BeforeAll
    static void data() {
        data10 = SmallFashionMnist.create(shared.resolve("d10"), "fmnist_small", 1000, 300, 10);
        data5 = SmallFashionMnist.create(shared.resolve("d5"), "fmnist_five", 400, 100, 5);
        trained = shared.resolve("trained");
        trainedRun = run(train(data10, "fmnist_small", trained, "--max_number_of_steps=60", "--batch_size=32", "--optimizer=momentum",
            "--learning_rate=0.01", "--learning_rate_decay_type=fixed", "--seed=7", "--moving_average_decay=0.99", "--weight_decay=0.00001",
            "--save_summaries_secs=1", "--log_every_n_steps=10"));
    }

    private static List<Double> loggedLosses(String out) {
        List<Double> losses = new ArrayList<>();
        Matcher m = Pattern.compile("global step \\d+: loss = ([0-9.]+)").matcher(out);
        while (m.find()) losses.add(Double.parseDouble(m.group(1)));
        return losses;
    }

    private static double accuracy(Run eval) {
        Matcher m = Pattern.compile("eval/Accuracy\\[([0-9.]+)]").matcher(eval.out());
        assertTrue(m.find(), eval.all());
        return Double.parseDouble(m.group(1));
    }

    private static Run eval(Path checkpoint, Path data, String dataset, Path evalDir, String... extra) {
        List<String> a = new ArrayList<>(List.of("eval_image_classifier", "--checkpoint_path=" + checkpoint, "--eval_dir=" + evalDir,
            "--dataset_name=" + dataset, "--dataset_dir=" + data, "--model_name=lenet", "--batch_size=50", "--num_preprocessing_threads=2"));
        a.addAll(List.of(extra));
        return run(a.toArray(new String[0]));
    }

    @Test
    void shortTrainingReducesTheLossAndEvaluationShowsIt() throws IOException {
        assertEquals(Main.EXIT_OK, trainedRun.status(), trainedRun.all());
        List<Double> losses = loggedLosses(trainedRun.out());
        assertEquals(6, losses.size(), trainedRun.out());
        double first = losses.get(0);
        double last = (losses.get(4) + losses.get(5)) / 2;
        assertTrue(last < 0.7 * first, "loss should fall: " + losses);
        assertTrue(Files.isRegularFile(CheckpointReader.indexFile(trained.resolve("model.ckpt-0"))));
        assertEquals(trained.resolve("model.ckpt-60"), CheckpointState.latestCheckpoint(trained));

        Run before = eval(trained.resolve("model.ckpt-0"), data10, "fmnist_small", shared.resolve("eval0"));
        Run after = eval(trained, data10, "fmnist_small", shared.resolve("eval60"));
        assertEquals(Main.EXIT_OK, after.status(), after.all());
        assertTrue(after.out().contains("global step 60"), after.out());
        assertTrue(accuracy(before) < 0.4, before.out());
        assertTrue(accuracy(after) > 0.6, after.out());
        assertTrue(after.out().contains("on 300 images"), after.out());
        // Frozen weights (the default: packed / transformed once per evaluation) give the same numbers
        // as packing them again for every batch, and are let go afterwards.
        assertEquals(0, FrozenWeights.preparedFloats());
        Run repacked = eval(trained, data10, "fmnist_small", shared.resolve("eval60plain"), "--noprepack_weights");
        assertEquals(Main.EXIT_OK, repacked.status(), repacked.all());
        assertEquals(accuracy(after), accuracy(repacked));
        assertTrue(repacked.out().contains(after.out().lines().filter(l -> l.startsWith("eval/Recall_5")).findFirst().orElseThrow()),
            repacked.out());
    }

    @Test
    void checkpointsHoldTfNamesGlobalStepSlotsAndMovingAverages() throws IOException {
        assertEquals(Main.EXIT_OK, trainedRun.status(), trainedRun.all());
        try (CheckpointReader r = CheckpointReader.open(trained.resolve("model.ckpt-60"))) {
            Set<String> names = new LinkedHashSet<>();
            for (CheckpointEntry e : r.entries()) names.add(e.name());
            for (String v : List.of("LeNet/conv1/weights", "LeNet/conv1/biases", "LeNet/conv2/weights", "LeNet/fc3/weights", "LeNet/fc4/biases")) {
                assertTrue(names.contains(v), v + " in " + names);
                assertTrue(names.contains(v + "/Momentum"), v + "/Momentum in " + names);
                assertTrue(names.contains(v + "/ExponentialMovingAverage"), v + " EMA in " + names);
            }
            assertEquals(60, Trainer.readLong(r, "global_step"));
            assertEquals(7, Trainer.readLong(r, Trainer.SEED_TENSOR));
            assertEquals(8 * 3 + 3, names.size(), names.toString());
        }
    }

    /** EMA: after the first step, shadow = d w0 + (1 - d) w1 with d = min(decay, 1/10). */
    @Test
    void movingAveragesFollowTfsNumUpdatesRule() throws IOException {
        Path dir = shared.resolve("ema");
        Run r = run(train(data10, "fmnist_small", dir, "--max_number_of_steps=1", "--batch_size=8", "--optimizer=sgd", "--seed=3",
            "--moving_average_decay=0.9999", "--save_summaries_secs=0"));
        assertEquals(Main.EXIT_OK, r.status(), r.all());
        try (CheckpointReader c0 = CheckpointReader.open(dir.resolve("model.ckpt-0"));
             CheckpointReader c1 = CheckpointReader.open(dir.resolve("model.ckpt-1"));
             Tensor w0 = c0.read("LeNet/fc4/weights"); Tensor w1 = c1.read("LeNet/fc4/weights");
             Tensor s1 = c1.read("LeNet/fc4/weights/ExponentialMovingAverage")) {
            float[] a = w0.toFloatArray();
            float[] b = w1.toFloatArray();
            float[] s = s1.toFloatArray();
            assertFalse(Arrays.equals(a, b), "the step changed the weights");
            double d = 0.1;
            for (int i = 0; i < a.length; i++) assertEquals(d * a[i] + (1 - d) * b[i], s[i], 1e-6);
        }
    }

    /** Train 6 steps at once, or 3 then resume for 3 more: identical checkpoints (weights, slots, EMA, step). */
    @Test
    void resumedRunContinuesExactlyAsIfNeverStopped() throws IOException {
        String[] common = {"--batch_size=16", "--num_clones=2", "--optimizer=rmsprop", "--learning_rate=0.01",
            "--learning_rate_decay_type=exponential", "--num_epochs_per_decay=0.05", "--moving_average_decay=0.999",
            "--label_smoothing=0.1", "--save_summaries_secs=0", "--log_every_n_steps=1"};
        Path straight = shared.resolve("straight");
        Path split = shared.resolve("split");
        Run a = run(concat(train(data10, "fmnist_small", straight, "--max_number_of_steps=6", "--seed=11"), common));
        assertEquals(Main.EXIT_OK, a.status(), a.all());
        Run b1 = run(concat(train(data10, "fmnist_small", split, "--max_number_of_steps=3", "--seed=11"), common));
        assertEquals(Main.EXIT_OK, b1.status(), b1.all());
        // No --seed on resume: the run's seed comes from the checkpoint.
        Run b2 = run(concat(train(data10, "fmnist_small", split, "--max_number_of_steps=6"), common));
        assertEquals(Main.EXIT_OK, b2.status(), b2.all());
        assertTrue(b2.out().contains("resuming from " + split.resolve("model.ckpt-3") + " at global step 3"), b2.out());
        assertEquals(loggedLosses(a.out()).subList(3, 6), loggedLosses(b2.out()), "the resumed steps see the same data and weights");
        assertSameCheckpoint(straight.resolve("model.ckpt-6"), split.resolve("model.ckpt-6"));

        Path other = shared.resolve("otherseed");
        Run c = run(concat(train(data10, "fmnist_small", other, "--max_number_of_steps=6", "--seed=12"), common));
        assertEquals(Main.EXIT_OK, c.status(), c.all());
        try (CheckpointReader x = CheckpointReader.open(straight.resolve("model.ckpt-6"));
             CheckpointReader y = CheckpointReader.open(other.resolve("model.ckpt-6"))) {
            assertFalse(Arrays.equals(x.readBytes("LeNet/conv1/weights"), y.readBytes("LeNet/conv1/weights")), "another seed, other weights");
        }

        Run again = run(concat(train(data10, "fmnist_small", split, "--max_number_of_steps=6"), common));
        assertEquals(Main.EXIT_OK, again.status(), again.all());
        assertTrue(again.out().contains("already reached --max_number_of_steps=6"), again.out());
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static void assertSameCheckpoint(Path x, Path y) throws IOException {
        try (CheckpointReader a = CheckpointReader.open(x); CheckpointReader b = CheckpointReader.open(y)) {
            assertEquals(a.entries(), b.entries());
            for (CheckpointEntry e : a.entries()) {
                assertArrayEquals(a.readBytes(e.name()), b.readBytes(e.name()), e.name() + " differs between " + x + " and " + y);
            }
        }
    }

    /** Fine-tuning on 5 classes from the 10-class run: only the excluded, trained logits change. */
    @Test
    void fineTuningRestoresAllButTheExcludedScopeAndTrainsOnlyTheLogits() throws IOException {
        assertEquals(Main.EXIT_OK, trainedRun.status(), trainedRun.all());
        Path dir = shared.resolve("finetune");
        Run r = run(train(data5, "fmnist_five", dir, "--max_number_of_steps=5", "--batch_size=16", "--optimizer=sgd",
            "--learning_rate=0.05", "--checkpoint_path=" + trained, "--checkpoint_exclude_scopes=LeNet/fc4",
            "--trainable_scopes=LeNet/fc4", "--seed=5", "--save_summaries_secs=0"));
        assertEquals(Main.EXIT_OK, r.status(), r.all());
        assertTrue(r.out().contains("Fine-tuning from " + trained.resolve("model.ckpt-60")), r.out());
        assertTrue(r.out().contains("restored 6 variables"), r.out());
        assertTrue(r.out().contains("excluded (--checkpoint_exclude_scopes): LeNet/fc4/weights"), r.out());
        assertTrue(r.out().contains("2 of 8 trainable variables trained"), r.out());
        try (CheckpointReader src = CheckpointReader.open(trained.resolve("model.ckpt-60"));
             CheckpointReader start = CheckpointReader.open(dir.resolve("model.ckpt-0"));
             CheckpointReader end = CheckpointReader.open(dir.resolve("model.ckpt-5"))) {
            for (String v : List.of("LeNet/conv1/weights", "LeNet/conv1/biases", "LeNet/conv2/weights", "LeNet/conv2/biases",
                "LeNet/fc3/weights", "LeNet/fc3/biases")) {
                assertArrayEquals(src.readBytes(v), end.readBytes(v), v + " must be restored and frozen");
            }
            assertArrayEquals(new long[] {1024, 5}, end.entry("LeNet/fc4/weights").dims());
            assertFalse(Arrays.equals(start.readBytes("LeNet/fc4/weights"), end.readBytes("LeNet/fc4/weights")), "logits trained");
            assertFalse(end.contains("LeNet/conv1/weights/Momentum"));
        }

        // Restarting with a checkpoint in train_dir resumes and ignores --checkpoint_path.
        Run again = run(train(data5, "fmnist_five", dir, "--max_number_of_steps=6", "--batch_size=16", "--optimizer=sgd",
            "--learning_rate=0.05", "--checkpoint_path=" + trained, "--checkpoint_exclude_scopes=LeNet/fc4",
            "--trainable_scopes=LeNet/fc4", "--save_summaries_secs=0"));
        assertEquals(Main.EXIT_OK, again.status(), again.all());
        assertTrue(again.out().contains("Ignoring --checkpoint_path because a checkpoint already exists in " + dir), again.out());
        assertFalse(again.out().contains("Fine-tuning from"), again.out());
    }

    @Test
    void classCountMismatchSaysWhatToDo() {
        assertEquals(Main.EXIT_OK, trainedRun.status(), trainedRun.all());
        Path dir = shared.resolve("mismatch");
        Run r = run(train(data5, "fmnist_five", dir, "--max_number_of_steps=1", "--batch_size=8", "--checkpoint_path=" + trained));
        assertEquals(Main.EXIT_FAILURE, r.status(), r.all());
        assertTrue(r.err().contains("shape mismatch for LeNet/fc4/weights: the checkpoint has shape [1024, 10], the network has [1024, 5]"), r.err());
        assertTrue(r.err().contains("shape mismatch for LeNet/fc4/biases"), r.err());
        assertTrue(r.err().contains("--checkpoint_exclude_scopes=LeNet/fc4"), r.err());
        assertFalse(Files.exists(dir.resolve("checkpoint")), "nothing trained or saved");
    }

    @Test
    void missingVariablesAreAnErrorUnlessIgnored() throws IOException {
        Path partial = shared.resolve("partial").resolve("model.ckpt-1");
        try (BundleWriter w = new BundleWriter(partial); Tensor conv1 = Tensor.zeros(5, 5, 1, 32)) {
            w.add("LeNet/conv1/weights", conv1);
            w.finish();
        }
        Path dir = shared.resolve("missing");
        Run r = run(train(data10, "fmnist_small", dir, "--max_number_of_steps=1", "--batch_size=8", "--checkpoint_path=" + partial));
        assertEquals(Main.EXIT_FAILURE, r.status(), r.all());
        assertTrue(r.err().contains("7 variables are missing in checkpoint"), r.err());
        assertTrue(r.err().contains("LeNet/fc3/weights") && r.err().contains("--ignore_missing_vars"), r.err());

        Run ok = run(train(data10, "fmnist_small", dir, "--max_number_of_steps=1", "--batch_size=8", "--checkpoint_path=" + partial,
            "--ignore_missing_vars", "--save_summaries_secs=0"));
        assertEquals(Main.EXIT_OK, ok.status(), ok.all());
        assertTrue(ok.out().contains("restored 1 variables"), ok.out());
        assertTrue(ok.out().contains("missing in checkpoint (--ignore_missing_vars), left at its initial value: LeNet/fc3/weights"), ok.out());
        try (CheckpointReader c = CheckpointReader.open(dir.resolve("model.ckpt-0"))) {
            for (float v : c.read("LeNet/conv1/weights").toFloatArray()) assertEquals(0f, v);
        }
    }

    @Test
    void aDivergingLossStopsNamingTheStepAndKeepsTheLastCheckpoint() throws IOException {
        Path dir = shared.resolve("nan");
        Run r = run(train(data10, "fmnist_small", dir, "--max_number_of_steps=50", "--batch_size=8", "--optimizer=sgd",
            "--learning_rate=1e12", "--learning_rate_decay_type=fixed", "--save_summaries_secs=0", "--seed=1"));
        assertEquals(Main.EXIT_FAILURE, r.status(), r.all());
        Matcher m = Pattern.compile("the loss is (NaN|\\+inf|-inf) at global step (\\d+)").matcher(r.err());
        assertTrue(m.find(), r.err());
        assertTrue(Integer.parseInt(m.group(2)) >= 1, r.err());
        assertTrue(r.err().contains("The last good checkpoint, " + dir.resolve("model.ckpt-0") + ", is intact"), r.err());
        assertEquals(dir.resolve("model.ckpt-0"), CheckpointState.latestCheckpoint(dir));
    }

    @Test
    void summariesCarryTfSlimsTags() throws IOException {
        assertEquals(Main.EXIT_OK, trainedRun.status(), trainedRun.all());
        Path events;
        try (Stream<Path> s = Files.list(trained)) {
            events = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).findFirst().orElseThrow();
        }
        Set<String> tags = new LinkedHashSet<>();
        boolean header = false;
        List<Long> lossSteps = new ArrayList<>();
        try (TfRecordReader reader = TfRecordReader.open(events, TfRecordReader.Options.defaults())) {
            TfRecord rec;
            while ((rec = reader.next()) != null) {
                Event e = Event.parseFrom(rec.data());
                if (e.getFileVersion().equals("brain.Event:2")) header = true;
                for (Summary.Value v : e.getSummary().getValueList()) {
                    tags.add(v.getTag());
                    if (v.getTag().equals("total_loss")) lossSteps.add(e.getStep());
                }
            }
        }
        assertTrue(header, "file_version event");
        for (String t : List.of("total_loss", "learning_rate", "losses/softmax_cross_entropy_loss/value", "Losses/clone_loss",
            "Losses/regularization_loss", "activations/conv1", "sparsity/conv1", "activations/Logits", "sparsity/Predictions",
            "LeNet/conv1/weights", "LeNet/fc4/biases", "input_images/image/0")) {
            assertTrue(tags.contains(t), t + " in " + tags);
        }
        assertEquals(0L, lossSteps.get(0), "the first step is summarised");
    }

    @Test
    void evaluationOfMovingAveragesNeedsTheShadows() throws IOException {
        assertEquals(Main.EXIT_OK, trainedRun.status(), trainedRun.all());
        Run ema = eval(trained, data10, "fmnist_small", shared.resolve("evalema"), "--moving_average_decay=0.99", "--max_num_batches=2");
        assertEquals(Main.EXIT_OK, ema.status(), ema.all());
        assertTrue(ema.out().contains("moving averages") && ema.out().contains("on 100 images"), ema.out());

        Path plain = shared.resolve("plain");
        Run t = run(train(data10, "fmnist_small", plain, "--max_number_of_steps=1", "--batch_size=8", "--save_summaries_secs=0"));
        assertEquals(Main.EXIT_OK, t.status(), t.all());
        Run bad = eval(plain, data10, "fmnist_small", shared.resolve("evalbad"), "--moving_average_decay=0.99", "--max_num_batches=1");
        assertEquals(Main.EXIT_FAILURE, bad.status(), bad.all());
        assertTrue(bad.err().contains("LeNet/conv1/weights/ExponentialMovingAverage") && bad.err().contains("trained with --moving_average_decay"),
            bad.err());

        // Summaries of the evaluation, at the checkpoint's global step.
        Path evalDir = shared.resolve("evalema");
        Path events;
        try (Stream<Path> s = Files.list(evalDir)) {
            events = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).findFirst().orElseThrow();
        }
        List<String> got = new ArrayList<>();
        try (TfRecordReader reader = TfRecordReader.open(events, TfRecordReader.Options.defaults())) {
            TfRecord rec;
            while ((rec = reader.next()) != null) {
                Event e = Event.parseFrom(rec.data());
                for (Summary.Value v : e.getSummary().getValueList()) got.add(v.getTag() + "@" + e.getStep());
            }
        }
        assertEquals(List.of("eval/Accuracy@60", "eval/Recall_5@60"), got);
    }

    @Test
    void evaluationLoopEvaluatesEachNewCheckpointOnceUntilTimeout() {
        assertEquals(Main.EXIT_OK, trainedRun.status(), trainedRun.all());
        Run r = eval(trained, data10, "fmnist_small", shared.resolve("evalloop"), "--eval_interval_secs=1", "--eval_timeout_secs=2",
            "--max_num_batches=1");
        assertEquals(Main.EXIT_OK, r.status(), r.all());
        assertEquals(1, r.out().split("eval/Accuracy\\[", -1).length - 1, r.out());
        assertTrue(r.out().contains("Evaluating " + trained.resolve("model.ckpt-60")), r.out());
        assertTrue(r.out().contains("no new checkpoint for 2 s"), r.out());
        Run file = eval(trained.resolve("model.ckpt-60"), data10, "fmnist_small", shared.resolve("evalloop"), "--eval_interval_secs=1");
        assertEquals(Main.EXIT_USAGE, file.status(), file.all());
        assertTrue(file.err().contains("needs --checkpoint_path to be a directory"), file.err());
    }

    @Test
    void inProcessTrainingReleasesAllItsMemory() {
        Path dir = shared.resolve("memory");
        long before = CpuDevice.INSTANCE.liveBytes();
        Run r = run(train(data10, "fmnist_small", dir, "--max_number_of_steps=2", "--batch_size=8", "--optimizer=adam",
            "--moving_average_decay=0.9", "--save_summaries_secs=1", "--seed=2"));
        assertEquals(Main.EXIT_OK, r.status(), r.all());
        assertEquals(before, CpuDevice.INSTANCE.liveBytes(), "tensors left allocated");
        assertNotEquals(-1, r.out().indexOf("finished at global step 2"));
    }
}
