package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.center;
import static org.slim4j.layers.Arg.decay;
import static org.slim4j.layers.Arg.epsilon;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.rate;
import static org.slim4j.layers.Arg.scale;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.DROPOUT;
import static org.slim4j.layers.Layers.SEPARABLE_CONV2D;
import static org.slim4j.layers.Layers.avgPool2d;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.separableConv2d;

import java.util.ArrayList;
import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Activation;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.Normalizer;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Regularizer;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's MobileNet v1 ({@code nets/mobilenet_v1.py}, Howard et al. 2017): a 3x3/2 convolution
 * and 13 depthwise-separable layers (a 3x3 depthwise convolution and a 1x1 pointwise one, each
 * with batch norm and relu6), then average pooling and 1x1-conv logits; scope
 * {@code MobilenetV1}, 224x224 images. The width is scaled by depth_multiplier (channels
 * max(int(d·depth_multiplier), min_depth)); mobilenet_v1_075/_050/_025 are the 0.75/0.5/0.25
 * versions.
 */
public final class MobilenetV1 {
    private MobilenetV1() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 224;

    /**
     * One layer of the conv_defs list: a plain convolution ({@code Conv}) or a depthwise-separable
     * one ({@code DepthSepConv}), with its kernel, stride and (unscaled) output depth.
     */
    public record ConvDef(boolean separable, int[] kernel, int stride, int depth) {
        public ConvDef {
            if (kernel == null || kernel.length != 2 || kernel[0] < 1 || kernel[1] < 1 || stride < 1 || depth < 1) {
                throw new IllegalArgumentException("mobilenet_v1 conv def: kernel must be {h, w} >= 1, stride and depth >= 1, got kernel "
                    + java.util.Arrays.toString(kernel) + ", stride " + stride + ", depth " + depth);
            }
            kernel = kernel.clone();
        }

        @Override
        public int[] kernel() {
            return kernel.clone();
        }

        /** Conv(kernel, stride, depth). */
        public static ConvDef conv(int kernel, int stride, int depth) {
            return new ConvDef(false, new int[] {kernel, kernel}, stride, depth);
        }

        /** DepthSepConv(kernel, stride, depth). */
        public static ConvDef depthSepConv(int kernel, int stride, int depth) {
            return new ConvDef(true, new int[] {kernel, kernel}, stride, depth);
        }

        @Override
        public String toString() {
            return (separable ? "DepthSepConv" : "Conv") + "(kernel=" + java.util.Arrays.toString(kernel) + ", stride=" + stride + ", depth=" + depth + ")";
        }
    }

    /** MOBILENETV1_CONV_DEFS: layers 0..13. */
    public static final List<ConvDef> MOBILENETV1_CONV_DEFS = List.of(
        ConvDef.conv(3, 2, 32),
        ConvDef.depthSepConv(3, 1, 64),
        ConvDef.depthSepConv(3, 2, 128),
        ConvDef.depthSepConv(3, 1, 128),
        ConvDef.depthSepConv(3, 2, 256),
        ConvDef.depthSepConv(3, 1, 256),
        ConvDef.depthSepConv(3, 2, 512),
        ConvDef.depthSepConv(3, 1, 512),
        ConvDef.depthSepConv(3, 1, 512),
        ConvDef.depthSepConv(3, 1, 512),
        ConvDef.depthSepConv(3, 1, 512),
        ConvDef.depthSepConv(3, 1, 512),
        ConvDef.depthSepConv(3, 2, 1024),
        ConvDef.depthSepConv(3, 1, 1024));

    /** mobilenet_v1's conv_defs option (null = {@link #MOBILENETV1_CONV_DEFS}). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final Arg<List<ConvDef>> CONV_DEFS = Arg.key("conv_defs", (Class) List.class);

    /**
     * mobilenet_v1_base(inputs, final_endpoint='Conv2d_13_pointwise', min_depth=8,
     * depth_multiplier=1.0, conv_defs=None, output_stride=None, use_explicit_padding=False,
     * scope=None): the convolutional layers up to {@code finalEndpoint}, in scope
     * {@code MobilenetV1}. End points {@code Conv2d_0}, {@code Conv2d_<i>_depthwise},
     * {@code Conv2d_<i>_pointwise}. With output_stride 8 or 16 the layers after that stride run
     * at stride 1 with atrous rates; use_explicit_padding pads like conv2d_same and convolves
     * VALID.
     *
     * @return the final end point's tensor and the end points
     */
    public static NetOutput mobilenetV1Base(Var inputs, String finalEndpoint, int minDepth, double depthMultiplier, List<ConvDef> convDefs,
                                            Integer outputStride, boolean useExplicitPadding, String scope) {
        checkBaseArgs(depthMultiplier, outputStride);
        try (VariableScope sc = VariableScope.open(scope, "MobilenetV1")) {
            return base(inputs, finalEndpoint, minDepth, depthMultiplier, convDefs, outputStride, useExplicitPadding);
        }
    }

    /** mobilenet_v1_base with its defaults. */
    public static NetOutput mobilenetV1Base(Var inputs) {
        return mobilenetV1Base(inputs, "Conv2d_13_pointwise", 8, 1.0, null, null, false, null);
    }

    private static void checkBaseArgs(double depthMultiplier, Integer outputStride) {
        if (!(depthMultiplier > 0)) throw new IllegalArgumentException("depth_multiplier is not greater than zero.");
        if (outputStride != null && outputStride != 8 && outputStride != 16 && outputStride != 32) {
            throw new IllegalArgumentException("Only allowed output_stride values are 8, 16, 32.");
        }
    }

    /** The body of mobilenet_v1_base, in the open scope (mobilenet_v1 re-enters its own scope for it). */
    private static NetOutput base(Var inputs, String finalEndpoint, int minDepth, double depthMultiplier, List<ConvDef> convDefs,
                                  Integer outputStride, boolean useExplicitPadding) {
        checkBaseArgs(depthMultiplier, outputStride);
        List<ConvDef> defs = convDefs == null ? MOBILENETV1_CONV_DEFS : convDefs;
        EndPoints endPoints = new EndPoints();
        try (var a = ArgScope.of(CONV2D, SEPARABLE_CONV2D).set(padding(useExplicitPadding ? VALID : SAME)).open()) {
            // The running product of strides, and the atrous rate used once it reaches output_stride.
            int currentStride = 1;
            int rate = 1;
            Var net = inputs;
            for (int i = 0; i < defs.size(); i++) {
                ConvDef def = defs.get(i);
                String endPointBase = "Conv2d_" + i;
                int layerStride;
                int layerRate;
                if (outputStride != null && currentStride == outputStride) {
                    layerStride = 1;
                    layerRate = rate;
                    rate *= def.stride();
                } else {
                    layerStride = def.stride();
                    layerRate = 1;
                    currentStride *= def.stride();
                }
                int depth = Math.max((int) (def.depth() * depthMultiplier), minDepth);
                if (!def.separable()) {
                    String endPoint = endPointBase;
                    if (useExplicitPadding) net = fixedPadding(net, def.kernel(), 1);
                    // TF uses the nominal stride here even past the output stride.
                    net = endPoints.put(endPoint, conv2d(net, depth, def.kernel(), endPoint, stride(def.stride())));
                    if (endPoint.equals(finalEndpoint)) return new NetOutput(net, endPoints);
                } else {
                    String endPoint = endPointBase + "_depthwise";
                    if (useExplicitPadding) net = fixedPadding(net, def.kernel(), layerRate);
                    // num_outputs None: only the depthwise stage
                    net = endPoints.put(endPoint, separableConv2d(net, null, def.kernel(), 1, endPoint, stride(layerStride), rate(layerRate)));
                    if (endPoint.equals(finalEndpoint)) return new NetOutput(net, endPoints);
                    endPoint = endPointBase + "_pointwise";
                    net = endPoints.put(endPoint, conv2d(net, depth, new int[] {1, 1}, endPoint, stride(1)));
                    if (endPoint.equals(finalEndpoint)) return new NetOutput(net, endPoints);
                }
            }
        }
        throw new IllegalArgumentException("Unknown final endpoint " + finalEndpoint);
    }

    /** _fixed_padding: TF pads both axes by the effective size of kernel[0]. */
    private static Var fixedPadding(Var inputs, int[] kernel, int rate) {
        return ResnetUtils.fixedPadding(inputs, kernel[0], kernel[0], rate);
    }

    /**
     * mobilenet_v1(inputs, num_classes=1000, dropout_keep_prob=0.999, is_training=True,
     * min_depth=8, depth_multiplier=1.0, conv_defs=None, prediction_fn=softmax,
     * spatial_squeeze=True, scope='MobilenetV1', global_pool=False): the base, then in scope
     * {@code Logits}: a VALID average pool {@code AvgPool_1a} of kernel min(7, H) x min(7, W)
     * (or a global mean, end point {@code global_pool}), dropout {@code Dropout_1b} and the 1x1
     * conv {@code Conv2d_1c_1x1} (with biases); end points {@code Logits}, {@code Predictions}.
     *
     * @param numClasses 0 = TF's None: return the pooled features
     */
    public static NetOutput mobilenetV1(Var inputs, int numClasses, double dropoutKeepProb, boolean isTraining, int minDepth, double depthMultiplier,
                                        List<ConvDef> convDefs, PredictionFn predictionFn, boolean spatialSqueeze, String scope, boolean globalPool) {
        if (inputs.value().rank() != 4) throw new IllegalArgumentException("Invalid input tensor rank, expected 4, was: " + inputs.value().rank());
        try (VariableScope sc = VariableScope.open(scope, "MobilenetV1");
             var a = ArgScope.of(BATCH_NORM, DROPOUT).set(isTraining(isTraining)).open()) {
            NetOutput b = base(inputs, "Conv2d_13_pointwise", minDepth, depthMultiplier, convDefs, null, false);
            Var net = b.logits();
            EndPoints endPoints = b.endPoints();
            Var logits;
            try (VariableScope l = VariableScope.open("Logits")) {
                if (globalPool) {
                    net = endPoints.put("global_pool", Ops.reduceMean(net, new int[] {1, 2}, true));
                } else {
                    // Pooling with a fixed kernel size, reduced for small inputs.
                    int[] k = reducedKernelSizeForSmallInput(net, 7, 7);
                    net = endPoints.put("AvgPool_1a", avgPool2d(net, k, "AvgPool_1a", padding(VALID)));
                }
                if (numClasses == 0) return new NetOutput(net, endPoints);
                net = dropout(net, dropoutKeepProb, "Dropout_1b");
                logits = conv2d(net, numClasses, new int[] {1, 1}, "Conv2d_1c_1x1", activationFn(null), normalizerFn(null));
                if (spatialSqueeze) logits = Ops.squeezeNamed(logits, "SpatialSqueeze", 1, 2);
            }
            endPoints.put("Logits", logits);
            if (predictionFn != null) endPoints.put("Predictions", predictionFn.apply(logits, "Predictions"));
            return new NetOutput(logits, endPoints);
        }
    }

    /** _reduced_kernel_size_for_small_input: the nominal kernel, capped by the input's height and width. */
    static int[] reducedKernelSizeForSmallInput(Var input, int kh, int kw) {
        int[] dims = input.value().dims();
        return new int[] {Math.min(dims[1], kh), Math.min(dims[2], kw)};
    }

    /**
     * mobilenet_v1_arg_scope(is_training=True, weight_decay=0.00004, stddev=0.09,
     * regularize_depthwise=False, batch_norm_decay=0.9997, batch_norm_epsilon=0.001,
     * normalizer_fn=batch_norm): conv2d and separable_conv2d with truncated normal weights,
     * relu6 and batch norm (center and scale); L2 decay on conv2d weights, and on the depthwise
     * weights only with regularize_depthwise.
     *
     * @param isTraining null leaves batch norm's is_training unset
     */
    public static ArgScope mobilenetV1ArgScope(Boolean isTraining, double weightDecay, double stddev, boolean regularizeDepthwise,
                                               double batchNormDecay, double batchNormEpsilon, Normalizer normalizer) {
        List<Arg.Value<?>> bn = new ArrayList<>(List.of(center(true), scale(true), decay(batchNormDecay), epsilon(batchNormEpsilon)));
        if (isTraining != null) bn.add(isTraining(isTraining));
        Regularizer regularizer = Regularizers.l2(weightDecay);
        return ArgScope.of(CONV2D, SEPARABLE_CONV2D).set(
                weightsInitializer(Initializers.truncatedNormal(stddev)),
                activationFn(Activation.RELU6),
                normalizerFn(normalizer))
            .nest(ArgScope.of(BATCH_NORM).set(bn.toArray(new Arg.Value<?>[0])))
            .nest(ArgScope.of(CONV2D).set(weightsRegularizer(regularizer)))
            .nest(ArgScope.of(SEPARABLE_CONV2D).set(weightsRegularizer(regularizeDepthwise ? regularizer : null)));
    }

    /** mobilenet_v1_arg_scope(weight_decay=...) with the other defaults, as the nets factory calls it. */
    public static ArgScope mobilenetV1ArgScope(double weightDecay) {
        return mobilenetV1ArgScope(true, weightDecay, 0.09, false, 0.9997, 0.001, Normalizer.BATCH_NORM);
    }

    private static NetworkFn entry(String name, double defaultDepthMultiplier) {
        return NetworkFn.of(name, DEFAULT_IMAGE_SIZE, 3, 1000, MobilenetV1::mobilenetV1ArgScope,
            List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.MIN_DEPTH, NetArg.DEPTH_MULTIPLIER, CONV_DEFS, NetArg.PREDICTION_FN,
                NetArg.SPATIAL_SQUEEZE, NetArg.SCOPE, NetArg.GLOBAL_POOL),
            (images, numClasses, training, o) -> mobilenetV1(images, numClasses, o.get(NetArg.DROPOUT_KEEP_PROB, 0.999), training,
                o.get(NetArg.MIN_DEPTH, 8), o.get(NetArg.DEPTH_MULTIPLIER, defaultDepthMultiplier), o.get(CONV_DEFS, null),
                o.get(NetArg.PREDICTION_FN, PredictionFn.SOFTMAX), o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(NetArg.SCOPE, "MobilenetV1"),
                o.get(NetArg.GLOBAL_POOL, false)));
    }

    /**
     * The nets factory entries {@code mobilenet_v1} and its partials {@code mobilenet_v1_075},
     * {@code _050}, {@code _025} (depth_multiplier 0.75, 0.5, 0.25).
     */
    public static final NetworkFn MOBILENET_V1 = entry("mobilenet_v1", 1.0);
    public static final NetworkFn MOBILENET_V1_075 = entry("mobilenet_v1_075", 0.75);
    public static final NetworkFn MOBILENET_V1_050 = entry("mobilenet_v1_050", 0.50);
    public static final NetworkFn MOBILENET_V1_025 = entry("mobilenet_v1_025", 0.25);
}
