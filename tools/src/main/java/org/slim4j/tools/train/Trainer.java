package org.slim4j.tools.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.optim.LearningRateSchedule;
import org.slim4j.autograd.optim.LossScaler;
import org.slim4j.autograd.optim.Optimizer;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOutOfMemoryError;
import org.slim4j.cuda.CudaRuntime;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.checkpoint.CheckpointSaver;
import org.slim4j.io.checkpoint.CheckpointState;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetFactory;
import org.slim4j.io.download.Progress;
import org.slim4j.io.pipeline.Batch;
import org.slim4j.io.pipeline.DatasetDataProvider;
import org.slim4j.io.preprocessing.ImagePreprocessor;
import org.slim4j.io.preprocessing.PreprocessingFactory;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.NetworkFn;
import org.slim4j.nets.Nets;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tools.DeviceFlags;
import org.slim4j.tools.Devices;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * The training loop of train_image_classifier, following TF-Slim's script, model_deploy and
 * slim.learning.train:
 * <ul>
 * <li>per step, each of the {@code num_clones} clones takes its own batch and computes its loss —
 *     softmax cross-entropy with label smoothing, plus 0.4 × the aux-logits loss when the net has
 *     {@code AuxLogits} — scaled by 1/num_clones, the first clone adding the regularisation losses;
 *     the clones' gradients add up (the average), and the optimizer applies them once to the
 *     variables of {@code --trainable_scopes} with the learning rate of the current global step;
 *     batch-norm moving statistics follow the first clone only (TF runs only its update ops);</li>
 * <li>with {@code --moving_average_decay}, every model variable's moving average is updated after the
 *     step and saved as {@code <var>/ExponentialMovingAverage};</li>
 * <li>checkpoints {@code train_dir/model.ckpt-<global step>} (TensorFlow's V2 format, written
 *     atomically, the newest 5 kept) at the start, every {@code save_interval_secs}, when a SIGINT or
 *     SIGTERM stops the run, and at the end; they hold the variables, {@code global_step}, the
 *     optimizer's slots, the moving averages and slim4j's run seed and input position, so that a
 *     restarted run resumes from the newest one (ignoring {@code --checkpoint_path}) and continues
 *     exactly as if never stopped;</li>
 * <li>without a checkpoint in train_dir, {@code --checkpoint_path} initialises the model variables
 *     outside {@code --checkpoint_exclude_scopes} ({@link CheckpointRestorer});</li>
 * <li>a NaN or infinite loss stops the run before the update, naming the step; no checkpoint is
 *     written, so the last good one stays the newest.</li>
 * </ul>
 * With {@code --device=cuda} the variables, optimizer slots and moving averages live on the GPU
 * (initialised on the host from the seed, so a CPU and a GPU run start from the same weights), each
 * batch is uploaded once, the loss is the one value read back per step, and checkpoints and
 * summaries copy to the host only when they are written. The log lines then show the peak device
 * memory; running out of it stops the run with the numbers and a batch size that should fit.
 */
final class Trainer {
    static final String GLOBAL_STEP = "global_step";
    /** slim4j's own tensors in the checkpoints (TensorFlow ignores tensors its graph does not have). */
    static final String SEED_TENSOR = "slim4j/seed";
    static final String INPUT_BATCHES_TENSOR = "slim4j/input_batches";
    /** fp16 training's loss scale and its run of good steps (LossScaler), so that a resumed run goes on with them. */
    static final String LOSS_SCALE_TENSOR = "slim4j/loss_scale";
    static final String LOSS_SCALE_GOOD_STEPS_TENSOR = "slim4j/loss_scale_good_steps";
    static final String CHECKPOINT_BASENAME = "model.ckpt";
    /** tf.train.Saver's default max_to_keep, which slim.learning.train uses. */
    static final int MAX_TO_KEEP = 5;
    static final double AUX_LOSS_WEIGHT = TrainStep.AUX_LOSS_WEIGHT;

    private static final long DROPOUT_SALT = 0x44524F504F5554L;
    private static final long INPUT_SALT = 0x494E505554L;

    private final TrainImageClassifierCommand f;
    private final PrintStream out;
    private final PrintStream err;

    private NetworkFn fn;
    private Dataset dataset;
    private ImagePreprocessor preprocessor;
    private int numClasses;
    private int imageSize;
    private int channels;
    private int numClones;
    private int batchSize;
    private double labelSmoothing;
    private double weightDecay;
    private LearningRateSchedule schedule;

    private Device device;
    /** Clone c runs on cloneDevices[c % size]: the variables' device first, then further GPUs (--num_clones). */
    private List<Device> cloneDevices;
    /** The variables' replicas on the other clone devices; null when every clone runs on {@code device}. */
    private CloneReplicas replicas;
    /** A later clone runs on {@code device}: its batch-norm statistics updates are undone (TF keeps the first clone's). */
    private boolean restoresMovingStatistics;
    private VariableStore store;
    private TrainStep trainStep;
    private Optimizer optimizer;
    private MovingAverages ema;
    private final List<Var> paramsToTrain = new ArrayList<>();
    private final Map<Var, String> varNames = new IdentityHashMap<>();
    private long seed;
    private long globalStep;
    private long inputBatches;
    private CheckpointSaver saver;
    private Path lastCheckpoint;
    private boolean resumeReaderClosed;

    /** Tests only: devices and network instead of --device and --model_name (null: the flags'). */
    private final List<Device> devicesOverride;
    private final NetworkFn netOverride;

    Trainer(TrainImageClassifierCommand flags, PrintStream out, PrintStream err) {
        this(flags, out, err, (List<Device>) null, null);
    }

    /** With an explicit device and network (tests: the CUDA emulator, a network of the families it has). */
    Trainer(TrainImageClassifierCommand flags, PrintStream out, PrintStream err, Device device, NetworkFn net) {
        this(flags, out, err, List.of(device), net);
    }

    /** With explicit clone devices (the first holds the variables) and network: tests of clones on several (emulated) GPUs. */
    Trainer(TrainImageClassifierCommand flags, PrintStream out, PrintStream err, List<Device> devices, NetworkFn net) {
        this.f = flags;
        this.out = out;
        this.err = err;
        this.devicesOverride = devices == null ? null : List.copyOf(devices);
        this.netOverride = net;
    }

    /** The loss is NaN or infinite: training stops before the update. */
    static final class DivergedException extends RuntimeException {
        DivergedException(String message) {
            super(message);
        }
    }

    int run() throws Exception {
        device = devicesOverride != null ? devicesOverride.get(0) : f.devices.open(f.name());
        resolveSetup();
        cloneDevices = devicesOverride != null ? devicesOverride : cloneDevices(device, numClones);
        Path trainDir = f.trainDir.get();
        Files.createDirectories(trainDir);
        removeLeftoverTemporaries(trainDir);
        Path resumeFrom = CheckpointState.latestCheckpoint(trainDir);
        CheckpointReader resumeReader = resumeFrom == null ? null : CheckpointReader.open(resumeFrom);
        try {
            seed = chooseSeed(resumeReader);
            if (device instanceof CudaDevice cuda) cuda.resetPeak();
            try (VariableStore s = new VariableStore(seed, device)) {
                store = s;
                return train(trainDir, resumeReader);
            } catch (CudaOutOfMemoryError e) {
                err.println("slim4j " + f.name() + ": error: " + TrainStep.outOfMemoryAdvice(e, batchSize, "--batch_size"));
                return Main.EXIT_FAILURE;
            } finally {
                if (replicas != null) replicas.close();
                if (optimizer != null) optimizer.close();
                if (ema != null) ema.close();
            }
        } finally {
            if (resumeReader != null && !resumeReaderClosed) resumeReader.close();
        }
    }

    /** Deletes the temporary files of a checkpoint write that a killed run left behind (never a complete checkpoint). */
    private static void removeLeftoverTemporaries(Path trainDir) throws IOException {
        try (var files = Files.list(trainDir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith(CHECKPOINT_BASENAME + "-") && n.contains(".tempstate")) Files.deleteIfExists(p);
            }
        }
    }

    /** Dataset, network, preprocessing and sizes from the flags; unknown names are usage errors. */
    private void resolveSetup() throws IOException, UsageException {
        String cmd = f.name() + ": ";
        try {
            fn = netOverride != null ? netOverride : Nets.get(f.modelName.get());
        } catch (IllegalArgumentException e) {
            throw new UsageException(cmd + e.getMessage());
        }
        try {
            dataset = DatasetFactory.get(f.datasetName.get(), f.datasetSplitName.get(), f.datasetDir.get());
        } catch (IllegalArgumentException e) {
            throw new UsageException(cmd + e.getMessage());
        }
        String pp = f.preprocessingName.get() != null ? f.preprocessingName.get() : f.modelName.get();
        try {
            preprocessor = PreprocessingFactory.get(pp, true);
        } catch (IllegalArgumentException e) {
            throw new UsageException(cmd + e.getMessage() + (f.preprocessingName.get() == null ? " (set --preprocessing_name)" : ""));
        }
        numClasses = dataset.numClasses() - f.labelsOffset.get();
        if (numClasses < 1) {
            throw new UsageException(cmd + "--labels_offset=" + f.labelsOffset.get() + " leaves no classes (dataset " + dataset.name()
                + " has " + dataset.numClasses() + ")");
        }
        imageSize = f.trainImageSize.get() != null ? f.trainImageSize.get() : fn.defaultImageSize();
        channels = NetRunner.imageChannels(dataset, fn, f.useGrayscale.get());
        numClones = f.numClones.get();
        batchSize = f.batchSize.get();
        labelSmoothing = f.labelSmoothing.get();
        weightDecay = f.weightDecay.get();
        schedule = Optimizers.learningRate(f, dataset.numSamples());
    }

    private long chooseSeed(CheckpointReader resume) throws IOException {
        Long flag = f.seed.get();
        if (resume != null && resume.contains(SEED_TENSOR)) {
            long saved = readLong(resume, SEED_TENSOR);
            if (flag != null && flag != saved) {
                out.println("note: --seed=" + flag + " ignored: resuming the run of seed " + saved + " from " + resume.path());
            }
            return saved;
        }
        if (flag != null) return flag;
        long s = new SecureRandom().nextInt(Integer.MAX_VALUE);
        out.println("seed: " + s + " (pass --seed=" + s + " to repeat this run)");
        return s;
    }

    private int train(Path trainDir, CheckpointReader resume) throws Exception {
        NetRunner.createVariables(fn, store, numClasses, weightDecay, imageSize, imageSize, channels, true);
        for (Variable v : store.variables()) varNames.put(v.var(), v.name());
        selectVariablesToTrain();
        optimizer = Optimizers.configure(f);
        optimizer.createSlots(paramsToTrain);
        if (optimizer instanceof ResumableAdam adam) adam.createNonSlots();
        trainStep = new TrainStep(fn, store, numClasses, weightDecay, labelSmoothing, numClones, optimizer, paramsToTrain,
            TrainStep.lossScalerFor(device));
        for (int c = 1; c < numClones; c++) restoresMovingStatistics |= cloneDevice(c) == device;
        if (cloneDevices.stream().anyMatch(d -> d != device)) {
            replicas = new CloneReplicas(fn, store, cloneDevices.subList(0, Math.min(numClones, cloneDevices.size())), seed, numClasses,
                weightDecay, labelSmoothing, numClones, imageSize, channels, optimizer);
        }

        printSetup(trainDir);
        if (resume != null) {
            restoreForResume(resume);
        } else if (f.checkpointPath.get() != null) {
            fineTuneFrom(f.checkpointPath.get());
        }
        if (f.movingAverageDecay.get() != null) {
            ema = new MovingAverages(f.movingAverageDecay.get(), store.modelVariables());
            if (resume != null) restoreAll(resume, ema.shadows(), "the moving averages (--moving_average_decay)");
        }
        if (resume != null) {
            // Restored: release the files (the saver may prune this checkpoint later).
            resume.close();
            resumeReaderClosed = true;
            if (f.checkpointPath.get() != null) out.println("Ignoring --checkpoint_path because a checkpoint already exists in " + trainDir);
        }
        Long max = f.maxNumberOfSteps.get();
        saver = new CheckpointSaver(trainDir, CHECKPOINT_BASENAME, MAX_TO_KEEP);
        if (resume == null) save(); // the Supervisor's first checkpoint, model.ckpt-0
        if (max != null && globalStep >= max) {
            out.printf("global step %d already reached --max_number_of_steps=%d: nothing to train (checkpoint %s)%n", globalStep, max, lastCheckpoint);
            return Main.EXIT_OK;
        }

        boolean terminal = out == System.out && Progress.stdoutIsTerminal();
        ProgressLog progress = new ProgressLog(out, terminal, max, f.logEveryNSteps.get(), batchSize * numClones,
            device instanceof CudaDevice cuda ? cuda::peakLiveBytes : null);
        try (DatasetDataProvider provider = openPipeline(resume != null);
             TrainSummaries summaries = f.saveSummariesSecs.get() > 0 ? new TrainSummaries(trainDir) : null;
             StopSignal stop = StopSignal.install(err)) {
            fastForward(provider, resume != null);
            long lastSave = System.nanoTime();
            long lastSummary = Long.MIN_VALUE;
            long startStep = globalStep;
            long start = System.nanoTime();
            while (max == null || globalStep < max) {
                long now = System.nanoTime();
                boolean summarize = summaries != null && (lastSummary == Long.MIN_VALUE
                    || now - lastSummary >= f.saveSummariesSecs.get() * 1_000_000_000L);
                long t0 = System.nanoTime();
                double lr = Optimizers.learningRateAt(schedule, globalStep);
                try {
                    double loss = step(provider, lr, summarize ? summaries : null);
                    if (summarize) lastSummary = now;
                    progress.step(globalStep, loss, lr, (System.nanoTime() - t0) / 1e9);
                    if (stop.requested()) {
                        progress.finish();
                        Path p = save();
                        out.printf("stopped by %s at global step %d; saved %s (run the same command to resume)%n", stop.signal(), globalStep, p);
                        return stop.exitStatus();
                    }
                    if (f.saveIntervalSecs.get() > 0 && System.nanoTime() - lastSave >= f.saveIntervalSecs.get() * 1_000_000_000L) {
                        Path p = save();
                        progress.message("saved checkpoint " + p);
                        lastSave = System.nanoTime();
                    }
                } catch (DivergedException e) {
                    return diverged(progress, e);
                }
            }
            progress.finish();
            Path p;
            try {
                p = save();
            } catch (DivergedException e) {
                return diverged(progress, e);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            long steps = globalStep - startStep;
            out.printf(Locale.ROOT, "finished at global step %d: %d steps in %s (%.1f images/s); final checkpoint %s%n", globalStep, steps,
                ProgressLog.duration(secs), steps * (double) batchSize * numClones / Math.max(secs, 1e-9), p);
            if (device instanceof CudaDevice cuda) out.println("peak device memory: " + CudaOutOfMemoryError.human(cuda.peakLiveBytes()));
            if (summaries != null) out.println("TensorBoard logs: " + summaries.path() + " (tensorboard --logdir=" + trainDir + ")");
            return Main.EXIT_OK;
        }
    }

    private int diverged(ProgressLog progress, DivergedException e) {
        progress.finish();
        err.println("slim4j " + f.name() + ": error: " + e.getMessage());
        err.println(lastCheckpoint != null
            ? "The last good checkpoint, " + lastCheckpoint + ", is intact (no checkpoint was written after it)."
            : "No checkpoint was written.");
        return Main.EXIT_FAILURE;
    }

    /** TF-Slim's _get_variables_to_train: every trainable variable, or those matching --trainable_scopes (regex from the start). */
    private void selectVariablesToTrain() throws UsageException {
        List<String> scopes = CheckpointRestorer.scopes(f.trainableScopes.get());
        if (scopes.isEmpty()) {
            paramsToTrain.addAll(store.trainableVars());
            return;
        }
        Set<Var> chosen = new LinkedHashSet<>();
        for (String scope : scopes) {
            Pattern p;
            try {
                p = Pattern.compile(scope);
            } catch (PatternSyntaxException e) {
                throw new UsageException(f.name() + ": invalid value '" + scope + "' in --trainable_scopes: not a regular expression");
            }
            int n = 0;
            for (Variable v : store.trainableVariables()) {
                if (p.matcher(v.name()).lookingAt()) {
                    chosen.add(v.var());
                    n++;
                }
            }
            if (n == 0) out.println("warning: --trainable_scopes entry '" + scope + "' matches no trainable variable");
        }
        if (chosen.isEmpty()) {
            throw new UsageException(f.name() + ": --trainable_scopes=" + f.trainableScopes.get() + " matches no trainable variable of "
                + fn.name() + " (its variables start with " + store.trainableVariables().get(0).name() + ")");
        }
        paramsToTrain.addAll(chosen);
    }

    private void printSetup(Path trainDir) {
        out.printf(Locale.ROOT, "train_image_classifier: %s on %s/%s (%d images, %d classes), images %dx%dx%d, batch %d x %d clone%s%s%n",
            fn.name(), dataset.name(), dataset.split(), dataset.numSamples(), numClasses, imageSize, imageSize, channels,
            batchSize, numClones, numClones == 1 ? "" : "s", device instanceof CudaDevice ? ", device " + DeviceFlags.describe(device) : "");
        if (replicas != null) {
            List<String> names = new ArrayList<>();
            for (int c = 0; c < numClones; c++) names.add(cloneDevice(c).name());
            out.println("  clones on " + String.join(", ", names) + ": variables and the update on " + device.name()
                + ", replicas refreshed each step, gradients summed there (peer copies)");
        }
        String decay = switch (f.learningRateDecayType.get()) {
            case "exponential" -> String.format(Locale.ROOT, ", x%s every %d steps", f.learningRateDecayFactor.get(),
                ((LearningRateSchedule.Exponential) schedule).decaySteps());
            case "polynomial" -> String.format(Locale.ROOT, " to %s over %d steps", f.endLearningRate.get(),
                ((LearningRateSchedule.Polynomial) schedule).decaySteps());
            default -> "";
        };
        out.printf(Locale.ROOT, "optimizer %s, learning rate %s (%s%s), %d of %d trainable variables trained, seed %d, train_dir %s%n",
            f.optimizer.get(), f.learningRate.get(), f.learningRateDecayType.get(), decay, paramsToTrain.size(),
            store.trainableVariables().size(), seed, trainDir);
        LossScaler scaler = trainStep.lossScaler();
        if (scaler != null) {
            out.printf(Locale.ROOT, "fp16 loss scaling: scale %.0f, halved and the update skipped when the gradients overflow, doubled"
                + " after %d good steps (saved in checkpoints as %s)%n", scaler.scale(), LossScaler.GROWTH_INTERVAL, LOSS_SCALE_TENSOR);
        }
    }

    // ---- checkpoints --------------------------------------------------------------------------

    /** Everything a checkpoint holds, by TF name (the tensors are live; the scalars are new and listed in {@code temporaries}). */
    private Map<String, Tensor> checkpointTensors(List<Tensor> temporaries) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Variable v : store.variables()) m.put(v.name(), v.value());
        Tensor step = Tensor.of(new long[] {globalStep});
        temporaries.add(step);
        m.put(GLOBAL_STEP, step);
        m.putAll(optimizerVariables());
        if (ema != null) m.putAll(ema.shadows());
        Tensor s = Tensor.of(new long[] {seed});
        Tensor b = Tensor.of(new long[] {inputBatches});
        temporaries.add(s);
        temporaries.add(b);
        m.put(SEED_TENSOR, s);
        m.put(INPUT_BATCHES_TENSOR, b);
        LossScaler scaler = trainStep.lossScaler();
        if (scaler != null) {
            Tensor scale = Tensor.of(new double[] {scaler.scale()});
            Tensor good = Tensor.of(new long[] {scaler.goodSteps()});
            temporaries.add(scale);
            temporaries.add(good);
            m.put(LOSS_SCALE_TENSOR, scale);
            m.put(LOSS_SCALE_GOOD_STEPS_TENSOR, good);
        }
        // The checkpoint writer reads host memory: device tensors are copied out only now.
        for (Map.Entry<String, Tensor> e : m.entrySet()) {
            if (!(e.getValue().device() instanceof CpuDevice)) {
                Tensor host = e.getValue().toDevice(CpuDevice.INSTANCE);
                temporaries.add(host);
                e.setValue(host);
            }
        }
        return m;
    }

    private Map<String, Tensor> optimizerVariables() {
        return optimizer.variables(v -> {
            String n = varNames.get(v);
            if (n == null) throw new IllegalStateException("optimizer slot for a variable outside the network");
            return n;
        });
    }

    /** Writes model.ckpt-&lt;global step&gt;, refusing to save non-finite weights (the last good checkpoint stays the newest). */
    private Path save() throws IOException {
        List<Tensor> temporaries = new ArrayList<>();
        try {
            Map<String, Tensor> tensors = checkpointTensors(temporaries);
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                if (e.getValue().dtype().isFloating() && !allFinite(e.getValue())) {
                    throw new DivergedException("variable " + e.getKey() + " has NaN or infinite values at global step " + globalStep
                        + "; not saving a checkpoint");
                }
            }
            lastCheckpoint = saver.save(globalStep, tensors);
            return lastCheckpoint;
        } finally {
            temporaries.forEach(Tensor::close);
        }
    }

    private static boolean allFinite(Tensor t) {
        if (t.dtype() == DType.FLOAT32) {
            float[] a = t.floatData();
            for (int i = t.offset(), end = t.offset() + t.numel(); i < end; i++) if (!Float.isFinite(a[i])) return false;
            return true;
        }
        for (double v : t.toDoubleArray()) if (!Double.isFinite(v)) return false;
        return true;
    }

    /** Resuming from train_dir: every variable, slot and the global step must be in the checkpoint. */
    private void restoreForResume(CheckpointReader reader) throws IOException {
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Variable v : store.variables()) state.put(v.name(), v.value());
        state.putAll(optimizerVariables());
        restoreAll(reader, state, "the variables and the --optimizer=" + f.optimizer.get() + " slots");
        if (!reader.contains(GLOBAL_STEP)) throw new IOException("checkpoint " + reader.path() + " has no global_step: cannot resume from it");
        globalStep = readLong(reader, GLOBAL_STEP);
        inputBatches = reader.contains(INPUT_BATCHES_TENSOR) ? readLong(reader, INPUT_BATCHES_TENSOR) : globalStep * numClones;
        lastCheckpoint = reader.path();
        out.printf("resuming from %s at global step %d (%d variables and optimizer slots restored)%n", reader.path(), globalStep, state.size());
        LossScaler scaler = trainStep.lossScaler();
        if (scaler != null && reader.contains(LOSS_SCALE_TENSOR)) {
            double scale;
            try (Tensor t = reader.read(LOSS_SCALE_TENSOR)) {
                if (!t.dtype().isFloating() || t.numel() != 1) throw new IOException("checkpoint " + reader.path() + ": " + LOSS_SCALE_TENSOR + " is not a float scalar");
                scale = t.toDoubleArray()[0];
            }
            long good = reader.contains(LOSS_SCALE_GOOD_STEPS_TENSOR) ? readLong(reader, LOSS_SCALE_GOOD_STEPS_TENSOR) : 0;
            try {
                scaler.restore(scale, good);
            } catch (IllegalArgumentException e) {
                throw new IOException("checkpoint " + reader.path() + ": " + e.getMessage(), e);
            }
            out.printf(Locale.ROOT, "fp16 loss scale %.0f restored (%d good steps)%n", scale, good);
        }
    }

    private void restoreAll(CheckpointReader reader, Map<String, Tensor> state, String what) throws IOException {
        try {
            CheckpointRestorer.restore(reader, state, List.of(), false, UnaryOperator.identity());
        } catch (CheckpointRestorer.RestoreException e) {
            throw new IOException("cannot resume from " + reader.path() + " (the newest checkpoint in --train_dir) into " + what + ":\n"
                + e.getMessage() + "\n(resuming needs the flags the run was started with — --model_name, --optimizer, --moving_average_decay,"
                + " --trainable_scopes, the dataset's classes — or use a new --train_dir)", e);
        }
    }

    /** TF-Slim's _get_init_fn: the model variables outside the exclusions, from --checkpoint_path (a directory: its latest checkpoint). */
    private void fineTuneFrom(Path path) throws IOException {
        List<String> exclusions = CheckpointRestorer.scopes(f.checkpointExcludeScopes.get());
        try (CheckpointReader reader = CheckpointReader.open(path)) {
            out.println("Fine-tuning from " + reader.path());
            Map<String, Tensor> model = new LinkedHashMap<>();
            for (Variable v : store.modelVariables()) model.put(v.name(), v.value());
            CheckpointRestorer.Report report;
            try {
                report = CheckpointRestorer.restore(reader, model, exclusions, f.ignoreMissingVars.get(), UnaryOperator.identity());
            } catch (CheckpointRestorer.RestoreException e) {
                e.report().print(out, 0);
                throw new IOException("cannot fine-tune from --checkpoint_path: " + e.getMessage(), e);
            }
            report.print(out, 50);
            if (report.restored().size() > 50) writeRestoreList(report);
        }
    }

    private void writeRestoreList(CheckpointRestorer.Report report) throws IOException {
        Path file = f.trainDir.get().resolve("restored_variables.txt");
        Files.write(file, report.restored());
        out.println("  (the restored variables are listed in " + file + ")");
    }

    static long readLong(CheckpointReader reader, String name) throws IOException {
        try (Tensor t = reader.read(name)) {
            if (t.dtype().isFloating() || t.numel() != 1) throw new IOException("checkpoint " + reader.path() + ": " + name + " is not an integer scalar");
            return t.toLongArray()[0];
        }
    }

    // ---- input --------------------------------------------------------------------------------

    private DatasetDataProvider openPipeline(boolean resuming) {
        // With --nofast_forward_input a resumed run reads a new stream, seeded by its position.
        long inputSeed = resuming && !f.fastForwardInput.get() ? NetRunner.mix(seed ^ INPUT_SALT, inputBatches) : NetRunner.mix(seed, INPUT_SALT);
        return DatasetDataProvider.builder(dataset)
            .numReaders(f.numReaders.get())
            .shuffle(true)
            .seed(inputSeed)
            .batchSize(batchSize)
            .numThreads(f.numPreprocessingThreads.get())
            .preprocessing(preprocessor, imageSize, imageSize)
            .labelsOffset(f.labelsOffset.get())
            .log(err)
            .build();
    }

    /** Replays the batches the checkpoint's run already consumed, so the resumed run sees the same data. */
    private void fastForward(DatasetDataProvider provider, boolean resuming) throws IOException {
        if (!resuming || !f.fastForwardInput.get() || inputBatches == 0) return;
        long t0 = System.nanoTime();
        out.printf("fast-forwarding the input pipeline past the %d batches already trained on (--nofast_forward_input skips this)%n", inputBatches);
        for (long i = 0; i < inputBatches; i++) {
            Batch b = provider.next();
            if (b == null) throw new IOException("the input pipeline ended while fast-forwarding");
            b.close();
        }
        out.printf(Locale.ROOT, "  done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    // ---- one step -----------------------------------------------------------------------------

    /** One training step (all clones, one update); returns the total loss. {@code summaries} non-null: write them. */
    private double step(DatasetDataProvider provider, double lr, TrainSummaries summaries) throws IOException {
        double total = 0;
        List<Tensor> movingStats = null;
        Map<String, Double> scalars = new LinkedHashMap<>();
        Map<String, Var> endPoints = Map.of();
        Tensor summaryImages = null;
        try (TensorScope scope = TensorScope.open()) {
            if (replicas != null) replicas.refresh();
            for (int c = 0; c < numClones; c++) {
                Device dc = cloneDevice(c);
                TrainStep cloneStep = replicas == null ? trainStep : replicas.step(dc, trainStep);
                Batch batch = provider.next();
                if (batch == null) throw new IOException("the input pipeline ended");
                long batchIndex = inputBatches++;
                try {
                    Tensor images = f.useGrayscale.get() ? NetRunner.toGrayscale(batch.images()) : batch.images();
                    checkImages(images);
                    Tensor oneHot = TrainStep.onDevice(NetRunner.oneHot(batch.labels(), numClasses, f.labelsOffset.get()), dc);
                    TrainStep.Losses l = cloneStep.forward(TrainStep.onDevice(images, dc), oneHot, c, NetRunner.mix(seed ^ DROPOUT_SALT, batchIndex));
                    // The one value read back per clone: the NaN/Inf check and the log need it.
                    double value = l.total().value().item();
                    if (!Double.isFinite(value)) throw diverged(value, l.named(), l.regularization(), c);
                    total += value;
                    if (summaries != null) {
                        if (c == 0) {
                            for (Map.Entry<String, Var> e : l.named().entrySet()) scalars.put("losses/" + e.getKey(), e.getValue().value().item());
                            endPoints = l.net().endPoints().asMap();
                            summaryImages = images.slice0(0, Math.min(TrainSummaries.MAX_IMAGES, images.dim(0))).copy();
                        }
                        scalars.put("Losses/" + (numClones > 1 ? "clone_" + c + "/" : "") + "clone_loss", l.cloneLoss().value().item());
                        if (l.regularization() != null) scalars.put("Losses/regularization_loss", l.regularization().value().item());
                    }
                    trainStep.backward(l);  // the one loss scaler (if any) seeds every clone's backward pass
                    if (dc != device) replicas.gatherGradients(dc);
                    // TF runs the batch-norm updates of the first clone only: undo the later clones' ones on the
                    // variables' device (a replica's are overwritten by the next refresh).
                    if (restoresMovingStatistics) {
                        if (c == 0) movingStats = snapshotMovingStatistics();
                        else if (dc == device) restoreMovingStatistics(movingStats);
                    }
                } finally {
                    batch.close();
                }
            }
            if (!Double.isFinite(total)) throw new DivergedException("the total loss is " + total + " at global step " + globalStep);
            LossScaler scaler = trainStep.lossScaler();
            double scaleBefore = scaler == null ? 0 : scaler.scale();
            if (!trainStep.update(lr)) {
                out.printf(Locale.ROOT, "global step %d: fp16 gradients overflowed at loss scale %.0f; update skipped, loss scale now %.0f%n",
                    globalStep, scaleBefore, scaler.scale());
            }
            if (scaler != null) scalars.put("loss_scale", scaler.scale());
            if (ema != null) ema.update(globalStep);
            if (summaries != null) {
                Map<String, Double> all = new LinkedHashMap<>();
                all.put("total_loss", total);
                all.put("learning_rate", lr);
                all.putAll(scalars);
                summaries.write(globalStep, all, endPoints, store.modelVariables(), summaryImages);
            }
        } finally {
            trainStep.zeroGrad();
            if (replicas != null) replicas.zeroGrad();
            if (movingStats != null) movingStats.forEach(Tensor::close);
        }
        globalStep++;
        return total;
    }

    private DivergedException diverged(double value, Map<String, Var> losses, Var reg, int clone) {
        StringBuilder sb = new StringBuilder();
        sb.append("the loss is ").append(Double.isNaN(value) ? "NaN" : value > 0 ? "+inf" : "-inf")
            .append(" at global step ").append(globalStep).append(numClones > 1 ? " (clone " + clone + ")" : "").append(':');
        for (Map.Entry<String, Var> l : losses.entrySet()) sb.append(' ').append(l.getKey()).append(" = ").append(l.getValue().value().item()).append(';');
        if (reg != null) sb.append(" regularization_loss = ").append(reg.value().item()).append(';');
        sb.append(" training diverged (try a lower --learning_rate, e.g. ").append(f.learningRate.get() / 10).append(")");
        return new DivergedException(sb.toString());
    }

    private void checkImages(Tensor images) {
        int[] d = images.dims();
        if (d.length != 4 || d[1] != imageSize || d[2] != imageSize || d[3] != channels) {
            throw new IllegalStateException("the input pipeline made images of shape " + images.shape() + ", the network was built for ["
                + d[0] + ", " + imageSize + ", " + imageSize + ", " + channels + "]");
        }
    }

    /** Copies of the non-trainable model variables (batch-norm moving statistics). */
    private Device cloneDevice(int clone) {
        return cloneDevices.get(clone % cloneDevices.size());
    }

    /**
     * The clone devices for --num_clones on a GPU: the --device GPU and the next ones, wrapping around
     * the GPUs there are (one GPU: every clone on it, one after another), each with --device's options.
     */
    private List<Device> cloneDevices(Device first, int numClones) throws UsageException {
        if (!(first instanceof CudaDevice cuda) || numClones == 1) return List.of(first);
        int gpus = CudaRuntime.probe().gpus().size();
        int ordinal = f.devices.ordinal();
        List<Device> devices = new ArrayList<>();
        devices.add(first);
        for (int i = 1; i < Math.min(numClones, gpus); i++) {
            Device d = Devices.byName("cuda:" + (ordinal + i) % gpus, f.name());
            if (d instanceof CudaDevice other) other.configure(cuda.options());
            devices.add(d);
        }
        return devices;
    }

    private List<Tensor> snapshotMovingStatistics() {
        List<Tensor> out = new ArrayList<>();
        for (Variable v : store.variables()) if (!v.trainable()) out.add(TensorScope.escape(v.value().copy()));
        return out;
    }

    private void restoreMovingStatistics(List<Tensor> snapshot) {
        int i = 0;
        for (Variable v : store.variables()) if (!v.trainable()) v.value().copyFrom(snapshot.get(i++));
    }
}
