package org.slim4j.layers;

import static org.slim4j.layers.Arg.ACTIVATION_FN;
import static org.slim4j.layers.Arg.BIASES_INITIALIZER;
import static org.slim4j.layers.Arg.BIASES_REGULARIZER;
import static org.slim4j.layers.Arg.CENTER;
import static org.slim4j.layers.Arg.DATA_FORMAT;
import static org.slim4j.layers.Arg.DECAY;
import static org.slim4j.layers.Arg.DEPTH_MULTIPLIER;
import static org.slim4j.layers.Arg.EPSILON;
import static org.slim4j.layers.Arg.FUSED;
import static org.slim4j.layers.Arg.IS_TRAINING;
import static org.slim4j.layers.Arg.KEEP_PROB;
import static org.slim4j.layers.Arg.NOISE_SHAPE;
import static org.slim4j.layers.Arg.NORMALIZER_FN;
import static org.slim4j.layers.Arg.NORMALIZER_PARAMS;
import static org.slim4j.layers.Arg.OFF_VALUE;
import static org.slim4j.layers.Arg.ON_VALUE;
import static org.slim4j.layers.Arg.OUTPUTS_COLLECTIONS;
import static org.slim4j.layers.Arg.PADDING;
import static org.slim4j.layers.Arg.PARAM_INITIALIZERS;
import static org.slim4j.layers.Arg.PARAM_REGULARIZERS;
import static org.slim4j.layers.Arg.POINTWISE_INITIALIZER;
import static org.slim4j.layers.Arg.RATE;
import static org.slim4j.layers.Arg.SCALE;
import static org.slim4j.layers.Arg.SCOPE;
import static org.slim4j.layers.Arg.STRIDE;
import static org.slim4j.layers.Arg.TRAINABLE;
import static org.slim4j.layers.Arg.UPDATES_COLLECTIONS;
import static org.slim4j.layers.Arg.WEIGHTS_INITIALIZER;
import static org.slim4j.layers.Arg.WEIGHTS_REGULARIZER;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.BatchNormOps;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TF-Slim's layers ({@code slim.conv2d}, {@code slim.fully_connected}, {@code slim.batch_norm},
 * ...) with TF 1.x {@code tf.contrib.layers} defaults and variable names. Each layer opens its
 * variable scope (default names {@code Conv}, {@code SeparableConv2d}, {@code fully_connected},
 * {@code BatchNorm}, {@code MaxPool2D}, {@code AvgPool2D}, {@code Dropout}, {@code Flatten}),
 * creates its variables in the open {@link Graph}'s store, takes its keyword arguments from the
 * active {@link ArgScope} overridden by the {@link Arg.Value}s passed to the call, and records its
 * output in {@code outputs_collections} under its full scope name.
 *
 * <pre>{@code
 * import static org.slim4j.layers.Layers.*;
 * import static org.slim4j.layers.Arg.*;
 * net = repeat(inputs, 2, (x, s) -> conv2d(x, 64, 3, s), "conv1");   // slim.repeat(inputs, 2, slim.conv2d, 64, [3, 3], scope='conv1')
 * net = maxPool2d(net, 2, "pool1");                                 // slim.max_pool2d(net, [2, 2], scope='pool1')
 * net = conv2d(net, 4096, 7, "fc6", padding(VALID));                // slim.conv2d(net, 4096, [7, 7], padding='VALID', scope='fc6')
 * }</pre>
 *
 * A null scope means the default name. Every layer works in shape-only builds (see {@link MetaDevice}).
 */
public final class Layers {
    private Layers() {
    }

    private static final int[] ONE = {1, 1};

    // ---- layer kinds: the keys of arg scopes ----------------------------------------------------

    public static final LayerKind CONV2D = LayerKind.of("conv2d", STRIDE, PADDING, RATE, DATA_FORMAT, ACTIVATION_FN, NORMALIZER_FN,
        NORMALIZER_PARAMS, WEIGHTS_INITIALIZER, WEIGHTS_REGULARIZER, BIASES_INITIALIZER, BIASES_REGULARIZER, TRAINABLE, OUTPUTS_COLLECTIONS, SCOPE);
    public static final LayerKind SEPARABLE_CONV2D = LayerKind.of("separable_conv2d", DEPTH_MULTIPLIER, STRIDE, PADDING, RATE, DATA_FORMAT,
        ACTIVATION_FN, NORMALIZER_FN, NORMALIZER_PARAMS, WEIGHTS_INITIALIZER, POINTWISE_INITIALIZER, WEIGHTS_REGULARIZER, BIASES_INITIALIZER,
        BIASES_REGULARIZER, TRAINABLE, OUTPUTS_COLLECTIONS, SCOPE);
    public static final LayerKind FULLY_CONNECTED = LayerKind.of("fully_connected", ACTIVATION_FN, NORMALIZER_FN, NORMALIZER_PARAMS,
        WEIGHTS_INITIALIZER, WEIGHTS_REGULARIZER, BIASES_INITIALIZER, BIASES_REGULARIZER, TRAINABLE, OUTPUTS_COLLECTIONS, SCOPE);
    public static final LayerKind MAX_POOL2D = LayerKind.of("max_pool2d", STRIDE, PADDING, DATA_FORMAT, OUTPUTS_COLLECTIONS, SCOPE);
    public static final LayerKind AVG_POOL2D = LayerKind.of("avg_pool2d", STRIDE, PADDING, DATA_FORMAT, OUTPUTS_COLLECTIONS, SCOPE);
    public static final LayerKind BATCH_NORM = LayerKind.of("batch_norm", DECAY, CENTER, SCALE, EPSILON, ACTIVATION_FN, PARAM_INITIALIZERS,
        PARAM_REGULARIZERS, UPDATES_COLLECTIONS, IS_TRAINING, TRAINABLE, FUSED, DATA_FORMAT, OUTPUTS_COLLECTIONS, SCOPE);
    public static final LayerKind DROPOUT = LayerKind.of("dropout", KEEP_PROB, NOISE_SHAPE, IS_TRAINING, OUTPUTS_COLLECTIONS, SCOPE);
    public static final LayerKind FLATTEN = LayerKind.of("flatten", OUTPUTS_COLLECTIONS, SCOPE);
    public static final LayerKind ONE_HOT_ENCODING = LayerKind.of("one_hot_encoding", ON_VALUE, OFF_VALUE, OUTPUTS_COLLECTIONS, SCOPE);
    /** slim.softmax. */
    public static final LayerKind SOFTMAX = LayerKind.of("softmax", SCOPE);

    /** A kernel or window size {h, w}: {@code conv2d(net, 192, kernel(1, 7), "Conv2d_0b_1x7")}. */
    public static int[] kernel(int h, int w) {
        return new int[] {h, w};
    }

    // ---- conv2d -----------------------------------------------------------------------------------

    /**
     * slim.conv2d: conv → (normalizer or biases) → activation. Defaults: stride 1, SAME, rate 1,
     * relu, no normalizer, xavier weights, zero biases. Variables {@code weights} [kh, kw, in, out]
     * and {@code biases} [out] (none when a normalizer is set or biases_initializer is null).
     */
    public static Var conv2d(Var inputs, int numOutputs, int[] kernelSize, String scope, Arg.Value<?>... args) {
        return conv2d(inputs, numOutputs, kernelSize, scope, Args.of(args));
    }

    public static Var conv2d(Var inputs, int numOutputs, int kernelSize, String scope, Arg.Value<?>... args) {
        return conv2d(inputs, numOutputs, new int[] {kernelSize, kernelSize}, scope, Args.of(args));
    }

    /** With TF's positional stride: {@code slim.conv2d(inputs, 64, [11, 11], 4, ...)}. */
    public static Var conv2d(Var inputs, int numOutputs, int[] kernelSize, int stride, String scope, Arg.Value<?>... args) {
        return conv2d(inputs, numOutputs, kernelSize, scope, Args.of(args).with(Arg.stride(stride)));
    }

    public static Var conv2d(Var inputs, int numOutputs, int kernelSize, int stride, String scope, Arg.Value<?>... args) {
        return conv2d(inputs, numOutputs, new int[] {kernelSize, kernelSize}, scope, Args.of(args).with(Arg.stride(stride)));
    }

    /** With a default scope name ({@code Conv}, {@code Conv_1}, ...). */
    public static Var conv2d(Var inputs, int numOutputs, int kernelSize, Arg.Value<?>... args) {
        return conv2d(inputs, numOutputs, new int[] {kernelSize, kernelSize}, null, Args.of(args));
    }

    public static Var conv2d(Var inputs, int numOutputs, int[] kernelSize, String scope, Args explicit) {
        Args a = ArgScope.resolve(CONV2D, explicit);
        checkNhwc("conv2d", a);
        int[] k = pair("conv2d", "kernel_size", kernelSize);
        int[] stride = pair("conv2d", "stride", a.get(STRIDE, ONE));
        int[] rate = pair("conv2d", "rate", a.get(RATE, ONE));
        checkStrideRate("conv2d", stride, rate);
        if (numOutputs < 1) throw new IllegalArgumentException("conv2d: num_outputs must be >= 1, got " + numOutputs);
        requireRank("conv2d", inputs, 4);
        boolean trainable = a.get(TRAINABLE, true);
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), "Conv")) {
            int in = inputs.value().dim(3);
            Variable w = modelVariable("weights", Shape.of(k[0], k[1], in, numOutputs), a.get(WEIGHTS_INITIALIZER, Initializers.xavier()),
                a.get(WEIGHTS_REGULARIZER, null), trainable);
            Conv2dSpec spec = new Conv2dSpec(stride[0], stride[1], rate[0], rate[1], a.get(PADDING, Padding.SAME));
            Activation act = a.get(ACTIVATION_FN, Activation.RELU);
            Initializer biasesInit = a.get(BIASES_INITIALIZER, Initializers.zeros());
            boolean fusableAct = act == null || act == Activation.RELU || act == Activation.RELU6;
            Args bn = foldableBatchNorm(a, act, inputs, w.var());
            if (bn != null) {
                // Inference batch norm (moving statistics) folded into the convolution, with the activation.
                return collect(a, sc.name(), conv2dFoldedBatchNorm(inputs, w.var(), spec, numOutputs, bn, act));
            }
            if (a.get(NORMALIZER_FN, null) == null && biasesInit != null && fusableAct) {
                // conv -> biases -> relu/relu6/none: one fused kernel, no intermediate tensors.
                Variable b = modelVariable("biases", Shape.of(numOutputs), biasesInit, a.get(BIASES_REGULARIZER, null), trainable);
                return collect(a, sc.name(), Ops.conv2dBiasActivation(inputs, w.var(), b.var(), spec, act));
            }
            Var out = Ops.conv2d(inputs, w.var(), spec);
            return normalizeAndActivate(out, numOutputs, a, trainable, sc.name());
        }
    }

    // ---- separable_conv2d ---------------------------------------------------------------------------

    /**
     * slim.separable_conv2d: depthwise conv with {@code depthwise_weights} [kh, kw, in, multiplier],
     * then (when numOutputs is not null) a 1x1 conv with {@code pointwise_weights}
     * [1, 1, in·multiplier, numOutputs]; then biases or normalizer, then activation. numOutputs
     * null = depthwise only (output in·multiplier channels), as MobileNet uses it.
     */
    public static Var separableConv2d(Var inputs, Integer numOutputs, int[] kernelSize, int depthMultiplier, String scope, Arg.Value<?>... args) {
        return separableConv2d(inputs, numOutputs, kernelSize, scope, Args.of(args).with(Arg.depthMultiplier(depthMultiplier)));
    }

    public static Var separableConv2d(Var inputs, Integer numOutputs, int kernelSize, int depthMultiplier, String scope, Arg.Value<?>... args) {
        return separableConv2d(inputs, numOutputs, new int[] {kernelSize, kernelSize}, scope, Args.of(args).with(Arg.depthMultiplier(depthMultiplier)));
    }

    /** Depth multiplier from the arg scope (default 1). */
    public static Var separableConv2d(Var inputs, Integer numOutputs, int kernelSize, String scope, Arg.Value<?>... args) {
        return separableConv2d(inputs, numOutputs, new int[] {kernelSize, kernelSize}, scope, Args.of(args));
    }

    public static Var separableConv2d(Var inputs, Integer numOutputs, int[] kernelSize, String scope, Args explicit) {
        Args a = ArgScope.resolve(SEPARABLE_CONV2D, explicit);
        checkNhwc("separable_conv2d", a);
        int[] k = pair("separable_conv2d", "kernel_size", kernelSize);
        int[] stride = pair("separable_conv2d", "stride", a.get(STRIDE, ONE));
        int[] rate = pair("separable_conv2d", "rate", a.get(RATE, ONE));
        checkStrideRate("separable_conv2d", stride, rate);
        int multiplier = a.get(DEPTH_MULTIPLIER, 1);
        if (multiplier < 1) throw new IllegalArgumentException("separable_conv2d: depth_multiplier must be >= 1, got " + multiplier);
        if (numOutputs != null && numOutputs < 1) throw new IllegalArgumentException("separable_conv2d: num_outputs must be >= 1 or null, got " + numOutputs);
        requireRank("separable_conv2d", inputs, 4);
        boolean trainable = a.get(TRAINABLE, true);
        Initializer weightsInit = a.get(WEIGHTS_INITIALIZER, Initializers.xavier());
        Initializer pointwiseInit = a.get(POINTWISE_INITIALIZER, null);
        if (pointwiseInit == null) pointwiseInit = weightsInit;
        Regularizer reg = a.get(WEIGHTS_REGULARIZER, null);
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), "SeparableConv2d")) {
            int in = inputs.value().dim(3);
            Variable dw = modelVariable("depthwise_weights", Shape.of(k[0], k[1], in, multiplier), weightsInit, reg, trainable);
            Conv2dSpec spec = new Conv2dSpec(stride[0], stride[1], rate[0], rate[1], a.get(PADDING, Padding.SAME));
            int channels = in * multiplier;
            Activation act = a.get(ACTIVATION_FN, Activation.RELU);
            Args bn = numOutputs == null ? foldableBatchNorm(a, act, inputs, dw.var()) : null;
            if (bn != null) {
                // MobileNet's depthwise layers: inference batch norm and activation folded into the kernel.
                Var out = foldedBatchNorm(inputs, channels, bn,
                        (scale, shift) -> Ops.depthwiseConv2dScaleShift(inputs, dw.var(), scale, shift, spec, act));
                return collect(a, sc.name(), out);
            }
            Var out = Ops.depthwiseConv2d(inputs, dw.var(), spec);
            if (numOutputs != null) {
                Variable pw = modelVariable("pointwise_weights", Shape.of(1, 1, channels, numOutputs), pointwiseInit, reg, trainable);
                out = Ops.conv2d(out, pw.var(), Conv2dSpec.of(1, Padding.VALID));
                channels = numOutputs;
            }
            return normalizeAndActivate(out, channels, a, trainable, sc.name());
        }
    }

    // ---- fully_connected ----------------------------------------------------------------------------

    /**
     * slim.fully_connected: x·weights → (normalizer or biases) → activation, over the last axis of a
     * rank ≥ 2 input. Variables {@code weights} [in, out], {@code biases} [out].
     */
    public static Var fullyConnected(Var inputs, int numOutputs, String scope, Arg.Value<?>... args) {
        return fullyConnected(inputs, numOutputs, scope, Args.of(args));
    }

    public static Var fullyConnected(Var inputs, int numOutputs, Arg.Value<?>... args) {
        return fullyConnected(inputs, numOutputs, null, Args.of(args));
    }

    public static Var fullyConnected(Var inputs, int numOutputs, String scope, Args explicit) {
        Args a = ArgScope.resolve(FULLY_CONNECTED, explicit);
        if (numOutputs < 1) throw new IllegalArgumentException("fully_connected: num_outputs must be >= 1, got " + numOutputs);
        Shape s = inputs.value().shape();
        if (s.rank() < 2) throw new IllegalArgumentException("fully_connected: inputs must have at least 2 dimensions, got " + s);
        boolean trainable = a.get(TRAINABLE, true);
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), "fully_connected")) {
            int in = s.dim(s.rank() - 1);
            Variable w = modelVariable("weights", Shape.of(in, numOutputs), a.get(WEIGHTS_INITIALIZER, Initializers.xavier()),
                a.get(WEIGHTS_REGULARIZER, null), trainable);
            Var out;
            if (s.rank() == 2) {
                out = Ops.matmul(inputs, w.var());
            } else {
                int[] outDims = s.dims();
                outDims[outDims.length - 1] = numOutputs;
                out = Ops.reshape(Ops.matmul(Ops.reshape(inputs, -1, in), w.var()), outDims);
            }
            return normalizeAndActivate(out, numOutputs, a, trainable, sc.name());
        }
    }

    // ---- pooling ------------------------------------------------------------------------------------

    /** slim.max_pool2d: defaults stride 2, VALID. */
    public static Var maxPool2d(Var inputs, int[] kernelSize, String scope, Arg.Value<?>... args) {
        return pool(true, inputs, kernelSize, scope, Args.of(args));
    }

    public static Var maxPool2d(Var inputs, int kernelSize, String scope, Arg.Value<?>... args) {
        return pool(true, inputs, new int[] {kernelSize, kernelSize}, scope, Args.of(args));
    }

    /** With TF's positional stride: {@code slim.max_pool2d(net, [3, 3], 2, scope='pool1')}. */
    public static Var maxPool2d(Var inputs, int kernelSize, int stride, String scope, Arg.Value<?>... args) {
        return pool(true, inputs, new int[] {kernelSize, kernelSize}, scope, Args.of(args).with(Arg.stride(stride)));
    }

    public static Var maxPool2d(Var inputs, int[] kernelSize, int stride, String scope, Arg.Value<?>... args) {
        return pool(true, inputs, kernelSize, scope, Args.of(args).with(Arg.stride(stride)));
    }

    /** slim.avg_pool2d: defaults stride 2, VALID; SAME windows average only in-image cells. */
    public static Var avgPool2d(Var inputs, int[] kernelSize, String scope, Arg.Value<?>... args) {
        return pool(false, inputs, kernelSize, scope, Args.of(args));
    }

    public static Var avgPool2d(Var inputs, int kernelSize, String scope, Arg.Value<?>... args) {
        return pool(false, inputs, new int[] {kernelSize, kernelSize}, scope, Args.of(args));
    }

    public static Var avgPool2d(Var inputs, int kernelSize, int stride, String scope, Arg.Value<?>... args) {
        return pool(false, inputs, new int[] {kernelSize, kernelSize}, scope, Args.of(args).with(Arg.stride(stride)));
    }

    public static Var avgPool2d(Var inputs, int[] kernelSize, int stride, String scope, Arg.Value<?>... args) {
        return pool(false, inputs, kernelSize, scope, Args.of(args).with(Arg.stride(stride)));
    }

    private static Var pool(boolean max, Var inputs, int[] kernelSize, String scope, Args explicit) {
        String op = max ? "max_pool2d" : "avg_pool2d";
        Args a = ArgScope.resolve(max ? MAX_POOL2D : AVG_POOL2D, explicit);
        checkNhwc(op, a);
        int[] k = pair(op, "kernel_size", kernelSize);
        int[] stride = pair(op, "stride", a.get(STRIDE, new int[] {2, 2}));
        requireRank(op, inputs, 4);
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), max ? "MaxPool2D" : "AvgPool2D")) {
            PoolSpec spec = new PoolSpec(k[0], k[1], stride[0], stride[1], a.get(PADDING, Padding.VALID));
            Var out = max ? Ops.maxPool(inputs, spec) : Ops.avgPool(inputs, spec);
            return collect(a, sc.name(), out);
        }
    }

    // ---- batch_norm ---------------------------------------------------------------------------------

    /**
     * slim.batch_norm over the last axis. Defaults: decay 0.999, center (beta) on, scale (gamma)
     * off, epsilon 0.001, no activation, is_training on. Variables {@code beta}, {@code gamma},
     * {@code moving_mean}, {@code moving_variance} (the last two not trainable).
     *
     * <p>Training normalises with the batch mean and biased variance and updates the moving
     * statistics in place: {@code moving -= (1 - decay) * (moving - batch)}, where the batch variance
     * is Bessel-corrected (n/(n-1)) as TF's fused kernel feeds it (fused=false: the biased one).
     * With fused (the default) epsilon is raised to at least 1.001e-5, as tf.nn.fused_batch_norm
     * does. Inference normalises with the moving statistics.
     */
    public static Var batchNorm(Var inputs, String scope, Arg.Value<?>... args) {
        return batchNorm(inputs, scope, Args.of(args));
    }

    public static Var batchNorm(Var inputs, Arg.Value<?>... args) {
        return batchNorm(inputs, null, Args.of(args));
    }

    public static Var batchNorm(Var inputs, String scope, Args explicit) {
        return batchNorm(inputs, scope, ArgScope.resolve(BATCH_NORM, explicit), null);
    }

    /**
     * batch_norm with resolved arguments {@code a}; a non-null {@code fusedAct} (relu / relu6, the
     * enclosing layer's activation, when the batch norm has none of its own) is applied by the
     * training batch norm's own kernel ({@link BatchNormOps#trainingActivation}), else after it.
     */
    private static Var batchNorm(Var inputs, String scope, Args a, Activation fusedAct) {
        checkNhwc("batch_norm", a);
        Shape s = inputs.value().shape();
        if (s.rank() < 2) throw new IllegalArgumentException("batch_norm: inputs must have at least 2 dimensions, got " + s);
        int c = s.dim(s.rank() - 1);
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), "BatchNorm")) {
            BatchNormVariables v = batchNormVariables(a, c);
            double decay = v.decay();
            double epsilon = v.epsilon();
            boolean isFused = v.fused();
            boolean training = v.training();
            Variable beta = v.beta();
            Variable gamma = v.gamma();
            Variable movingMean = v.movingMean();
            Variable movingVar = v.movingVar();
            Var g = gamma == null ? null : gamma.var();
            Var b = beta == null ? null : beta.var();
            Var out;
            // The layer's activation, unless the training kernel below applies it.
            Activation pending = fusedAct;
            if (Ops.isMeta(inputs, g, b)) {
                out = Var.constant(MetaDevice.tensor(inputs.value().dtype(), s));
            } else if (inputs.value().dtype() != movingMean.value().dtype()) {
                throw new IllegalArgumentException("batch_norm: input dtype " + inputs.value().dtype() + " != variable dtype " + movingMean.value().dtype());
            } else if (training) {
                BatchNormOps.TrainingOutput t = fusedAct == null
                    ? BatchNormOps.training(inputs, g, b, (float) epsilon)
                    : BatchNormOps.trainingActivation(inputs, g, b, (float) epsilon, Ops.fusedActivation(fusedAct));
                long n = s.numel() / c;
                double bessel = isFused && n > 1 ? (double) n / (n - 1) : 1.0;
                updateMovingAverage(movingMean.value(), t.mean(), 1.0, decay);
                updateMovingAverage(movingVar.value(), t.variance(), bessel, decay);
                t.mean().close();
                t.variance().close();
                out = t.y();
                pending = null;
            } else {
                out = BatchNormOps.inference(inputs, g, b, movingMean.value(), movingVar.value(), (float) epsilon);
            }
            if (!training && Graph.current().tracer() != null) {
                // TF-Slim's fused inference batch norm; without scale/center TF feeds constant ones/zeros
                float[] ones = new float[c];
                Arrays.fill(ones, 1f);
                Object gIn = g != null ? g : new TracedOp.Const("Const", new int[] {c}, null, ones);
                Object bIn = b != null ? b : new TracedOp.Const("Const_1", new int[] {c}, null, new float[c]);
                out = TracedOp.record("FusedBatchNormV3", out, Map.of("epsilon", (float) epsilon, "is_training", false, "data_format", "NHWC"),
                    inputs, gIn, bIn, movingMean.var(), movingVar.var());
            }
            if (pending != null) out = pending.apply(out);
            Activation act = a.get(ACTIVATION_FN, null);
            if (act != null) out = act.apply(out);
            return collect(a, sc.name(), out);
        }
    }

    /** slim.batch_norm's settings and its variables (null beta/gamma when center/scale are off). */
    private record BatchNormVariables(Variable beta, Variable gamma, Variable movingMean, Variable movingVar, double epsilon, double decay,
                                      boolean fused, boolean training) {
    }

    /** Reads batch_norm's settings from {@code a} and makes its variables in the open scope, in TF-Slim's order. */
    private static BatchNormVariables batchNormVariables(Args a, int c) {
        double decay = a.get(DECAY, 0.999);
        boolean center = a.get(CENTER, true);
        boolean scale = a.get(SCALE, false);
        double epsilon = a.get(EPSILON, 0.001);
        Boolean fused = a.get(FUSED, null);
        boolean isFused = fused == null || fused;
        if (isFused) epsilon = Math.max(epsilon, 1.001e-5);
        boolean training = a.get(IS_TRAINING, true);
        boolean trainable = a.get(TRAINABLE, true);
        Map<String, Initializer> inits = a.get(PARAM_INITIALIZERS, Map.of());
        Map<String, Regularizer> regs = a.get(PARAM_REGULARIZERS, Map.of());
        Shape params = Shape.of(c);
        Variable beta = center ? modelVariable("beta", params, inits.getOrDefault("beta", Initializers.zeros()), regs.get("beta"), trainable) : null;
        Variable gamma = scale ? modelVariable("gamma", params, inits.getOrDefault("gamma", Initializers.ones()), regs.get("gamma"), trainable) : null;
        Variable movingMean = modelVariable("moving_mean", params, inits.getOrDefault("moving_mean", Initializers.zeros()), null, false);
        Variable movingVar = modelVariable("moving_variance", params, inits.getOrDefault("moving_variance", Initializers.ones()), null, false);
        return new BatchNormVariables(beta, gamma, movingMean, movingVar, epsilon, decay, isFused, training);
    }

    /**
     * The batch_norm arguments when this layer's normalizer can be folded into a fused kernel: an
     * inference batch norm (moving statistics, no activation or collections of its own), a
     * relu / relu6 / no activation after it, no gradient recording, and tensors the fused kernels
     * run on; else null.
     */
    private static Args foldableBatchNorm(Args a, Activation act, Var... xs) {
        boolean fusableAct = act == null || act == Activation.RELU || act == Activation.RELU6;
        if (!fusableAct || GradMode.isEnabled() || !Ops.fusesConv(xs)) return null;
        Args bn = plainBatchNorm(a);
        return bn != null && !bn.get(IS_TRAINING, true) ? bn : null;
    }

    /**
     * The layer's batch_norm arguments, resolved, when its normalizer is batch_norm with no
     * activation or outputs_collections of its own (a fused kernel's output would differ from
     * what those see); else null.
     */
    private static Args plainBatchNorm(Args a) {
        if (a.get(NORMALIZER_FN, null) != Normalizer.BATCH_NORM) return null;
        Args bn = ArgScope.resolve(BATCH_NORM, a.get(NORMALIZER_PARAMS, Args.empty()));
        return bn.get(ACTIVATION_FN, null) == null && bn.get(OUTPUTS_COLLECTIONS, null) == null ? bn : null;
    }

    /**
     * conv2d followed by an inference batch_norm (arguments {@code bn}) and {@code act}, as one fused
     * kernel: y = act(conv * scale + shift) with scale = gamma / sqrt(moving_variance + epsilon) and
     * shift = beta - moving_mean * scale per channel. The batch norm's variables are made in its own
     * scope exactly as {@link #batchNorm} makes them, so names and checkpoints are unchanged. Only
     * without gradient recording (the folded constants have no gradient path).
     */
    private static Var conv2dFoldedBatchNorm(Var inputs, Var filter, Conv2dSpec spec, int c, Args bn, Activation act) {
        return foldedBatchNorm(inputs, c, bn, (scale, shift) -> Ops.conv2dScaleShift(inputs, filter, scale, shift, spec, act));
    }

    /** A fused kernel taking a folded batch norm's per-channel scale and shift. */
    private interface ScaleShiftKernel {
        Var apply(Tensor scale, Tensor shift);
    }

    /**
     * An inference batch_norm (arguments {@code bn}) over c channels folded into {@code kernel}:
     * scale = gamma / sqrt(moving_variance + epsilon), shift = beta - moving_mean * scale. The
     * variables are made in the batch norm's own scope exactly as {@link #batchNorm} makes them.
     */
    private static Var foldedBatchNorm(Var inputs, int c, Args bn, ScaleShiftKernel kernel) {
        try (VariableScope sc = VariableScope.open(scopeOf(bn, null), "BatchNorm")) {
            BatchNormVariables v = batchNormVariables(bn, c);
            DType dt = inputs.value().dtype();
            if (dt != v.movingMean().value().dtype()) {
                throw new IllegalArgumentException("batch_norm: input dtype " + dt + " != variable dtype " + v.movingMean().value().dtype());
            }
            double[] mean = v.movingMean().value().toDoubleArray();
            double[] variance = v.movingVar().value().toDoubleArray();
            double[] gamma = v.gamma() == null ? null : v.gamma().value().toDoubleArray();
            double[] beta = v.beta() == null ? null : v.beta().value().toDoubleArray();
            double eps = (float) v.epsilon();  // the float epsilon the batch-norm kernel gets
            double[] scale = new double[c];
            double[] shift = new double[c];
            for (int ch = 0; ch < c; ch++) {
                double a = (gamma == null ? 1.0 : gamma[ch]) / Math.sqrt(variance[ch] + eps);
                if (dt == DType.FLOAT32) a = (float) a;  // the float32 kernel's per-channel factor
                scale[ch] = a;
                shift[ch] = (beta == null ? 0.0 : beta[ch]) - mean[ch] * a;
            }
            try (Tensor sc32 = Tensor.fromDoubles(dt, Shape.of(c), scale); Tensor sh32 = Tensor.fromDoubles(dt, Shape.of(c), shift)) {
                return kernel.apply(sc32, sh32);
            }
        }
    }

    /** TF's assign_moving_average without debiasing: moving -= (1 - decay) * (moving - factor * batch). */
    private static void updateMovingAverage(Tensor moving, Tensor batch, double factor, double decay) {
        Backends.kernels(moving, ElementwiseKernels.class).movingAverageInPlace(moving, batch, factor, decay);
    }

    // ---- dropout, flatten, one-hot, softmax ---------------------------------------------------------

    /**
     * slim.dropout: when training keeps each element with probability keep_prob and scales it by
     * 1/keep_prob (the mask is seeded from the graph's seed and the layer's name; with
     * noise_shape one draw is shared along its size-1 dimensions); identity otherwise. Defaults
     * keep_prob 0.5, is_training on.
     */
    public static Var dropout(Var inputs, double keepProb, String scope, Arg.Value<?>... args) {
        return dropout(inputs, scope, Args.of(args).with(Arg.keepProb(keepProb)));
    }

    public static Var dropout(Var inputs, String scope, Arg.Value<?>... args) {
        return dropout(inputs, scope, Args.of(args));
    }

    private static Var dropout(Var inputs, String scope, Args explicit) {
        Args a = ArgScope.resolve(DROPOUT, explicit);
        double keepProb = a.get(KEEP_PROB, 0.5);
        if (!(keepProb > 0 && keepProb <= 1)) throw new IllegalArgumentException("dropout: keep_prob must be in (0, 1], got " + keepProb);
        boolean training = a.get(IS_TRAINING, true);
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), "Dropout")) {
            int[] noise = a.get(NOISE_SHAPE, null);
            Var out = inputs;
            if (training && keepProb < 1) {
                long seed = Graph.current().randomSeed(sc.name());
                out = noise == null ? Ops.dropout(inputs, keepProb, seed) : Ops.dropout(inputs, keepProb, seed, noise);
            }
            return collect(a, sc.name(), out);
        }
    }

    /** slim.flatten: [N, ...] to [N, prod(...)]. */
    public static Var flatten(Var inputs, String scope, Arg.Value<?>... args) {
        Args a = ArgScope.resolve(FLATTEN, args);
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), "Flatten")) {
            return collect(a, sc.name(), Ops.flatten(inputs));
        }
    }

    public static Var flatten(Var inputs) {
        return flatten(inputs, null);
    }

    /**
     * slim.one_hot_encoding: integer labels (any shape, int32/int64/uint8) to a float32 tensor with
     * one more axis of size numClasses, on_value at the label and off_value elsewhere.
     */
    public static Var oneHotEncoding(Tensor labels, int numClasses, String scope, Arg.Value<?>... args) {
        Args a = ArgScope.resolve(ONE_HOT_ENCODING, args);
        if (numClasses < 1) throw new IllegalArgumentException("one_hot_encoding: num_classes must be >= 1, got " + numClasses);
        if (labels.dtype().isFloating()) throw new IllegalArgumentException("one_hot_encoding: labels must be integers, got " + labels.dtype());
        double on = a.get(ON_VALUE, 1.0);
        double off = a.get(OFF_VALUE, 0.0);
        int[] dims = Arrays.copyOf(labels.dims(), labels.rank() + 1);
        dims[labels.rank()] = numClasses;
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), "OneHotEncoding")) {
            Var out;
            if (MetaDevice.isMeta(labels)) {
                out = Var.constant(MetaDevice.tensor(DType.FLOAT32, Shape.of(dims)));
            } else {
                long[] l = labels.toLongArray();
                float[] v = new float[l.length * numClasses];
                Arrays.fill(v, (float) off);
                for (int i = 0; i < l.length; i++) {
                    // TF's one_hot gives an all-off row for labels outside [0, numClasses).
                    if (l[i] >= 0 && l[i] < numClasses) v[i * numClasses + (int) l[i]] = (float) on;
                }
                Tensor host = Tensor.of(v, dims);
                if (host.device() == labels.device()) {
                    out = Var.constant(host);
                } else {
                    out = Var.constant(host.toDevice(labels.device()));
                    host.close();
                }
            }
            return collect(a, sc.name(), out);
        }
    }

    /** slim.softmax: softmax over the last axis, in a variable scope (default {@code softmax}). */
    public static Var softmax(Var logits, String scope) {
        Args a = ArgScope.resolve(SOFTMAX);
        try (VariableScope sc = VariableScope.open(scopeOf(a, scope), "softmax")) {
            // as slim.softmax: flattened to 2-D, softmax, reshaped back (so the output is <scope>/Reshape_1)
            Shape s = logits.value().shape();
            if (s.rank() < 1) throw new IllegalArgumentException("softmax: logits must have at least one dimension");
            Var flat = Ops.reshape(logits, -1, s.dim(s.rank() - 1));
            return Ops.reshape(Ops.softmax(flat), s.dims());
        }
    }

    // ---- repeat and stack ---------------------------------------------------------------------------

    /** A layer applied by {@link #repeat}: called with the scope name to use. */
    @FunctionalInterface
    public interface LayerFn {
        Var apply(Var inputs, String scope);

        /** The name repeat uses for inner scopes when it has no scope (Python's {@code layer.__name__}); null = "repeat". */
        default String name() {
            return null;
        }

        /** {@code fn} with a name, e.g. {@code named("block35", (x, s) -> block35(x, 0.17, s))}. */
        static LayerFn named(String name, LayerFn fn) {
            return new LayerFn() {
                @Override
                public Var apply(Var inputs, String scope) {
                    return fn.apply(inputs, scope);
                }

                @Override
                public String name() {
                    return name;
                }
            };
        }
    }

    /** A layer applied by {@link #stack}: called with one of the stack's arguments and the scope name. */
    @FunctionalInterface
    public interface StackFn<T> {
        Var apply(Var inputs, T arg, String scope);

        /** As {@link LayerFn#name()}; null = "stack". */
        default String name() {
            return null;
        }

        static <T> StackFn<T> named(String name, StackFn<T> fn) {
            return new StackFn<T>() {
                @Override
                public Var apply(Var inputs, T arg, String scope) {
                    return fn.apply(inputs, arg, scope);
                }

                @Override
                public String name() {
                    return name;
                }
            };
        }
    }

    /**
     * slim.repeat: applies {@code layer} {@code repetitions} times inside variable scope
     * {@code scope} (default {@code Repeat}, uniquified), the i-th call (1-based) with scope
     * {@code <scope>_<i>}, or {@code <layer name>_<i>} when scope is null.
     */
    public static Var repeat(Var inputs, int repetitions, LayerFn layer, String scope) {
        if (repetitions < 0) throw new IllegalArgumentException("repeat: repetitions must be >= 0, got " + repetitions);
        try (VariableScope sc = VariableScope.open(scope, "Repeat")) {
            String base = scope != null ? scope : layer.name() != null ? layer.name() : "repeat";
            Var out = inputs;
            for (int i = 0; i < repetitions; i++) out = layer.apply(out, base + "_" + (i + 1));
            return out;
        }
    }

    public static Var repeat(Var inputs, int repetitions, LayerFn layer) {
        return repeat(inputs, repetitions, layer, null);
    }

    /**
     * slim.stack: applies {@code layer} once per element of {@code stackArgs}, chaining outputs,
     * inside scope {@code scope} (default {@code Stack}); inner scopes {@code <scope>_<i>} as repeat.
     */
    public static <T> Var stack(Var inputs, StackFn<T> layer, List<T> stackArgs, String scope) {
        try (VariableScope sc = VariableScope.open(scope, "Stack")) {
            String base = scope != null ? scope : layer.name() != null ? layer.name() : "stack";
            Var out = inputs;
            for (int i = 0; i < stackArgs.size(); i++) out = layer.apply(out, stackArgs.get(i), base + "_" + (i + 1));
            return out;
        }
    }

    public static <T> Var stack(Var inputs, StackFn<T> layer, List<T> stackArgs) {
        return stack(inputs, layer, stackArgs, null);
    }

    // ---- shared helpers -------------------------------------------------------------------------------

    /**
     * slim.model_variable in the current scope: {@code <scope>/<name>}, a model variable, trainable
     * as asked, regularised by {@code regularizer} (null for none).
     */
    public static Variable modelVariable(String name, Shape shape, Initializer initializer, Regularizer regularizer, boolean trainable) {
        return Graph.current().variable(name, shape, initializer, regularizer, trainable, true);
    }

    /** Records {@code out} in the outputs collection of {@code a} (if any) under {@code alias}. */
    public static Var collect(Args a, String alias, Var out) {
        EndPoints c = a.get(OUTPUTS_COLLECTIONS, null);
        if (c != null) c.put(alias, out);
        return out;
    }

    /**
     * A layer's normalizer (or biases), then its activation. A training batch_norm followed by relu
     * or relu6 runs as one fused op where the backend has it: the same variables, statistics and
     * moving-average updates, two passes fewer over the activations each way. Not when the batch
     * norm has an activation or outputs_collections of its own (its output would differ).
     */
    private static Var normalizeAndActivate(Var out, int channels, Args a, boolean trainable, String alias) {
        Activation act = a.get(ACTIVATION_FN, Activation.RELU);
        Args bn = act == Activation.RELU || act == Activation.RELU6 ? plainBatchNorm(a) : null;
        if (bn != null && bn.get(IS_TRAINING, true) && Ops.fusesBatchNorm(out)) return collect(a, alias, batchNorm(out, null, bn, act));
        return finish(a, alias, biasOrNormalizer(out, channels, a, trainable));
    }

    private static Var biasOrNormalizer(Var out, int channels, Args a, boolean trainable) {
        Normalizer norm = a.get(NORMALIZER_FN, null);
        if (norm != null) return norm.apply(out, a.get(NORMALIZER_PARAMS, Args.empty()));
        Initializer biasesInit = a.get(BIASES_INITIALIZER, Initializers.zeros());
        if (biasesInit == null) return out;
        Variable b = modelVariable("biases", Shape.of(channels), biasesInit, a.get(BIASES_REGULARIZER, null), trainable);
        return Ops.biasAdd(out, b.var());
    }

    /** The call's scope, else one set by an arg scope, else null (the default name). */
    private static String scopeOf(Args a, String scope) {
        return scope != null ? scope : a.get(SCOPE, null);
    }

    private static Var finish(Args a, String alias, Var out) {
        Activation act = a.get(ACTIVATION_FN, Activation.RELU);
        if (act != null) out = act.apply(out);
        return collect(a, alias, out);
    }

    private static int[] pair(String op, String what, int[] v) {
        if (v == null || v.length != 2) throw new IllegalArgumentException(op + ": " + what + " must have 2 elements {h, w}, got " + Arrays.toString(v));
        if (v[0] < 1 || v[1] < 1) throw new IllegalArgumentException(op + ": " + what + " must be >= 1, got " + Arrays.toString(v));
        return v;
    }

    private static void checkStrideRate(String op, int[] stride, int[] rate) {
        if ((stride[0] > 1 || stride[1] > 1) && (rate[0] > 1 || rate[1] > 1)) {
            throw new IllegalArgumentException(op + ": only one of rate or stride can be > 1 (stride " + Arrays.toString(stride) + ", rate " + Arrays.toString(rate) + ")");
        }
    }

    private static void checkNhwc(String op, Args a) {
        String f = a.get(DATA_FORMAT, null);
        if (f != null && !f.equals("NHWC")) throw new IllegalArgumentException(op + ": data_format " + f + " is not supported (only NHWC)");
    }

    private static void requireRank(String op, Var x, int rank) {
        Shape s = x.value().shape();
        if (s.rank() != rank) throw new IllegalArgumentException(op + ": inputs must be rank " + rank + " (NHWC), got shape " + s);
    }
}
