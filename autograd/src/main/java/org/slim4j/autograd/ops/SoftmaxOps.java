package org.slim4j.autograd.ops;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.kernels.SoftmaxKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Differentiable softmax, log-softmax and softmax cross-entropy over the last axis. */
public final class SoftmaxOps {
    private SoftmaxOps() {
    }

    public static Var softmax(Var logits) {
        Tensor x = logits.value();
        Tensor y = Backends.kernels(x, SoftmaxKernels.class).softmax(x);
        return Var.result(y, dy -> {
            // dx = y * (dy - sum(dy * y, last axis))
            ElementwiseKernels ew = Backends.kernels(dy, ElementwiseKernels.class);
            Tensor dyy = ew.binary(BinaryOp.MUL, dy, y);
            Tensor s = Backends.kernels(dy, ReduceKernels.class).sum(dyy, new int[] {-1}, true);
            dyy.close();
            Tensor diff = ew.binary(BinaryOp.SUB, dy, s);
            s.close();
            Tensor dx = ew.binary(BinaryOp.MUL, y, diff);
            diff.close();
            return new Tensor[] {dx};
        }, logits);
    }

    public static Var logSoftmax(Var logits) {
        Tensor x = logits.value();
        Tensor y = Backends.kernels(x, SoftmaxKernels.class).logSoftmax(x);
        return Var.result(y, dy -> {
            // dx = dy - softmax(x) * sum(dy, last axis)
            ElementwiseKernels ew = Backends.kernels(dy, ElementwiseKernels.class);
            Tensor s = Backends.kernels(dy, ReduceKernels.class).sum(dy, new int[] {-1}, true);
            Tensor p = ew.unary(UnaryOp.EXP, y);
            Tensor ps = ew.binary(BinaryOp.MUL, p, s);
            p.close();
            s.close();
            Tensor dx = ew.binary(BinaryOp.SUB, dy, ps);
            ps.close();
            return new Tensor[] {dx};
        }, logits);
    }

    /** Per-example loss [N] against probability rows {@code labels} [N, C] (constants). */
    public static Var softmaxCrossEntropy(Var logits, Tensor labels) {
        SoftmaxKernels.CrossEntropy ce = Backends.kernels(logits.value(), SoftmaxKernels.class).softmaxCrossEntropy(logits.value(), labels);
        return crossEntropyResult(logits, ce);
    }

    /**
     * TF's softmax_cross_entropy with label smoothing: labels become
     * labels * (1 - smoothing) + smoothing / numClasses before the loss.
     */
    public static Var softmaxCrossEntropy(Var logits, Tensor oneHotLabels, double labelSmoothing) {
        if (labelSmoothing == 0) return softmaxCrossEntropy(logits, oneHotLabels);
        int classes = oneHotLabels.dim(-1);
        ElementwiseKernels ew = Backends.kernels(oneHotLabels, ElementwiseKernels.class);
        Tensor smoothed = ew.affine(oneHotLabels, 1 - labelSmoothing, labelSmoothing / classes);
        try {
            return softmaxCrossEntropy(logits, smoothed);
        } finally {
            smoothed.close();
        }
    }

    /** Per-example loss [N] against integer class labels [N] (int32 or int64). */
    public static Var sparseSoftmaxCrossEntropy(Var logits, Tensor labels) {
        SoftmaxKernels.CrossEntropy ce = Backends.kernels(logits.value(), SoftmaxKernels.class).sparseSoftmaxCrossEntropy(logits.value(), labels);
        return crossEntropyResult(logits, ce);
    }

    private static Var crossEntropyResult(Var logits, SoftmaxKernels.CrossEntropy ce) {
        Tensor backprop = ce.backprop();
        return Var.result(ce.loss(), dy -> {
            int[] col = dy.dims();
            int[] keep = java.util.Arrays.copyOf(col, col.length + 1);
            keep[col.length] = 1;
            Tensor dyCol = dy.reshape(keep);
            Tensor dx = Backends.kernels(dy, ElementwiseKernels.class).binary(BinaryOp.MUL, backprop, dyCol);
            dyCol.close();
            return new Tensor[] {dx};
        }, List.of(backprop), logits);
    }
}
