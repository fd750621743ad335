package org.slim4j.tools.train;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Function;
import org.slim4j.tools.Command;
import org.slim4j.tools.DeviceFlags;
import org.slim4j.tools.Flags;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j train_image_classifier}: TF-Slim's {@code train_image_classifier.py} with every one of
 * its flags (same names, defaults and meanings), plus {@code --device}, {@code --kernels},
 * {@code --precision} ({@link DeviceFlags}), {@code --seed} and {@code --fast_forward_input}. {@link Trainer} does the work.
 */
public final class TrainImageClassifierCommand implements Command {
    final Flags flags = new Flags("train_image_classifier");

    // ---- deployment and logging (TF-Slim's order) -----------------------------------------------
    final Flags.Flag<String> master = flags.string("master", "", "The address of the TensorFlow master to use (slim4j trains in-process: only \"\" is accepted)");
    final Flags.Flag<Path> trainDir = flags.path("train_dir", Path.of("/tmp/tfmodel/"), "Directory where checkpoints and event logs are written to.");
    final Flags.Flag<Integer> numClones = flags.integer("num_clones", 1, "Number of model clones to deploy, gradients averaged (on the CPU or one GPU they run one after another; with --device=cuda[:N]"
        + " and several GPUs, clone i runs on GPU N+i, wrapping around, with the variables and the update on GPU N)");
    final Flags.Flag<Boolean> cloneOnCpu = flags.bool("clone_on_cpu", false, "Use CPUs to deploy clones.");
    final Flags.Flag<Integer> workerReplicas = flags.integer("worker_replicas", 1, "Number of worker replicas (only 1 is supported).");
    final Flags.Flag<Integer> numPsTasks = flags.integer("num_ps_tasks", 0, "The number of parameter servers (only 0, local variables, is supported).");
    final Flags.Flag<Integer> numReaders = flags.integer("num_readers", 4, "The number of parallel readers that read data from the dataset.");
    final Flags.Flag<Integer> numPreprocessingThreads = flags.integer("num_preprocessing_threads", 4, "The number of threads used to create the batches.");
    final Flags.Flag<Integer> logEveryNSteps = flags.integer("log_every_n_steps", 10, "The frequency with which logs are print.");
    final Flags.Flag<Integer> saveSummariesSecs = flags.integer("save_summaries_secs", 600, "The frequency with which summaries are saved, in seconds (0: never).");
    final Flags.Flag<Integer> saveIntervalSecs = flags.integer("save_interval_secs", 600, "The frequency with which the model is saved, in seconds (0: only at the start and the end).");
    final Flags.Flag<Integer> task = flags.integer("task", 0, "Task id of the replica running the training (only 0, the chief, is supported).");

    // ---- optimization -----------------------------------------------------------------------------
    final Flags.Flag<Double> weightDecay = flags.decimal("weight_decay", 0.00004, "The weight decay on the model weights.");
    final Flags.Flag<String> optimizer = flags.choice("optimizer", "rmsprop", Optimizers.NAMES,
        "The name of the optimizer, one of \"adadelta\", \"adagrad\", \"adam\", \"ftrl\", \"momentum\", \"sgd\" or \"rmsprop\".");
    final Flags.Flag<Double> adadeltaRho = flags.decimal("adadelta_rho", 0.95, "The decay rate for adadelta.");
    final Flags.Flag<Double> adagradInitialAccumulatorValue = flags.decimal("adagrad_initial_accumulator_value", 0.1, "Starting value for the AdaGrad accumulators.");
    final Flags.Flag<Double> adamBeta1 = flags.decimal("adam_beta1", 0.9, "The exponential decay rate for the 1st moment estimates.");
    final Flags.Flag<Double> adamBeta2 = flags.decimal("adam_beta2", 0.999, "The exponential decay rate for the 2nd moment estimates.");
    final Flags.Flag<Double> optEpsilon = flags.decimal("opt_epsilon", 1.0, "Epsilon term for the optimizer.");
    final Flags.Flag<Double> ftrlLearningRatePower = flags.decimal("ftrl_learning_rate_power", -0.5, "The learning rate power.");
    final Flags.Flag<Double> ftrlInitialAccumulatorValue = flags.decimal("ftrl_initial_accumulator_value", 0.1, "Starting value for the FTRL accumulators.");
    final Flags.Flag<Double> ftrlL1 = flags.decimal("ftrl_l1", 0.0, "The FTRL l1 regularization strength.");
    final Flags.Flag<Double> ftrlL2 = flags.decimal("ftrl_l2", 0.0, "The FTRL l2 regularization strength.");
    final Flags.Flag<Double> momentum = flags.decimal("momentum", 0.9, "The momentum for the MomentumOptimizer and RMSPropOptimizer.");
    final Flags.Flag<Double> rmspropMomentum = flags.decimal("rmsprop_momentum", 0.9, "Momentum.");
    final Flags.Flag<Double> rmspropDecay = flags.decimal("rmsprop_decay", 0.9, "Decay term for RMSProp.");
    final Flags.Flag<Integer> quantizeDelay = flags.integer("quantize_delay", -1,
        "Number of steps to start quantized training. Set to -1 would disable quantized training (only -1 is supported).");

    // ---- learning rate ----------------------------------------------------------------------------
    final Flags.Flag<String> learningRateDecayType = flags.choice("learning_rate_decay_type", "exponential", Optimizers.DECAY_TYPES,
        "Specifies how the learning rate is decayed. One of \"fixed\", \"exponential\", or \"polynomial\"");
    final Flags.Flag<Double> learningRate = flags.decimal("learning_rate", 0.01, "Initial learning rate.");
    final Flags.Flag<Double> endLearningRate = flags.decimal("end_learning_rate", 0.0001, "The minimal end learning rate used by a polynomial decay learning rate.");
    final Flags.Flag<Double> labelSmoothing = flags.decimal("label_smoothing", 0.0, "The amount of label smoothing.");
    final Flags.Flag<Double> learningRateDecayFactor = flags.decimal("learning_rate_decay_factor", 0.94, "Learning rate decay factor.");
    final Flags.Flag<Double> numEpochsPerDecay = flags.decimal("num_epochs_per_decay", 2.0, "Number of epochs after which learning rate decays.");
    final Flags.Flag<Boolean> syncReplicas = flags.bool("sync_replicas", false,
        "Whether or not to synchronize the replicas during training (not supported: one process trains).");
    final Flags.Flag<Integer> replicasToAggregate = flags.integer("replicas_to_aggregate", 1,
        "The Number of gradients to collect before updating params.");
    final Flags.Flag<Double> movingAverageDecay = flags.define("moving_average_decay", "float", null, FlagParsers.positiveFraction(),
        "The decay to use for the moving average. If left as None, then moving averages are not used.");

    // ---- dataset ----------------------------------------------------------------------------------
    final Flags.Flag<String> datasetName = flags.string("dataset_name", "imagenet", "The name of the dataset to load.");
    final Flags.Flag<String> datasetSplitName = flags.string("dataset_split_name", "train", "The name of the train/test split.");
    final Flags.Flag<Path> datasetDir = flags.path("dataset_dir", null, "The directory where the dataset files are stored.");
    final Flags.Flag<Integer> labelsOffset = flags.integer("labels_offset", 0,
        "An offset for the labels in the dataset. This flag is primarily used to evaluate the VGG and ResNet architectures which do not use a background class for the ImageNet dataset.");
    final Flags.Flag<String> modelName = flags.string("model_name", "inception_v3", "The name of the architecture to train.");
    final Flags.Flag<String> preprocessingName = flags.define("preprocessing_name", "string", null, Function.identity(),
        "The name of the preprocessing to use. If left as `None`, then the model_name flag is used.");
    final Flags.Flag<Integer> batchSize = flags.integer("batch_size", 32, "The number of samples in each batch.");
    final Flags.Flag<Integer> trainImageSize = flags.define("train_image_size", "int", null, FlagParsers.positiveInt(), "Train image size");
    final Flags.Flag<Long> maxNumberOfSteps = flags.define("max_number_of_steps", "int", null, FlagParsers.nonNegativeLong(),
        "The maximum number of training steps.");
    final Flags.Flag<Boolean> useGrayscale = flags.bool("use_grayscale", false, "Whether to convert input images to grayscale.");

    // ---- fine-tuning ------------------------------------------------------------------------------
    final Flags.Flag<Path> checkpointPath = flags.path("checkpoint_path", null, "The path to a checkpoint from which to fine-tune.");
    final Flags.Flag<String> checkpointExcludeScopes = flags.define("checkpoint_exclude_scopes", "string", null, Function.identity(),
        "Comma-separated list of scopes of variables to exclude when restoring from a checkpoint.");
    final Flags.Flag<String> trainableScopes = flags.define("trainable_scopes", "string", null, Function.identity(),
        "Comma-separated list of scopes to filter the set of variables to train. By default, None would train all the variables.");
    final Flags.Flag<Boolean> ignoreMissingVars = flags.bool("ignore_missing_vars", false, "When restoring a checkpoint would ignore missing variables.");

    // ---- slim4j -----------------------------------------------------------------------------------
    final DeviceFlags devices = new DeviceFlags(flags, "train");
    final Flags.Flag<Long> seed = flags.define("seed", "int", null, FlagParsers.anyLong(),
        "slim4j: seed of the initial weights, data order, augmentation and dropout; a run with the same seed is repeated exactly"
            + " (none: a random seed, printed and saved in the checkpoints so a resumed run continues it)");
    final Flags.Flag<Boolean> fastForwardInput = flags.bool("fast_forward_input", true,
        "slim4j: when resuming from train_dir, replay the input pipeline to the checkpoint's position so the run continues"
            + " exactly as if never stopped (decodes the skipped images); --nofast_forward_input starts a freshly shuffled stream");

    @Override
    public String name() {
        return "train_image_classifier";
    }

    @Override
    public String description() {
        return "train a TF-Slim network on a dataset (TF-Slim's train_image_classifier.py, same flags)";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    /** Rejects flag values slim4j cannot honour, with what to do instead. */
    void validate() throws UsageException {
        String c = name() + ": ";
        if (datasetDir.get() == null) throw new UsageException(c + "You must supply the dataset directory with --dataset_dir");
        if (!master.get().isEmpty()) throw new UsageException(c + "--master is not supported: slim4j trains in this process (leave it empty)");
        if (workerReplicas.get() != 1 || numPsTasks.get() != 0 || task.get() != 0 || syncReplicas.get()) {
            throw new UsageException(c + "distributed training (--worker_replicas, --num_ps_tasks, --task, --sync_replicas) is not supported;"
                + " use --num_clones for data-parallel clones in one process");
        }
        if (quantizeDelay.get() >= 0) throw new UsageException(c + "quantized training (--quantize_delay >= 0) is not supported; leave it at -1");
        if (replicasToAggregate.get() < 1) throw new UsageException(c + "invalid value '" + replicasToAggregate.get() + "' for flag --replicas_to_aggregate: must be >= 1");
        positive("num_clones", numClones.get());
        positive("num_readers", numReaders.get());
        positive("num_preprocessing_threads", numPreprocessingThreads.get());
        positive("log_every_n_steps", logEveryNSteps.get());
        positive("batch_size", batchSize.get());
        if (saveSummariesSecs.get() < 0) throw bad("save_summaries_secs", saveSummariesSecs.get(), "must be >= 0");
        if (saveIntervalSecs.get() < 0) throw bad("save_interval_secs", saveIntervalSecs.get(), "must be >= 0");
        if (labelSmoothing.get() < 0 || labelSmoothing.get() > 1) throw bad("label_smoothing", labelSmoothing.get(), "must be in [0, 1]");
        if (labelsOffset.get() < 0) throw bad("labels_offset", labelsOffset.get(), "must be >= 0");
        if (!(learningRate.get() >= 0)) throw bad("learning_rate", learningRate.get(), "must be >= 0");
        if (!(numEpochsPerDecay.get() > 0)) throw bad("num_epochs_per_decay", numEpochsPerDecay.get(), "must be > 0");
        if (optimizer.get().equals("adagrad") && !(adagradInitialAccumulatorValue.get() > 0)) {
            throw bad("adagrad_initial_accumulator_value", adagradInitialAccumulatorValue.get(), "must be > 0");
        }
        if (optimizer.get().equals("ftrl") && ftrlLearningRatePower.get() > 0) throw bad("ftrl_learning_rate_power", ftrlLearningRatePower.get(), "must be <= 0");
        if (optimizer.get().equals("ftrl") && (ftrlL1.get() < 0 || ftrlL2.get() < 0)) throw new UsageException(c + "--ftrl_l1 and --ftrl_l2 must be >= 0");
        if (optimizer.get().equals("momentum") && momentum.get() < 0) throw bad("momentum", momentum.get(), "must be >= 0");
        devices.validate(name());
    }

    private void positive(String flag, int value) throws UsageException {
        if (value < 1) throw bad(flag, value, "must be >= 1");
    }

    private UsageException bad(String flag, Object value, String why) {
        return new UsageException(name() + ": invalid value '" + value + "' for flag --" + flag + ": " + why);
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        validate();
        return new Trainer(this, out, err).run();
    }
}
