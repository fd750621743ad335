package org.slim4j.autograd.ops;

import org.slim4j.autograd.Var;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/**
 * Differentiable elementwise arithmetic (with broadcasting: gradients are summed back to each
 * operand's shape) and activations.
 */
public final class ElementwiseOps {
    private ElementwiseOps() {
    }

    private static ElementwiseKernels ew(Tensor t) {
        return Backends.kernels(t, ElementwiseKernels.class);
    }

    /** Sums a broadcast gradient back to {@code like}'s shape and closes the input. */
    static Tensor reduceTo(Tensor g, Tensor like) {
        if (g.shape().equals(like.shape())) return g;
        Tensor r = Backends.kernels(g, ReduceKernels.class).sumToShape(g, like.shape());
        g.close();
        return r;
    }

    public static Var add(Var a, Var b) {
        Tensor y = ew(a.value()).binary(BinaryOp.ADD, a.value(), b.value());
        // Both operands' gradients are views of dy (no copy): backward sums into a shared view
        // out of place (Var.backward).
        return Var.result(y, dy -> new Tensor[] {
            a.requiresGrad() ? reduceTo(dy.reshape(dy.shape()), a.value()) : null,
            b.requiresGrad() ? reduceTo(dy.reshape(dy.shape()), b.value()) : null}, a, b);
    }

    public static Var sub(Var a, Var b) {
        Tensor y = ew(a.value()).binary(BinaryOp.SUB, a.value(), b.value());
        return Var.result(y, dy -> new Tensor[] {
            a.requiresGrad() ? reduceTo(dy.reshape(dy.shape()), a.value()) : null,
            b.requiresGrad() ? reduceTo(ew(dy).unary(UnaryOp.NEG, dy), b.value()) : null}, a, b);
    }

    public static Var mul(Var a, Var b) {
        Tensor y = ew(a.value()).binary(BinaryOp.MUL, a.value(), b.value());
        return Var.result(y, dy -> new Tensor[] {
            a.requiresGrad() ? reduceTo(ew(dy).binary(BinaryOp.MUL, dy, b.value()), a.value()) : null,
            b.requiresGrad() ? reduceTo(ew(dy).binary(BinaryOp.MUL, dy, a.value()), b.value()) : null}, a, b);
    }

    public static Var div(Var a, Var b) {
        ElementwiseKernels k = ew(a.value());
        Tensor y = k.binary(BinaryOp.DIV, a.value(), b.value());
        return Var.result(y, dy -> {
            Tensor da = a.requiresGrad() ? reduceTo(k.binary(BinaryOp.DIV, dy, b.value()), a.value()) : null;
            Tensor db = null;
            if (b.requiresGrad()) {
                // d(a/b)/db = -(a/b)/b
                Tensor q = k.binary(BinaryOp.DIV, y, b.value());
                Tensor p = k.binary(BinaryOp.MUL, dy, q);
                q.close();
                Tensor n = k.unary(UnaryOp.NEG, p);
                p.close();
                db = reduceTo(n, b.value());
            }
            return new Tensor[] {da, db};
        }, a, b);
    }

    /**
     * relu(a + b) or relu6(a + b), as one op (a residual connection): one pass forward instead of
     * two. The gradient masks dy by the output: for relu and relu6, 0 < y < 6 exactly where
     * 0 < a + b < 6, so this equals TF's ReluGrad / Relu6Grad of the sum, then the sum's gradient.
     */
    public static Var addActivation(Var a, Var b, UnaryOp activation) {
        if (activation != UnaryOp.RELU && activation != UnaryOp.RELU6) {
            throw new IllegalArgumentException("addActivation: activation must be RELU or RELU6, got " + activation);
        }
        ElementwiseKernels k = ew(a.value());
        Tensor y = k.addActivation(a.value(), b.value(), activation);
        return Var.result(y, dy -> {
            Tensor g = k.unaryGrad(activation, y, y, dy);
            // As in add: both gradients are views of g.
            Tensor da = a.requiresGrad() ? reduceTo(g.reshape(g.shape()), a.value()) : null;
            Tensor db = b.requiresGrad() ? reduceTo(g.reshape(g.shape()), b.value()) : null;
            g.close();
            return new Tensor[] {da, db};
        }, a, b);
    }

    /** Any unary op; the gradient uses what TensorFlow's gradient uses (input or output). */
    public static Var unary(UnaryOp op, Var x) {
        ElementwiseKernels k = ew(x.value());
        Tensor y = k.unary(op, x.value());
        return Var.result(y, dy -> new Tensor[] {k.unaryGrad(op, x.value(), y, dy)}, x);
    }

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

    /** x * scale + shift with scalar constants. */
    public static Var affine(Var x, double scale, double shift) {
        ElementwiseKernels k = ew(x.value());
        Tensor y = k.affine(x.value(), scale, shift);
        return Var.result(y, dy -> new Tensor[] {k.affine(dy, scale, 0)}, x);
    }

    public static Var scale(Var x, double factor) {
        return affine(x, factor, 0);
    }

    /** x ^ p elementwise, p a constant. */
    public static Var pow(Var x, double p) {
        ElementwiseKernels k = ew(x.value());
        Tensor y = k.pow(x.value(), p);
        return Var.result(y, dy -> {
            Tensor d = k.pow(x.value(), p - 1);
            k.scaleInPlace(d, p);
            Tensor r = k.binary(BinaryOp.MUL, dy, d);
            d.close();
            return new Tensor[] {r};
        }, x);
    }
}
