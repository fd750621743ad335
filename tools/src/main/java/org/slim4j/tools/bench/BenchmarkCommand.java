package org.slim4j.tools.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.optim.LossScaler;
import org.slim4j.autograd.optim.Momentum;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOutOfMemoryError;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetFactory;
import org.slim4j.io.pipeline.Batch;
import org.slim4j.io.pipeline.DatasetDataProvider;
import org.slim4j.io.preprocessing.PreprocessingFactory;
import org.slim4j.kernels.FrozenWeights;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.ModelSummary;
import org.slim4j.nets.NetworkFn;
import org.slim4j.nets.Nets;
import org.slim4j.tensor.Device;
import org.slim4j.tensor.OpProfiler;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tools.Command;
import org.slim4j.tools.DeviceFlags;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;
import org.slim4j.tools.train.FlagParsers;
import org.slim4j.tools.train.NetRunner;
import org.slim4j.tools.train.TrainStep;

/**
 * {@code slim4j benchmark --model_name=NAME --batch_size=B [--mode=train|inference] [--device=cuda]}:
 * throughput of a nets-factory network on synthetic input (random images and labels made once on
 * the device), like the benchmark scripts of TensorFlow and PyTorch. Train mode times the training
 * step of train_image_classifier ({@link TrainStep}: forward, loss, backward, momentum-SGD update,
 * batch-norm statistics); inference a forward pass with is_training=false and no gradient
 * recording. Every step ends with a device sync, so a step's time is its whole device work.
 *
 * <p>Reports images/s (batch / median step time), the median, 10th and 90th percentile of the step
 * times, peak memory (the device's peak live bytes; on the CPU the peak of the Java heap's pools),
 * the share of the timed wall time spent in garbage collection (GarbageCollectorMXBeans), and the
 * FLOPs of a step from the model's multiply-adds (2 per multiply-add; training counted as 3 forward
 * passes). {@code --with_input_pipeline} reads, decodes and preprocesses a TFRecord dataset each
 * step instead of the synthetic batch.
 */
public final class BenchmarkCommand implements Command {
    private final Flags flags = new Flags("benchmark");
    final Flags.Flag<String> modelName = flags.string("model_name", "", "network of the nets factory, e.g. resnet_v1_50").required();
    final Flags.Flag<Integer> batchSize = flags.integer("batch_size", 32, "images per step");
    final Flags.Flag<Integer> imageSize = flags.define("image_size", "int", null, FlagParsers.positiveInt(),
        "side of the square input images; none = the network's default_image_size");
    final Flags.Flag<Integer> numClasses = flags.define("num_classes", "int", null, FlagParsers.positiveInt(),
        "number of logits; none = the network's default");
    final Flags.Flag<String> mode = flags.choice("mode", "train", List.of("train", "inference"),
        "train: a full training step (forward, loss, backward, momentum SGD); inference: forward with is_training=false, no gradients");
    final DeviceFlags devices = new DeviceFlags(flags, "run");
    final Flags.Flag<Integer> steps = flags.integer("steps", 20, "timed steps");
    final Flags.Flag<Integer> warmup = flags.integer("warmup", 5, "untimed steps first (allocator, JIT and caches warm up)");
    final Flags.Flag<Double> warmupSeconds = flags.decimal("warmup_seconds", 10.0,
        "untimed steps go on until this many seconds have passed too: the JVM compiles hot code in the background during the"
            + " first seconds (LeNet: about 1 s of compiler time in the first 3 s, and its steps timed after 3 s of warm-up"
            + " took 90-100 ms against 66-78 ms after 10 s) (0 = exactly --warmup steps)");
    final Flags.Flag<Integer> profileSteps = flags.integer("profile_steps", 0,
        "after the timed steps, run this many more with every kernel call timed (GPU: stream events, nothing synced; CPU: wall time) and print where the time goes");
    final Flags.Flag<Boolean> profileByShape = flags.bool("profile_by_shape", false,
        "with --profile_steps: one row per kernel and tensor-argument shapes, which tells a network's layers apart");
    final Flags.Flag<Path> outputJson = flags.path("output_json", null, "also write the results as one JSON object to this file");
    final Flags.Flag<Boolean> prepackWeights = flags.bool("prepack_weights", true,
        "inference, cpu: freeze the weights for the run, so each layer packs or Winograd-transforms its weights once instead of on"
        + " every step (costs about the weights' size in memory again)");
    final Flags.Flag<Boolean> withInputPipeline = flags.bool("with_input_pipeline", false,
        "time each step with reading, decoding and preprocessing a batch from --dataset_dir (TFRecord) instead of synthetic input");
    final Flags.Flag<String> datasetName = flags.string("dataset_name", "imagenet", "with --with_input_pipeline: the dataset");
    final Flags.Flag<String> datasetSplitName = flags.string("dataset_split_name", "train", "with --with_input_pipeline: the split");
    final Flags.Flag<Path> datasetDir = flags.path("dataset_dir", null, "with --with_input_pipeline: the dataset's folder");
    final Flags.Flag<Integer> numPreprocessingThreads = flags.integer("num_preprocessing_threads", 4,
        "with --with_input_pipeline: threads decoding and preprocessing");
    final Flags.Flag<Double> learningRate = flags.decimal("learning_rate", 0.01, "train mode: the momentum optimizer's learning rate");
    final Flags.Flag<Double> momentum = flags.decimal("momentum", 0.9, "train mode: the momentum");
    final Flags.Flag<Double> weightDecay = flags.decimal("weight_decay", 0.00004, "train mode: the weight decay (L2 regularisation)");
    final Flags.Flag<Long> seed = flags.define("seed", "int", 0L, FlagParsers.anyLong(), "seed of the weights and the synthetic batch");

    /** One benchmark's figures (what --output_json writes). */
    public record Result(String model, String mode, int batch, int imageSize, String device, String kernels, String precision, int steps,
                         int warmupSteps, double imagesPerSec, double msPerStepMedian, double msPerStepP10, double msPerStepP90, long peakBytes,
                         String peakMemory, double gcPercent, Double gflopsPerStep, boolean withInputPipeline, Double hostBusyMsMedian,
                         Double launchesPerStep, Long skippedUpdates) {
        /** The JSON object's fields, in order. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model", model);
            m.put("mode", mode);
            m.put("batch", batch);
            m.put("image_size", imageSize);
            m.put("device", device);
            m.put("kernels", kernels);
            m.put("precision", precision);
            m.put("steps", steps);
            m.put("warmup_steps", warmupSteps);
            m.put("images_per_sec", imagesPerSec);
            m.put("ms_per_step_median", msPerStepMedian);
            m.put("ms_per_step_p10", msPerStepP10);
            m.put("ms_per_step_p90", msPerStepP90);
            m.put("peak_bytes", peakBytes);
            m.put("peak_memory", peakMemory);
            m.put("gc_percent", gcPercent);
            if (gflopsPerStep != null) m.put("gflops_per_step", gflopsPerStep);
            m.put("with_input_pipeline", withInputPipeline);
            if (hostBusyMsMedian != null) m.put("host_busy_ms_median", hostBusyMsMedian);
            if (launchesPerStep != null) m.put("launches_per_step", launchesPerStep);
            if (skippedUpdates != null) m.put("fp16_skipped_updates", skippedUpdates);
            return m;
        }
    }

    @Override
    public String name() {
        return "benchmark";
    }

    @Override
    public String description() {
        return "training or inference throughput of a network on synthetic input (images/s, ms/step, peak memory, GC time)";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    void validate() throws UsageException {
        if (batchSize.get() < 1) throw bad("batch_size", batchSize.get(), "must be >= 1");
        if (steps.get() < 1) throw bad("steps", steps.get(), "must be >= 1");
        if (warmup.get() < 0) throw bad("warmup", warmup.get(), "must be >= 0");
        if (!(warmupSeconds.get() >= 0)) throw bad("warmup_seconds", warmupSeconds.get(), "must be >= 0");
        if (profileSteps.get() < 0) throw bad("profile_steps", profileSteps.get(), "must be >= 0");
        if (profileByShape.get() && profileSteps.get() == 0) throw bad("profile_by_shape", true, "needs --profile_steps > 0");
        if (numPreprocessingThreads.get() < 1) throw bad("num_preprocessing_threads", numPreprocessingThreads.get(), "must be >= 1");
        if (!(learningRate.get() >= 0)) throw bad("learning_rate", learningRate.get(), "must be >= 0");
        if (momentum.get() < 0) throw bad("momentum", momentum.get(), "must be >= 0");
        if (withInputPipeline.get() && datasetDir.get() == null) {
            throw new UsageException(name() + ": --with_input_pipeline needs --dataset_dir (a folder of TFRecord files, e.g. from download_and_convert_data)");
        }
        devices.validate(name());
    }

    private UsageException bad(String flag, Object value, String why) {
        return new UsageException(name() + ": invalid value '" + value + "' for flag --" + flag + ": " + why);
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        validate();
        NetworkFn fn;
        try {
            fn = Nets.get(modelName.get());
        } catch (IllegalArgumentException e) {
            throw new UsageException(name() + ": invalid value '" + modelName.get() + "' for flag --model_name: " + e.getMessage());
        }
        Device device = devices.open(name());
        Result r;
        try {
            r = measure(fn, device, out);
        } catch (CudaOutOfMemoryError e) {
            err.println("slim4j " + name() + ": error: " + TrainStep.outOfMemoryAdvice(e, batchSize.get(), "--batch_size"));
            return Main.EXIT_FAILURE;
        }
        out.print(format(r));
        if (outputJson.get() != null) {
            Path p = outputJson.get();
            if (p.toAbsolutePath().getParent() != null) Files.createDirectories(p.toAbsolutePath().getParent());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(p.toFile(), r.toMap());
        }
        return Main.EXIT_OK;
    }

    /** Builds the network, runs warmup + timed steps, and collects the figures. */
    Result measure(NetworkFn fn, Device device, PrintStream out) throws IOException, UsageException {
        boolean train = mode.get().equals("train");
        int classes = numClasses.get() != null ? numClasses.get() : fn.defaultNumClasses();
        int size = imageSize.get() != null ? imageSize.get() : fn.defaultImageSize();
        int channels = fn.defaultImageChannels();
        int batch = batchSize.get();
        Dataset dataset = null;
        if (withInputPipeline.get()) {
            try {
                dataset = DatasetFactory.get(datasetName.get(), datasetSplitName.get(), datasetDir.get());
            } catch (IllegalArgumentException e) {
                throw new UsageException(name() + ": " + e.getMessage());
            }
            channels = NetRunner.imageChannels(dataset, fn, false);
            if (numClasses.get() == null) classes = dataset.numClasses();
        }
        Double gflops = gflopsPerStep(fn, classes, size, channels, batch, train);
        out.printf(Locale.ROOT, "benchmark: %s %s, batch %d, images %dx%dx%d, %d classes, %s, %d+ warmup steps (%s s at least) + %d timed steps%s%n",
            fn.name(), mode.get(), batch, size, size, channels, classes, DeviceFlags.describe(device), warmup.get(),
            new java.text.DecimalFormat("0.###").format(warmupSeconds.get()), steps.get(),
            dataset != null ? ", input pipeline " + dataset.name() + "/" + dataset.split() : ", synthetic input");
        double[] ms = new double[steps.get()];
        double[] busy = new double[steps.get()];  // host work per step: its time minus the time blocked on the GPU
        long gcMillis;
        int warmupSteps;
        long peak;
        long launches = 0;  // kernels queued during the timed steps (CUDA)
        LossScaler lossScaler = null;  // fp16 training: its skipped updates are reported
        try (VariableStore store = new VariableStore(seed.get(), device);
             Momentum optimizer = new Momentum(momentum.get());
             TensorScope inputs = TensorScope.open()) {
            NetRunner.createVariables(fn, store, classes, weightDecay.get(), size, size, channels, train);
            Tensor images = Tensor.randomUniform(seed.get() ^ 0x494D47L, -1, 1, batch, size, size, channels).toDevice(device);
            Tensor oneHot = syntheticLabels(batch, classes).toDevice(device);
            TrainStep step = null;
            if (train) {
                optimizer.createSlots(store.trainableVars());
                lossScaler = TrainStep.lossScalerFor(device);
                step = new TrainStep(fn, store, classes, weightDecay.get(), 0.0, 1, optimizer, store.trainableVars(), lossScaler);
            }
            DatasetDataProvider provider = dataset == null ? null : DatasetDataProvider.builder(dataset)
                .numReaders(1)
                .shuffle(true)
                .seed(seed.get())
                .batchSize(batch)
                .numThreads(numPreprocessingThreads.get())
                .preprocessing(PreprocessingFactory.get(modelName.get(), train), size, size)
                .build();
            // Inference keeps each weight's packed / transformed form across steps (none on a GPU).
            FrozenWeights frozen = !train && prepackWeights.get() ? FrozenWeights.freeze(values(store)) : null;
            try {
                int warm = 0;
                long warm0 = System.nanoTime();
                while (warm < warmup.get() || (System.nanoTime() - warm0) / 1e9 < warmupSeconds.get()) {
                    runStep(fn, store, step, provider, images, oneHot, classes, device, warm++);
                    if (warm >= warmup.get()) device.sync();
                }
                device.sync();
                warmupSteps = warm;
                if (frozen != null && FrozenWeights.preparedFloats() > 0) {
                    out.printf(Locale.ROOT, "weights frozen: packed / transformed once, %s kept (--noprepack_weights to repack every step)%n",
                        CudaOutOfMemoryError.human(4 * FrozenWeights.preparedFloats()));
                }
                resetPeaks(device);
                long gc0 = gcMillis();
                long launches0 = device instanceof CudaDevice c ? c.launchCount() : 0;
                for (int i = 0; i < steps.get(); i++) {
                    long w0 = device instanceof CudaDevice c ? c.hostWaitNanos() : 0;
                    long t0 = System.nanoTime();
                    runStep(fn, store, step, provider, images, oneHot, classes, device, warmupSteps + i);
                    device.sync();
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                    busy[i] = ms[i] - (device instanceof CudaDevice c ? (c.hostWaitNanos() - w0) / 1e6 : 0);
                }
                gcMillis = gcMillis() - gc0;
                if (device instanceof CudaDevice c) launches = c.launchCount() - launches0;
                peak = peakBytes(device);
                if (profileSteps.get() > 0) {
                    OpProfiler profiler = OpProfiler.start(profileByShape.get());
                    long p0 = System.nanoTime();
                    try {
                        for (int i = 0; i < profileSteps.get(); i++) {
                            runStep(fn, store, step, provider, images, oneHot, classes, device, warmupSteps + steps.get() + i);
                        }
                        device.sync();
                    } finally {
                        profiler.stop();
                    }
                    String table = profiler.table(System.nanoTime() - p0, profileSteps.get());
                    out.printf(Locale.ROOT, "profile of %d more steps, %s:%n%s", profileSteps.get(), profiler.deviceClock()
                        ? "device time of each kernel call (stream events, nothing synced)"
                        : "every kernel call synced (slower than the timed steps)", table);
                }
            } finally {
                if (provider != null) provider.close();
                if (frozen != null) frozen.close();
            }
        }
        double total = Arrays.stream(ms).sum();
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = percentile(sorted, 50);
        double[] busySorted = busy.clone();
        Arrays.sort(busySorted);
        Double hostBusy = device instanceof CudaDevice ? percentile(busySorted, 50) : null;
        String precision = device instanceof CudaDevice c ? c.options().precision().name().toLowerCase(Locale.ROOT) : "fp32";
        String kernels = device instanceof CudaDevice c ? c.options().kernels().name().toLowerCase(Locale.ROOT) : "cpu";
        String peakText = CudaOutOfMemoryError.human(peak) + (device instanceof CudaDevice ? " (device)" : " (Java heap)");
        return new Result(fn.name(), mode.get(), batch, size, device.name(), kernels, precision, steps.get(), warmupSteps,
            batch / (median / 1e3), median,
            percentile(sorted, 10), percentile(sorted, 90), peak, peakText, 100.0 * gcMillis / Math.max(total, 1e-9), gflops,
            dataset != null, hostBusy, device instanceof CudaDevice ? (double) launches / steps.get() : null,
            lossScaler != null ? lossScaler.skippedSteps() : null);
    }

    /** One step: a training step, or a forward pass without gradients; the pipeline's batch replaces the synthetic one. */
    private void runStep(NetworkFn fn, VariableStore store, TrainStep step, DatasetDataProvider provider, Tensor images, Tensor oneHot,
                         int classes, Device device, long index) throws IOException {
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = images;
            Tensor y = oneHot;
            if (provider != null) {
                Batch b = provider.next();
                if (b == null) throw new IOException("the input pipeline ended");
                try {
                    x = TrainStep.onDevice(b.images(), device);
                    if (x == b.images()) x = x.copy();
                    y = TrainStep.onDevice(NetRunner.oneHot(b.labels(), classes, 0), device);
                } finally {
                    b.close();
                }
            }
            if (step != null) {
                step.run(x, y, learningRate.get(), NetRunner.mix(seed.get(), index));
            } else {
                try (GradMode.Guard g = GradMode.noGrad()) {
                    NetRunner.forward(fn, store, classes, 0.0, Var.constant(x), false, 0);
                }
            }
        }
    }

    /** The values of all of a store's variables. */
    static List<Tensor> values(VariableStore store) {
        List<Tensor> values = new java.util.ArrayList<>();
        for (Variable v : store.variables()) values.add(v.value());
        return values;
    }

    /** One-hot rows of labels drawn uniformly from the classes. */
    private Tensor syntheticLabels(int batch, int classes) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed.get() ^ 0x4C41424CL);
        float[] v = new float[batch * classes];
        for (int i = 0; i < batch; i++) v[i * classes + r.nextInt(classes)] = 1f;
        return Tensor.of(v, batch, classes);
    }

    /** 2 FLOPs per multiply-add of one image's forward pass, times the batch; a training step counts as 3 forward passes. */
    static Double gflopsPerStep(NetworkFn fn, int classes, int size, int channels, int batch, boolean train) {
        try {
            long macs = ModelSummary.of(fn, classes, size, channels).multiplyAdds();
            return 2.0 * macs * batch * (train ? 3 : 1) / 1e9;
        } catch (RuntimeException e) {
            return null;  // a net whose shape-only build is not supported: no FLOP figure
        }
    }

    /** The {@code p}-th percentile of sorted values, interpolated linearly (numpy's default). */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 1) return sorted[0];
        double pos = p / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static long gcMillis() {
        long t = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) t += Math.max(0, b.getCollectionTime());
        return t;
    }

    private static void resetPeaks(Device device) {
        if (device instanceof CudaDevice c) {
            c.resetPeak();
            return;
        }
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
    }

    /** The device's peak live bytes; on the CPU the sum of the heap pools' peaks (tensors are Java arrays). */
    private static long peakBytes(Device device) {
        if (device instanceof CudaDevice c) return c.peakLiveBytes();
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) sum += p.getPeakUsage().getUsed();
        return sum;
    }

    /** The human summary printed on stdout. */
    static String format(Result r) {
        StringBuilder sb = new StringBuilder();
        String options = r.device().equals("cpu") ? "" : " (--kernels=" + r.kernels() + " --precision=" + r.precision() + ")";
        sb.append(String.format(Locale.ROOT, "%s %s on %s%s: %.1f images/s%n", r.model(), r.mode(), r.device(), options, r.imagesPerSec()));
        sb.append(String.format(Locale.ROOT, "  %.2f ms/step median (p10 %.2f, p90 %.2f) over %d steps of batch %d%n", r.msPerStepMedian(),
            r.msPerStepP10(), r.msPerStepP90(), r.steps(), r.batch()));
        if (r.hostBusyMsMedian() != null) {
            sb.append(String.format(Locale.ROOT, "  host busy %.2f ms/step median (the rest of the step it waits for the GPU: near the step time"
                + " means launch-bound)%n", r.hostBusyMsMedian()));
        }
        if (r.launchesPerStep() != null) {
            sb.append(String.format(Locale.ROOT, "  %.0f kernel launches/step (hand-written kernels; each costs the host a few microseconds)%n",
                r.launchesPerStep()));
        }
        if (r.skippedUpdates() != null) {
            sb.append(String.format(Locale.ROOT, "  fp16 loss scaling: %d updates skipped (gradients overflowed), warm-up included%n",
                r.skippedUpdates()));
        }
        sb.append(String.format(Locale.ROOT, "  peak memory %s, GC %.1f%% of step time", r.peakMemory(), r.gcPercent()));
        if (r.gflopsPerStep() != null) {
            double gflopsPerSec = r.gflopsPerStep() / (r.msPerStepMedian() / 1e3);
            sb.append(String.format(Locale.ROOT, ", %.1f GFLOP/step (%s)", r.gflopsPerStep(),
                gflopsPerSec >= 1000 ? String.format(Locale.ROOT, "%.1f TFLOP/s", gflopsPerSec / 1e3) : String.format(Locale.ROOT, "%.1f GFLOP/s", gflopsPerSec)));
        }
        return sb.append('\n').toString();
    }
}
