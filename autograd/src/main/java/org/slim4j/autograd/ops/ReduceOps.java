package org.slim4j.autograd.ops;

import java.util.Arrays;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** Differentiable sums, means and the L2 loss. */
public final class ReduceOps {
    private ReduceOps() {
    }

    public static Var sum(Var x, int[] axes, boolean keepDims) {
        Tensor y = Backends.kernels(x.value(), ReduceKernels.class).sum(x.value(), axes, keepDims);
        return Var.result(y, dy -> new Tensor[] {broadcastBack(dy, x.value().shape(), axes, 1.0)}, x);
    }

    /** Sum of all elements, as a scalar. */
    public static Var sum(Var x) {
        return sum(x, new int[0], false);
    }

    public static Var mean(Var x, int[] axes, boolean keepDims) {
        Tensor y = Backends.kernels(x.value(), ReduceKernels.class).mean(x.value(), axes, keepDims);
        Shape s = x.value().shape();
        double count = (double) s.numel() / Math.max(1, y.numel());
        return Var.result(y, dy -> new Tensor[] {broadcastBack(dy, s, axes, 1.0 / count)}, x);
    }

    /** Mean of all elements, as a scalar. */
    public static Var mean(Var x) {
        return mean(x, new int[0], false);
    }

    /** sum(x^2) / 2. */
    public static Var l2Loss(Var x) {
        Tensor y = Backends.kernels(x.value(), ReduceKernels.class).l2Loss(x.value());
        return Var.result(y, dy -> new Tensor[] {Backends.kernels(dy, ElementwiseKernels.class).binary(BinaryOp.MUL, x.value(), dy)}, x);
    }

    /** dy (reduced over axes, with or without kept dims) stretched back to {@code shape}, times factor. */
    private static Tensor broadcastBack(Tensor dy, Shape shape, int[] axes, double factor) {
        int rank = shape.rank();
        int[] keep = shape.dims();
        if (axes.length == 0) {
            Arrays.fill(keep, 1);
        } else {
            for (int a : axes) keep[shape.normalizeAxis(a)] = 1;
        }
        Tensor dyKeep = dy.reshape(keep);
        ElementwiseKernels ew = Backends.kernels(dy, ElementwiseKernels.class);
        Tensor zeros = Tensor.zeros(dy.device(), dy.dtype(), shape);
        Tensor out = ew.binary(BinaryOp.ADD, zeros, dyKeep);
        zeros.close();
        dyKeep.close();
        if (factor != 1.0) ew.scaleInPlace(out, factor);
        assert out.rank() == rank;
        return out;
    }
}
