package org.slim4j.nets;

import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.outputsCollections;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.maxPool2d;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.layers.Activation;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Args;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.LayerKind;
import org.slim4j.layers.Layers;
import org.slim4j.layers.Ops;
import org.slim4j.layers.VariableScope;
import org.slim4j.nets.ResnetUtils.Block;

/**
 * TF-Slim's ResNet v1 ({@code nets/resnet_v1.py}, He et al. 2015): a root 7x7/2 convolution and
 * 3x3/2 max pool, four blocks of bottleneck units (1x1 → 3x3 → 1x1, batch norm after every
 * convolution, relu after the addition) with the stride in each block's last unit, global
 * average pooling and 1x1-conv logits; scopes {@code resnet_v1_50}, {@code resnet_v1_101},
 * {@code resnet_v1_152}, {@code resnet_v1_200}, on 224x224 images. The released checkpoints
 * were converted from Caffe and have 1000 classes.
 */
public final class ResnetV1 {
    private ResnetV1() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 224;

    /** bottleneck: clip the residual to [-6, 6] and use relu6 (for quantisation-friendly models). */
    public static final Arg<Boolean> USE_BOUNDED_ACTIVATIONS = Arg.key("use_bounded_activations", Boolean.class);
    /** resnet_v1: record each block's activations before its last stride (see {@link ResnetUtils#stackBlocksDense}). */
    public static final Arg<Boolean> STORE_NON_STRIDED_ACTIVATIONS = Arg.key("store_non_strided_activations", Boolean.class);
    /** resnet_v1_N: lower bound of the blocks' base depths under a depth multiplier. */
    public static final Arg<Integer> MIN_BASE_DEPTH = Arg.key("min_base_depth", Integer.class);

    /** The bottleneck unit's arg-scope kind (TF: add_arg_scope on bottleneck). */
    public static final LayerKind BOTTLENECK = LayerKind.of("bottleneck", Arg.OUTPUTS_COLLECTIONS, USE_BOUNDED_ACTIVATIONS);

    /**
     * bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None,
     * scope=None, use_bounded_activations=False) in scope {@code bottleneck_v1}: shortcut =
     * subsample(inputs, stride) when the depth is unchanged, else a 1x1 conv {@code shortcut}
     * (batch norm, no activation); residual = 1x1 {@code conv1} → 3x3 {@code conv2}
     * (conv2d_same, stride, rate) → 1x1 {@code conv3} (no activation); output relu(shortcut +
     * residual), recorded under the unit's scope name.
     */
    public static Var bottleneck(Var inputs, int depth, int depthBottleneck, int stride, int rate, String scope, Arg.Value<?>... args) {
        Args a = ArgScope.resolve(BOTTLENECK, args);
        boolean bounded = a.get(USE_BOUNDED_ACTIVATIONS, false);
        try (VariableScope sc = VariableScope.open(scope, "bottleneck_v1")) {
            int depthIn = ResnetUtils.lastDimension("bottleneck_v1", inputs);
            Var shortcut;
            if (depth == depthIn) {
                shortcut = ResnetUtils.subsample(inputs, stride, "shortcut");
            } else {
                shortcut = conv2d(inputs, depth, 1, "shortcut", stride(stride), activationFn(bounded ? Activation.RELU6 : null));
            }
            Var residual = conv2d(inputs, depthBottleneck, 1, "conv1", stride(1));
            residual = ResnetUtils.conv2dSame(residual, depthBottleneck, 3, stride, rate, "conv2");
            residual = conv2d(residual, depth, 1, "conv3", stride(1), activationFn(null));
            Var output;
            if (bounded) {
                // clip_by_value simulates a band-pass activation
                residual = Ops.clipByValue(residual, -6.0, 6.0);
                output = Ops.addActivation(shortcut, residual, UnaryOp.RELU6);
            } else {
                output = Ops.addActivation(shortcut, residual, UnaryOp.RELU);
            }
            return Layers.collect(a, sc.name(), output);
        }
    }

    /** bottleneck as a block's unit function. */
    public static final ResnetUtils.UnitFn BOTTLENECK_UNIT = (x, depth, depthBottleneck, stride, rate) ->
        bottleneck(x, depth, depthBottleneck, stride, rate, null);

    /**
     * resnet_v1(inputs, blocks, num_classes=None, is_training=True, global_pool=True,
     * output_stride=None, include_root_block=True, spatial_squeeze=True,
     * store_non_strided_activations=False, scope): the generator. End points: every conv2d,
     * bottleneck and block output under its scope name ({@code <scope>/conv1},
     * {@code <scope>/block1/unit_1/bottleneck_v1/shortcut}, {@code .../conv1..3},
     * {@code .../bottleneck_v1}, {@code <scope>/block1}, ...), then {@code global_pool},
     * {@code <scope>/logits}, {@code <scope>/spatial_squeeze}, {@code predictions}.
     *
     * @param numClasses 0 = TF's None: return the (pooled) block4 features
     * @param outputStride null for the natural stride 32; with the root block a multiple of 4
     * @param scope null = the default name {@code resnet_v1}
     */
    public static NetOutput resnetV1(Var inputs, List<Block> blocks, int numClasses, boolean isTraining, boolean globalPool, Integer outputStride,
                                     boolean includeRootBlock, boolean spatialSqueeze, boolean storeNonStridedActivations, String scope) {
        try (VariableScope sc = VariableScope.open(scope, "resnet_v1")) {
            EndPoints collection = new EndPoints();
            ArgScope inner = ArgScope.of(CONV2D, BOTTLENECK, ResnetUtils.STACK_BLOCKS_DENSE).set(outputsCollections(collection))
                .nest(ArgScope.of(BATCH_NORM).set(isTraining(isTraining)));
            try (var a = inner.open()) {
                Var net = inputs;
                Integer os = outputStride;
                if (includeRootBlock) {
                    if (os != null) {
                        if (os % 4 != 0) throw new IllegalArgumentException("The output_stride needs to be a multiple of 4.");
                        os /= 4;
                    }
                    net = ResnetUtils.conv2dSame(net, 64, 7, 2, 1, "conv1");
                    net = maxPool2d(net, 3, 2, "pool1");
                }
                net = ResnetUtils.stackBlocksDense(net, blocks, os, storeNonStridedActivations);
                EndPoints endPoints = ResnetUtils.toDict(collection);
                return head(sc.name(), net, endPoints, numClasses, globalPool, spatialSqueeze);
            }
        }
    }

    /** The shared head of v1 and v2: global pool, 1x1-conv logits, squeeze, softmax. */
    static NetOutput head(String scopeName, Var net, EndPoints endPoints, int numClasses, boolean globalPool, boolean spatialSqueeze) {
        if (globalPool) {
            // Global average pooling (TF op name pool5).
            net = endPoints.put("global_pool", Ops.reduceMean(net, new int[] {1, 2}, true));
        }
        if (numClasses > 0) {
            net = conv2d(net, numClasses, 1, "logits", activationFn(null), normalizerFn(null));
            endPoints.put(scopeName + "/logits", net);
            if (spatialSqueeze) {
                net = Ops.squeezeNamed(net, "SpatialSqueeze", 1, 2);
                endPoints.put(scopeName + "/spatial_squeeze", net);
            }
            endPoints.put("predictions", Layers.softmax(net, "predictions"));
        }
        return new NetOutput(net, endPoints);
    }

    /** resnet_v1_block(scope, base_depth, num_units, stride). */
    public static Block resnetV1Block(String scope, int baseDepth, int numUnits, int stride) {
        return ResnetUtils.block(scope, BOTTLENECK_UNIT, baseDepth, numUnits, stride);
    }

    /** Units per block of resnet_v1_50/101/152/200. */
    static int[] units(int layers) {
        return switch (layers) {
            case 50 -> new int[] {3, 4, 6, 3};
            case 101 -> new int[] {3, 4, 23, 3};
            case 152 -> new int[] {3, 8, 36, 3};
            case 200 -> new int[] {3, 24, 36, 3};
            default -> throw new IllegalArgumentException("resnet: no " + layers + "-layer configuration (50, 101, 152, 200)");
        };
    }

    /**
     * resnet_v1_50/101/152/200(inputs, num_classes=None, is_training=True, global_pool=True,
     * output_stride=None, spatial_squeeze=True, store_non_strided_activations=False,
     * min_base_depth=8, depth_multiplier=1, scope='resnet_v1_&lt;layers&gt;'): blocks of base depth
     * max(int(d·depth_multiplier), min_base_depth) for d = 64, 128, 256, 512, strides 2, 2, 2, 1.
     */
    public static NetOutput resnetV1(int layers, Var inputs, int numClasses, boolean isTraining, boolean globalPool, Integer outputStride,
                                     boolean spatialSqueeze, boolean storeNonStridedActivations, int minBaseDepth, double depthMultiplier,
                                     String scope) {
        int[] u = units(layers);
        int[] depths = {64, 128, 256, 512};
        int[] strides = {2, 2, 2, 1};
        Block[] blocks = new Block[4];
        for (int b = 0; b < 4; b++) {
            int base = Math.max((int) (depths[b] * depthMultiplier), minBaseDepth);
            blocks[b] = resnetV1Block("block" + (b + 1), base, u[b], strides[b]);
        }
        return resnetV1(inputs, List.of(blocks), numClasses, isTraining, globalPool, outputStride, true, spatialSqueeze,
            storeNonStridedActivations, scope == null ? "resnet_v1_" + layers : scope);
    }

    /** resnet_v1_50 with TF's defaults for the other arguments (is_training, global pool, natural stride). */
    public static NetOutput resnetV1_50(Var inputs, int numClasses, boolean isTraining) {
        return resnetV1(50, inputs, numClasses, isTraining, true, null, true, false, 8, 1.0, null);
    }

    public static NetOutput resnetV1_101(Var inputs, int numClasses, boolean isTraining) {
        return resnetV1(101, inputs, numClasses, isTraining, true, null, true, false, 8, 1.0, null);
    }

    public static NetOutput resnetV1_152(Var inputs, int numClasses, boolean isTraining) {
        return resnetV1(152, inputs, numClasses, isTraining, true, null, true, false, 8, 1.0, null);
    }

    public static NetOutput resnetV1_200(Var inputs, int numClasses, boolean isTraining) {
        return resnetV1(200, inputs, numClasses, isTraining, true, null, true, false, 8, 1.0, null);
    }

    private static NetworkFn entry(int layers) {
        String name = "resnet_v1_" + layers;
        return NetworkFn.of(name, DEFAULT_IMAGE_SIZE, 3, 1000, ResnetUtils::resnetArgScope,
            List.of(NetArg.GLOBAL_POOL, NetArg.OUTPUT_STRIDE, NetArg.SPATIAL_SQUEEZE, STORE_NON_STRIDED_ACTIVATIONS, MIN_BASE_DEPTH,
                NetArg.DEPTH_MULTIPLIER, NetArg.SCOPE),
            (images, numClasses, training, o) -> resnetV1(layers, images, numClasses, training, o.get(NetArg.GLOBAL_POOL, true),
                o.get(NetArg.OUTPUT_STRIDE, null), o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(STORE_NON_STRIDED_ACTIVATIONS, false),
                o.get(MIN_BASE_DEPTH, 8), o.get(NetArg.DEPTH_MULTIPLIER, 1.0), o.get(NetArg.SCOPE, name)));
    }

    /** The nets factory entries {@code resnet_v1_50}, {@code resnet_v1_101}, {@code resnet_v1_152}, {@code resnet_v1_200}. */
    public static final NetworkFn RESNET_V1_50 = entry(50);
    public static final NetworkFn RESNET_V1_101 = entry(101);
    public static final NetworkFn RESNET_V1_152 = entry(152);
    public static final NetworkFn RESNET_V1_200 = entry(200);
}
