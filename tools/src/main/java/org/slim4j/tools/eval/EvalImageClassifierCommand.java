package org.slim4j.tools.eval;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.checkpoint.CheckpointState;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetFactory;
import org.slim4j.io.events.EventFileWriter;
import org.slim4j.io.pipeline.Batch;
import org.slim4j.io.pipeline.DatasetDataProvider;
import org.slim4j.io.preprocessing.ImagePreprocessor;
import org.slim4j.io.preprocessing.PreprocessingFactory;
import org.slim4j.kernels.FrozenWeights;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.NetOutput;
import org.slim4j.nets.NetworkFn;
import org.slim4j.nets.Nets;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tools.Command;
import org.slim4j.tools.DeviceFlags;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;
import org.slim4j.tools.train.CheckpointRestorer;
import org.slim4j.tools.train.FlagParsers;
import org.slim4j.tools.train.NetRunner;
import org.slim4j.tools.train.StopSignal;
import org.slim4j.tools.train.TrainStep;

/**
 * {@code slim4j eval_image_classifier}: TF-Slim's {@code eval_image_classifier.py} with its flags.
 * Restores a checkpoint (a file/prefix, or a directory's latest) into the network built for
 * inference (with {@code --moving_average_decay}: the {@code <var>/ExponentialMovingAverage}
 * shadows), runs {@code max_num_batches} batches (default: ceil(num_samples / batch_size), cycling
 * over the split as TF's queue does) without shuffling or augmentation, and reports
 * {@code Accuracy} (argmax of the logits = label) and {@code Recall_5} (label among the 5 largest
 * logits, TF's in_top_k), printed as TF-Slim prints them ({@code eval/Accuracy[0.9123]}) and written
 * as summaries {@code eval/Accuracy}, {@code eval/Recall_5} to eval_dir at the checkpoint's global
 * step. {@code --device=cuda} runs the network on the GPU (the batch is uploaded, the logits read
 * back). With {@code --eval_interval_secs} it keeps evaluating each new checkpoint of a directory, as
 * slim.evaluation.evaluation_loop does.
 */
public final class EvalImageClassifierCommand implements Command {
    private final Flags flags = new Flags("eval_image_classifier");

    final Flags.Flag<Integer> batchSize = flags.integer("batch_size", 100, "The number of samples in each batch.");
    final Flags.Flag<Long> maxNumBatches = flags.define("max_num_batches", "int", null, FlagParsers.nonNegativeLong(),
        "Max number of batches to evaluate by default use all.");
    final Flags.Flag<String> master = flags.string("master", "", "The address of the TensorFlow master to use (only \"\" is accepted).");
    final Flags.Flag<Path> checkpointPath = flags.path("checkpoint_path", Path.of("/tmp/tfmodel/"),
        "The directory where the model was written to or an absolute path to a checkpoint file.");
    final Flags.Flag<Path> evalDir = flags.path("eval_dir", Path.of("/tmp/tfmodel/"), "Directory where the results are saved to.");
    final Flags.Flag<Integer> numPreprocessingThreads = flags.integer("num_preprocessing_threads", 4, "The number of threads used to create the batches.");
    final Flags.Flag<String> datasetName = flags.string("dataset_name", "imagenet", "The name of the dataset to load.");
    final Flags.Flag<String> datasetSplitName = flags.string("dataset_split_name", "test", "The name of the train/test split.");
    final Flags.Flag<Path> datasetDir = flags.path("dataset_dir", null, "The directory where the dataset files are stored.");
    final Flags.Flag<Integer> labelsOffset = flags.integer("labels_offset", 0,
        "An offset for the labels in the dataset. This flag is primarily used to evaluate the VGG and ResNet architectures which do not use a background class for the ImageNet dataset.");
    final Flags.Flag<String> modelName = flags.string("model_name", "inception_v3", "The name of the architecture to evaluate.");
    final Flags.Flag<String> preprocessingName = flags.define("preprocessing_name", "string", null, Function.identity(),
        "The name of the preprocessing to use. If left as `None`, then the model_name flag is used.");
    final Flags.Flag<Double> movingAverageDecay = flags.define("moving_average_decay", "float", null, FlagParsers.positiveFraction(),
        "The decay to use for the moving average. If left as None, then moving averages are not used.");
    final Flags.Flag<Integer> evalImageSize = flags.define("eval_image_size", "int", null, FlagParsers.positiveInt(), "Eval image size");
    final Flags.Flag<Boolean> quantize = flags.bool("quantize", false, "whether to use quantized graph or not (not supported).");
    final Flags.Flag<Boolean> useGrayscale = flags.bool("use_grayscale", false, "Whether to convert input images to grayscale.");
    final Flags.Flag<Boolean> prepackWeights = flags.bool("prepack_weights", true,
        "slim4j, cpu: freeze the restored weights during an evaluation, so each layer packs or Winograd-transforms its weights"
        + " once instead of on every batch (costs about the weights' size in memory again)");
    // slim4j
    final DeviceFlags devices = new DeviceFlags(flags, "evaluate");
    final Flags.Flag<Integer> evalIntervalSecs = flags.define("eval_interval_secs", "int", null, FlagParsers.positiveInt(),
        "slim4j (slim.evaluation.evaluation_loop): evaluate every new checkpoint in --checkpoint_path (a directory),"
            + " at most one evaluation per this many seconds; none: evaluate once");
    final Flags.Flag<Integer> maxNumberOfEvaluations = flags.define("max_number_of_evaluations", "int", null, FlagParsers.positiveInt(),
        "slim4j: with --eval_interval_secs, stop after this many evaluations (none: keep going)");
    final Flags.Flag<Integer> evalTimeoutSecs = flags.define("eval_timeout_secs", "int", null, FlagParsers.positiveInt(),
        "slim4j: with --eval_interval_secs, stop when no new checkpoint appears for this many seconds (none: wait forever)");

    /** What one evaluation found. */
    public record Result(Path checkpoint, long globalStep, long images, double accuracy, double recall5) {
    }

    private NetworkFn fn;
    private Dataset dataset;
    private ImagePreprocessor preprocessor;
    private int numClasses;
    private int imageSize;
    private int channels;
    /** One event file per run in eval_dir, as the evaluation loop's summary writer. */
    private EventFileWriter summaryWriter;
    /** Where the network runs (opened once per command run). */
    private Device device;

    @Override
    public String name() {
        return "eval_image_classifier";
    }

    @Override
    public String description() {
        return "evaluate a checkpoint's Accuracy and Recall_5 on a dataset split (TF-Slim's eval_image_classifier.py)";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    private void validate() throws UsageException {
        String c = name() + ": ";
        if (datasetDir.get() == null) throw new UsageException(c + "You must supply the dataset directory with --dataset_dir");
        if (!master.get().isEmpty()) throw new UsageException(c + "--master is not supported: slim4j evaluates in this process (leave it empty)");
        if (quantize.get()) throw new UsageException(c + "--quantize is not supported");
        if (batchSize.get() < 1) throw bad("batch_size", batchSize.get(), "must be >= 1");
        if (numPreprocessingThreads.get() < 1) throw bad("num_preprocessing_threads", numPreprocessingThreads.get(), "must be >= 1");
        if (labelsOffset.get() < 0) throw bad("labels_offset", labelsOffset.get(), "must be >= 0");
        devices.validate(name());
    }

    private UsageException bad(String flag, Object value, String why) {
        return new UsageException(name() + ": invalid value '" + value + "' for flag --" + flag + ": " + why);
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        validate();
        device = devices.open(name());
        resolveSetup();
        Path path = checkpointPath.get();
        if (evalIntervalSecs.get() != null && !Files.isDirectory(path)) {
            throw new UsageException(name() + ": --eval_interval_secs needs --checkpoint_path to be a directory, got " + path);
        }
        try {
            if (evalIntervalSecs.get() == null) {
                evaluate(latest(path), out);
                return Main.EXIT_OK;
            }
            return evaluationLoop(path, out, err);
        } finally {
            if (summaryWriter != null) summaryWriter.close();
        }
    }

    private void resolveSetup() throws IOException, UsageException {
        String cmd = name() + ": ";
        try {
            fn = Nets.get(modelName.get());
            dataset = DatasetFactory.get(datasetName.get(), datasetSplitName.get(), datasetDir.get());
        } catch (IllegalArgumentException e) {
            throw new UsageException(cmd + e.getMessage());
        }
        String pp = preprocessingName.get() != null ? preprocessingName.get() : modelName.get();
        try {
            preprocessor = PreprocessingFactory.get(pp, false);
        } catch (IllegalArgumentException e) {
            throw new UsageException(cmd + e.getMessage() + (preprocessingName.get() == null ? " (set --preprocessing_name)" : ""));
        }
        numClasses = dataset.numClasses() - labelsOffset.get();
        if (numClasses < 1) throw new UsageException(cmd + "--labels_offset=" + labelsOffset.get() + " leaves no classes");
        imageSize = evalImageSize.get() != null ? evalImageSize.get() : fn.defaultImageSize();
        channels = NetRunner.imageChannels(dataset, fn, useGrayscale.get());
    }

    /** A directory's latest checkpoint (tf.train.latest_checkpoint), else the path itself. */
    private static Path latest(Path path) throws IOException {
        if (!Files.isDirectory(path)) return path;
        Path p = CheckpointState.latestCheckpoint(path);
        if (p == null) throw new IOException("no checkpoint found in " + path + " (it has no 'checkpoint' state file naming an existing checkpoint)");
        return p;
    }

    /** slim.evaluation.evaluation_loop: each new checkpoint once, at most one evaluation per interval. */
    private int evaluationLoop(Path dir, PrintStream out, PrintStream err) throws Exception {
        long interval = evalIntervalSecs.get() * 1000L;
        Path last = null;
        int done = 0;
        try (StopSignal stop = StopSignal.install(err)) {
            while (!stop.requested()) {
                long waitStart = System.currentTimeMillis();
                Path next = null;
                out.println("waiting for a new checkpoint in " + dir + " ...");
                while (!stop.requested()) {
                    Path p = CheckpointState.latestCheckpoint(dir);
                    if (p != null && !p.equals(last)) {
                        next = p;
                        break;
                    }
                    if (evalTimeoutSecs.get() != null && System.currentTimeMillis() - waitStart >= evalTimeoutSecs.get() * 1000L) {
                        out.println("no new checkpoint for " + evalTimeoutSecs.get() + " s: stopping (--eval_timeout_secs)");
                        return Main.EXIT_OK;
                    }
                    Thread.sleep(1000);
                }
                if (next == null) break;
                long start = System.currentTimeMillis();
                evaluate(next, out);
                last = next;
                done++;
                if (maxNumberOfEvaluations.get() != null && done >= maxNumberOfEvaluations.get()) return Main.EXIT_OK;
                long sleep = start + interval - System.currentTimeMillis();
                while (sleep > 0 && !stop.requested()) {
                    Thread.sleep(Math.min(sleep, 500));
                    sleep = start + interval - System.currentTimeMillis();
                }
            }
            return stop.requested() ? stop.exitStatus() : Main.EXIT_OK;
        }
    }

    /** Evaluates one checkpoint: prints and writes eval/Accuracy and eval/Recall_5. */
    Result evaluate(Path checkpoint, PrintStream out) throws IOException {
        long t0 = System.nanoTime();
        try (VariableStore store = new VariableStore(0, device); CheckpointReader reader = CheckpointReader.open(checkpoint)) {
            NetRunner.createVariables(fn, store, numClasses, 0.0, imageSize, imageSize, channels, false);
            boolean ema = movingAverageDecay.get() != null;
            Map<String, Tensor> vars = new LinkedHashMap<>();
            for (Variable v : store.variables()) vars.put(v.name(), v.value());
            UnaryOperator<String> names = ema ? CheckpointRestorer::movingAverageName : UnaryOperator.identity();
            try {
                CheckpointRestorer.restore(reader, vars, List.of(), false, names);
            } catch (CheckpointRestorer.RestoreException e) {
                throw new IOException("cannot evaluate " + reader.path() + ": " + e.getMessage()
                    + (ema ? "\n(--moving_average_decay restores the <var>" + CheckpointRestorer.MOVING_AVERAGE_SUFFIX
                    + " shadows: was the model trained with --moving_average_decay?)" : ""), e);
            }
            long globalStep = reader.contains("global_step") ? readLong(reader, "global_step") : 0;
            long batches = maxNumBatches.get() != null ? maxNumBatches.get()
                : (dataset.numSamples() + batchSize.get() - 1) / batchSize.get();
            out.printf("Evaluating %s (global step %d%s) on %s/%s: %d batches of %d%n", reader.path(), globalStep,
                ema ? ", moving averages" : "", dataset.name(), dataset.split(), batches, batchSize.get());
            StreamingMetrics metrics = new StreamingMetrics(5);
            try (DatasetDataProvider provider = DatasetDataProvider.builder(dataset)
                .numReaders(1)
                .shuffle(false)
                .commonQueue(2 * batchSize.get(), batchSize.get())
                .batchSize(batchSize.get())
                .numThreads(numPreprocessingThreads.get())
                .preprocessing(preprocessor, imageSize, imageSize)
                .labelsOffset(labelsOffset.get())
                .build();
                 GradMode.Guard g = GradMode.noGrad();
                 FrozenWeights frozen = prepackWeights.get() ? FrozenWeights.freeze(vars.values()) : null) {
                for (long b = 0; b < batches; b++) {
                    try (Batch batch = provider.next(); TensorScope scope = TensorScope.open()) {
                        if (batch == null) break;
                        Tensor images = useGrayscale.get() ? NetRunner.toGrayscale(batch.images()) : batch.images();
                        NetOutput net = NetRunner.forward(fn, store, numClasses, 0.0, Var.constant(TrainStep.onDevice(images, device)), false, 0);
                        int[] labels = batch.labels().toIntArray();
                        for (int l : labels) {
                            if (l < 0 || l >= numClasses) {
                                throw new IllegalArgumentException("label " + l + " (after --labels_offset=" + labelsOffset.get()
                                    + ") is outside the network's " + numClasses + " classes");
                            }
                        }
                        metrics.add(net.logits().value().toFloatArray(), labels, numClasses);
                    }
                }
            }
            Result r = new Result(reader.path(), globalStep, metrics.count(), metrics.accuracy(), metrics.recallAtK());
            if (summaryWriter == null) summaryWriter = EventFileWriter.create(evalDir.get());
            summaryWriter.scalar(globalStep, "eval/Accuracy", r.accuracy());
            summaryWriter.scalar(globalStep, "eval/Recall_5", r.recall5());
            summaryWriter.flush();
            out.printf(Locale.ROOT, "eval/Accuracy[%.4f]%n", r.accuracy());
            out.printf(Locale.ROOT, "eval/Recall_5[%.4f]%n", r.recall5());
            out.printf(Locale.ROOT, "Accuracy %.2f%%, Recall_5 %.2f%% on %d images in %.1f s; summaries in %s%n", 100 * r.accuracy(),
                100 * r.recall5(), r.images(), (System.nanoTime() - t0) / 1e9, evalDir.get());
            return r;
        }
    }

    private static long readLong(CheckpointReader reader, String name) throws IOException {
        try (Tensor t = reader.read(name)) {
            if (t.dtype().isFloating() || t.numel() != 1) return 0;
            return t.toLongArray()[0];
        }
    }
}
