package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.center;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.scale;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;
import static org.slim4j.layers.Layers.SEPARABLE_CONV2D;

import java.util.ArrayList;
import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Activation;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Args;
import org.slim4j.layers.LayerKind;
import org.slim4j.layers.Normalizer;
import org.slim4j.nets.Mobilenet.ConvDefs;
import org.slim4j.nets.Mobilenet.Op;

/**
 * TF-Slim's MobileNet v2 ({@code nets/mobilenet/mobilenet_v2.py}, Sandler et al. 2018): a 3x3/2
 * convolution, 17 inverted residual blocks ({@link Mobilenet#expandedConv}: 1x1 expansion by 6,
 * 3x3 depthwise, linear 1x1 projection, residual when shapes allow) and a 1x1 convolution to
 * 1280 channels, all with batch norm and relu6, then global average pooling and 1x1-conv logits;
 * scope {@code MobilenetV2}, 224x224 images, 1001 classes. mobilenet_v2_140 has depth multiplier
 * 1.4; mobilenet_v2_035 has 0.35 in "finegrain classification mode" (the last layer keeps 1280
 * channels).
 */
public final class MobilenetV2 {
    private MobilenetV2() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 224;

    /** Keep the last layer's depth when depth_multiplier &lt; 1 (better accuracy for small models). */
    public static final Arg<Boolean> FINEGRAIN_CLASSIFICATION_MODE = Arg.key("finegrain_classification_mode", Boolean.class);
    /** The network definition (null = {@link #V2_DEF}). */
    public static final Arg<ConvDefs> CONV_DEFS = Mobilenet.CONV_DEFS;

    /**
     * V2_DEF: the defaults that belong to the architecture (batch norm with center and scale;
     * conv2d, fully_connected and separable_conv2d with batch norm and relu6; expanded_conv
     * expanding by 6 with batch norm and residuals; SAME padding) and the 19 layers.
     */
    public static final ConvDefs V2_DEF = new ConvDefs(
        ArgScope.of(BATCH_NORM).set(center(true), scale(true))
            .nest(ArgScope.of(CONV2D, FULLY_CONNECTED, SEPARABLE_CONV2D).set(normalizerFn(Normalizer.BATCH_NORM), activationFn(Activation.RELU6)))
            .nest(ArgScope.of(Mobilenet.EXPANDED_CONV).set(
                Mobilenet.EXPANSION_SIZE.is(Mobilenet.expandInputByFactor(6)),
                Mobilenet.SPLIT_EXPANSION.is(1),
                normalizerFn(Normalizer.BATCH_NORM),
                Mobilenet.RESIDUAL.is(true)))
            .nest(ArgScope.of(CONV2D, SEPARABLE_CONV2D).set(padding(SAME))),
        ArgScope.empty(),
        List.of(
            Op.conv(32, 3, 2),
            Op.expandedConv(16, 1, Mobilenet.EXPANSION_SIZE.is(Mobilenet.expandInputByFactor(1, 1))),
            Op.expandedConv(24, 2),
            Op.expandedConv(24, 1),
            Op.expandedConv(32, 2),
            Op.expandedConv(32, 1),
            Op.expandedConv(32, 1),
            Op.expandedConv(64, 2),
            Op.expandedConv(64, 1),
            Op.expandedConv(64, 1),
            Op.expandedConv(64, 1),
            Op.expandedConv(96, 1),
            Op.expandedConv(96, 1),
            Op.expandedConv(96, 1),
            Op.expandedConv(160, 2),
            Op.expandedConv(160, 1),
            Op.expandedConv(160, 1),
            Op.expandedConv(320, 1),
            Op.conv(1280, 1, 1)));

    /** The wrapper's own keyword arguments (the rest go to {@link Mobilenet#mobilenet}). */
    public static final LayerKind MOBILENET = LayerKind.of("mobilenet", NetArg.DEPTH_MULTIPLIER, Arg.SCOPE, CONV_DEFS,
        FINEGRAIN_CLASSIFICATION_MODE, NetArg.MIN_DEPTH, Mobilenet.DIVISIBLE_BY, Arg.ACTIVATION_FN);

    /**
     * mobilenet(input_tensor, num_classes=1001, depth_multiplier=1.0, scope='MobilenetV2',
     * conv_defs=None, finegrain_classification_mode=False, min_depth=None, divisible_by=None,
     * activation_fn=None, **kwargs): {@link Mobilenet#mobilenet} on V2_DEF. finegrain mode with a
     * multiplier below 1 divides the last layer's depth by it (so that it stays 1280);
     * activation_fn replaces relu6; min_depth and divisible_by set the depth_multiplier arg scope.
     * kwargs: is_training, prediction_fn, base_only, final_endpoint, output_stride,
     * use_explicit_padding.
     *
     * @param numClasses 0 = TF's None: the pooled features
     */
    public static NetOutput mobilenet(Var input, int numClasses, Arg.Value<?>... kwargs) {
        return mobilenet(input, numClasses, Args.of(kwargs));
    }

    public static NetOutput mobilenet(Var input, int numClasses, Args kwargs) {
        if (kwargs.has(Mobilenet.MULTIPLIER)) {
            throw new IllegalArgumentException("mobilenetv2 doesn't support generic multiplier parameter use \"depth_multiplier\" instead.");
        }
        Args a = ArgScope.resolve(MOBILENET, Mobilenet.only(kwargs, MOBILENET));
        double depthMultiplier = a.get(NetArg.DEPTH_MULTIPLIER, 1.0);
        ConvDefs convDefs = a.get(CONV_DEFS, null);
        if (convDefs == null) convDefs = V2_DEF;
        if (a.get(FINEGRAIN_CLASSIFICATION_MODE, false) && depthMultiplier < 1) {
            List<Op> spec = new ArrayList<>(convDefs.spec());
            Op last = spec.get(spec.size() - 1);
            spec.set(spec.size() - 1, last.withNumOutputs(last.numOutputs() / depthMultiplier));
            convDefs = convDefs.withSpec(spec);
        }
        Activation act = a.get(Arg.ACTIVATION_FN, null);
        if (act != null) {
            convDefs = convDefs.withDefaults(convDefs.defaults().nest(ArgScope.of(CONV2D, FULLY_CONNECTED, SEPARABLE_CONV2D).set(activationFn(act))));
        }
        // Set depth_args only when given, so as not to override an arg scope's.
        List<Arg.Value<?>> depthArgs = new ArrayList<>();
        Integer minDepth = a.get(NetArg.MIN_DEPTH, null);
        Integer divisibleBy = a.get(Mobilenet.DIVISIBLE_BY, null);
        if (minDepth != null) depthArgs.add(NetArg.MIN_DEPTH.is(minDepth));
        if (divisibleBy != null) depthArgs.add(Mobilenet.DIVISIBLE_BY.is(divisibleBy));
        ArgScope depthScope = depthArgs.isEmpty() ? ArgScope.empty()
            : ArgScope.of(Mobilenet.DEPTH_MULTIPLIER).set(depthArgs.toArray(new Arg.Value<?>[0])).build();
        Args forwarded = Mobilenet.except(kwargs, MOBILENET).with(CONV_DEFS.is(convDefs), Arg.SCOPE.is(a.get(Arg.SCOPE, "MobilenetV2")),
            Mobilenet.MULTIPLIER.is(depthMultiplier));
        try (var s = depthScope.open()) {
            return Mobilenet.mobilenet(input, numClasses, forwarded);
        }
    }

    /** mobilenet_base(input_tensor, depth_multiplier=1.0, **kwargs): {@link #mobilenet} with base_only. */
    public static NetOutput mobilenetBase(Var input, Arg.Value<?>... kwargs) {
        return mobilenet(input, 1001, Args.of(kwargs).with(Mobilenet.BASE_ONLY.is(true)));
    }

    /** mobilenet_v2_100 / _140 / _050 / _035: the partials with depth_multiplier 1.0, 1.4, 0.5 and 0.35 (the last two finegrain). */
    public static NetOutput mobilenetV2_100(Var input, int numClasses, Arg.Value<?>... kwargs) {
        return mobilenet(input, numClasses, partial(Args.of(kwargs), 1.0, false));
    }

    public static NetOutput mobilenetV2_140(Var input, int numClasses, Arg.Value<?>... kwargs) {
        return mobilenet(input, numClasses, partial(Args.of(kwargs), 1.4, false));
    }

    public static NetOutput mobilenetV2_050(Var input, int numClasses, Arg.Value<?>... kwargs) {
        return mobilenet(input, numClasses, partial(Args.of(kwargs), 0.5, true));
    }

    public static NetOutput mobilenetV2_035(Var input, int numClasses, Arg.Value<?>... kwargs) {
        return mobilenet(input, numClasses, partial(Args.of(kwargs), 0.35, true));
    }

    /** functools.partial's defaults: used unless the call gives them. */
    private static Args partial(Args kwargs, double depthMultiplier, boolean finegrain) {
        Args defaults = Args.of(NetArg.DEPTH_MULTIPLIER.is(depthMultiplier));
        if (finegrain) defaults = defaults.with(FINEGRAIN_CLASSIFICATION_MODE.is(true));
        return defaults.with(kwargs);
    }

    /** training_scope(is_training=True, weight_decay=0.00004, stddev=0.09, dropout_keep_prob=0.8, bn_decay=0.997). */
    public static ArgScope trainingScope(Boolean isTraining, double weightDecay, double stddev, double dropoutKeepProb, double bnDecay) {
        return Mobilenet.trainingScope(isTraining, weightDecay, stddev, dropoutKeepProb, bnDecay);
    }

    /** training_scope(weight_decay=...), the nets factory's arg scope for mobilenet_v2. */
    public static ArgScope trainingScope(double weightDecay) {
        return Mobilenet.trainingScope(weightDecay);
    }

    private static final List<Arg<?>> OPTIONS = List.of(NetArg.DEPTH_MULTIPLIER, NetArg.SCOPE, CONV_DEFS, FINEGRAIN_CLASSIFICATION_MODE,
        NetArg.MIN_DEPTH, Mobilenet.DIVISIBLE_BY, Arg.ACTIVATION_FN, NetArg.PREDICTION_FN, Mobilenet.BASE_ONLY, Mobilenet.FINAL_ENDPOINT,
        NetArg.OUTPUT_STRIDE, Mobilenet.USE_EXPLICIT_PADDING);

    private static NetworkFn entry(String name, double depthMultiplier, boolean finegrain) {
        return NetworkFn.of(name, DEFAULT_IMAGE_SIZE, 3, 1001, MobilenetV2::trainingScope, OPTIONS,
            (images, numClasses, training, o) -> mobilenet(images, numClasses,
                partial(o, depthMultiplier, finegrain).with(Arg.IS_TRAINING, training)));
    }

    /** The nets factory entries {@code mobilenet_v2}, {@code mobilenet_v2_140}, {@code mobilenet_v2_035}. */
    public static final NetworkFn MOBILENET_V2 = entry("mobilenet_v2", 1.0, false);
    public static final NetworkFn MOBILENET_V2_140 = entry("mobilenet_v2_140", 1.4, false);
    public static final NetworkFn MOBILENET_V2_035 = entry("mobilenet_v2_035", 0.35, true);
}
