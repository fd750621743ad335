package org.slim4j.layers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
import org.slim4j.kernels.LrnSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.Backends;
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
        if (isMeta(input, filter)) return meta(input, out);
        return ConvOps.conv2d(input, filter, spec);
    }

    /** tf.nn.depthwise_conv2d: filter [kh, kw, C, M], output C·M channels. */
    public static Var depthwiseConv2d(Var input, Var filter, Conv2dSpec spec) {
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
        if (isMeta(input, filter)) return meta(input, out);
        return ConvOps.depthwiseConv2d(input, filter, spec);
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
        if (isMeta(a, b)) return meta(a, Shape.of(sa.dim(0), sb.dim(1)));
        return MatMulOps.matmul(a, b);
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
        if (isMeta(x, bias)) return meta(x, s);
        return BiasAddOps.biasAdd(x, bias);
    }

    public static Var maxPool(Var x, PoolSpec spec) {
        Shape out = pooled("max_pool", x, spec);
        if (isMeta(x)) return meta(x, out);
        return PoolOps.maxPool(x, spec);
    }

    public static Var avgPool(Var x, PoolSpec spec) {
        Shape out = pooled("avg_pool", x, spec);
        if (isMeta(x)) return meta(x, out);
        return PoolOps.avgPool(x, spec);
    }

    /** tf.nn.lrn (depth-radius window over channels). */
    public static Var lrn(Var x, LrnSpec spec) {
        requireRank("lrn", "input", x.value().shape(), 4);
        if (isMeta(x)) return meta(x, x.value().shape());
        return LrnOps.lrn(x, spec);
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
        if (isMeta(x)) return meta(x, x.value().shape());
        return ElementwiseOps.unary(op, x);
    }

    /** tf.identity. */
    public static Var identity(Var x) {
        return x;
    }

    /** a + b with broadcasting. */
    public static Var add(Var a, Var b) {
        Shape s = broadcast("add", a, b);
        if (isMeta(a, b)) return meta(a, s);
        return ElementwiseOps.add(a, b);
    }

    public static Var sub(Var a, Var b) {
        Shape s = broadcast("sub", a, b);
        if (isMeta(a, b)) return meta(a, s);
        return ElementwiseOps.sub(a, b);
    }

    public static Var mul(Var a, Var b) {
        Shape s = broadcast("mul", a, b);
        if (isMeta(a, b)) return meta(a, s);
        return ElementwiseOps.mul(a, b);
    }

    public static Var div(Var a, Var b) {
        Shape s = broadcast("div", a, b);
        if (isMeta(a, b)) return meta(a, s);
        return ElementwiseOps.div(a, b);
    }

    /** x · factor. */
    public static Var scale(Var x, double factor) {
        if (isMeta(x)) return meta(x, x.value().shape());
        return ElementwiseOps.scale(x, factor);
    }

    /** x · scale + shift. */
    public static Var affine(Var x, double scale, double shift) {
        if (isMeta(x)) return meta(x, x.value().shape());
        return ElementwiseOps.affine(x, scale, shift);
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
        if (isMeta(values.toArray(new Var[0]))) return meta(values.get(0), out);
        if (values.size() == 1) return values.get(0);
        return ShapeOps.concat(values, ax);
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
        if (isMeta(x)) return meta(x, Shape.of(sz));
        return ShapeOps.slice(x, begin, sz);
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
        if (isMeta(x)) return meta(x, Shape.of(out));
        return ShapeOps.pad(x, paddings, value);
    }

    public static Var pad(Var x, int[][] paddings) {
        return pad(x, paddings, 0.0);
    }

    /** tf.reshape (one dimension may be -1). */
    public static Var reshape(Var x, int... dims) {
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
        for (int d = 0; d < s.rank(); d++) if (!drop[d]) out[n++] = s.dim(d);
        return reshape(x, Arrays.copyOf(out, n));
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
        if (isMeta(x)) return meta(x, out);
        return ReduceOps.mean(x, axes, keepDims);
    }

    /** tf.reduce_sum(x, axes, keep_dims). */
    public static Var reduceSum(Var x, int[] axes, boolean keepDims) {
        Shape out = reduced("reduce_sum", x.value().shape(), axes, keepDims);
        if (isMeta(x)) return meta(x, out);
        return ReduceOps.sum(x, axes, keepDims);
    }

    /** tf.nn.softmax over the last axis. */
    public static Var softmax(Var logits) {
        if (logits.value().rank() < 1) throw new IllegalArgumentException("softmax: logits must have at least one dimension");
        if (isMeta(logits)) return meta(logits, logits.value().shape());
        return SoftmaxOps.softmax(logits);
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
        if (isMeta(x)) return meta(x, x.value().shape());
        Tensor v = x.value();
        ElementwiseKernels k = Backends.kernels(v, ElementwiseKernels.class);
        Tensor y;
        try (Tensor loT = onDeviceOf(v, Tensor.fill(v.dtype(), Shape.of(1), lo)); Tensor hiT = onDeviceOf(v, Tensor.fill(v.dtype(), Shape.of(1), hi))) {
            Tensor m = k.binary(BinaryOp.MAXIMUM, v, loT);
            y = k.binary(BinaryOp.MINIMUM, m, hiT);
            m.close();
        }
        return Var.result(y, dy -> {
            // relu's gradient passes where its input is > 0: once for x - lo, once for hi - x
            Tensor above = k.affine(v, 1, -lo);
            Tensor below = k.affine(v, -1, hi);
            Tensor g1 = k.unaryGrad(UnaryOp.RELU, above, above, dy);
            Tensor g = k.unaryGrad(UnaryOp.RELU, below, below, g1);
            above.close();
            below.close();
            g1.close();
            return new Tensor[] {g};
        }, x);
    }

    // ---- helpers ------------------------------------------------------------------------------------

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
