package org.slim4j.nets;

import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.outputsCollections;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.batchNorm;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.maxPool2d;

import java.util.List;
import org.slim4j.autograd.Var;
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
 * TF-Slim's ResNet v2 ({@code nets/resnet_v2.py}, He et al. 2016, "Identity Mappings"): the
 * pre-activation variant — each unit starts with batch norm + relu ({@code preact}) and ends
 * with a plain addition; the root convolution has neither batch norm nor activation (so it has
 * biases) and a {@code postnorm} batch norm + relu follows the last block. Scopes
 * {@code resnet_v2_50/101/152/200}, 224x224 images, 1001 classes in the released checkpoints.
 */
public final class ResnetV2 {
    private ResnetV2() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 224;

    /** The bottleneck_v2 unit's arg-scope kind. */
    public static final LayerKind BOTTLENECK = LayerKind.of("bottleneck", Arg.OUTPUTS_COLLECTIONS);

    /**
     * bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None,
     * scope=None) in scope {@code bottleneck_v2}: preact = batch_norm + relu ({@code preact});
     * shortcut = subsample(inputs, stride) when the depth is unchanged, else a 1x1 conv of preact
     * without normalizer or activation ({@code shortcut}, with biases); residual = 1x1
     * {@code conv1} → 3x3 {@code conv2} (conv2d_same) → 1x1 {@code conv3} (no normalizer, no
     * activation, with biases); output shortcut + residual.
     */
    public static Var bottleneck(Var inputs, int depth, int depthBottleneck, int stride, int rate, String scope, Arg.Value<?>... args) {
        Args a = ArgScope.resolve(BOTTLENECK, args);
        try (VariableScope sc = VariableScope.open(scope, "bottleneck_v2")) {
            int depthIn = ResnetUtils.lastDimension("bottleneck_v2", inputs);
            Var preact = batchNorm(inputs, "preact", activationFn(Activation.RELU));
            Var shortcut;
            if (depth == depthIn) {
                shortcut = ResnetUtils.subsample(inputs, stride, "shortcut");
            } else {
                shortcut = conv2d(preact, depth, 1, "shortcut", stride(stride), normalizerFn(null), activationFn(null));
            }
            Var residual = conv2d(preact, depthBottleneck, 1, "conv1", stride(1));
            residual = ResnetUtils.conv2dSame(residual, depthBottleneck, 3, stride, rate, "conv2");
            residual = conv2d(residual, depth, 1, "conv3", stride(1), normalizerFn(null), activationFn(null));
            return Layers.collect(a, sc.name(), Ops.add(shortcut, residual));
        }
    }

    /** bottleneck_v2 as a block's unit function. */
    public static final ResnetUtils.UnitFn BOTTLENECK_UNIT = (x, depth, depthBottleneck, stride, rate) ->
        bottleneck(x, depth, depthBottleneck, stride, rate, null);

    /**
     * resnet_v2(inputs, blocks, num_classes=None, is_training=True, global_pool=True,
     * output_stride=None, include_root_block=True, spatial_squeeze=True, scope): the generator.
     * End points as resnet_v1's, with {@code bottleneck_v2} units (preact is not recorded).
     *
     * @param numClasses 0 = TF's None: return the (pooled) post-norm features
     * @param scope null = the default name {@code resnet_v2}
     */
    public static NetOutput resnetV2(Var inputs, List<Block> blocks, int numClasses, boolean isTraining, boolean globalPool, Integer outputStride,
                                     boolean includeRootBlock, boolean spatialSqueeze, String scope) {
        try (VariableScope sc = VariableScope.open(scope, "resnet_v2")) {
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
                    // No batch norm or activation in conv1: the first unit's preact does them.
                    try (var root = ArgScope.of(CONV2D).set(activationFn(null), normalizerFn(null)).open()) {
                        net = ResnetUtils.conv2dSame(net, 64, 7, 2, 1, "conv1");
                    }
                    net = maxPool2d(net, 3, 2, "pool1");
                }
                net = ResnetUtils.stackBlocksDense(net, blocks, os, false);
                // The units end without normalisation or activation: add them once at the end.
                net = batchNorm(net, "postnorm", activationFn(Activation.RELU));
                EndPoints endPoints = ResnetUtils.toDict(collection);
                return ResnetV1.head(sc.name(), net, endPoints, numClasses, globalPool, spatialSqueeze);
            }
        }
    }

    /** resnet_v2_block(scope, base_depth, num_units, stride). */
    public static Block resnetV2Block(String scope, int baseDepth, int numUnits, int stride) {
        return ResnetUtils.block(scope, BOTTLENECK_UNIT, baseDepth, numUnits, stride);
    }

    /**
     * resnet_v2_50/101/152/200(inputs, num_classes=None, is_training=True, global_pool=True,
     * output_stride=None, spatial_squeeze=True, scope='resnet_v2_&lt;layers&gt;'): blocks of base
     * depth 64, 128, 256, 512 with strides 2, 2, 2, 1.
     */
    public static NetOutput resnetV2(int layers, Var inputs, int numClasses, boolean isTraining, boolean globalPool, Integer outputStride,
                                     boolean spatialSqueeze, String scope) {
        int[] u = ResnetV1.units(layers);
        List<Block> blocks = List.of(
            resnetV2Block("block1", 64, u[0], 2),
            resnetV2Block("block2", 128, u[1], 2),
            resnetV2Block("block3", 256, u[2], 2),
            resnetV2Block("block4", 512, u[3], 1));
        return resnetV2(inputs, blocks, numClasses, isTraining, globalPool, outputStride, true, spatialSqueeze,
            scope == null ? "resnet_v2_" + layers : scope);
    }

    public static NetOutput resnetV2_50(Var inputs, int numClasses, boolean isTraining) {
        return resnetV2(50, inputs, numClasses, isTraining, true, null, true, null);
    }

    public static NetOutput resnetV2_101(Var inputs, int numClasses, boolean isTraining) {
        return resnetV2(101, inputs, numClasses, isTraining, true, null, true, null);
    }

    public static NetOutput resnetV2_152(Var inputs, int numClasses, boolean isTraining) {
        return resnetV2(152, inputs, numClasses, isTraining, true, null, true, null);
    }

    public static NetOutput resnetV2_200(Var inputs, int numClasses, boolean isTraining) {
        return resnetV2(200, inputs, numClasses, isTraining, true, null, true, null);
    }

    private static NetworkFn entry(int layers) {
        String name = "resnet_v2_" + layers;
        return NetworkFn.of(name, DEFAULT_IMAGE_SIZE, 3, 1001, ResnetUtils::resnetArgScope,
            List.of(NetArg.GLOBAL_POOL, NetArg.OUTPUT_STRIDE, NetArg.SPATIAL_SQUEEZE, NetArg.SCOPE),
            (images, numClasses, training, o) -> resnetV2(layers, images, numClasses, training, o.get(NetArg.GLOBAL_POOL, true),
                o.get(NetArg.OUTPUT_STRIDE, null), o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(NetArg.SCOPE, name)));
    }

    /** The nets factory entries {@code resnet_v2_50}, {@code resnet_v2_101}, {@code resnet_v2_152}, {@code resnet_v2_200}. */
    public static final NetworkFn RESNET_V2_50 = entry(50);
    public static final NetworkFn RESNET_V2_101 = entry(101);
    public static final NetworkFn RESNET_V2_152 = entry(152);
    public static final NetworkFn RESNET_V2_200 = entry(200);
}
