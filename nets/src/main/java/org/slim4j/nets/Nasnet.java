package org.slim4j.nets;

import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.biasesInitializer;
import static org.slim4j.layers.Arg.dataFormat;
import static org.slim4j.layers.Arg.decay;
import static org.slim4j.layers.Arg.epsilon;
import static org.slim4j.layers.Arg.fused;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.scale;
import static org.slim4j.layers.Arg.scope;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.AVG_POOL2D;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.DROPOUT;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;
import static org.slim4j.layers.Layers.MAX_POOL2D;
import static org.slim4j.layers.Layers.SEPARABLE_CONV2D;
import static org.slim4j.layers.Layers.avgPool2d;
import static org.slim4j.layers.Layers.batchNorm;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.flatten;
import static org.slim4j.layers.Layers.fullyConnected;
import static org.slim4j.layers.Layers.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;
import org.slim4j.nets.NasnetUtils.Cell;

/**
 * TF-Slim's NASNet-A ({@code nets/nasnet/nasnet.py}, Zoph et al. 2017, arXiv:1707.07012):
 * nasnet_cifar (32x32), nasnet_mobile (224x224) and nasnet_large (331x331). A stem (a 3x3 conv, and
 * on ImageNet two reduction cells {@code cell_stem_0/1}), then {@code num_cells} normal cells
 * ({@code cell_i}) with a reduction cell ({@code reduction_cell_k}) before cells num_cells/3 and
 * 2·num_cells/3 that halves the size and doubles the filters, an auxiliary head ({@code aux_N},
 * training only) and {@code final_layer} (relu, global average pool, dropout, {@code FC}).
 *
 * <p>There is no enclosing variable scope: variables are named {@code conv0/weights},
 * {@code cell_stem_0/comb_iter_0/left/separable_5x5_1/depthwise_weights},
 * {@code cell_0/prev_1x1/weights}, {@code aux_7/aux_logits/FC/weights},
 * {@code final_layer/FC/biases}, ... End points: {@code Stem}, {@code Cell_i},
 * {@code Reduction_Cell_k}, {@code AuxLogits}, {@code global_pool}, {@code Logits},
 * {@code Predictions}.
 */
public final class Nasnet {
    private Nasnet() {
    }

    /** The network's hyper-parameters (TF's HParams); {@code with...} gives a modified copy (set_hparam). */
    public record Config(double stemMultiplier, double denseDropoutKeepProb, int numCells, double filterScalingRate, int numConvFilters,
                         double dropPathKeepProb, boolean useAuxHead, int numReductionLayers, String dataFormat,
                         boolean skipReductionLayerInput, long totalTrainingSteps, boolean useBoundedActivation) {
        public Config {
            if (numCells < 1) throw new IllegalArgumentException("nasnet config: num_cells must be >= 1, got " + numCells);
            if (numConvFilters < 1) throw new IllegalArgumentException("nasnet config: num_conv_filters must be >= 1, got " + numConvFilters);
            if (!(dropPathKeepProb > 0 && dropPathKeepProb <= 1)) {
                throw new IllegalArgumentException("nasnet config: drop_path_keep_prob must be in (0, 1], got " + dropPathKeepProb);
            }
            if (!(denseDropoutKeepProb > 0 && denseDropoutKeepProb <= 1)) {
                throw new IllegalArgumentException("nasnet config: dense_dropout_keep_prob must be in (0, 1], got " + denseDropoutKeepProb);
            }
            if (totalTrainingSteps < 1) throw new IllegalArgumentException("nasnet config: total_training_steps must be >= 1, got " + totalTrainingSteps);
        }

        public Config withStemMultiplier(double v) {
            return new Config(v, denseDropoutKeepProb, numCells, filterScalingRate, numConvFilters, dropPathKeepProb, useAuxHead,
                numReductionLayers, dataFormat, skipReductionLayerInput, totalTrainingSteps, useBoundedActivation);
        }

        public Config withDenseDropoutKeepProb(double v) {
            return new Config(stemMultiplier, v, numCells, filterScalingRate, numConvFilters, dropPathKeepProb, useAuxHead,
                numReductionLayers, dataFormat, skipReductionLayerInput, totalTrainingSteps, useBoundedActivation);
        }

        public Config withNumCells(int v) {
            return new Config(stemMultiplier, denseDropoutKeepProb, v, filterScalingRate, numConvFilters, dropPathKeepProb, useAuxHead,
                numReductionLayers, dataFormat, skipReductionLayerInput, totalTrainingSteps, useBoundedActivation);
        }

        public Config withNumConvFilters(int v) {
            return new Config(stemMultiplier, denseDropoutKeepProb, numCells, filterScalingRate, v, dropPathKeepProb, useAuxHead,
                numReductionLayers, dataFormat, skipReductionLayerInput, totalTrainingSteps, useBoundedActivation);
        }

        public Config withDropPathKeepProb(double v) {
            return new Config(stemMultiplier, denseDropoutKeepProb, numCells, filterScalingRate, numConvFilters, v, useAuxHead,
                numReductionLayers, dataFormat, skipReductionLayerInput, totalTrainingSteps, useBoundedActivation);
        }

        public Config withUseAuxHead(boolean v) {
            return new Config(stemMultiplier, denseDropoutKeepProb, numCells, filterScalingRate, numConvFilters, dropPathKeepProb, v,
                numReductionLayers, dataFormat, skipReductionLayerInput, totalTrainingSteps, useBoundedActivation);
        }

        public Config withDataFormat(String v) {
            return new Config(stemMultiplier, denseDropoutKeepProb, numCells, filterScalingRate, numConvFilters, dropPathKeepProb, useAuxHead,
                numReductionLayers, v, skipReductionLayerInput, totalTrainingSteps, useBoundedActivation);
        }

        public Config withSkipReductionLayerInput(boolean v) {
            return new Config(stemMultiplier, denseDropoutKeepProb, numCells, filterScalingRate, numConvFilters, dropPathKeepProb, useAuxHead,
                numReductionLayers, dataFormat, v, totalTrainingSteps, useBoundedActivation);
        }

        public Config withTotalTrainingSteps(long v) {
            return new Config(stemMultiplier, denseDropoutKeepProb, numCells, filterScalingRate, numConvFilters, dropPathKeepProb, useAuxHead,
                numReductionLayers, dataFormat, skipReductionLayerInput, v, useBoundedActivation);
        }

        public Config withUseBoundedActivation(boolean v) {
            return new Config(stemMultiplier, denseDropoutKeepProb, numCells, filterScalingRate, numConvFilters, dropPathKeepProb, useAuxHead,
                numReductionLayers, dataFormat, skipReductionLayerInput, totalTrainingSteps, v);
        }
    }

    /** cifar_config(): 18 cells of 32 filters, stem ×3, drop path 0.6, no dense dropout; 600 epochs at batch 32. */
    public static Config cifarConfig() {
        return new Config(3.0, 1.0, 18, 2.0, 32, 0.6, true, 2, "NHWC", false, 937_500, false);
    }

    /** large_imagenet_config(): 18 cells of 168 filters, stem ×3, drop path 0.7, dense keep 0.5, reduction inputs skipped. */
    public static Config largeImagenetConfig() {
        return new Config(3.0, 0.5, 18, 2.0, 168, 0.7, true, 2, "NHWC", true, 250_000, false);
    }

    /** mobile_imagenet_config(): 12 cells of 44 filters, stem ×1, no drop path, dense keep 0.5. */
    public static Config mobileImagenetConfig() {
        return new Config(1.0, 0.5, 12, 2.0, 44, 1.0, true, 2, "NHWC", false, 250_000, false);
    }

    // ---- network options (keyword arguments of the build functions) ----------------------------------

    /** The hyper-parameters (default: the variant's own config). */
    public static final Arg<Config> CONFIG = Arg.key("config", Config.class);
    /**
     * The training step that schedules drop path (TF's {@code current_step}, by default the global
     * step), read during each training-mode forward pass. Absent: step 0, as a fresh global step
     * (drop path then keeps everything), so a trainer should pass its step counter. PNASNet takes it
     * too, where TF reads the global step implicitly.
     */
    public static final Arg<LongSupplier> CURRENT_STEP = Arg.key("current_step", LongSupplier.class);
    /** Stop building after this end point and return it (e.g. {@code Cell_7}). */
    public static final Arg<String> FINAL_ENDPOINT = Arg.key("final_endpoint", String.class);

    /** The same setting when training or not, except that drop path is off outside training. */
    static Config updateHparams(Config hparams, boolean isTraining) {
        if (!"NHWC".equals(hparams.dataFormat())) {
            throw new IllegalArgumentException("nasnet: data_format " + hparams.dataFormat() + " is not supported (only NHWC)");
        }
        return isTraining ? hparams : hparams.withDropPathKeepProb(1.0);
    }

    // ---- arg scopes ----------------------------------------------------------------------------------

    /**
     * The arg scope shared by the NASNet variants: conv, separable conv and fc with L2 decay and
     * variance scaling (FAN_OUT, factor 2, truncated normal); fc linear with scope {@code FC}; conv
     * and separable conv linear without biases; batch norm with scale, fused, and the given decay
     * and epsilon.
     */
    static ArgScope nasnetArgScope(double weightDecay, double batchNormDecay, double batchNormEpsilon) {
        return ArgScope.of(FULLY_CONNECTED, CONV2D, SEPARABLE_CONV2D).set(
                weightsRegularizer(Regularizers.l2(weightDecay)),
                weightsInitializer(Initializers.varianceScaling(2.0, Initializers.Mode.FAN_OUT, false)))
            .nest(ArgScope.of(FULLY_CONNECTED).set(activationFn(null), scope("FC")))
            .nest(ArgScope.of(CONV2D, SEPARABLE_CONV2D).set(activationFn(null), biasesInitializer(null)))
            .nest(ArgScope.of(BATCH_NORM).set(decay(batchNormDecay), epsilon(batchNormEpsilon), scale(true), fused(true)));
    }

    /** nasnet_cifar_arg_scope(weight_decay=5e-4, batch_norm_decay=0.9, batch_norm_epsilon=1e-5). */
    public static ArgScope nasnetCifarArgScope(double weightDecay, double batchNormDecay, double batchNormEpsilon) {
        return nasnetArgScope(weightDecay, batchNormDecay, batchNormEpsilon);
    }

    public static ArgScope nasnetCifarArgScope(double weightDecay) {
        return nasnetCifarArgScope(weightDecay, 0.9, 1e-5);
    }

    /** nasnet_mobile_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3). */
    public static ArgScope nasnetMobileArgScope(double weightDecay, double batchNormDecay, double batchNormEpsilon) {
        return nasnetArgScope(weightDecay, batchNormDecay, batchNormEpsilon);
    }

    public static ArgScope nasnetMobileArgScope(double weightDecay) {
        return nasnetMobileArgScope(weightDecay, 0.9997, 1e-3);
    }

    /** nasnet_large_arg_scope(weight_decay=5e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3). */
    public static ArgScope nasnetLargeArgScope(double weightDecay, double batchNormDecay, double batchNormEpsilon) {
        return nasnetArgScope(weightDecay, batchNormDecay, batchNormEpsilon);
    }

    public static ArgScope nasnetLargeArgScope(double weightDecay) {
        return nasnetLargeArgScope(weightDecay, 0.9997, 1e-3);
    }

    // ---- pieces shared with PNASNet ------------------------------------------------------------------

    /**
     * The auxiliary head on {@code net} (already activated), in scope {@code scope}/aux_logits:
     * 5x5 avg pool stride 3 VALID → {@code proj} 1x1 128 → {@code aux_bn0} → relu → a VALID conv
     * covering the whole map, 768 filters ({@code Conv}) → {@code aux_bn1} → relu → flatten →
     * {@code FC}; recorded as {@code AuxLogits}.
     */
    static void buildAuxHead(Var net, EndPoints endPoints, int numClasses, Config hparams, String scope) {
        try (VariableScope sc = VariableScope.open(scope)) {
            Var aux = net;
            try (VariableScope al = VariableScope.open("aux_logits")) {
                aux = avgPool2d(aux, 5, 3, null, padding(VALID));
                aux = conv2d(aux, 128, 1, "proj");
                aux = batchNorm(aux, "aux_bn0");
                aux = NasnetUtils.activation(aux, hparams.useBoundedActivation());
                // the shape of the feature map before the final layer
                int[] d = aux.value().dims();
                aux = conv2d(aux, 768, kernel(d[1], d[2]), null, padding(VALID));
                aux = batchNorm(aux, "aux_bn1");
                aux = NasnetUtils.activation(aux, hparams.useBoundedActivation());
                aux = flatten(aux);
                aux = fullyConnected(aux, numClasses);
                endPoints.put("AuxLogits", aux);
            }
        }
    }

    /** The stem's output and the list of cell outputs so far ([null, conv0/stem, stem cells...]). */
    record Stem(Var net, List<Var> cellOutputs) {
    }

    /**
     * The ImageNet stem: {@code conv0} (3x3, stride 2, VALID, int(32·stem_multiplier) filters) +
     * {@code conv0_bn}, then two stride-2 stem cells {@code cell_stem_0/1} with filter scaling 1/4
     * and 1/2 (NASNet uses its reduction cell, PNASNet its normal cell).
     */
    static Stem imagenetStem(Var inputs, Config hparams, Cell stemCell, LongSupplier currentStep) {
        int numStemCells = 2;
        int numStemFilters = (int) (32 * hparams.stemMultiplier());
        Var net = conv2d(inputs, numStemFilters, 3, 2, "conv0", padding(VALID));
        net = batchNorm(net, "conv0_bn");
        List<Var> cellOutputs = new ArrayList<>();
        cellOutputs.add(null);
        cellOutputs.add(net);
        double filterScaling = 1.0 / Math.pow(hparams.filterScalingRate(), numStemCells);
        for (int cellNum = 0; cellNum < numStemCells; cellNum++) {
            net = stemCell.apply(net, "cell_stem_" + cellNum, filterScaling, 2, secondLast(cellOutputs), cellNum, currentStep);
            cellOutputs.add(net);
            filterScaling *= hparams.filterScalingRate();
        }
        return new Stem(net, cellOutputs);
    }

    /** The CIFAR stem: {@code l1_stem_3x3} (3x3, int(num_conv_filters·stem_multiplier)) + {@code l1_stem_bn}. */
    static Stem cifarStem(Var inputs, Config hparams) {
        int numStemFilters = (int) (hparams.numConvFilters() * hparams.stemMultiplier());
        Var net = conv2d(inputs, numStemFilters, 3, "l1_stem_3x3");
        net = batchNorm(net, "l1_stem_bn");
        List<Var> cellOutputs = new ArrayList<>();
        cellOutputs.add(null);
        cellOutputs.add(net);
        return new Stem(net, cellOutputs);
    }

    static Var secondLast(List<Var> list) {
        return list.get(list.size() - 2);
    }

    /**
     * The final layer in scope {@code final_layer}: activation → global average pool
     * ({@code global_pool}; returned when numClasses is 0) → dropout → {@code FC} ({@code Logits})
     * → softmax ({@code Predictions}). As in TF, stopping at Logits or Predictions returns the
     * dropout output, not the logits.
     */
    static NetOutput finalLayer(Var net, EndPoints endPoints, int numClasses, Config hparams, String finalEndpoint) {
        try (VariableScope sc = VariableScope.open("final_layer")) {
            net = NasnetUtils.activation(net, hparams.useBoundedActivation());
            net = NasnetUtils.globalAvgPool(net);
            if (add(endPoints, "global_pool", net, finalEndpoint) || numClasses == 0) return new NetOutput(net, endPoints);
            net = dropout(net, hparams.denseDropoutKeepProb(), "dropout");
            Var logits = fullyConnected(net, numClasses);
            if (add(endPoints, "Logits", logits, finalEndpoint)) return new NetOutput(net, endPoints);
            Var predictions = Ops.softmaxNamed(logits, "predictions");
            if (add(endPoints, "Predictions", predictions, finalEndpoint)) return new NetOutput(net, endPoints);
            return new NetOutput(logits, endPoints);
        }
    }

    /** add_and_check_endpoint: records the end point; true when it is the final one asked for. */
    static boolean add(EndPoints endPoints, String name, Var net, String finalEndpoint) {
        endPoints.put(name, net);
        return finalEndpoint != null && finalEndpoint.equals(name);
    }

    /**
     * Opens the arg scopes every build function wraps the network in: is_training for dropout, drop
     * path and batch norm; data_format for the layers and NASNet's helpers.
     */
    static ArgScope buildScope(boolean isTraining, Config hparams) {
        return ArgScope.of(DROPOUT, NasnetUtils.DROP_PATH, BATCH_NORM).set(isTraining(isTraining))
            .nest(ArgScope.of(AVG_POOL2D, MAX_POOL2D, CONV2D, BATCH_NORM, SEPARABLE_CONV2D, NasnetUtils.FACTORIZED_REDUCTION,
                NasnetUtils.GLOBAL_AVG_POOL).set(dataFormat(hparams.dataFormat())));
    }

    // ---- the networks --------------------------------------------------------------------------------

    /** build_nasnet_cifar(images, num_classes, is_training=True, config=None, current_step=None). */
    public static NetOutput buildNasnetCifar(Var images, int numClasses, boolean isTraining, Config config, LongSupplier currentStep) {
        Config hparams = updateHparams(config == null ? cifarConfig() : config, isTraining);
        // the total number of cells: 2 more for the reduction cells
        int totalNumCells = hparams.numCells() + 2;
        Cell normalCell = NasnetUtils.normalCell(hparams.numConvFilters(), hparams.dropPathKeepProb(), totalNumCells,
            hparams.totalTrainingSteps(), hparams.useBoundedActivation());
        Cell reductionCell = NasnetUtils.reductionCell(hparams.numConvFilters(), hparams.dropPathKeepProb(), totalNumCells,
            hparams.totalTrainingSteps(), hparams.useBoundedActivation());
        try (ArgScope.Opened s = buildScope(isTraining, hparams).open()) {
            return buildNasnetBase(images, normalCell, reductionCell, numClasses, hparams, isTraining, false, null, currentStep);
        }
    }

    /** build_nasnet_mobile(images, num_classes, is_training=True, final_endpoint=None, config=None, current_step=None). */
    public static NetOutput buildNasnetMobile(Var images, int numClasses, boolean isTraining, String finalEndpoint, Config config,
                                              LongSupplier currentStep) {
        return buildImagenet(images, numClasses, isTraining, finalEndpoint, config == null ? mobileImagenetConfig() : config, currentStep);
    }

    /** build_nasnet_large(images, num_classes, is_training=True, final_endpoint=None, config=None, current_step=None). */
    public static NetOutput buildNasnetLarge(Var images, int numClasses, boolean isTraining, String finalEndpoint, Config config,
                                             LongSupplier currentStep) {
        return buildImagenet(images, numClasses, isTraining, finalEndpoint, config == null ? largeImagenetConfig() : config, currentStep);
    }

    private static NetOutput buildImagenet(Var images, int numClasses, boolean isTraining, String finalEndpoint, Config config,
                                           LongSupplier currentStep) {
        Config hparams = updateHparams(config, isTraining);
        // 2 more for the reduction cells and 2 for the stem cells
        int totalNumCells = hparams.numCells() + 2 + 2;
        Cell normalCell = NasnetUtils.normalCell(hparams.numConvFilters(), hparams.dropPathKeepProb(), totalNumCells,
            hparams.totalTrainingSteps(), hparams.useBoundedActivation());
        Cell reductionCell = NasnetUtils.reductionCell(hparams.numConvFilters(), hparams.dropPathKeepProb(), totalNumCells,
            hparams.totalTrainingSteps(), hparams.useBoundedActivation());
        try (ArgScope.Opened s = buildScope(isTraining, hparams).open()) {
            return buildNasnetBase(images, normalCell, reductionCell, numClasses, hparams, isTraining, true, finalEndpoint, currentStep);
        }
    }

    /** _build_nasnet_base: the stem, the cells with reductions and the aux head, the final layer. */
    private static NetOutput buildNasnetBase(Var images, Cell normalCell, Cell reductionCell, int numClasses, Config hparams,
                                             boolean isTraining, boolean imagenetStem, String finalEndpoint, LongSupplier currentStep) {
        if (images.value().rank() != 4) throw new IllegalArgumentException("nasnet: images must be rank 4 (NHWC), got shape " + images.value().shape());
        EndPoints endPoints = new EndPoints();
        int[] reductionIndices = NasnetUtils.calcReductionLayers(hparams.numCells(), hparams.numReductionLayers());
        // the ImageNet stem uses the reduction cell
        Stem stem = imagenetStem ? imagenetStem(images, hparams, reductionCell, currentStep) : cifarStem(images, hparams);
        Var net = stem.net();
        List<Var> cellOutputs = stem.cellOutputs();
        if (add(endPoints, "Stem", net, finalEndpoint)) return new NetOutput(net, endPoints);

        // the aux head goes after the cell before the second reduction
        int auxHeadCellIdx = reductionIndices.length >= 2 ? reductionIndices[1] - 1 : -1;

        double filterScaling = 1.0;
        // true_cell_num counts the stem cells too
        int trueCellNum = imagenetStem ? 2 : 0;
        Var prevLayer = null;
        for (int cellNum = 0; cellNum < hparams.numCells(); cellNum++) {
            int stride = 1;
            if (hparams.skipReductionLayerInput()) prevLayer = secondLast(cellOutputs);
            int reduction = indexOf(reductionIndices, cellNum);
            if (reduction >= 0) {
                filterScaling *= hparams.filterScalingRate();
                net = reductionCell.apply(net, "reduction_cell_" + reduction, filterScaling, 2, secondLast(cellOutputs), trueCellNum, currentStep);
                if (add(endPoints, "Reduction_Cell_" + reduction, net, finalEndpoint)) return new NetOutput(net, endPoints);
                trueCellNum++;
                cellOutputs.add(net);
            }
            if (!hparams.skipReductionLayerInput()) prevLayer = secondLast(cellOutputs);
            net = normalCell.apply(net, "cell_" + cellNum, filterScaling, stride, prevLayer, trueCellNum, currentStep);
            if (add(endPoints, "Cell_" + cellNum, net, finalEndpoint)) return new NetOutput(net, endPoints);
            trueCellNum++;
            if (hparams.useAuxHead() && cellNum == auxHeadCellIdx && numClasses > 0 && isTraining) {
                Var auxNet = NasnetUtils.activation(net, hparams.useBoundedActivation());
                buildAuxHead(auxNet, endPoints, numClasses, hparams, "aux_" + cellNum);
            }
            cellOutputs.add(net);
        }
        return finalLayer(net, endPoints, numClasses, hparams, finalEndpoint);
    }

    /** Python's list.index (first position), or -1. */
    static int indexOf(int[] values, int v) {
        for (int i = 0; i < values.length; i++) if (values[i] == v) return i;
        return -1;
    }

    // ---- nets factory entries ------------------------------------------------------------------------

    public static final NetworkFn NASNET_CIFAR = NetworkFn.of("nasnet_cifar", 32, 3, 10, Nasnet::nasnetCifarArgScope,
        List.of(CONFIG, CURRENT_STEP),
        (images, numClasses, training, o) -> buildNasnetCifar(images, numClasses, training, o.get(CONFIG, null), o.get(CURRENT_STEP, null)));

    public static final NetworkFn NASNET_MOBILE = NetworkFn.of("nasnet_mobile", 224, 3, 1001, Nasnet::nasnetMobileArgScope,
        List.of(FINAL_ENDPOINT, CONFIG, CURRENT_STEP),
        (images, numClasses, training, o) -> buildNasnetMobile(images, numClasses, training, o.get(FINAL_ENDPOINT, null), o.get(CONFIG, null),
            o.get(CURRENT_STEP, null)));

    public static final NetworkFn NASNET_LARGE = NetworkFn.of("nasnet_large", 331, 3, 1001, Nasnet::nasnetLargeArgScope,
        List.of(FINAL_ENDPOINT, CONFIG, CURRENT_STEP),
        (images, numClasses, training, o) -> buildNasnetLarge(images, numClasses, training, o.get(FINAL_ENDPOINT, null), o.get(CONFIG, null),
            o.get(CURRENT_STEP, null)));
}
