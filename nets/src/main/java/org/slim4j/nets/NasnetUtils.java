package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Layers.avgPool2d;
import static org.slim4j.layers.Layers.batchNorm;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.maxPool2d;
import static org.slim4j.layers.Layers.separableConv2d;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Args;
import org.slim4j.layers.Graph;
import org.slim4j.layers.LayerKind;
import org.slim4j.layers.Ops;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's {@code nets/nasnet/nasnet_utils.py}: the pieces NASNet-A and PNASNet are built from —
 * {@link #calcReductionLayers}, {@link #globalAvgPool}, {@link #factorizedReduction},
 * {@link #dropPath} and the searched cell ({@link Cell}, with the NASNet-A
 * {@link #normalCell normal} and {@link #reductionCell reduction} cells). Layouts are NHWC.
 *
 * <p>A cell keeps a list of hidden states, starting with {@code [1x1(relu(input)), prev_layer]}
 * (prev_layer matched to the input's size and the cell's filter count). Five {@code comb_iter_i}
 * blocks each apply one operation to a {@code left} and one to a {@code right} hidden state and add
 * the results, appending a new state. The states no block consumed are concatenated on channels
 * (after a factorized reduction where their size differs) as the cell's output. Operation strings:
 * {@code separable_KxK_N} (N stacked relu → separable conv → batch norm), {@code avg_pool_KxK},
 * {@code max_pool_KxK} (SAME; a 1x1 conv + bn when the channel count changes), {@code none}
 * (identity, or relu → strided 1x1 conv + bn when the size or channels change).
 */
public final class NasnetUtils {
    private NasnetUtils() {
    }

    // ---- arg-scope-able functions (TF's @add_arg_scope) ----------------------------------------------

    /** drop_path(net, keep_prob, is_training=True). */
    public static final LayerKind DROP_PATH = LayerKind.of("drop_path", Arg.IS_TRAINING);
    /** factorized_reduction(net, output_filters, stride, data_format). */
    public static final LayerKind FACTORIZED_REDUCTION = LayerKind.of("factorized_reduction", Arg.DATA_FORMAT);
    /** global_avg_pool(x, data_format). */
    public static final LayerKind GLOBAL_AVG_POOL = LayerKind.of("global_avg_pool", Arg.DATA_FORMAT);

    /** The cap of tf.clip_by_value after a cell operation when bounded activations are used. */
    static final double CLIP_BY_VALUE_CAP = 6;

    /**
     * The cell indices at which a reduction happens: {@code int(k / (R + 1) * numCells)} for
     * k = 1..R (cells 6 and 12 of 18, 4 and 8 of 12, 3 and 6 of 9).
     */
    public static int[] calcReductionLayers(int numCells, int numReductionLayers) {
        int[] layers = new int[numReductionLayers];
        for (int k = 1; k <= numReductionLayers; k++) {
            layers[k - 1] = (int) ((double) k / (numReductionLayers + 1) * numCells);
        }
        return layers;
    }

    /** Averages away the spatial dimensions: [N, H, W, C] to [N, C]. */
    public static Var globalAvgPool(Var x, Arg.Value<?>... args) {
        Args a = ArgScope.resolve(GLOBAL_AVG_POOL, args);
        checkNhwc("global_avg_pool", a);
        if (x.value().rank() != 4) throw new IllegalArgumentException("global_avg_pool: input must be rank 4 (NHWC), got shape " + x.value().shape());
        return Ops.reduceMean(x, new int[] {1, 2}, false);
    }

    /**
     * Reduces the spatial size of {@code net} by {@code stride} without losing the pixels a strided
     * 1x1 conv would skip. Stride 1: {@code path_conv} (1x1) + {@code path_bn}. Stride 2: path 1 is
     * a strided 1x1 avg pool → {@code path1_conv} (half the filters); path 2 is the same on the input
     * shifted by one pixel (pad bottom/right, drop the first row and column) → {@code path2_conv}
     * (the other half, one more when the count is odd); concatenated → {@code final_path_bn}.
     */
    public static Var factorizedReduction(Var net, int outputFilters, int stride, Arg.Value<?>... args) {
        Args a = ArgScope.resolve(FACTORIZED_REDUCTION, args);
        checkNhwc("factorized_reduction", a);
        if (net.value().rank() != 4) throw new IllegalArgumentException("factorized_reduction: input must be rank 4 (NHWC), got shape " + net.value().shape());
        if (outputFilters < 1) throw new IllegalArgumentException("factorized_reduction: output_filters must be >= 1, got " + outputFilters);
        if (stride == 1) {
            net = conv2d(net, outputFilters, 1, "path_conv");
            return batchNorm(net, "path_bn");
        }
        PoolSpec strided = new PoolSpec(1, 1, stride, stride, VALID);
        // Skip path 1
        Var path1 = Ops.avgPool(net, strided);
        path1 = conv2d(path1, outputFilters / 2, 1, "path1_conv");
        // Skip path 2: pad with zeros on the bottom and right, then shift by one pixel so that the
        // strided pool samples the positions path 1 skipped.
        int[] dims = net.value().dims();
        Var path2 = Ops.pad(net, new int[][] {{0, 0}, {0, 1}, {0, 1}, {0, 0}});
        path2 = Ops.slice(path2, new int[] {0, 1, 1, 0}, new int[] {dims[0], dims[1], dims[2], dims[3]});
        path2 = Ops.avgPool(path2, strided);
        // an odd filter count gives the second path the extra filter
        path2 = conv2d(path2, outputFilters / 2 + outputFilters % 2, 1, "path2_conv");
        Var finalPath = Ops.concat(List.of(path1, path2), 3);
        return batchNorm(finalPath, "final_path_bn");
    }

    /**
     * drop_path: in training, keeps each example's whole {@code net} with probability
     * {@code keepProb} (scaled by 1/keepProb) and zeroes it otherwise — TF's
     * {@code net / keep_prob * floor(keep_prob + U[0, 1))} with noise shape [N, 1, 1, 1]. The mask is
     * seeded from the graph's seed and the current scope, so a forward pass is reproducible.
     * Identity when not training (is_training comes from the arg scope, default true).
     */
    public static Var dropPath(Var net, double keepProb, Arg.Value<?>... args) {
        Args a = ArgScope.resolve(DROP_PATH, args);
        if (!(keepProb > 0 && keepProb <= 1)) throw new IllegalArgumentException("drop_path: keep_prob must be in (0, 1], got " + keepProb);
        if (!a.get(Arg.IS_TRAINING, true) || keepProb == 1) return net;
        int[] dims = net.value().dims();
        int[] noiseShape = new int[dims.length];
        java.util.Arrays.fill(noiseShape, 1);
        noiseShape[0] = dims[0];
        Graph g = Graph.current();
        String name = g.scopeName().isEmpty() ? "drop_path" : g.scopeName() + "/drop_path";
        return Ops.dropout(net, keepProb, g.randomSeed(name), noiseShape);
    }

    /**
     * The keep probability drop path uses in cell {@code cellNum} of {@code totalNumCells} at
     * training step {@code currentStep} (TF's drop_connect_version 'v3'): scaled linearly with the
     * depth, {@code 1 - (cellNum + 1) / totalNumCells * (1 - keep)}, then with the training progress,
     * {@code 1 - min(1, step / totalTrainingSteps) * (1 - that)}.
     */
    public static double scheduledKeepProb(double dropPathKeepProb, int cellNum, int totalNumCells, double currentStep, long totalTrainingSteps) {
        if (dropPathKeepProb >= 1.0) return dropPathKeepProb;
        if (cellNum < 0) throw new IllegalArgumentException("drop_path: the cell number must be set (got " + cellNum + ")");
        double layerRatio = (cellNum + 1) / (double) totalNumCells;
        double keep = 1 - layerRatio * (1 - dropPathKeepProb);
        double currentRatio = Math.min(1.0, currentStep / totalTrainingSteps);
        return 1 - currentRatio * (1 - keep);
    }

    // ---- operations ----------------------------------------------------------------------------------

    /** 'separable_3x3_4' → {4 layers, kernel 3}; 'separable_5x5' → {1, 5}. */
    static int[] operationToInfo(String operation) {
        String[] parts = operation.split("_");
        String last = parts[parts.length - 1];
        int numLayers = last.contains("x") ? 1 : Integer.parseInt(last);
        String[] byX = operation.split("x");
        int h = byX[0].charAt(byX[0].length() - 1) - '0';
        int w = byX[1].charAt(0) - '0';
        if (h != w) throw new IllegalArgumentException("Rectangular filters not supported: " + operation);
        return new int[] {numLayers, h};
    }

    /**
     * {@code numLayers} × (activation → separable_conv2d(filterSize, k, depth multiplier 1) →
     * batch norm), scopes {@code separable_KxK_i} / {@code bn_sep_KxK_i}; only the first strides.
     */
    static Var stackedSeparableConv(Var net, int stride, String operation, int filterSize, boolean useBoundedActivation) {
        int[] info = operationToInfo(operation);
        int numLayers = info[0];
        int k = info[1];
        for (int layer = 1; layer <= numLayers; layer++) {
            net = activation(net, useBoundedActivation);
            net = separableConv2d(net, filterSize, k, 1, "separable_" + k + "x" + k + "_" + layer, Arg.stride(stride));
            net = batchNorm(net, "bn_sep_" + k + "x" + k + "_" + layer);
            stride = 1;
        }
        return net;
    }

    /** 'avg_pool_3x3' / 'max_pool_3x3' with SAME padding (relu6 first with bounded activations). */
    static Var pooling(Var net, int stride, String operation, boolean useBoundedActivation) {
        String[] parts = operation.split("_");
        String type = parts[0];
        String[] hw = parts[parts.length - 1].split("x");
        if (hw.length != 2 || !hw[0].equals(hw[1])) throw new IllegalArgumentException("Unimplemented pooling shape: " + operation);
        int k = Integer.parseInt(hw[0]);
        if (useBoundedActivation) net = Ops.relu6(net);
        return switch (type) {
            case "avg" -> avgPool2d(net, k, stride, null, Arg.padding(SAME));
            case "max" -> maxPool2d(net, k, stride, null, Arg.padding(SAME));
            default -> throw new IllegalArgumentException("Unimplemented pooling type: " + type + " (" + operation + ")");
        };
    }

    static Var activation(Var x, boolean bounded) {
        return bounded ? Ops.relu6(x) : Ops.relu(x);
    }

    private static void checkNhwc(String op, Args a) {
        String f = a.get(Arg.DATA_FORMAT, null);
        if (f != null && !f.equals("NHWC")) throw new IllegalArgumentException(op + ": data_format " + f + " is not supported (only NHWC)");
    }

    // ---- cells ---------------------------------------------------------------------------------------

    /**
     * NasNetABaseCell: a searched cell given by its operations (two per combination), the hidden
     * states each combination reads, and which states are consumed (the others form the output).
     * Call it with {@link #apply}; it opens {@code scope} and creates its variables there.
     */
    public static final class Cell {
        private final int numConvFilters;
        private final List<String> operations;
        private final int[] usedHiddenstates;
        private final int[] hiddenstateIndices;
        private final double dropPathKeepProb;
        private final int totalNumCells;
        private final long totalTrainingSteps;
        private final boolean useBoundedActivation;

        public Cell(int numConvFilters, List<String> operations, int[] usedHiddenstates, int[] hiddenstateIndices, double dropPathKeepProb,
                    int totalNumCells, long totalTrainingSteps, boolean useBoundedActivation) {
            if (operations.size() != 10 || hiddenstateIndices.length != 10 || usedHiddenstates.length != 7) {
                throw new IllegalArgumentException("a NASNet cell has 10 operations, 10 hidden-state indices and 7 used flags, got "
                    + operations.size() + ", " + hiddenstateIndices.length + ", " + usedHiddenstates.length);
            }
            this.numConvFilters = numConvFilters;
            this.operations = List.copyOf(operations);
            this.usedHiddenstates = usedHiddenstates.clone();
            this.hiddenstateIndices = hiddenstateIndices.clone();
            this.dropPathKeepProb = dropPathKeepProb;
            this.totalNumCells = totalNumCells;
            this.totalTrainingSteps = totalTrainingSteps;
            this.useBoundedActivation = useBoundedActivation;
        }

        public List<String> operations() {
            return operations;
        }

        /**
         * Runs the cell on {@code net} in scope {@code scope} with {@code int(numConvFilters ·
         * filterScaling)} filters per operation. {@code prevLayer} is the output of the cell before
         * the previous one (null: use {@code net}); {@code cellNum} is the cell's position for the
         * drop-path schedule; {@code currentStep} the training step (null: 0, a fresh global step).
         */
        public Var apply(Var net, String scope, double filterScaling, int stride, Var prevLayer, int cellNum, LongSupplier currentStep) {
            Run run = new Run((int) (numConvFilters * filterScaling), cellNum, currentStep);
            try (VariableScope sc = VariableScope.open(scope)) {
                List<Var> states = run.cellBase(net, prevLayer);
                int i = 0;
                for (int iteration = 0; iteration < 5; iteration++) {
                    try (VariableScope comb = VariableScope.open("comb_iter_" + iteration)) {
                        int leftIdx = hiddenstateIndices[i];
                        int rightIdx = hiddenstateIndices[i + 1];
                        Var h1 = states.get(leftIdx);
                        Var h2 = states.get(rightIdx);
                        String opLeft = operations.get(i);
                        String opRight = operations.get(i + 1);
                        i += 2;
                        try (VariableScope left = VariableScope.open("left")) {
                            h1 = run.applyConvOperation(h1, opLeft, stride, leftIdx < 2);
                        }
                        try (VariableScope right = VariableScope.open("right")) {
                            h2 = run.applyConvOperation(h2, opRight, stride, rightIdx < 2);
                        }
                        Var h;
                        try (VariableScope combine = VariableScope.open("combine")) {
                            h = Ops.add(h1, h2);
                            if (useBoundedActivation) h = Ops.relu6(h);
                        }
                        states.add(h);
                    }
                }
                try (VariableScope out = VariableScope.open("cell_output")) {
                    return run.combineUnusedStates(states);
                }
            }
        }

        /** The state of one call (TF keeps it on the cell object). */
        private final class Run {
            final int filterSize;
            final int cellNum;
            final LongSupplier currentStep;

            Run(int filterSize, int cellNum, LongSupplier currentStep) {
                if (filterSize < 1) throw new IllegalArgumentException("nasnet cell: filter size " + filterSize + " < 1");
                this.filterSize = filterSize;
                this.cellNum = cellNum;
                this.currentStep = currentStep;
            }

            /** Matches prevLayer's size (factorized reduction) or channels (prev_1x1) to the cell's. */
            Var reducePrevLayer(Var prevLayer, Var currLayer) {
                if (prevLayer == null) return currLayer;
                int prevFilters = prevLayer.value().dim(3);
                int currWidth = currLayer.value().dim(2);
                int prevWidth = prevLayer.value().dim(2);
                if (currWidth != prevWidth) {
                    prevLayer = activation(prevLayer, useBoundedActivation);
                    prevLayer = factorizedReduction(prevLayer, filterSize, 2);
                } else if (filterSize != prevFilters) {
                    prevLayer = activation(prevLayer, useBoundedActivation);
                    prevLayer = conv2d(prevLayer, filterSize, 1, "prev_1x1");
                    prevLayer = batchNorm(prevLayer, "prev_bn");
                }
                return prevLayer;
            }

            /** The first two hidden states: [bn(1x1(relu(net))), prevLayer matched]. */
            List<Var> cellBase(Var net, Var prevLayer) {
                prevLayer = reducePrevLayer(prevLayer, net);
                net = activation(net, useBoundedActivation);
                net = conv2d(net, filterSize, 1, "1x1");
                net = batchNorm(net, "beginning_bn");
                List<Var> states = new ArrayList<>();
                states.add(net);
                states.add(prevLayer);
                return states;
            }

            Var applyConvOperation(Var net, String operation, int stride, boolean isFromOriginalInput) {
                // only the cell's two inputs are strided
                if (stride > 1 && !isFromOriginalInput) stride = 1;
                int inputFilters = net.value().dim(3);
                if (operation.contains("separable")) {
                    net = stackedSeparableConv(net, stride, operation, filterSize, useBoundedActivation);
                    if (useBoundedActivation) net = Ops.clipByValue(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP);
                } else if (operation.equals("none")) {
                    if (useBoundedActivation) net = Ops.relu6(net);
                    // a stride or a channel change needs a (strided) 1x1 conv here
                    if (stride > 1 || inputFilters != filterSize) {
                        if (!useBoundedActivation) net = Ops.relu(net);
                        net = conv2d(net, filterSize, 1, "1x1", Arg.stride(stride));
                        net = batchNorm(net, "bn_1");
                        if (useBoundedActivation) net = Ops.clipByValue(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP);
                    }
                } else if (operation.contains("pool")) {
                    net = pooling(net, stride, operation, useBoundedActivation);
                    if (inputFilters != filterSize) {
                        net = conv2d(net, filterSize, 1, "1x1", Arg.stride(1));
                        net = batchNorm(net, "bn_1");
                    }
                    if (useBoundedActivation) net = Ops.clipByValue(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP);
                } else {
                    throw new IllegalArgumentException("Unimplemented operation " + operation);
                }
                if (!operation.equals("none")) net = applyDropPath(net);
                return net;
            }

            /** Concatenates the states no combination consumed, reducing those of another size or width. */
            Var combineUnusedStates(List<Var> states) {
                Var last = states.get(states.size() - 1);
                int finalWidth = last.value().dim(2);
                int finalFilters = last.value().dim(3);
                List<Var> toCombine = new ArrayList<>();
                for (int idx = 0; idx < usedHiddenstates.length; idx++) {
                    Var h = states.get(idx);
                    int width = h.value().dim(2);
                    int filters = h.value().dim(3);
                    boolean shouldReduce = (finalFilters != filters || finalWidth != width) && usedHiddenstates[idx] == 0;
                    if (shouldReduce) {
                        int stride = finalWidth != width ? 2 : 1;
                        try (VariableScope r = VariableScope.open("reduction_" + idx)) {
                            h = factorizedReduction(h, finalFilters, stride);
                        }
                        states.set(idx, h);
                    }
                    if (usedHiddenstates[idx] == 0) toCombine.add(h);
                }
                return Ops.concat(toCombine, 3);
            }

            Var applyDropPath(Var net) {
                if (dropPathKeepProb >= 1.0) return net;
                long step = currentStep == null ? 0 : currentStep.getAsLong();
                double keep = scheduledKeepProb(dropPathKeepProb, cellNum, totalNumCells, step, totalTrainingSteps);
                return dropPath(net, keep);
            }
        }
    }

    /** NasNetANormalCell: 6 states concatenated (the previous layer and the five combinations). */
    public static Cell normalCell(int numConvFilters, double dropPathKeepProb, int totalNumCells, long totalTrainingSteps, boolean useBoundedActivation) {
        return new Cell(numConvFilters,
            List.of("separable_5x5_2", "separable_3x3_2", "separable_5x5_2", "separable_3x3_2", "avg_pool_3x3",
                "none", "avg_pool_3x3", "avg_pool_3x3", "separable_3x3_2", "none"),
            new int[] {1, 0, 0, 0, 0, 0, 0},
            new int[] {0, 1, 1, 1, 0, 1, 1, 1, 0, 0},
            dropPathKeepProb, totalNumCells, totalTrainingSteps, useBoundedActivation);
    }

    /** NasNetAReductionCell: 4 states concatenated (combinations 1 to 4). */
    public static Cell reductionCell(int numConvFilters, double dropPathKeepProb, int totalNumCells, long totalTrainingSteps, boolean useBoundedActivation) {
        return new Cell(numConvFilters,
            List.of("separable_5x5_2", "separable_7x7_2", "max_pool_3x3", "separable_7x7_2", "avg_pool_3x3",
                "separable_5x5_2", "none", "avg_pool_3x3", "separable_3x3_2", "max_pool_3x3"),
            new int[] {1, 1, 1, 0, 0, 0, 0},
            new int[] {0, 1, 0, 1, 0, 1, 3, 2, 2, 0},
            dropPathKeepProb, totalNumCells, totalTrainingSteps, useBoundedActivation);
    }
}
