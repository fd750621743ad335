package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.decay;
import static org.slim4j.layers.Arg.epsilon;
import static org.slim4j.layers.Arg.fused;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.normalizerParams;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.rate;
import static org.slim4j.layers.Arg.scale;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.MAX_POOL2D;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.maxPool2d;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Activation;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Args;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.LayerKind;
import org.slim4j.layers.Layers;
import org.slim4j.layers.Normalizer;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's {@code nets/resnet_utils.py}: the pieces ResNet v1 and v2 share — {@link Block}s of
 * residual units, {@link #subsample}, {@link #conv2dSame} (explicit symmetric padding for strided
 * convolutions, so that the result does not depend on whether the input size is even),
 * {@link #stackBlocksDense} (stacks the blocks, switching to atrous convolution once the target
 * output_stride is reached) and {@link #resnetArgScope}.
 */
public final class ResnetUtils {
    private ResnetUtils() {
    }

    /** One unit's arguments: output depth, bottleneck depth and stride (TF's per-unit dict). */
    public record Unit(int depth, int depthBottleneck, int stride) {
        public Unit {
            if (depth < 1 || depthBottleneck < 1 || stride < 1) {
                throw new IllegalArgumentException("resnet unit: depth, depth_bottleneck and stride must be >= 1, got depth " + depth
                    + ", depth_bottleneck " + depthBottleneck + ", stride " + stride);
            }
        }
    }

    /**
     * A residual unit function (bottleneck_v1 / bottleneck_v2), called inside the unit's scope
     * {@code unit_<i>} as TF's {@code unit_fn(net, rate=rate, **unit)}.
     */
    @FunctionalInterface
    public interface UnitFn {
        Var apply(Var inputs, int depth, int depthBottleneck, int stride, int rate);
    }

    /** resnet_utils.Block(scope, unit_fn, args): a named sequence of units. */
    public record Block(String scope, UnitFn unitFn, List<Unit> args) {
        public Block {
            Objects.requireNonNull(unitFn, "unit_fn");
            args = List.copyOf(args);
        }
    }

    /**
     * A block of {@code numUnits} bottleneck units of depth 4·baseDepth and bottleneck depth
     * baseDepth, the stride in the LAST unit (resnet_v1_block / resnet_v2_block: downsampling at
     * the end of a block rather than at the start as in the paper gives the same network).
     */
    static Block block(String scope, UnitFn unitFn, int baseDepth, int numUnits, int stride) {
        List<Unit> units = new ArrayList<>(Collections.nCopies(numUnits - 1, new Unit(baseDepth * 4, baseDepth, 1)));
        units.add(new Unit(baseDepth * 4, baseDepth, stride));
        return new Block(scope, unitFn, units);
    }

    /** subsample(inputs, factor, scope): a 1x1 max pool with stride factor; the identity when factor is 1. */
    public static Var subsample(Var inputs, int factor, String scope) {
        if (factor == 1) return inputs;
        return maxPool2d(inputs, 1, factor, scope);
    }

    /**
     * conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope): with stride 1 a SAME
     * convolution; otherwise the input is zero-padded by k_eff-1 (k_eff = k + (k-1)(rate-1)),
     * pad_total//2 before and the rest after, and convolved VALID. For even inputs TF's SAME with
     * a stride pads more at the bottom/right instead; this matches SAME at stride 1 followed by
     * subsampling.
     */
    public static Var conv2dSame(Var inputs, int numOutputs, int kernelSize, int stride, int rate, String scope) {
        if (stride == 1) return conv2d(inputs, numOutputs, kernelSize, scope, Arg.stride(1), rate(rate), padding(SAME));
        Var padded = fixedPadding(inputs, kernelSize, kernelSize, rate);
        return conv2d(padded, numOutputs, kernelSize, scope, stride(stride), rate(rate), padding(VALID));
    }

    /** Zero padding of H and W so that a VALID convolution of this (dilated) kernel sees the input as SAME at stride 1 would. */
    static Var fixedPadding(Var inputs, int kernelH, int kernelW, int rate) {
        int effH = kernelH + (kernelH - 1) * (rate - 1);
        int effW = kernelW + (kernelW - 1) * (rate - 1);
        int begH = (effH - 1) / 2;
        int begW = (effW - 1) / 2;
        return Ops.pad(inputs, new int[][] {{0, 0}, {begH, effH - 1 - begH}, {begW, effW - 1 - begW}, {0, 0}});
    }

    /** stack_blocks_dense's arg-scope kind (TF decorates it with add_arg_scope for outputs_collections). */
    public static final LayerKind STACK_BLOCKS_DENSE = LayerKind.of("stack_blocks_dense", Arg.OUTPUTS_COLLECTIONS);

    /**
     * stack_blocks_dense(net, blocks, output_stride=None, store_non_strided_activations=False,
     * outputs_collections=None): runs each block in its scope ({@code <block.scope>/unit_<i>}) and
     * records its output under the block's scope name. With an output_stride, once the product
     * of strides so far reaches it, the remaining units run with stride 1 and an atrous rate
     * multiplied by the strides they skip. With store_non_strided_activations the last unit of a
     * block runs at stride 1 and the block output is subsampled after it is recorded.
     *
     * @param outputStride null for the natural stride
     * @throws IllegalArgumentException when the output stride cannot be reached exactly
     */
    public static Var stackBlocksDense(Var net, List<Block> blocks, Integer outputStride, boolean storeNonStridedActivations,
                                       Arg.Value<?>... args) {
        Args a = ArgScope.resolve(STACK_BLOCKS_DENSE, args);
        if (outputStride != null && outputStride < 1) throw new IllegalArgumentException("output_stride must be >= 1, got " + outputStride);
        int currentStride = 1;
        int rate = 1;
        for (Block block : blocks) {
            try (VariableScope sc = VariableScope.open(block.scope(), "block")) {
                int blockStride = 1;
                for (int i = 0; i < block.args().size(); i++) {
                    Unit unit = block.args().get(i);
                    if (storeNonStridedActivations && i == block.args().size() - 1) {
                        // Move the stride from the block's last unit to the end of the block.
                        blockStride = unit.stride();
                        unit = new Unit(unit.depth(), unit.depthBottleneck(), 1);
                    }
                    try (VariableScope u = VariableScope.open("unit_" + (i + 1))) {
                        if (outputStride != null && currentStride == outputStride) {
                            // Target reached: keep the resolution, dilate instead of striding.
                            net = block.unitFn().apply(net, unit.depth(), unit.depthBottleneck(), 1, rate);
                            rate *= unit.stride();
                        } else {
                            net = block.unitFn().apply(net, unit.depth(), unit.depthBottleneck(), unit.stride(), 1);
                            currentStride *= unit.stride();
                            if (outputStride != null && currentStride > outputStride) {
                                throw new IllegalArgumentException("The target output_stride cannot be reached.");
                            }
                        }
                    }
                }
                // Collect the block's activations before subsampling them.
                net = Layers.collect(a, sc.name(), net);
                if (outputStride != null && currentStride == outputStride) {
                    rate *= blockStride;
                } else {
                    net = subsample(net, blockStride, null);
                    currentStride *= blockStride;
                    if (outputStride != null && currentStride > outputStride) {
                        throw new IllegalArgumentException("The target output_stride cannot be reached.");
                    }
                }
            }
        }
        if (outputStride != null && currentStride != outputStride) {
            throw new IllegalArgumentException("The target output_stride cannot be reached.");
        }
        return net;
    }

    /**
     * resnet_arg_scope(weight_decay=0.0001, batch_norm_decay=0.997, batch_norm_epsilon=1e-5,
     * batch_norm_scale=True, activation_fn=relu, use_batch_norm=True): conv2d with L2 decay,
     * He (variance scaling, FAN_IN, factor 2, truncated normal) weights, the activation and batch
     * norm with these parameters; batch_norm with the same parameters; max_pool2d SAME (so that
     * pool1 keeps dense-prediction features aligned, as fb.resnet.torch does).
     */
    public static ArgScope resnetArgScope(double weightDecay, double batchNormDecay, double batchNormEpsilon, boolean batchNormScale,
                                          Activation activation, boolean useBatchNorm) {
        Args batchNormParams = Args.of(decay(batchNormDecay), epsilon(batchNormEpsilon), scale(batchNormScale), fused(null));
        return ArgScope.of(CONV2D).set(
                weightsRegularizer(Regularizers.l2(weightDecay)),
                weightsInitializer(Initializers.varianceScaling()),
                activationFn(activation),
                normalizerFn(useBatchNorm ? Normalizer.BATCH_NORM : null),
                normalizerParams(batchNormParams))
            .nest(ArgScope.of(BATCH_NORM).set(decay(batchNormDecay), epsilon(batchNormEpsilon), scale(batchNormScale), fused(null)))
            .nest(ArgScope.of(MAX_POOL2D).set(padding(SAME)));
    }

    /** resnet_arg_scope(weight_decay) with the other defaults. */
    public static ArgScope resnetArgScope(double weightDecay) {
        return resnetArgScope(weightDecay, 0.997, 1e-5, true, Activation.RELU, true);
    }

    /** slim.utils.convert_collection_to_dict: a copy of the collection as the end points dict. */
    static EndPoints toDict(EndPoints collection) {
        EndPoints e = new EndPoints();
        collection.asMap().forEach(e::put);
        return e;
    }

    /** The channels of a rank-4 NHWC input (slim.utils.last_dimension(shape, min_rank=4)). */
    static int lastDimension(String op, Var inputs) {
        int[] dims = inputs.value().dims();
        if (dims.length != 4) throw new IllegalArgumentException(op + ": inputs must be rank 4 (NHWC), got shape " + inputs.value().shape());
        return dims[3];
    }
}
