package org.slim4j.kernels.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Elementwise arithmetic on contiguous row-major tensors of any rank: binary ops with
 * NumPy/TensorFlow broadcasting, unary activations and their gradients (TensorFlow's formulas),
 * scalar affine/pow, and the in-place updates optimizers use.
 *
 * <p>float32 binary ops first simplify the broadcast: size-1 output axes are dropped and adjacent
 * axes that are laid out alike in both operands are merged, so equal shapes become one run, a
 * scalar operand becomes a run against a broadcast value, and bias-like [.., C] + [C] becomes rows
 * of C. The innermost run then has unit or zero stride on each side and goes through a
 * Vector-API loop specialised per op (the op switch sits outside the loops). float64 indexes
 * every element through its full multi-index: slow but plainly correct, the test oracle.
 */
public final class ElementwiseCpu implements ElementwiseKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /** Elements per parallel task: these loops are memory bound, so tasks must be large. */
    private static final int GRAIN = 16384;

    // =============================================================================================
    // binary
    // =============================================================================================

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = "binary " + op;
        DType dt = sameFloatDtype(name, a, b);
        Shape outShape = Shape.broadcast(name, a.shape(), b.shape());
        Tensor out = Tensor.empty(dt, outShape);
        if (outShape.numel() == 0) return out;
        if (dt == DType.FLOAT32) {
            binary32(op, a, b, out);
        } else {
            binary64(op, a, b, out);
        }
        return out;
    }

    private static void binary32(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        int[] od = out.dims();
        int r = od.length;
        int[] as = a.shape().broadcastStrides(r);
        int[] bs = b.shape().broadcastStrides(r);
        // Drop size-1 axes, then merge each axis into its inner neighbour when both operands step
        // through the pair as one axis (stride_outer == stride_inner * size_inner, zeros included).
        int[] dims = new int[r];
        int[] sa = new int[r];
        int[] sb = new int[r];
        int q = 0;
        for (int i = r - 1; i >= 0; i--) {
            if (od[i] == 1) continue;
            if (q > 0 && as[i] == sa[q - 1] * dims[q - 1] && bs[i] == sb[q - 1] * dims[q - 1]) {
                dims[q - 1] *= od[i];
            } else {
                dims[q] = od[i];
                sa[q] = as[i];
                sb[q] = bs[i];
                q++;
            }
        }
        // Reverse to outer-first order; the last axis is the innermost run.
        int[] cd = new int[Math.max(q, 1)];
        int[] ca = new int[cd.length];
        int[] cb = new int[cd.length];
        if (q == 0) {
            cd[0] = 1;
        } else {
            for (int i = 0; i < q; i++) {
                cd[i] = dims[q - 1 - i];
                ca[i] = sa[q - 1 - i];
                cb[i] = sb[q - 1 - i];
            }
        }
        int rank = cd.length;
        int len = cd[rank - 1];
        int ia = ca[rank - 1];
        int ib = cb[rank - 1];
        int rows = out.numel() / len;
        float[] x = a.floatData();
        float[] y = b.floatData();
        float[] o = out.floatData();
        int xo = a.offset();
        int yo = b.offset();
        int oo = out.offset();
        if (rows == 1) {
            // One long run (equal shapes, or one side a scalar): split the run itself.
            Parallel.forRange(len, GRAIN, (s, e) ->
                    run(op, x, xo + s * ia, ia, y, yo + s * ib, ib, o, oo + s, e - s));
            return;
        }
        Parallel.forRange(rows, Math.max(1, GRAIN / len), (r0, r1) -> {
            // Odometer over the outer axes, started at row r0.
            int[] idx = new int[rank - 1];
            int rem = r0;
            int ao = xo;
            int bo = yo;
            for (int ax = rank - 2; ax >= 0; ax--) {
                idx[ax] = rem % cd[ax];
                rem /= cd[ax];
                ao += idx[ax] * ca[ax];
                bo += idx[ax] * cb[ax];
            }
            for (int row = r0; row < r1; row++) {
                run(op, x, ao, ia, y, bo, ib, o, oo + row * len, len);
                for (int ax = rank - 2; ax >= 0; ax--) {
                    idx[ax]++;
                    ao += ca[ax];
                    bo += cb[ax];
                    if (idx[ax] < cd[ax]) break;
                    ao -= ca[ax] * cd[ax];
                    bo -= cb[ax] * cd[ax];
                    idx[ax] = 0;
                }
            }
        });
    }

    /** o[oi..oi+n) = a op b, where each side steps by 1 (a run) or 0 (a broadcast value). */
    private static void run(BinaryOp op, float[] a, int ai, int sa, float[] b, int bi, int sb, float[] o, int oi, int n) {
        if (sa == 0 && sb == 0) {
            Arrays.fill(o, oi, oi + n, scalar32(op, a[ai], b[bi]));
            return;
        }
        int mode = sa == 0 ? 2 : sb == 0 ? 1 : 0;
        switch (op) {
            case ADD -> add(a, ai, b, bi, o, oi, n, mode);
            case SUB -> sub(a, ai, b, bi, o, oi, n, mode);
            case MUL -> mul(a, ai, b, bi, o, oi, n, mode);
            case DIV -> div(a, ai, b, bi, o, oi, n, mode);
            case MAXIMUM -> max(a, ai, b, bi, o, oi, n, mode);
            case MINIMUM -> min(a, ai, b, bi, o, oi, n, mode);
            case SQUARED_DIFFERENCE -> sqdiff(a, ai, b, bi, o, oi, n, mode);
        }
    }

    private static float scalar32(BinaryOp op, float x, float y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAXIMUM -> Math.max(x, y);
            case MINIMUM -> Math.min(x, y);
            case SQUARED_DIFFERENCE -> (x - y) * (x - y);
        };
    }

    // Per-op loops. mode 0: both runs; 1: b is one broadcast value; 2: a is one broadcast value.

    private static void add(float[] a, int ai, float[] b, int bi, float[] o, int oi, int n, int mode) {
        int i = 0;
        int bound = S.loopBound(n);
        if (mode == 0) {
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).add(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = a[ai + i] + b[bi + i];
        } else if (mode == 1) {
            float y = b[bi];
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).add(y).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = a[ai + i] + y;
        } else {
            float x = a[ai];
            for (; i < bound; i += VL) FloatVector.fromArray(S, b, bi + i).add(x).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = x + b[bi + i];
        }
    }

    private static void sub(float[] a, int ai, float[] b, int bi, float[] o, int oi, int n, int mode) {
        int i = 0;
        int bound = S.loopBound(n);
        if (mode == 0) {
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).sub(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = a[ai + i] - b[bi + i];
        } else if (mode == 1) {
            float y = b[bi];
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).sub(y).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = a[ai + i] - y;
        } else {
            FloatVector vx = FloatVector.broadcast(S, a[ai]);
            float x = a[ai];
            for (; i < bound; i += VL) vx.sub(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = x - b[bi + i];
        }
    }

    private static void mul(float[] a, int ai, float[] b, int bi, float[] o, int oi, int n, int mode) {
        int i = 0;
        int bound = S.loopBound(n);
        if (mode == 0) {
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).mul(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = a[ai + i] * b[bi + i];
        } else if (mode == 1) {
            float y = b[bi];
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).mul(y).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = a[ai + i] * y;
        } else {
            float x = a[ai];
            for (; i < bound; i += VL) FloatVector.fromArray(S, b, bi + i).mul(x).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = x * b[bi + i];
        }
    }

    private static void div(float[] a, int ai, float[] b, int bi, float[] o, int oi, int n, int mode) {
        int i = 0;
        int bound = S.loopBound(n);
        if (mode == 0) {
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).div(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = a[ai + i] / b[bi + i];
        } else if (mode == 1) {
            // A true division (not a multiply by 1/y) so results match TensorFlow bit for bit.
            float y = b[bi];
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).div(y).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = a[ai + i] / y;
        } else {
            FloatVector vx = FloatVector.broadcast(S, a[ai]);
            float x = a[ai];
            for (; i < bound; i += VL) vx.div(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = x / b[bi + i];
        }
    }

    private static void max(float[] a, int ai, float[] b, int bi, float[] o, int oi, int n, int mode) {
        int i = 0;
        int bound = S.loopBound(n);
        if (mode == 0) {
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).max(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = Math.max(a[ai + i], b[bi + i]);
        } else if (mode == 1) {
            float y = b[bi];
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).max(y).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = Math.max(a[ai + i], y);
        } else {
            float x = a[ai];
            for (; i < bound; i += VL) FloatVector.fromArray(S, b, bi + i).max(x).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = Math.max(x, b[bi + i]);
        }
    }

    private static void min(float[] a, int ai, float[] b, int bi, float[] o, int oi, int n, int mode) {
        int i = 0;
        int bound = S.loopBound(n);
        if (mode == 0) {
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).min(FloatVector.fromArray(S, b, bi + i)).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = Math.min(a[ai + i], b[bi + i]);
        } else if (mode == 1) {
            float y = b[bi];
            for (; i < bound; i += VL) FloatVector.fromArray(S, a, ai + i).min(y).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = Math.min(a[ai + i], y);
        } else {
            float x = a[ai];
            for (; i < bound; i += VL) FloatVector.fromArray(S, b, bi + i).min(x).intoArray(o, oi + i);
            for (; i < n; i++) o[oi + i] = Math.min(x, b[bi + i]);
        }
    }

    private static void sqdiff(float[] a, int ai, float[] b, int bi, float[] o, int oi, int n, int mode) {
        int i = 0;
        int bound = S.loopBound(n);
        if (mode == 0) {
            for (; i < bound; i += VL) {
                FloatVector d = FloatVector.fromArray(S, a, ai + i).sub(FloatVector.fromArray(S, b, bi + i));
                d.mul(d).intoArray(o, oi + i);
            }
            for (; i < n; i++) {
                float d = a[ai + i] - b[bi + i];
                o[oi + i] = d * d;
            }
        } else if (mode == 1) {
            float y = b[bi];
            for (; i < bound; i += VL) {
                FloatVector d = FloatVector.fromArray(S, a, ai + i).sub(y);
                d.mul(d).intoArray(o, oi + i);
            }
            for (; i < n; i++) {
                float d = a[ai + i] - y;
                o[oi + i] = d * d;
            }
        } else {
            float x = a[ai];
            for (; i < bound; i += VL) {
                FloatVector d = FloatVector.fromArray(S, b, bi + i).sub(x);
                d.mul(d).intoArray(o, oi + i);
            }
            for (; i < n; i++) {
                float d = x - b[bi + i];
                o[oi + i] = d * d;
            }
        }
    }

    /** Reference: each output element finds its operands through its full multi-index. */
    private static void binary64(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        int[] od = out.dims();
        int r = od.length;
        int[] as = a.shape().broadcastStrides(r);
        int[] bs = b.shape().broadcastStrides(r);
        double[] x = a.doubleData();
        double[] y = b.doubleData();
        double[] o = out.doubleData();
        int xo = a.offset();
        int yo = b.offset();
        int oo = out.offset();
        Parallel.forRange(out.numel(), GRAIN, (s, e) -> {
            for (int flat = s; flat < e; flat++) {
                int rem = flat;
                int ai = xo;
                int bi = yo;
                for (int ax = r - 1; ax >= 0; ax--) {
                    int idx = rem % od[ax];
                    rem /= od[ax];
                    ai += idx * as[ax];
                    bi += idx * bs[ax];
                }
                o[oo + flat] = scalar64(op, x[ai], y[bi]);
            }
        });
    }

    private static double scalar64(BinaryOp op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAXIMUM -> Math.max(x, y);
            case MINIMUM -> Math.min(x, y);
            case SQUARED_DIFFERENCE -> (x - y) * (x - y);
        };
    }

    /**
     * float32 operands of one shape with relu or relu6: sum and activation in one pass (read a and
     * b, write the result), where the two ops read and write the sum once more. Anything else goes
     * the two-op way.
     */
    @Override
    public Tensor addActivation(Tensor a, Tensor b, UnaryOp activation) {
        boolean fused = (activation == UnaryOp.RELU || activation == UnaryOp.RELU6) && a.dtype() == DType.FLOAT32
                && b.dtype() == DType.FLOAT32 && a.shape().equals(b.shape());
        if (!fused) return ElementwiseKernels.super.addActivation(a, b, activation);
        Tensor out = Tensor.empty(DType.FLOAT32, a.shape());
        float[] as = a.floatData();
        float[] bs = b.floatData();
        float[] ys = out.floatData();
        int ao = a.offset();
        int bo = b.offset();
        int yo = out.offset();
        float hi = activation == UnaryOp.RELU6 ? 6f : Float.POSITIVE_INFINITY;
        Parallel.forRange(a.numel(), GRAIN, (s, e) -> addClamp32(as, ao + s, bs, bo + s, ys, yo + s, e - s, hi));
        return out;
    }

    /** y = min(max(a + b, 0), hi) over n floats (hi = +inf: relu; NaN stays NaN, as in unary32). */
    private static void addClamp32(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n, float hi) {
        int i = 0;
        int bound = S.loopBound(n);
        for (; i < bound; i += VL) {
            FloatVector.fromArray(S, a, ao + i).add(FloatVector.fromArray(S, b, bo + i)).max(0f).min(hi).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = Math.min(Math.max(a[ao + i] + b[bo + i], 0f), hi);
    }

    // =============================================================================================
    // unary
    // =============================================================================================

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        String name = "unary " + op;
        DType dt = floatDtype(name, "x", x);
        Tensor out = Tensor.empty(dt, x.shape());
        int n = x.numel();
        if (dt == DType.FLOAT32) {
            float[] xs = x.floatData();
            float[] ys = out.floatData();
            int xo = x.offset();
            int yo = out.offset();
            Parallel.forRange(n, GRAIN, (s, e) -> unary32(op, xs, xo + s, ys, yo + s, e - s));
        } else {
            double[] xs = x.doubleData();
            double[] ys = out.doubleData();
            int xo = x.offset();
            int yo = out.offset();
            Parallel.forRange(n, GRAIN, (s, e) -> {
                for (int i = s; i < e; i++) ys[yo + i] = unary64(op, xs[xo + i]);
            });
        }
        return out;
    }

    private static void unary32(UnaryOp op, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        switch (op) {
            case NEG -> {
                for (; i < bound; i += VL) FloatVector.fromArray(S, x, xo + i).neg().intoArray(y, yo + i);
                for (; i < n; i++) y[yo + i] = -x[xo + i];
            }
            case ABS -> {
                for (; i < bound; i += VL) FloatVector.fromArray(S, x, xo + i).abs().intoArray(y, yo + i);
                for (; i < n; i++) y[yo + i] = Math.abs(x[xo + i]);
            }
            case SQUARE -> {
                for (; i < bound; i += VL) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + i);
                    v.mul(v).intoArray(y, yo + i);
                }
                for (; i < n; i++) y[yo + i] = x[xo + i] * x[xo + i];
            }
            case SQRT -> {
                for (; i < bound; i += VL) FloatVector.fromArray(S, x, xo + i).sqrt().intoArray(y, yo + i);
                for (; i < n; i++) y[yo + i] = (float) Math.sqrt(x[xo + i]);
            }
            case RSQRT -> {
                // 1 / sqrt(x): both steps correctly rounded, as TensorFlow's Eigen kernel does.
                FloatVector one = FloatVector.broadcast(S, 1f);
                for (; i < bound; i += VL) one.div(FloatVector.fromArray(S, x, xo + i).sqrt()).intoArray(y, yo + i);
                for (; i < n; i++) y[yo + i] = 1f / (float) Math.sqrt(x[xo + i]);
            }
            case RECIPROCAL -> {
                FloatVector one = FloatVector.broadcast(S, 1f);
                for (; i < bound; i += VL) one.div(FloatVector.fromArray(S, x, xo + i)).intoArray(y, yo + i);
                for (; i < n; i++) y[yo + i] = 1f / x[xo + i];
            }
            case RELU -> {
                for (; i < bound; i += VL) FloatVector.fromArray(S, x, xo + i).max(0f).intoArray(y, yo + i);
                for (; i < n; i++) y[yo + i] = Math.max(x[xo + i], 0f);
            }
            case RELU6 -> {
                for (; i < bound; i += VL) FloatVector.fromArray(S, x, xo + i).max(0f).min(6f).intoArray(y, yo + i);
                for (; i < n; i++) y[yo + i] = Math.min(Math.max(x[xo + i], 0f), 6f);
            }
            // Transcendentals: evaluated in double and rounded once, so they are accurate to
            // float precision (the Vector API's exp/log/tanh are not intrinsics everywhere).
            case EXP -> {
                for (; i < n; i++) y[yo + i] = (float) Math.exp(x[xo + i]);
            }
            case LOG -> {
                for (; i < n; i++) y[yo + i] = (float) Math.log(x[xo + i]);
            }
            case TANH -> {
                for (; i < n; i++) y[yo + i] = (float) Math.tanh(x[xo + i]);
            }
            case SIGMOID -> {
                for (; i < n; i++) y[yo + i] = (float) sigmoid(x[xo + i]);
            }
        }
    }

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    private static double unary64(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SQUARE -> x * x;
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case RECIPROCAL -> 1.0 / x;
            case RELU -> Math.max(x, 0.0);
            case RELU6 -> Math.min(Math.max(x, 0.0), 6.0);
            case SIGMOID -> sigmoid(x);
            case TANH -> Math.tanh(x);
        };
    }

    // =============================================================================================
    // unary gradients
    // =============================================================================================

    /** Ops whose TensorFlow gradient is written in terms of the output y. */
    private static boolean usesY(UnaryOp op) {
        return switch (op) {
            case SIGMOID, TANH, EXP, SQRT, RSQRT, RECIPROCAL -> true;
            default -> false;
        };
    }

    /**
     * {@inheritDoc}
     *
     * <p>Only the tensor the formula needs must be given; the other may be null. An op whose
     * gradient uses y also accepts x alone (y is then recomputed from x), and RECIPROCAL, which
     * TensorFlow differentiates through y, accepts either. NEG needs neither.
     */
    @Override
    public Tensor unaryGrad(UnaryOp op, Tensor x, Tensor y, Tensor dy) {
        String name = "unaryGrad " + op;
        DType dt = floatDtype(name, "dy", dy);
        for (Tensor t : new Tensor[] {x, y}) {
            if (t == null) continue;
            String arg = t == x ? "x" : "y";
            if (t.dtype() != dt) {
                throw new IllegalArgumentException(name + ": " + arg + " is " + t.dtype() + " but dy is " + dt
                        + " (" + arg + " " + t.shape() + ", dy " + dy.shape() + ")");
            }
            if (!t.shape().equals(dy.shape())) {
                throw new IllegalArgumentException(name + ": " + arg + " shape " + t.shape() + " != dy shape " + dy.shape());
            }
        }
        // The operand the formula reads: y for the y-based ops, else x.
        Tensor src;
        Tensor recomputed = null;
        if (op == UnaryOp.NEG) {
            src = dy;
        } else if (usesY(op)) {
            if (y != null) {
                src = y;
            } else if (x != null) {
                recomputed = unary(op, x);
                src = recomputed;
            } else {
                throw new IllegalArgumentException(name + ": needs y (or x to recompute it); both are null (dy " + dy.shape() + ")");
            }
        } else {
            if (x == null) throw new IllegalArgumentException(name + ": needs x, which is null (dy " + dy.shape() + ")");
            src = x;
        }
        try {
            Tensor out = Tensor.empty(dt, dy.shape());
            int n = dy.numel();
            if (dt == DType.FLOAT32) {
                float[] v = src.floatData();
                float[] g = dy.floatData();
                float[] o = out.floatData();
                int vo = src.offset();
                int go = dy.offset();
                int oo = out.offset();
                Parallel.forRange(n, GRAIN, (s, e) -> grad32(op, v, vo + s, g, go + s, o, oo + s, e - s));
            } else {
                double[] v = src.doubleData();
                double[] g = dy.doubleData();
                double[] o = out.doubleData();
                int vo = src.offset();
                int go = dy.offset();
                int oo = out.offset();
                Parallel.forRange(n, GRAIN, (s, e) -> {
                    for (int i = s; i < e; i++) o[oo + i] = grad64(op, v[vo + i], g[go + i]);
                });
            }
            return out;
        } finally {
            if (recomputed != null) recomputed.close();
        }
    }

    /** o = d op(input)/d input * g, where v is x or y as {@link #usesY} says. */
    private static void grad32(UnaryOp op, float[] v, int vo, float[] g, int go, float[] o, int oo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        switch (op) {
            case RELU -> {
                for (; i < bound; i += VL) {
                    VectorMask<Float> on = FloatVector.fromArray(S, v, vo + i).compare(VectorOperators.GT, 0f);
                    zero.blend(FloatVector.fromArray(S, g, go + i), on).intoArray(o, oo + i);
                }
                for (; i < n; i++) o[oo + i] = v[vo + i] > 0f ? g[go + i] : 0f;
            }
            case RELU6 -> {
                for (; i < bound; i += VL) {
                    FloatVector xv = FloatVector.fromArray(S, v, vo + i);
                    VectorMask<Float> on = xv.compare(VectorOperators.GT, 0f).and(xv.compare(VectorOperators.LT, 6f));
                    zero.blend(FloatVector.fromArray(S, g, go + i), on).intoArray(o, oo + i);
                }
                for (; i < n; i++) o[oo + i] = v[vo + i] > 0f && v[vo + i] < 6f ? g[go + i] : 0f;
            }
            case SIGMOID -> {
                // dy * y * (1 - y)
                for (; i < bound; i += VL) {
                    FloatVector yv = FloatVector.fromArray(S, v, vo + i);
                    FloatVector.fromArray(S, g, go + i).mul(yv).mul(yv.neg().add(1f)).intoArray(o, oo + i);
                }
                for (; i < n; i++) o[oo + i] = g[go + i] * v[vo + i] * (1f - v[vo + i]);
            }
            case TANH -> {
                // dy * (1 - y^2)
                for (; i < bound; i += VL) {
                    FloatVector yv = FloatVector.fromArray(S, v, vo + i);
                    FloatVector.fromArray(S, g, go + i).mul(yv.mul(yv).neg().add(1f)).intoArray(o, oo + i);
                }
                for (; i < n; i++) o[oo + i] = g[go + i] * (1f - v[vo + i] * v[vo + i]);
            }
            case EXP -> {
                for (; i < bound; i += VL) FloatVector.fromArray(S, g, go + i).mul(FloatVector.fromArray(S, v, vo + i)).intoArray(o, oo + i);
                for (; i < n; i++) o[oo + i] = g[go + i] * v[vo + i];
            }
            case LOG -> {
                for (; i < bound; i += VL) FloatVector.fromArray(S, g, go + i).div(FloatVector.fromArray(S, v, vo + i)).intoArray(o, oo + i);
                for (; i < n; i++) o[oo + i] = g[go + i] / v[vo + i];
            }
            case SQRT -> {
                // dy * 0.5 / y
                for (; i < bound; i += VL) FloatVector.fromArray(S, g, go + i).mul(0.5f).div(FloatVector.fromArray(S, v, vo + i)).intoArray(o, oo + i);
                for (; i < n; i++) o[oo + i] = g[go + i] * 0.5f / v[vo + i];
            }
            case RSQRT -> {
                // dy * (-0.5) * y^3
                for (; i < bound; i += VL) {
                    FloatVector yv = FloatVector.fromArray(S, v, vo + i);
                    FloatVector.fromArray(S, g, go + i).mul(-0.5f).mul(yv.mul(yv).mul(yv)).intoArray(o, oo + i);
                }
                for (; i < n; i++) o[oo + i] = g[go + i] * -0.5f * (v[vo + i] * v[vo + i] * v[vo + i]);
            }
            case SQUARE -> {
                // 2 * x * dy
                for (; i < bound; i += VL) FloatVector.fromArray(S, v, vo + i).mul(2f).mul(FloatVector.fromArray(S, g, go + i)).intoArray(o, oo + i);
                for (; i < n; i++) o[oo + i] = 2f * v[vo + i] * g[go + i];
            }
            case NEG -> {
                for (; i < bound; i += VL) FloatVector.fromArray(S, g, go + i).neg().intoArray(o, oo + i);
                for (; i < n; i++) o[oo + i] = -g[go + i];
            }
            case ABS -> {
                for (; i < n; i++) o[oo + i] = Math.signum(v[vo + i]) * g[go + i];
            }
            case RECIPROCAL -> {
                // -dy * y^2
                for (; i < bound; i += VL) {
                    FloatVector yv = FloatVector.fromArray(S, v, vo + i);
                    FloatVector.fromArray(S, g, go + i).neg().mul(yv.mul(yv)).intoArray(o, oo + i);
                }
                for (; i < n; i++) o[oo + i] = -g[go + i] * (v[vo + i] * v[vo + i]);
            }
        }
    }

    private static double grad64(UnaryOp op, double v, double g) {
        return switch (op) {
            case RELU -> v > 0 ? g : 0;
            case RELU6 -> v > 0 && v < 6 ? g : 0;
            case SIGMOID -> g * v * (1 - v);
            case TANH -> g * (1 - v * v);
            case EXP -> g * v;
            case LOG -> g / v;
            case SQRT -> g * 0.5 / v;
            case RSQRT -> g * -0.5 * v * v * v;
            case SQUARE -> 2 * v * g;
            case NEG -> -g;
            case ABS -> Math.signum(v) * g;
            case RECIPROCAL -> -g * v * v;
        };
    }

    // =============================================================================================
    // scalar ops and in-place updates
    // =============================================================================================

    @Override
    public Tensor affine(Tensor x, double scale, double shift) {
        DType dt = floatDtype("affine", "x", x);
        Tensor out = Tensor.empty(dt, x.shape());
        int n = x.numel();
        if (dt == DType.FLOAT32) {
            float[] xs = x.floatData();
            float[] ys = out.floatData();
            int xo = x.offset();
            int yo = out.offset();
            float a = (float) scale;
            float b = (float) shift;
            Parallel.forRange(n, GRAIN, (s, e) -> {
                int i = s;
                int bound = s + S.loopBound(e - s);
                for (; i < bound; i += VL) FloatVector.fromArray(S, xs, xo + i).mul(a).add(b).intoArray(ys, yo + i);
                for (; i < e; i++) ys[yo + i] = xs[xo + i] * a + b;
            });
        } else {
            double[] xs = x.doubleData();
            double[] ys = out.doubleData();
            int xo = x.offset();
            int yo = out.offset();
            Parallel.forRange(n, GRAIN, (s, e) -> {
                for (int i = s; i < e; i++) ys[yo + i] = xs[xo + i] * scale + shift;
            });
        }
        return out;
    }

    @Override
    public Tensor pow(Tensor x, double exponent) {
        DType dt = floatDtype("pow", "x", x);
        Tensor out = Tensor.empty(dt, x.shape());
        int n = x.numel();
        if (dt == DType.FLOAT32) {
            float[] xs = x.floatData();
            float[] ys = out.floatData();
            int xo = x.offset();
            int yo = out.offset();
            Parallel.forRange(n, GRAIN, (s, e) -> {
                if (exponent == 2.0) {
                    // x*x of two floats is exact in double, so this equals the rounded pow.
                    for (int i = s; i < e; i++) ys[yo + i] = xs[xo + i] * xs[xo + i];
                } else {
                    for (int i = s; i < e; i++) ys[yo + i] = (float) Math.pow(xs[xo + i], exponent);
                }
            });
        } else {
            double[] xs = x.doubleData();
            double[] ys = out.doubleData();
            int xo = x.offset();
            int yo = out.offset();
            Parallel.forRange(n, GRAIN, (s, e) -> {
                for (int i = s; i < e; i++) ys[yo + i] = Math.pow(xs[xo + i], exponent);
            });
        }
        return out;
    }

    @Override
    public void addInPlace(Tensor dst, Tensor src, double alpha) {
        DType dt = sameFloatDtype("addInPlace", dst, src);
        if (!dst.shape().equals(src.shape())) {
            throw new IllegalArgumentException("addInPlace: src shape " + src.shape() + " != dst shape " + dst.shape());
        }
        int n = dst.numel();
        if (dt == DType.FLOAT32) {
            float[] d = dst.floatData();
            float[] s = src.floatData();
            int dOff = dst.offset();
            int sOff = src.offset();
            float a = (float) alpha;
            Parallel.forRange(n, GRAIN, (s0, e) -> {
                int i = s0;
                int bound = s0 + S.loopBound(e - s0);
                if (a == 1f) {
                    for (; i < bound; i += VL) {
                        FloatVector.fromArray(S, d, dOff + i).add(FloatVector.fromArray(S, s, sOff + i)).intoArray(d, dOff + i);
                    }
                } else {
                    FloatVector va = FloatVector.broadcast(S, a);
                    for (; i < bound; i += VL) {
                        FloatVector.fromArray(S, s, sOff + i).fma(va, FloatVector.fromArray(S, d, dOff + i)).intoArray(d, dOff + i);
                    }
                }
                for (; i < e; i++) d[dOff + i] += a * s[sOff + i];
            });
        } else {
            double[] d = dst.doubleData();
            double[] s = src.doubleData();
            int dOff = dst.offset();
            int sOff = src.offset();
            Parallel.forRange(n, GRAIN, (s0, e) -> {
                for (int i = s0; i < e; i++) d[dOff + i] += alpha * s[sOff + i];
            });
        }
    }

    @Override
    public void scaleInPlace(Tensor dst, double factor) {
        DType dt = floatDtype("scaleInPlace", "dst", dst);
        int n = dst.numel();
        if (dt == DType.FLOAT32) {
            float[] d = dst.floatData();
            int dOff = dst.offset();
            float f = (float) factor;
            Parallel.forRange(n, GRAIN, (s, e) -> {
                int i = s;
                int bound = s + S.loopBound(e - s);
                for (; i < bound; i += VL) FloatVector.fromArray(S, d, dOff + i).mul(f).intoArray(d, dOff + i);
                for (; i < e; i++) d[dOff + i] *= f;
            });
        } else {
            double[] d = dst.doubleData();
            int dOff = dst.offset();
            Parallel.forRange(n, GRAIN, (s, e) -> {
                for (int i = s; i < e; i++) d[dOff + i] *= factor;
            });
        }
    }

    @Override
    public void fillInPlace(Tensor dst, double value) {
        DType dt = floatDtype("fillInPlace", "dst", dst);
        int n = dst.numel();
        int dOff = dst.offset();
        if (dt == DType.FLOAT32) {
            float[] d = dst.floatData();
            float v = (float) value;
            Parallel.forRange(n, GRAIN, (s, e) -> Arrays.fill(d, dOff + s, dOff + e, v));
        } else {
            double[] d = dst.doubleData();
            Parallel.forRange(n, GRAIN, (s, e) -> Arrays.fill(d, dOff + s, dOff + e, value));
        }
    }

    // =============================================================================================
    // validation
    // =============================================================================================

    private static DType floatDtype(String op, String arg, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": " + arg + " is null");
        DType dt = t.dtype();
        if (dt != DType.FLOAT32 && dt != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": unsupported dtype " + dt + " for " + arg + " " + t.shape()
                    + " (float32 or float64 only)");
        }
        return dt;
    }

    private static DType sameFloatDtype(String op, Tensor a, Tensor b) {
        if (a == null || b == null) throw new IllegalArgumentException(op + ": null operand");
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": mixed dtypes " + a.dtype() + " and " + b.dtype()
                    + " (" + a.shape() + " and " + b.shape() + ")");
        }
        return floatDtype(op, "operand", a);
    }
}
