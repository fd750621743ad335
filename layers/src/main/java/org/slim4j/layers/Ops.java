package org.slim4j.layers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.BiasAddOps;
import org.slim4j.autograd.ops.ConvOps;
import org.slim4j.autograd.ops.DropoutOps;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.LrnOps;
import org.slim4j.autograd.ops.MatMulOps;
import org.slim4j.autograd.ops.PoolOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.autograd.ops.ShapeOps;
import org.slim4j.autograd.ops.SoftmaxOps;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.DropoutKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.FusedBatchNormKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.FusedDepthwiseConvKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * The TensorFlow ops networks use between layers ({@code tf.nn.relu}, {@code tf.concat},
 * {@code tf.squeeze}, {@code tf.reduce_mean}, {@code tf.pad}, ...), differentiable, shape-checked
 * with messages that name the op and the shapes, and usable in shape-only builds: when an input
 * lives on the {@link MetaDevice} the op only computes its output shape. Convolutions and matrix
 * products add their multiply-adds to the open {@link Graph}'s counter. Network code should use
 * these rather than the autograd ops directly.
 */
public final class Ops {
    private Ops() {
    }

    // ---- convolution, pooling, products -------------------------------------------------------

    /** tf.nn.conv2d: input NHWC, filter [kh, kw, in, out]. */
    public static Var conv2d(Var input, Var filter, Conv2dSpec spec) {
        Shape in = input.value().shape();
        Shape f = filter.value().shape();
        requireRank("conv2d", "input", in, 4);
        requireRank("conv2d", "filter", f, 4);
        sameDtype("conv2d", input, filter);
        if (f.dim(2) != in.dim(3)) {
            throw new IllegalArgumentException("conv2d: filter in-channels " + f.dim(2) + " != input channels " + in.dim(3)
                + " (input " + in + ", filter " + f + ")");
        }
        Shape out = windowed("conv2d", in, f.dim(0), f.dim(1), spec.strideH(), spec.strideW(), spec.dilationH(), spec.dilationW(),
            spec.padding(), f.dim(3), " (input " + in + ", filter " + f + ")");
        count((long) out.numel() * f.dim(0) * f.dim(1) * f.dim(2));
        Var y = isMeta(input, filter) ? meta(input, out) : ConvOps.conv2d(input, filter, spec);
        return TracedOp.record("Conv2D", y, convAttrs(spec), input, filter);
    }

    /**
     * {@code activation(bias_add(conv2d(input, filter), bias))} for a null, relu or relu6
     * activation: one fused kernel ({@link ConvOps#conv2dBiasActivation}) on the CPU, the three ops
     * one by one in shape-only builds, while a tracer records TF's ops, and on other devices (where
     * --kernels may send convolutions to a vendor library that the fused family does not use).
     */
    public static Var conv2dBiasActivation(Var input, Var filter, Var bias, Conv2dSpec spec, Activation activation) {
        FusedConvKernels.Activation act = fusedActivation(activation);
        if (!fusesConv(input, filter, bias)) {
            Var out = biasAdd(conv2d(input, filter, spec), bias);
            return activation == null ? out : activation.apply(out);
        }
        checkConvBias(input, filter, bias.value(), spec);
        return ConvOps.conv2dBiasActivation(input, filter, bias, spec, act);
    }

    /**
     * Whether a fused convolution computes here: no shape-only build, no tracer recording TF's ops,
     * and CPU tensors (on other devices --kernels may send convolutions to a vendor library that
     * the fused family does not use).
     */
    static boolean fusesConv(Var... xs) {
        Graph g = Graph.currentOrNull();
        if (isMeta(xs) || (g != null && g.tracer() != null)) return false;
        for (Var x : xs) if (x != null && !(x.value().device() instanceof CpuDevice)) return false;
        return true;
    }

    /**
     * act(conv2d(input, filter) * scale + shift) with per-channel constant scale and shift and no
     * gradient (an inference batch norm folded into its convolution); the caller checks
     * {@link #fusesConv}.
     */
    static Var conv2dScaleShift(Var input, Var filter, Tensor scale, Tensor shift, Conv2dSpec spec, Activation activation) {
        checkConvBias(input, filter, shift, spec);
        Tensor y = Backends.kernels(input.value(), FusedConvKernels.class)
            .conv2dScaleShift(input.value(), filter.value(), scale, shift, spec, fusedActivation(activation));
        return Var.constant(y);
    }

    /**
     * Whether a training batch norm and its activation fuse here: no shape-only build, no tracer
     * recording TF's ops, and a backend with {@link FusedBatchNormKernels} (the CPU's).
     */
    static boolean fusesBatchNorm(Var x) {
        Graph g = Graph.currentOrNull();
        if (isMeta(x) || (g != null && g.tracer() != null)) return false;
        return Backends.forDevice(x.value().device()).supports(FusedBatchNormKernels.class);
    }

    static FusedConvKernels.Activation fusedActivation(Activation activation) {
        if (activation == null) return FusedConvKernels.Activation.NONE;
        if (activation == Activation.RELU) return FusedConvKernels.Activation.RELU;
        if (activation == Activation.RELU6) return FusedConvKernels.Activation.RELU6;
        throw new IllegalArgumentException("conv2d: only a null, relu or relu6 activation fuses into the convolution");
    }

    /** conv2d's checks plus a per-output-channel vector; counts the multiply-adds. */
    private static void checkConvBias(Var input, Var filter, Tensor perChannel, Conv2dSpec spec) {
        Shape in = input.value().shape();
        Shape f = filter.value().shape();
        requireRank("conv2d", "input", in, 4);
        requireRank("conv2d", "filter", f, 4);
        sameDtype("conv2d", input, filter);
        if (perChannel.dtype() != input.value().dtype()) {
            throw new IllegalArgumentException("bias_add: mixed dtypes " + input.value().dtype() + " and " + perChannel.dtype());
        }
        if (f.dim(2) != in.dim(3)) {
            throw new IllegalArgumentException("conv2d: filter in-channels " + f.dim(2) + " != input channels " + in.dim(3)
                + " (input " + in + ", filter " + f + ")");
        }
        Shape b = perChannel.shape();
        if (b.rank() != 1 || b.dim(0) != f.dim(3)) {
            throw new IllegalArgumentException("bias_add: bias " + b + " does not match the conv2d output channels " + f.dim(3)
                + " (filter " + f + ")");
        }
        Shape out = windowed("conv2d", in, f.dim(0), f.dim(1), spec.strideH(), spec.strideW(), spec.dilationH(), spec.dilationW(),
            spec.padding(), f.dim(3), " (input " + in + ", filter " + f + ")");
        count((long) out.numel() * f.dim(0) * f.dim(1) * f.dim(2));
    }

    /** tf.nn.depthwise_conv2d: filter [kh, kw, C, M], output C·M channels. */
    public static Var depthwiseConv2d(Var input, Var filter, Conv2dSpec spec) {
        Shape out = checkDepthwise(input, filter, spec);
        Var y = isMeta(input, filter) ? meta(input, out) : ConvOps.depthwiseConv2d(input, filter, spec);
        return TracedOp.record("DepthwiseConv2dNative", y, convAttrs(spec), input, filter);
    }

    /** Checks a depthwise convolution's operands, counts its multiply-adds, and returns its output shape. */
    private static Shape checkDepthwise(Var input, Var filter, Conv2dSpec spec) {
        Shape in = input.value().shape();
        Shape f = filter.value().shape();
        requireRank("depthwise_conv2d", "input", in, 4);
        requireRank("depthwise_conv2d", "filter", f, 4);
        sameDtype("depthwise_conv2d", input, filter);
        if (f.dim(2) != in.dim(3)) {
            throw new IllegalArgumentException("depthwise_conv2d: filter in-channels " + f.dim(2) + " != input channels " + in.dim(3)
                + " (input " + in + ", filter " + f + ")");
        }
        Shape out = windowed("depthwise_conv2d", in, f.dim(0), f.dim(1), spec.strideH(), spec.strideW(), spec.dilationH(), spec.dilationW(),
            spec.padding(), f.dim(2) * f.dim(3), " (input " + in + ", filter " + f + ")");
        count((long) out.numel() * f.dim(0) * f.dim(1));
        return out;
    }

    /**
     * act(depthwise_conv2d(input, filter) * scale + shift) with per-channel constant scale and
     * shift and no gradient (an inference batch norm folded into its depthwise convolution); the
     * caller checks {@link #fusesConv}.
     */
    static Var depthwiseConv2dScaleShift(Var input, Var filter, Tensor scale, Tensor shift, Conv2dSpec spec, Activation activation) {
        checkDepthwise(input, filter, spec);
        Tensor y = Backends.kernels(input.value(), FusedDepthwiseConvKernels.class)
            .depthwiseConv2dScaleShift(input.value(), filter.value(), scale, shift, spec, fusedActivation(activation));
        return Var.constant(y);
    }

    /** tf.matmul of [M, K] and [K, N]. */
    public static Var matmul(Var a, Var b) {
        Shape sa = a.value().shape();
        Shape sb = b.value().shape();
        requireRank("matmul", "a", sa, 2);
        requireRank("matmul", "b", sb, 2);
        sameDtype("matmul", a, b);
        if (sa.dim(1) != sb.dim(0)) {
            throw new IllegalArgumentException("matmul: inner dimensions differ, a " + sa + " and b " + sb);
        }
        count((long) sa.dim(0) * sa.dim(1) * sb.dim(1));
        Var y = isMeta(a, b) ? meta(a, Shape.of(sa.dim(0), sb.dim(1))) : MatMulOps.matmul(a, b);
        return TracedOp.record("MatMul", y, Map.of("transpose_a", false, "transpose_b", false), a, b);
    }

    /** tf.nn.bias_add over the last axis. */
    public static Var biasAdd(Var x, Var bias) {
        Shape s = x.value().shape();
        Shape b = bias.value().shape();
        requireRank("bias_add", "bias", b, 1);
        sameDtype("bias_add", x, bias);
        if (s.rank() < 1 || s.dim(s.rank() - 1) != b.dim(0)) {
            throw new IllegalArgumentException("bias_add: bias size " + b.dim(0) + " != last dimension of value " + s);
        }
        Var y = isMeta(x, bias) ? meta(x, s) : BiasAddOps.biasAdd(x, bias);
        return TracedOp.record("BiasAdd", y, Map.of("data_format", "NHWC"), x, bias);
    }

    public static Var maxPool(Var x, PoolSpec spec) {
        Shape out = pooled("max_pool", x, spec);
        Var y = isMeta(x) ? meta(x, out) : PoolOps.maxPool(x, spec);
        return TracedOp.record("MaxPool", y, poolAttrs(spec), x);
    }

    public static Var avgPool(Var x, PoolSpec spec) {
        Shape out = pooled("avg_pool", x, spec);
        Var y = isMeta(x) ? meta(x, out) : PoolOps.avgPool(x, spec);
        return TracedOp.record("AvgPool", y, poolAttrs(spec), x);
    }

    /** tf.nn.lrn (depth-radius window over channels). */
    public static Var lrn(Var x, LrnSpec spec) {
        requireRank("lrn", "input", x.value().shape(), 4);
        Var y = isMeta(x) ? meta(x, x.value().shape()) : LrnOps.lrn(x, spec);
        return TracedOp.record("LRN", y, Map.of("depth_radius", spec.depthRadius(), "bias", spec.bias(), "alpha", spec.alpha(), "beta", spec.beta()), x);
    }

    // ---- activations and arithmetic --------------------------------------------------------------

    public static Var relu(Var x) {
        return unary(UnaryOp.RELU, x);
    }

    public static Var relu6(Var x) {
        return unary(UnaryOp.RELU6, x);
    }

    public static Var sigmoid(Var x) {
        return unary(UnaryOp.SIGMOID, x);
    }

    public static Var tanh(Var x) {
        return unary(UnaryOp.TANH, x);
    }

    public static Var unary(UnaryOp op, Var x) {
        Var y = isMeta(x) ? meta(x, x.value().shape()) : ElementwiseOps.unary(op, x);
        return TracedOp.record(TF_UNARY.get(op), y, Map.of(), x);
    }

    /** TF's op for each unary op. */
    private static final Map<UnaryOp, String> TF_UNARY = Map.ofEntries(Map.entry(UnaryOp.NEG, "Neg"), Map.entry(UnaryOp.ABS, "Abs"),
        Map.entry(UnaryOp.SQUARE, "Square"), Map.entry(UnaryOp.SQRT, "Sqrt"), Map.entry(UnaryOp.RSQRT, "Rsqrt"), Map.entry(UnaryOp.EXP, "Exp"),
        Map.entry(UnaryOp.LOG, "Log"), Map.entry(UnaryOp.RECIPROCAL, "Reciprocal"), Map.entry(UnaryOp.RELU, "Relu"), Map.entry(UnaryOp.RELU6, "Relu6"),
        Map.entry(UnaryOp.SIGMOID, "Sigmoid"), Map.entry(UnaryOp.TANH, "Tanh"));


    /** tf.identity. */
    public static Var identity(Var x) {
        return x;
    }

    /** a + b with broadcasting. */
    public static Var add(Var a, Var b) {
        Shape s = broadcast("add", a, b);
        Var y = isMeta(a, b) ? meta(a, s) : ElementwiseOps.add(a, b);
        return TracedOp.record("AddV2", y, Map.of(), a, b);
    }

    /**
     * relu(a + b) or relu6(a + b): a residual connection's sum and activation as one op (one pass
     * over memory instead of two), the same values as {@code unary(activation, add(a, b))}. A
     * shape-only build, or one whose tracer records TF's ops, takes the two ops (AddV2, then Relu
     * or Relu6).
     */
    public static Var addActivation(Var a, Var b, UnaryOp activation) {
        if (activation != UnaryOp.RELU && activation != UnaryOp.RELU6) {
            throw new IllegalArgumentException("add_activation: activation must be relu or relu6, got " + activation);
        }
        Graph g = Graph.currentOrNull();
        if (isMeta(a, b) || (g != null && g.tracer() != null)) return unary(activation, add(a, b));
        broadcast("add", a, b);
        return ElementwiseOps.addActivation(a, b, activation);
    }

    public static Var sub(Var a, Var b) {
        Shape s = broadcast("sub", a, b);
        Var y = isMeta(a, b) ? meta(a, s) : ElementwiseOps.sub(a, b);
        return TracedOp.record("Sub", y, Map.of(), a, b);
    }

    public static Var mul(Var a, Var b) {
        Shape s = broadcast("mul", a, b);
        Var y = isMeta(a, b) ? meta(a, s) : ElementwiseOps.mul(a, b);
        return TracedOp.record("Mul", y, Map.of(), a, b);
    }

    public static Var div(Var a, Var b) {
        Shape s = broadcast("div", a, b);
        Var y = isMeta(a, b) ? meta(a, s) : ElementwiseOps.div(a, b);
        return TracedOp.record("RealDiv", y, Map.of(), a, b);
    }

    /** x · factor. */
    public static Var scale(Var x, double factor) {
        Var y = isMeta(x) ? meta(x, x.value().shape()) : ElementwiseOps.scale(x, factor);
        return TracedOp.record("Mul", y, Map.of(), x, TracedOp.Const.scalar("y", (float) factor));
    }

    /** x · scale + shift. */
    public static Var affine(Var x, double scale, double shift) {
        Var y = isMeta(x) ? meta(x, x.value().shape()) : ElementwiseOps.affine(x, scale, shift);
        // export writes it as Mul then AddV2
        return TracedOp.record("Affine", y, Map.of("scale", (float) scale, "shift", (float) shift), x);
    }

    // ---- shapes ------------------------------------------------------------------------------------

    /** tf.concat(values, axis). */
    public static Var concat(List<Var> values, int axis) {
        if (values.isEmpty()) throw new IllegalArgumentException("concat: no values");
        Shape first = values.get(0).value().shape();
        int ax = normalizeAxis("concat", first, axis);
        int total = 0;
        List<Shape> shapes = new ArrayList<>();
        for (Var v : values) {
            Shape s = v.value().shape();
            shapes.add(s);
            if (v.value().dtype() != values.get(0).value().dtype()) throw new IllegalArgumentException("concat: mixed dtypes in " + shapes);
            if (s.rank() != first.rank()) throw new IllegalArgumentException("concat: ranks differ, shapes " + describe(values));
            for (int d = 0; d < s.rank(); d++) {
                if (d != ax && s.dim(d) != first.dim(d)) {
                    throw new IllegalArgumentException("concat: dimension " + d + " differs along axis " + ax + ", shapes " + describe(values));
                }
            }
            total += s.dim(ax);
        }
        Shape out = first.withDim(ax, total);
        if (values.size() == 1) return values.get(0);
        Var y = isMeta(values.toArray(new Var[0])) ? meta(values.get(0), out) : ShapeOps.concat(values, ax);
        List<Object> inputs = new ArrayList<>(values);
        inputs.add(TracedOp.Const.scalar("axis", ax));
        return TracedOp.record("ConcatV2", y, Map.of("N", values.size()), inputs.toArray());
    }

    /** tf.split(x, sizes, axis). */
    public static List<Var> split(Var x, int axis, int... sizes) {
        Shape s = x.value().shape();
        int ax = normalizeAxis("split", s, axis);
        int sum = 0;
        for (int n : sizes) {
            if (n < 0) throw new IllegalArgumentException("split: negative size in " + Arrays.toString(sizes));
            sum += n;
        }
        if (sum != s.dim(ax)) throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " add up to " + sum + ", axis " + ax + " of " + s + " has " + s.dim(ax));
        List<Var> out = new ArrayList<>();
        int start = 0;
        for (int n : sizes) {
            int[] begin = new int[s.rank()];
            int[] size = s.dims();
            begin[ax] = start;
            size[ax] = n;
            out.add(slice(x, begin, size));
            start += n;
        }
        return out;
    }

    /** tf.slice(x, begin, size); a size of -1 means "to the end". */
    public static Var slice(Var x, int[] begin, int[] size) {
        Shape s = x.value().shape();
        if (begin.length != s.rank() || size.length != s.rank()) {
            throw new IllegalArgumentException("slice: begin " + Arrays.toString(begin) + " and size " + Arrays.toString(size) + " must have rank of input " + s);
        }
        int[] sz = size.clone();
        for (int d = 0; d < s.rank(); d++) {
            if (sz[d] == -1) sz[d] = s.dim(d) - begin[d];
            if (begin[d] < 0 || sz[d] < 0 || begin[d] + sz[d] > s.dim(d)) {
                throw new IllegalArgumentException("slice: begin " + Arrays.toString(begin) + ", size " + Arrays.toString(size) + " out of bounds of " + s);
            }
        }
        Var y = isMeta(x) ? meta(x, Shape.of(sz)) : ShapeOps.slice(x, begin, sz);
        return TracedOp.record("Slice", y, Map.of(), x, TracedOp.Const.ints("begin", begin.clone()), TracedOp.Const.ints("size", sz.clone()));
    }

    /** tf.pad(x, paddings, constant_values=value); paddings[d] = {before, after}. */
    public static Var pad(Var x, int[][] paddings, double value) {
        Shape s = x.value().shape();
        if (paddings.length != s.rank()) throw new IllegalArgumentException("pad: paddings for " + paddings.length + " dimensions, input " + s);
        int[] out = s.dims();
        for (int d = 0; d < out.length; d++) {
            if (paddings[d].length != 2 || paddings[d][0] < 0 || paddings[d][1] < 0) {
                throw new IllegalArgumentException("pad: paddings[" + d + "] must be two non-negative numbers, got " + Arrays.toString(paddings[d]));
            }
            out[d] += paddings[d][0] + paddings[d][1];
        }
        Var y = isMeta(x) ? meta(x, Shape.of(out)) : ShapeOps.pad(x, paddings, value);
        int[] flat = new int[paddings.length * 2];
        for (int d = 0; d < paddings.length; d++) {
            flat[2 * d] = paddings[d][0];
            flat[2 * d + 1] = paddings[d][1];
        }
        TracedOp.Const p = new TracedOp.Const("paddings", new int[] {paddings.length, 2}, flat, null);
        if (value == 0.0) return TracedOp.record("Pad", y, Map.of(), x, p);
        return TracedOp.record("PadV2", y, Map.of(), x, p, TracedOp.Const.scalar("constant_values", (float) value));
    }

    public static Var pad(Var x, int[][] paddings) {
        return pad(x, paddings, 0.0);
    }

    /** tf.reshape (one dimension may be -1). */
    public static Var reshape(Var x, int... dims) {
        return TracedOp.record("Reshape", reshapeUntraced(x, dims), Map.of(), x, TracedOp.Const.ints("shape", dims.clone()));
    }

    private static Var reshapeUntraced(Var x, int... dims) {
        Shape s;
        try {
            s = x.value().shape().reshape(dims);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reshape: cannot reshape " + x.value().shape() + " to " + Arrays.toString(dims), e);
        }
        if (isMeta(x)) return meta(x, s);
        return ShapeOps.reshape(x, s.dims());
    }

    /** [N, ...] to [N, prod(...)] (slim.flatten's computation). */
    public static Var flatten(Var x) {
        Shape s = x.value().shape();
        if (s.rank() < 2) throw new IllegalArgumentException("flatten: inputs must have a least 2 dimensions, got " + s);
        return reshape(x, s.dim(0), s.numel() / s.dim(0));
    }

    /** tf.squeeze(x, axes, name=name): as {@link #squeeze(Var, int...)}, the op named {@code name} in its scope (e.g. VGG's fc8/squeezed). */
    public static Var squeezeNamed(Var x, String name, int... axes) {
        return named(name, () -> squeeze(x, axes));
    }

    /** tf.nn.softmax(logits, name=name): as {@link #softmax(Var)}, the op named {@code name} in its scope (e.g. IRv2's Logits/Predictions). */
    public static Var softmaxNamed(Var logits, String name) {
        return named(name, () -> softmax(logits));
    }

    /** Runs a one-op build with the traced op named {@code name} (graph export's node name). */
    private static Var named(String name, java.util.function.Supplier<Var> op) {
        Graph g = Graph.currentOrNull();
        if (g == null) return op.get();
        g.nameNextTracedOp(name);
        try {
            return op.get();
        } finally {
            g.nameNextTracedOp(null);
        }
    }

    /** tf.squeeze(x, axes): removes the listed size-1 dimensions. */
    public static Var squeeze(Var x, int... axes) {
        Shape s = x.value().shape();
        boolean[] drop = new boolean[s.rank()];
        for (int a : axes) {
            int ax = normalizeAxis("squeeze", s, a);
            if (s.dim(ax) != 1) {
                throw new IllegalArgumentException("squeeze: can not squeeze dim[" + ax + "], expected a dimension of 1, got " + s.dim(ax) + " (shape " + s + ")");
            }
            drop[ax] = true;
        }
        int[] out = new int[s.rank()];
        int n = 0;
        int[] squeezed = new int[axes.length];
        for (int d = 0, j = 0; d < s.rank(); d++) {
            if (!drop[d]) out[n++] = s.dim(d);
            else squeezed[j++] = d;
        }
        return TracedOp.record("Squeeze", reshapeUntraced(x, Arrays.copyOf(out, n)), Map.of("squeeze_dims", squeezed), x);
    }

    /** tf.expand_dims(x, axis). */
    public static Var expandDims(Var x, int axis) {
        Shape s = x.value().shape();
        int ax = axis < 0 ? axis + s.rank() + 1 : axis;
        if (ax < 0 || ax > s.rank()) throw new IllegalArgumentException("expand_dims: axis " + axis + " out of range for " + s);
        int[] out = new int[s.rank() + 1];
        for (int d = 0, j = 0; d < out.length; d++) out[d] = d == ax ? 1 : s.dim(j++);
        return reshape(x, out);
    }

    /** tf.reduce_mean(x, axes, keep_dims). */
    public static Var reduceMean(Var x, int[] axes, boolean keepDims) {
        Shape out = reduced("reduce_mean", x.value().shape(), axes, keepDims);
        Var y = isMeta(x) ? meta(x, out) : ReduceOps.mean(x, axes, keepDims);
        return TracedOp.record("Mean", y, Map.of("keep_dims", keepDims), x, TracedOp.Const.ints("reduction_indices", reductionAxes(x, axes)));
    }

    /** tf.reduce_sum(x, axes, keep_dims). */
    public static Var reduceSum(Var x, int[] axes, boolean keepDims) {
        Shape out = reduced("reduce_sum", x.value().shape(), axes, keepDims);
        Var y = isMeta(x) ? meta(x, out) : ReduceOps.sum(x, axes, keepDims);
        return TracedOp.record("Sum", y, Map.of("keep_dims", keepDims), x, TracedOp.Const.ints("reduction_indices", reductionAxes(x, axes)));
    }

    /** tf.nn.softmax over the last axis. */
    public static Var softmax(Var logits) {
        if (logits.value().rank() < 1) throw new IllegalArgumentException("softmax: logits must have at least one dimension");
        Var y = isMeta(logits) ? meta(logits, logits.value().shape()) : SoftmaxOps.softmax(logits);
        return TracedOp.record("Softmax", y, Map.of(), logits);
    }

    /** Inverted dropout with an explicit seed (the layer {@link Layers#dropout} picks the seed). */
    public static Var dropout(Var x, double keepProb, long seed) {
        if (!(keepProb > 0 && keepProb <= 1)) throw new IllegalArgumentException("dropout: keep_prob must be in (0, 1], got " + keepProb);
        if (isMeta(x)) return meta(x, x.value().shape());
        return DropoutOps.dropout(x, keepProb, seed);
    }

    /**
     * Dropout whose random mask has {@code noiseShape} (same rank as x, each dimension 1 or x's) and
     * is broadcast over x: TF's {@code noise_shape}, e.g. {N, 1, 1, 1} keeps or drops whole examples
     * (NASNet's drop path).
     */
    public static Var dropout(Var x, double keepProb, long seed, int[] noiseShape) {
        Shape s = x.value().shape();
        if (noiseShape.length != s.rank()) {
            throw new IllegalArgumentException("dropout: noise_shape " + Arrays.toString(noiseShape) + " must have the rank of the input " + s);
        }
        for (int d = 0; d < s.rank(); d++) {
            if (noiseShape[d] != 1 && noiseShape[d] != s.dim(d)) {
                throw new IllegalArgumentException("dropout: noise_shape " + Arrays.toString(noiseShape) + " does not broadcast to the input " + s);
            }
        }
        if (!(keepProb > 0 && keepProb <= 1)) throw new IllegalArgumentException("dropout: keep_prob must be in (0, 1], got " + keepProb);
        if (isMeta(x)) return meta(x, s);
        if (keepProb == 1) return x;
        Tensor mask = Backends.kernels(x.value(), DropoutKernels.class).mask(Shape.of(noiseShape), x.value().dtype(), keepProb, seed);
        ElementwiseKernels k = Backends.kernels(x.value(), ElementwiseKernels.class);
        Tensor y = k.binary(BinaryOp.MUL, x.value(), mask);
        // the mask is released with the backward pass (or at once when no gradient is recorded)
        return Var.result(y, dy -> new Tensor[] {k.binary(BinaryOp.MUL, dy, mask)}, List.of(mask), x);
    }

    /** {@code host} moved to {@code like}'s device (closing the host copy), or {@code host} itself on the CPU. */
    private static Tensor onDeviceOf(Tensor like, Tensor host) {
        if (host.device() == like.device()) return host;
        Tensor t = host.toDevice(like.device());
        host.close();
        return t;
    }

    /** tf.clip_by_value(x, lo, hi); the gradient passes where lo < x < hi. */
    public static Var clipByValue(Var x, double lo, double hi) {
        if (!(lo <= hi)) throw new IllegalArgumentException("clip_by_value: lo " + lo + " > hi " + hi);
        // export writes it as TF's clip_by_value does: Maximum(Minimum(x, hi), lo)
        if (isMeta(x)) return TracedOp.record("ClipByValue", meta(x, x.value().shape()), Map.of("lo", (float) lo, "hi", (float) hi), x);
        Tensor v = x.value();
        ElementwiseKernels k = Backends.kernels(v, ElementwiseKernels.class);
        Tensor y;
        try (Tensor loT = onDeviceOf(v, Tensor.fill(v.dtype(), Shape.of(1), lo)); Tensor hiT = onDeviceOf(v, Tensor.fill(v.dtype(), Shape.of(1), hi))) {
            Tensor m = k.binary(BinaryOp.MAXIMUM, v, loT);
            y = k.binary(BinaryOp.MINIMUM, m, hiT);
            m.close();
        }
        return TracedOp.record("ClipByValue", Var.result(y, dy -> {
            // relu's gradient passes where its input is > 0: once for x - lo, once for hi - x
            Tensor above = k.affine(v, 1, -lo);
            Tensor below = k.affine(v, -1, hi);
            Tensor g1 = k.unaryGrad(UnaryOp.RELU, above, above, dy);
            Tensor g = k.unaryGrad(UnaryOp.RELU, below, below, g1);
            above.close();
            below.close();
            g1.close();
            return new Tensor[] {g};
        }, x), Map.of("lo", (float) lo, "hi", (float) hi), x);
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static Map<String, Object> convAttrs(Conv2dSpec spec) {
        return Map.of("strides", new int[] {1, spec.strideH(), spec.strideW(), 1}, "dilations", new int[] {1, spec.dilationH(), spec.dilationW(), 1},
            "padding", spec.padding().name(), "data_format", "NHWC");
    }

    private static Map<String, Object> poolAttrs(PoolSpec spec) {
        return Map.of("ksize", new int[] {1, spec.kernelH(), spec.kernelW(), 1}, "strides", new int[] {1, spec.strideH(), spec.strideW(), 1},
            "padding", spec.padding().name(), "data_format", "NHWC");
    }

    /** The reduced axes, non-negative; all axes when {@code axes} is empty. */
    private static int[] reductionAxes(Var x, int[] axes) {
        int rank = x.value().rank();
        if (axes.length == 0) {
            int[] all = new int[rank];
            for (int d = 0; d < rank; d++) all[d] = d;
            return all;
        }
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) out[i] = axes[i] < 0 ? axes[i] + rank : axes[i];
        return out;
    }

    /** Whether any of these lives on the {@link MetaDevice}. */
    public static boolean isMeta(Var... xs) {
        for (Var x : xs) if (x != null && MetaDevice.isMeta(x)) return true;
        return false;
    }

    private static Var meta(Var like, Shape shape) {
        return Var.constant(MetaDevice.tensor(like.value().dtype(), shape));
    }

    private static void count(long macs) {
        Graph g = Graph.currentOrNull();
        if (g != null) g.addMultiplyAdds(macs);
    }

    static void requireRank(String op, String what, Shape s, int rank) {
        if (s.rank() != rank) throw new IllegalArgumentException(op + ": " + what + " must be rank " + rank + ", got shape " + s);
    }

    private static void sameDtype(String op, Var a, Var b) {
        DType x = a.value().dtype();
        DType y = b.value().dtype();
        if (x != y) throw new IllegalArgumentException(op + ": mixed dtypes " + x + " and " + y);
    }

    /** NHWC output shape of a sliding-window op, with TF's SAME/VALID sizes. */
    static Shape windowed(String op, Shape in, int kh, int kw, int sh, int sw, int dh, int dw, Padding padding, int channels, String context) {
        try {
            Padding.Window h = padding.window(in.dim(1), kh, sh, dh);
            Padding.Window w = padding.window(in.dim(2), kw, sw, dw);
            return Shape.of(in.dim(0), h.outSize(), w.outSize(), channels);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage() + context, e);
        }
    }

    private static Shape pooled(String op, Var x, PoolSpec spec) {
        Shape in = x.value().shape();
        requireRank(op, "input", in, 4);
        return windowed(op, in, spec.kernelH(), spec.kernelW(), spec.strideH(), spec.strideW(), 1, 1, spec.padding(), in.dim(3),
            " (input " + in + ", window " + spec.kernelH() + "x" + spec.kernelW() + ")");
    }

    private static Shape broadcast(String op, Var a, Var b) {
        sameDtype(op, a, b);
        Shape x = a.value().shape();
        Shape y = b.value().shape();
        int r = Math.max(x.rank(), y.rank());
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int dx = i < r - x.rank() ? 1 : x.dim(i - (r - x.rank()));
            int dy = i < r - y.rank() ? 1 : y.dim(i - (r - y.rank()));
            if (dx != dy && dx != 1 && dy != 1) throw new IllegalArgumentException(op + ": shapes " + x + " and " + y + " are not broadcastable");
            out[i] = dx == 1 ? dy : dx;
        }
        return Shape.of(out);
    }

    private static Shape reduced(String op, Shape s, int[] axes, boolean keepDims) {
        boolean[] r = new boolean[s.rank()];
        if (axes.length == 0) Arrays.fill(r, true);
        for (int a : axes) r[normalizeAxis(op, s, a)] = true;
        int[] out = new int[s.rank()];
        int n = 0;
        for (int d = 0; d < s.rank(); d++) {
            if (!r[d]) out[n++] = s.dim(d);
            else if (keepDims) out[n++] = 1;
        }
        return Shape.of(Arrays.copyOf(out, n));
    }

    private static int normalizeAxis(String op, Shape s, int axis) {
        int ax = axis < 0 ? axis + s.rank() : axis;
        if (ax < 0 || ax >= s.rank()) throw new IllegalArgumentException(op + ": axis " + axis + " out of range for shape " + s);
        return ax;
    }

    private static String describe(List<Var> values) {
        List<Shape> shapes = new ArrayList<>();
        for (Var v : values) shapes.add(v.value().shape());
        return shapes.toString();
    }
}
