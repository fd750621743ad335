package org.slim4j.layers;

import java.util.Map;
import java.util.Objects;
import org.slim4j.kernels.Padding;

/**
 * A typed keyword argument of a layer, TF-Slim's {@code activation_fn=...}, {@code padding=...}.
 * The value type is checked at compile time.
 *
 * <p>The well-known keys are constants here, each with a lower-case factory for its value, so that
 * a call reads like TF-Slim's keyword arguments:
 * <pre>{@code
 * import static org.slim4j.layers.Arg.*;
 * conv2d(net, 4096, 7, "fc6", padding(VALID));                       // slim.conv2d(net, 4096, [7, 7], padding='VALID', scope='fc6')
 * ArgScope.of(CONV2D, FULLY_CONNECTED).set(activationFn(RELU), weightsRegularizer(l2(0.0005)));
 * }</pre>
 * Family-specific functions define their own keys with {@link #key(String, Class)}.
 *
 * @param <T> the value type ({@code null} is a legal value and means TF's {@code None})
 */
public final class Arg<T> {
    private final String name;
    private final Class<?> type;

    private Arg(String name, Class<?> type) {
        this.name = name;
        this.type = type;
    }

    /**
     * A new key. Keys compare by identity: define each once, as a constant, and share the constant
     * (two modules may give different keys the same keyword name, e.g. a network's float
     * {@code depth_multiplier} and separable_conv2d's integer one).
     */
    public static <T> Arg<T> key(String name, Class<T> type) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        return new Arg<>(name, type);
    }

    /** TF-Slim's keyword name, e.g. {@code activation_fn}. */
    public String name() {
        return name;
    }

    /** The value type. */
    public Class<?> type() {
        return type;
    }

    /** This argument set to {@code value} (TF's {@code name=value}). */
    public Value<T> is(T value) {
        return new Value<>(this, value);
    }

    @Override
    public String toString() {
        return name;
    }

    /** One {@code name=value} pair. */
    public record Value<T>(Arg<T> arg, T value) {
        public Value {
            Objects.requireNonNull(arg, "arg");
        }

        @Override
        public String toString() {
            return arg.name() + "=" + value;
        }
    }

    // ---- the keys of slim's layers -------------------------------------------------------------

    /** Stride {h, w} of convolutions and pools. */
    public static final Arg<int[]> STRIDE = key("stride", int[].class);
    /** SAME or VALID. */
    public static final Arg<Padding> PADDING = key("padding", Padding.class);
    /** Atrous (dilation) rate {h, w}. */
    public static final Arg<int[]> RATE = key("rate", int[].class);
    /** Only "NHWC" is supported; accepted so that TF-Slim's arg scopes translate word for word. */
    public static final Arg<String> DATA_FORMAT = key("data_format", String.class);
    /** Applied last; {@code null} = linear. */
    public static final Arg<Activation> ACTIVATION_FN = key("activation_fn", Activation.class);
    /** Replaces the biases (e.g. {@link Normalizer#BATCH_NORM}); {@code null} = none. */
    public static final Arg<Normalizer> NORMALIZER_FN = key("normalizer_fn", Normalizer.class);
    /** Explicit arguments handed to the normalizer (they override the normalizer's own arg scope). */
    public static final Arg<Args> NORMALIZER_PARAMS = key("normalizer_params", Args.class);
    public static final Arg<Initializer> WEIGHTS_INITIALIZER = key("weights_initializer", Initializer.class);
    /** {@code null} = no regularisation loss. */
    public static final Arg<Regularizer> WEIGHTS_REGULARIZER = key("weights_regularizer", Regularizer.class);
    /** {@code null} = no biases variable. */
    public static final Arg<Initializer> BIASES_INITIALIZER = key("biases_initializer", Initializer.class);
    public static final Arg<Regularizer> BIASES_REGULARIZER = key("biases_regularizer", Regularizer.class);
    /** separable_conv2d's pointwise initializer; {@code null} = the weights initializer. */
    public static final Arg<Initializer> POINTWISE_INITIALIZER = key("pointwise_initializer", Initializer.class);
    /** separable_conv2d's channel multiplier of the depthwise stage. */
    public static final Arg<Integer> DEPTH_MULTIPLIER = key("depth_multiplier", Integer.class);
    /** Whether created variables join the trainable variables. */
    public static final Arg<Boolean> TRAINABLE = key("trainable", Boolean.class);
    /**
     * The layer's scope name when the call gives none (TF-Slim lets arg scopes set it, e.g. NASNet's
     * {@code arg_scope([slim.fully_connected], scope='FC')}); also a network's top scope option.
     */
    public static final Arg<String> SCOPE = key("scope", String.class);
    /** Where the layer's output is recorded under its scope name (TF-Slim's outputs_collections). */
    public static final Arg<EndPoints> OUTPUTS_COLLECTIONS = key("outputs_collections", EndPoints.class);

    /** batch_norm / dropout: training behaviour (batch statistics, random masks). */
    public static final Arg<Boolean> IS_TRAINING = key("is_training", Boolean.class);
    public static final Arg<Double> DECAY = key("decay", Double.class);
    public static final Arg<Double> EPSILON = key("epsilon", Double.class);
    /** batch_norm: add beta. */
    public static final Arg<Boolean> CENTER = key("center", Boolean.class);
    /** batch_norm: multiply by gamma. */
    public static final Arg<Boolean> SCALE = key("scale", Boolean.class);
    /**
     * batch_norm: TF's fused kernel (null/true, the default for 2-D and 4-D inputs) updates the
     * moving variance with the Bessel-corrected batch variance; false uses the biased one.
     */
    public static final Arg<Boolean> FUSED = key("fused", Boolean.class);
    /** batch_norm initializers by variable: "beta", "gamma", "moving_mean", "moving_variance". */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final Arg<Map<String, Initializer>> PARAM_INITIALIZERS = key("param_initializers", (Class) Map.class);
    /** batch_norm regularizers by variable: "beta", "gamma". */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final Arg<Map<String, Regularizer>> PARAM_REGULARIZERS = key("param_regularizers", (Class) Map.class);
    /** batch_norm: ignored (slim4j always applies the moving-average update in the forward pass). */
    public static final Arg<String> UPDATES_COLLECTIONS = key("updates_collections", String.class);
    /** dropout. */
    public static final Arg<Double> KEEP_PROB = key("keep_prob", Double.class);
    /** dropout: shape of the random mask, broadcast over the input (e.g. {N, 1, 1, 1} drops whole examples); null = the input's. */
    public static final Arg<int[]> NOISE_SHAPE = key("noise_shape", int[].class);
    /** one_hot_encoding. */
    public static final Arg<Double> ON_VALUE = key("on_value", Double.class);
    public static final Arg<Double> OFF_VALUE = key("off_value", Double.class);

    // ---- value factories, in TF-Slim's keyword spelling ----------------------------------------

    public static Value<int[]> stride(int s) {
        return STRIDE.is(new int[] {s, s});
    }

    public static Value<int[]> stride(int h, int w) {
        return STRIDE.is(new int[] {h, w});
    }

    public static Value<Padding> padding(Padding p) {
        return PADDING.is(p);
    }

    public static Value<int[]> rate(int r) {
        return RATE.is(new int[] {r, r});
    }

    public static Value<int[]> rate(int h, int w) {
        return RATE.is(new int[] {h, w});
    }

    public static Value<String> dataFormat(String f) {
        return DATA_FORMAT.is(f);
    }

    public static Value<Activation> activationFn(Activation fn) {
        return ACTIVATION_FN.is(fn);
    }

    public static Value<Normalizer> normalizerFn(Normalizer fn) {
        return NORMALIZER_FN.is(fn);
    }

    public static Value<Args> normalizerParams(Args params) {
        return NORMALIZER_PARAMS.is(params);
    }

    public static Value<Args> normalizerParams(Value<?>... params) {
        return NORMALIZER_PARAMS.is(Args.of(params));
    }

    public static Value<Initializer> weightsInitializer(Initializer init) {
        return WEIGHTS_INITIALIZER.is(init);
    }

    public static Value<Regularizer> weightsRegularizer(Regularizer reg) {
        return WEIGHTS_REGULARIZER.is(reg);
    }

    public static Value<Initializer> biasesInitializer(Initializer init) {
        return BIASES_INITIALIZER.is(init);
    }

    public static Value<Regularizer> biasesRegularizer(Regularizer reg) {
        return BIASES_REGULARIZER.is(reg);
    }

    public static Value<Initializer> pointwiseInitializer(Initializer init) {
        return POINTWISE_INITIALIZER.is(init);
    }

    public static Value<Integer> depthMultiplier(int m) {
        return DEPTH_MULTIPLIER.is(m);
    }

    public static Value<Boolean> trainable(boolean t) {
        return TRAINABLE.is(t);
    }

    public static Value<EndPoints> outputsCollections(EndPoints c) {
        return OUTPUTS_COLLECTIONS.is(c);
    }

    public static Value<Boolean> isTraining(boolean t) {
        return IS_TRAINING.is(t);
    }

    public static Value<Double> decay(double d) {
        return DECAY.is(d);
    }

    public static Value<Double> epsilon(double e) {
        return EPSILON.is(e);
    }

    public static Value<Boolean> center(boolean c) {
        return CENTER.is(c);
    }

    public static Value<Boolean> scale(boolean s) {
        return SCALE.is(s);
    }

    public static Value<Boolean> fused(Boolean f) {
        return FUSED.is(f);
    }

    public static Value<Map<String, Initializer>> paramInitializers(Map<String, Initializer> m) {
        return PARAM_INITIALIZERS.is(m);
    }

    public static Value<Map<String, Regularizer>> paramRegularizers(Map<String, Regularizer> m) {
        return PARAM_REGULARIZERS.is(m);
    }

    public static Value<String> scope(String name) {
        return SCOPE.is(name);
    }

    public static Value<int[]> noiseShape(int... shape) {
        return NOISE_SHAPE.is(shape);
    }

    public static Value<Double> keepProb(double p) {
        return KEEP_PROB.is(p);
    }

    public static Value<Double> onValue(double v) {
        return ON_VALUE.is(v);
    }

    public static Value<Double> offValue(double v) {
        return OFF_VALUE.is(v);
    }
}
