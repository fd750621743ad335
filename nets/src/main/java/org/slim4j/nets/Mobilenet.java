package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.biasesInitializer;
import static org.slim4j.layers.Arg.decay;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.keepProb;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.DROPOUT;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;
import static org.slim4j.layers.Layers.SEPARABLE_CONV2D;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.separableConv2d;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.layers.Activation;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Args;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializer;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.LayerKind;
import org.slim4j.layers.Normalizer;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's MobileNet library ({@code nets/mobilenet/mobilenet.py} and
 * {@code nets/mobilenet/conv_blocks.py}): a network is a {@link ConvDefs} — arg-scope defaults
 * plus a list of {@link Op}s — run by {@link #mobilenetBase} with a depth multiplier
 * ({@link #makeDivisible} rounding), an optional output stride (atrous) and explicit padding;
 * {@link #mobilenet} adds the classification head. {@link #expandedConv} is the inverted
 * residual block of MobileNet v2. {@link MobilenetV2} holds the V2 definition.
 */
public final class Mobilenet {
    private Mobilenet() {
    }

    // ---- keyword arguments ---------------------------------------------------------------------

    /** mobilenet_base's width multiplier (MobilenetV2's wrapper calls it depth_multiplier). */
    public static final Arg<Double> MULTIPLIER = Arg.key("multiplier", Double.class);
    /** Stop after this end point ({@code layer_<i>}); null = all layers. */
    public static final Arg<String> FINAL_ENDPOINT = Arg.key("final_endpoint", String.class);
    /** Output stride (null, 1 or even): layers past it run at stride 1 with atrous rates. */
    public static final Arg<Integer> OUTPUT_STRIDE = NetArg.OUTPUT_STRIDE;
    /** Pad like conv2d_same and convolve VALID instead of SAME. */
    public static final Arg<Boolean> USE_EXPLICIT_PADDING = Arg.key("use_explicit_padding", Boolean.class);
    /** mobilenet: return the base's output without pooling and logits. */
    public static final Arg<Boolean> BASE_ONLY = Arg.key("base_only", Boolean.class);
    /** The network definition run by mobilenet_base. */
    public static final Arg<ConvDefs> CONV_DEFS = Arg.key("conv_defs", ConvDefs.class);
    /** depth_multiplier: channel counts are rounded to multiples of this. */
    public static final Arg<Integer> DIVISIBLE_BY = Arg.key("divisible_by", Integer.class);
    /** depth_multiplier: the smallest channel count. */
    public static final Arg<Integer> MIN_DEPTH = NetArg.MIN_DEPTH;

    /** expanded_conv: the inner (expanded) depth as a function of the input depth. */
    public static final Arg<ExpansionSize> EXPANSION_SIZE = Arg.key("expansion_size", ExpansionSize.class);
    public static final Arg<int[]> KERNEL_SIZE = Arg.key("kernel_size", int[].class);
    /** expanded_conv: add the input to the output when stride is 1 and the depths agree. */
    public static final Arg<Boolean> RESIDUAL = Arg.key("residual", Boolean.class);
    public static final Arg<Integer> SPLIT_PROJECTION = Arg.key("split_projection", Integer.class);
    public static final Arg<Integer> SPLIT_EXPANSION = Arg.key("split_expansion", Integer.class);
    public static final Arg<Integer> SPLIT_DIVISIBLE_BY = Arg.key("split_divisible_by", Integer.class);
    /** expanded_conv: where the depthwise convolution goes: "expansion" (default), "input", "output" or null (none). */
    public static final Arg<String> DEPTHWISE_LOCATION = Arg.key("depthwise_location", String.class);
    public static final Arg<Integer> DEPTHWISE_CHANNEL_MULTIPLIER = Arg.key("depthwise_channel_multiplier", Integer.class);

    /** The arg-scope kinds of the library's add_arg_scope functions. */
    public static final LayerKind DEPTH_MULTIPLIER = LayerKind.of("depth_multiplier", DIVISIBLE_BY, MIN_DEPTH);
    public static final LayerKind EXPANDED_CONV = LayerKind.of("expanded_conv", EXPANSION_SIZE, Arg.STRIDE, Arg.RATE, KERNEL_SIZE, RESIDUAL,
        Arg.NORMALIZER_FN, SPLIT_PROJECTION, SPLIT_EXPANSION, SPLIT_DIVISIBLE_BY, DEPTHWISE_LOCATION, DEPTHWISE_CHANNEL_MULTIPLIER,
        USE_EXPLICIT_PADDING, Arg.PADDING, Arg.SCOPE);
    public static final LayerKind MOBILENET_BASE = LayerKind.of("mobilenet_base", CONV_DEFS, MULTIPLIER, FINAL_ENDPOINT, OUTPUT_STRIDE,
        USE_EXPLICIT_PADDING, Arg.SCOPE, Arg.IS_TRAINING);
    public static final LayerKind MOBILENET = LayerKind.of("mobilenet", NetArg.PREDICTION_FN, Arg.SCOPE, BASE_ONLY, CONV_DEFS, MULTIPLIER,
        FINAL_ENDPOINT, OUTPUT_STRIDE, USE_EXPLICIT_PADDING, Arg.IS_TRAINING);

    // ---- definitions --------------------------------------------------------------------------------

    /** expand_input_by_factor's result: the expanded depth for an input depth. */
    @FunctionalInterface
    public interface ExpansionSize {
        int of(int numInputs);
    }

    /** expand_input_by_factor(n, divisible_by=8): make_divisible(num_inputs · n, divisible_by). */
    public static ExpansionSize expandInputByFactor(double n, int divisibleBy) {
        return numInputs -> makeDivisible(numInputs * n, divisibleBy, null);
    }

    public static ExpansionSize expandInputByFactor(double n) {
        return expandInputByFactor(n, 8);
    }

    /** The operations a spec can hold. */
    public enum OpType {
        /** slim.conv2d (kernel_size required). */
        CONV2D,
        /** {@link #expandedConv}. */
        EXPANDED_CONV
    }

    /**
     * mobilenet.op(opfunc, **params): one layer of a spec — the operation, its (unscaled) output
     * depth, stride, kernel size (null = the op's default) and further keyword arguments. The
     * output depth may be fractional before the multiplier is applied (finegrain mode divides it).
     */
    public record Op(OpType type, double numOutputs, int stride, int[] kernelSize, Args params) {
        public Op {
            Objects.requireNonNull(type, "type");
            if (!(numOutputs > 0) || stride < 1) throw new IllegalArgumentException("mobilenet op: num_outputs and stride must be positive, got " + numOutputs + ", " + stride);
            if (type == OpType.CONV2D && kernelSize == null) throw new IllegalArgumentException("mobilenet op: conv2d needs a kernel_size");
            kernelSize = kernelSize == null ? null : kernelSize.clone();
            params = params == null ? Args.empty() : params;
        }

        @Override
        public int[] kernelSize() {
            return kernelSize == null ? null : kernelSize.clone();
        }

        /** op(slim.conv2d, stride=s, num_outputs=n, kernel_size=[k, k]). */
        public static Op conv(int numOutputs, int kernel, int stride) {
            return new Op(OpType.CONV2D, numOutputs, stride, new int[] {kernel, kernel}, Args.empty());
        }

        /** op(ops.expanded_conv, stride=s, num_outputs=n, **params). */
        public static Op expandedConv(int numOutputs, int stride, Arg.Value<?>... params) {
            return new Op(OpType.EXPANDED_CONV, numOutputs, stride, null, Args.of(params));
        }

        /** This op with another (unscaled) output depth. */
        public Op withNumOutputs(double n) {
            return new Op(type, n, stride, kernelSize, params);
        }

        @Override
        public String toString() {
            return "op(" + type + ", num_outputs=" + numOutputs + ", stride=" + stride
                + (kernelSize == null ? "" : ", kernel_size=" + Arrays.toString(kernelSize)) + (params.isEmpty() ? "" : ", " + params) + ")";
        }
    }

    /**
     * A conv_defs dict: {@code defaults} (arg scopes opened around the whole base: the settings
     * that define the architecture, e.g. batch norm with scale), {@code overrides} (opened inside
     * them) and the {@code spec}.
     */
    public record ConvDefs(ArgScope defaults, ArgScope overrides, List<Op> spec) {
        public ConvDefs {
            defaults = defaults == null ? ArgScope.empty() : defaults;
            overrides = overrides == null ? ArgScope.empty() : overrides;
            spec = List.copyOf(spec);
            if (spec.isEmpty()) throw new IllegalArgumentException("mobilenet: conv_defs has an empty spec");
        }

        public ConvDefs withDefaults(ArgScope d) {
            return new ConvDefs(d, overrides, spec);
        }

        public ConvDefs withOverrides(ArgScope o) {
            return new ConvDefs(defaults, o, spec);
        }

        public ConvDefs withSpec(List<Op> s) {
            return new ConvDefs(defaults, overrides, s);
        }
    }

    // ---- depth arithmetic ---------------------------------------------------------------------------

    /**
     * _make_divisible(v, divisor, min_value=divisor): v rounded to the nearest multiple of divisor
     * (halves up), at least min_value, and bumped up by one divisor if rounding lost more than 10%.
     */
    public static int makeDivisible(double v, int divisor, Integer minValue) {
        if (divisor < 1) throw new IllegalArgumentException("make_divisible: divisor must be >= 1, got " + divisor);
        int min = minValue == null ? divisor : minValue;
        int newV = Math.max(min, (int) (v + divisor / 2.0) / divisor * divisor);
        if (newV < 0.9 * v) newV += divisor;
        return newV;
    }

    /**
     * depth_multiplier(output_params, multiplier, divisible_by=8, min_depth=8): the scaled output
     * depth make_divisible(d · multiplier, divisible_by, min_depth); divisible_by and min_depth
     * come from the arg scope of {@link #DEPTH_MULTIPLIER} unless given.
     */
    public static int depthMultiplier(double numOutputs, double multiplier, Arg.Value<?>... args) {
        Args a = ArgScope.resolve(DEPTH_MULTIPLIER, args);
        return makeDivisible(numOutputs * multiplier, a.get(DIVISIBLE_BY, 8), a.get(MIN_DEPTH, 8));
    }

    // ---- the base and the head --------------------------------------------------------------------

    /**
     * mobilenet_base(inputs, conv_defs, multiplier=1.0, final_endpoint=None, output_stride=None,
     * use_explicit_padding=False, scope=None, is_training=False): runs the spec in scope
     * {@code scope} (default {@code Mobilenet}) under batch norm's is_training, the defs'
     * defaults and overrides. End points {@code layer_<i>} (1-based), then for each layer the
     * outputs TF names {@code *output} inside its scope ({@code layer_<i>/expansion_output},
     * {@code layer_<i>/depthwise_output}, {@code layer_<i>/output}).
     */
    public static NetOutput mobilenetBase(Var inputs, ConvDefs convDefs, Arg.Value<?>... kwargs) {
        Args a = ArgScope.resolve(MOBILENET_BASE, Args.of(kwargs).with(CONV_DEFS.is(convDefs)));
        try (VariableScope sc = VariableScope.open(a.get(Arg.SCOPE, null), "Mobilenet")) {
            return base(inputs, a);
        }
    }

    /** mobilenet_base's body in the open scope; {@code a} holds its resolved arguments. */
    private static NetOutput base(Var inputs, Args a) {
        ConvDefs convDefs = a.get(CONV_DEFS, null);
        if (convDefs == null) throw new IllegalArgumentException("mobilenet_base() missing required argument 'conv_defs'");
        double multiplier = a.get(MULTIPLIER, 1.0);
        if (!(multiplier > 0)) throw new IllegalArgumentException("multiplier is not greater than zero.");
        boolean explicitPadding = a.get(USE_EXPLICIT_PADDING, false);
        ArgScope overrides = convDefs.overrides();
        if (explicitPadding) overrides = overrides.nest(ArgScope.of(CONV2D, SEPARABLE_CONV2D).set(padding(VALID)));
        Integer outputStride = a.get(OUTPUT_STRIDE, null);
        if (outputStride != null && (outputStride <= 0 || (outputStride > 1 && outputStride % 2 != 0))) {
            throw new IllegalArgumentException("Output stride must be None, 1 or a multiple of 2.");
        }
        String finalEndpoint = a.get(FINAL_ENDPOINT, null);
        Boolean training = a.get(Arg.IS_TRAINING, false);
        ArgScope scopes = training == null ? ArgScope.empty() : ArgScope.of(BATCH_NORM).set(isTraining(training)).build();
        scopes = scopes.nest(convDefs.defaults()).nest(overrides);
        EndPoints endPoints = new EndPoints();
        // ops whose names end in "output", by layer, in creation order (TF finds them in the graph)
        Map<String, Var> named = new LinkedHashMap<>();
        Var net = inputs;
        try (var s = scopes.open()) {
            // The running product of strides, and the atrous rate used once it reaches output_stride.
            int currentStride = 1;
            int rate = 1;
            List<Op> spec = convDefs.spec();
            for (int i = 0; i < spec.size(); i++) {
                Op op = spec.get(i);
                int numOutputs = depthMultiplier(op.numOutputs(), multiplier);
                int stride = op.stride();
                int layerStride;
                int layerRate;
                if (outputStride != null && currentStride == outputStride) {
                    layerStride = 1;
                    layerRate = rate;
                    rate *= stride;
                } else {
                    layerStride = stride;
                    layerRate = 1;
                    currentStride *= stride;
                }
                Args params = op.params().with(Arg.stride(layerStride));
                if (layerRate > 1) params = params.with(Arg.rate(layerRate));
                if (explicitPadding) {
                    if (op.kernelSize() != null) {
                        net = fixedPadding(net, op.kernelSize(), layerRate);
                    } else {
                        params = params.with(USE_EXPLICIT_PADDING.is(true));
                    }
                }
                String endPoint = "layer_" + (i + 1);
                Map<String, Var> opOutputs = new LinkedHashMap<>();
                net = switch (op.type()) {
                    case CONV2D -> conv2d(net, numOutputs, op.kernelSize(), null, params);
                    case EXPANDED_CONV -> {
                        int[] k = op.kernelSize();
                        if (k != null) params = params.with(KERNEL_SIZE.is(k));
                        yield expandedConv(net, numOutputs, null, params, opOutputs);
                    }
                };
                endPoints.put(endPoint, net);
                opOutputs.forEach((name, v) -> named.put(endPoint + "/" + name, v));
                if (endPoint.equals(finalEndpoint)) break;
            }
        }
        named.forEach(endPoints::put);
        return new NetOutput(net, endPoints);
    }

    /**
     * mobilenet(inputs, num_classes=1001, prediction_fn=softmax, scope='Mobilenet',
     * base_only=False, **mobilenet_args): {@link #mobilenetBase} in scope {@code scope}, then in
     * scope {@code Logits}: a global average pool (end point {@code global_pool}), dropout
     * {@code Dropout} (keep_prob from the arg scope; is_training from mobilenet_args, default
     * False), the 1x1 conv {@code Conv2d_1c_1x1} with zero-initialised biases and the squeeze;
     * end points {@code Logits} and {@code Predictions}.
     *
     * @param numClasses 0 = TF's None: return the pooled features
     */
    public static NetOutput mobilenet(Var inputs, int numClasses, Arg.Value<?>... kwargs) {
        return mobilenet(inputs, numClasses, Args.of(kwargs));
    }

    public static NetOutput mobilenet(Var inputs, int numClasses, Args kwargs) {
        Args a = ArgScope.resolve(MOBILENET, kwargs);
        if (inputs.value().rank() != 4) throw new IllegalArgumentException("Expected rank 4 input, was: " + inputs.value().rank());
        if (numClasses < 0) throw new IllegalArgumentException("mobilenet: num_classes must be >= 0, got " + numClasses);
        Boolean training = a.get(Arg.IS_TRAINING, false);
        try (VariableScope sc = VariableScope.open(a.get(Arg.SCOPE, null), "Mobilenet")) {
            // mobilenet_base(inputs, scope=scope, **mobilenet_args): the same scope, re-entered
            Args baseArgs = ArgScope.resolve(MOBILENET_BASE, only(a, MOBILENET_BASE).with(Arg.IS_TRAINING, training));
            NetOutput b = base(inputs, baseArgs);
            if (a.get(BASE_ONLY, false)) return b;
            Var net = b.logits();
            EndPoints endPoints = b.endPoints();
            Var logits;
            try (VariableScope l = VariableScope.open("Logits")) {
                net = endPoints.put("global_pool", globalPool(net));
                if (numClasses == 0) return new NetOutput(net, endPoints);
                net = training == null ? dropout(net, "Dropout") : dropout(net, "Dropout", isTraining(training));
                // Note: legacy scope name.
                logits = conv2d(net, numClasses, new int[] {1, 1}, "Conv2d_1c_1x1", activationFn(null), normalizerFn(null),
                    biasesInitializer(Initializers.zeros()));
                logits = Ops.squeeze(logits, 1, 2);
            }
            endPoints.put("Logits", logits);
            PredictionFn predictionFn = a.get(NetArg.PREDICTION_FN, PredictionFn.SOFTMAX);
            if (predictionFn != null) endPoints.put("Predictions", predictionFn.apply(logits, "Predictions"));
            return new NetOutput(logits, endPoints);
        }
    }

    /** global_pool: a VALID average pool over the whole spatial map, to [N, 1, 1, C]. */
    public static Var globalPool(Var input) {
        int[] d = input.value().dims();
        if (d.length != 4) throw new IllegalArgumentException("global_pool: input must be rank 4 (NHWC), got shape " + input.value().shape());
        return Ops.avgPool(input, new PoolSpec(d[1], d[2], 1, 1, VALID));
    }

    /** The arguments of {@code a} that {@code kind} takes (Python forwarding **kwargs to a narrower function). */
    static Args only(Args a, LayerKind kind) {
        Args out = Args.empty();
        for (Arg<?> k : a.keys()) {
            if (kind.accepts(k)) out = with(out, k, a);
        }
        return out;
    }

    /** The arguments of {@code a} that {@code kind} does not take. */
    static Args except(Args a, LayerKind kind) {
        Args out = Args.empty();
        for (Arg<?> k : a.keys()) {
            if (!kind.accepts(k)) out = with(out, k, a);
        }
        return out;
    }

    private static <T> Args with(Args out, Arg<T> k, Args from) {
        return out.with(k, from.get(k, null));
    }

    /**
     * training_scope(is_training=True, weight_decay=0.00004, stddev=0.09, dropout_keep_prob=0.8,
     * bn_decay=0.997): conv2d, fully_connected and separable_conv2d with truncated normal weights
     * (stddev &lt; 0: xavier) and batch norm; L2 decay on conv2d weights only; batch norm decay
     * and is_training; dropout keep_prob and is_training; mobilenet / mobilenet_base is_training.
     *
     * @param isTraining null leaves is_training unset for batch norm and dropout
     */
    public static ArgScope trainingScope(Boolean isTraining, double weightDecay, double stddev, double dropoutKeepProb, double bnDecay) {
        Initializer init = stddev < 0 ? Initializers.xavier() : Initializers.truncatedNormal(stddev);
        ArgScope s = ArgScope.of(CONV2D, FULLY_CONNECTED, SEPARABLE_CONV2D).set(weightsInitializer(init), normalizerFn(Normalizer.BATCH_NORM))
            .build();
        s = s.nest(ArgScope.of(MOBILENET_BASE, MOBILENET).set(Arg.IS_TRAINING, isTraining));
        if (isTraining != null) {
            s = s.nest(ArgScope.of(BATCH_NORM).set(decay(bnDecay), isTraining(isTraining)));
            s = s.nest(ArgScope.of(DROPOUT).set(isTraining(isTraining), keepProb(dropoutKeepProb)));
        } else {
            s = s.nest(ArgScope.of(BATCH_NORM).set(decay(bnDecay)));
            s = s.nest(ArgScope.of(DROPOUT).set(keepProb(dropoutKeepProb)));
        }
        return s.nest(ArgScope.of(CONV2D).set(weightsRegularizer(Regularizers.l2(weightDecay))))
            .nest(ArgScope.of(SEPARABLE_CONV2D).set(weightsRegularizer(null)));
    }

    /** training_scope(weight_decay=...) with the other defaults, as the nets factory calls it. */
    public static ArgScope trainingScope(double weightDecay) {
        return trainingScope(true, weightDecay, 0.09, 0.8, 0.997);
    }

    // ---- conv blocks (conv_blocks.py) -----------------------------------------------------------------

    /**
     * expanded_conv(input_tensor, num_outputs, expansion_size=expand_input_by_factor(6), stride=1,
     * rate=1, kernel_size=(3, 3), residual=True, normalizer_fn=None, split_projection=1,
     * split_expansion=1, split_divisible_by=8, depthwise_location='expansion',
     * depthwise_channel_multiplier=1, use_explicit_padding=False, padding='SAME', scope=None):
     * MobileNet v2's inverted residual in scope {@code expanded_conv} (uniquified): a 1x1
     * {@code expand} conv to the inner depth (skipped when that is not larger than the input's),
     * a depthwise {@code depthwise} conv (stride, rate), a linear 1x1 {@code project} conv, and the
     * input added when the stride is 1 and the depths agree.
     */
    public static Var expandedConv(Var input, int numOutputs, String scope, Arg.Value<?>... args) {
        return expandedConv(input, numOutputs, scope, Args.of(args), null);
    }

    private static Var expandedConv(Var input, int numOutputs, String scope, Args explicit, Map<String, Var> outputs) {
        Args a = ArgScope.resolve(EXPANDED_CONV, explicit);
        ExpansionSize expansionSize = a.get(EXPANSION_SIZE, expandInputByFactor(6));
        int[] stride = a.get(Arg.STRIDE, new int[] {1, 1});
        int[] rate = a.get(Arg.RATE, new int[] {1, 1});
        int[] kernel = a.get(KERNEL_SIZE, new int[] {3, 3});
        boolean residual = a.get(RESIDUAL, true);
        Normalizer normalizer = a.get(Arg.NORMALIZER_FN, null);
        int splitProjection = a.get(SPLIT_PROJECTION, 1);
        int splitExpansion = a.get(SPLIT_EXPANSION, 1);
        int splitDivisibleBy = a.get(SPLIT_DIVISIBLE_BY, 8);
        String location = a.get(DEPTHWISE_LOCATION, "expansion");
        int channelMultiplier = a.get(DEPTHWISE_CHANNEL_MULTIPLIER, 1);
        boolean explicitPadding = a.get(USE_EXPLICIT_PADDING, false);
        Padding pad = a.get(Arg.PADDING, SAME);
        if (location != null && !List.of("input", "output", "expansion").contains(location)) {
            throw new IllegalArgumentException("expanded_conv: depthwise_location must be one of None, input, output, expansion, got " + location);
        }
        if (explicitPadding) {
            if (pad != SAME) throw new IllegalArgumentException("`use_explicit_padding` should only be used with \"SAME\" padding.");
            pad = VALID;
        }
        Map<String, Var> out = outputs == null ? new LinkedHashMap<>() : outputs;
        try (VariableScope sc = VariableScope.open(scope != null ? scope : a.get(Arg.SCOPE, null), "expanded_conv")) {
            int prevDepth = ResnetUtils.lastDimension("expanded_conv", input);
            Padding depthwisePadding = pad;
            // functools.partial(slim.separable_conv2d, num_outputs=None, ..., scope='depthwise')
            DepthwiseFn depthwise = (x, extra) -> {
                Var in = explicitPadding ? fixedPadding(x, kernel, rate[0]) : x;
                Args dw = Args.of(Arg.depthMultiplier(channelMultiplier), Arg.STRIDE.is(stride), Arg.RATE.is(rate),
                    normalizerFn(normalizer), padding(depthwisePadding)).with(extra);
                return separableConv2d(in, null, kernel, "depthwise", dw);
            };
            Var net = input;
            if ("input".equals(location)) net = depthwise.apply(net, Args.of(activationFn(null)));
            int innerSize = expansionSize.of(prevDepth);
            if (innerSize > net.value().dim(3)) {
                net = splitConv(net, innerSize, splitExpansion, "expand", splitDivisibleBy, out, Arg.stride(1), normalizerFn(normalizer));
                out.put("expansion_output", net);
            }
            if ("expansion".equals(location)) net = depthwise.apply(net, Args.empty());
            out.put("depthwise_output", net);
            // The projection to the output depth is always there and linear.
            net = splitConv(net, numOutputs, splitProjection, "project", splitDivisibleBy, out, Arg.stride(1), normalizerFn(normalizer),
                activationFn(Activation.IDENTITY));
            if ("output".equals(location)) net = depthwise.apply(net, Args.of(activationFn(null)));
            if (residual && stride[0] == 1 && stride[1] == 1 && net.value().dim(3) == input.value().dim(3)) {
                net = Ops.add(net, input);
            }
            out.put("output", net);
            return net;
        }
    }

    @FunctionalInterface
    private interface DepthwiseFn {
        Var apply(Var x, Args extra);
    }

    /**
     * split_conv: a 1x1 conv {@code scope}, or — with num_ways &gt; 1 when every part keeps at
     * least divisible_by channels — the input split into num_ways channel groups, each with its
     * own 1x1 conv {@code <scope>_part_<i>}, concatenated.
     */
    private static Var splitConv(Var input, int numOutputs, int numWays, String scope, int divisibleBy, Map<String, Var> outputs,
                                 Arg.Value<?>... kwargs) {
        int b = input.value().dim(3);
        if (numWays < 1) throw new IllegalArgumentException("split_conv: num_ways must be >= 1, got " + numWays);
        if (numWays == 1 || Math.min(b / numWays, numOutputs / numWays) < divisibleBy) {
            // Don't split if a part would end up with fewer than divisible_by filters.
            return conv2d(input, numOutputs, new int[] {1, 1}, scope, kwargs);
        }
        int[] inputSplits = splitDivisible(b, numWays, divisibleBy);
        int[] outputSplits = splitDivisible(numOutputs, numWays, divisibleBy);
        List<Var> inputs = Ops.split(input, 3, inputSplits);
        List<Var> outs = new ArrayList<>();
        for (int i = 0; i < numWays; i++) {
            String part = scope + "_part_" + i;
            Var n = conv2d(inputs.get(i), outputSplits[i], new int[] {1, 1}, part, kwargs);
            outputs.put(part + "_output", n);
            outs.add(n);
        }
        return Ops.concat(outs, 3);
    }

    /** _split_divisible: num split num_ways ways into multiples of divisible_by, as evenly as possible. */
    static int[] splitDivisible(int num, int numWays, int divisibleBy) {
        if (num % divisibleBy != 0 || num / (double) numWays < divisibleBy) {
            throw new IllegalArgumentException("split_conv: cannot split " + num + " channels " + numWays + " ways into multiples of " + divisibleBy);
        }
        int base = num / numWays / divisibleBy * divisibleBy;
        int[] result = new int[numWays];
        int accumulated = 0;
        for (int i = 0; i < numWays; i++) {
            int r = base;
            while (accumulated + r < num * (i + 1) / (double) numWays) r += divisibleBy;
            result[i] = r;
            accumulated += r;
        }
        if (accumulated != num) throw new IllegalStateException("split_conv: splits " + Arrays.toString(result) + " do not add up to " + num);
        return result;
    }

    /** _fixed_padding: TF pads both axes by the effective size of kernel[0]. */
    static Var fixedPadding(Var inputs, int[] kernel, int rate) {
        return ResnetUtils.fixedPadding(inputs, kernel[0], kernel[0], rate);
    }
}
