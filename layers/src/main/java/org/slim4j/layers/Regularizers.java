package org.slim4j.layers;

import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.kernels.UnaryOp;

/** TF-Slim's regularisers (tf.contrib.layers.l1_regularizer / l2_regularizer). */
public final class Regularizers {
    private Regularizers() {
    }

    /** scale · sum(w²) / 2 (tf.nn.l2_loss). A scale of 0 gives no loss; a negative scale is an error. */
    public static Regularizer l2(double scale) {
        checkScale("l2_regularizer", scale);
        if (scale == 0) return w -> null;
        return new L2(scale);
    }

    /** scale · l2_loss(w), whose gradient scale · w an optimizer can apply itself. */
    private record L2(double scale) implements Regularizer {
        @Override
        public Var apply(Var w) {
            return ElementwiseOps.scale(ReduceOps.l2Loss(w), scale);
        }

        @Override
        public double weightDecay() {
            return scale;
        }
    }

    /** scale · sum(|w|). */
    public static Regularizer l1(double scale) {
        checkScale("l1_regularizer", scale);
        if (scale == 0) return w -> null;
        return w -> ElementwiseOps.scale(ReduceOps.sum(ElementwiseOps.unary(UnaryOp.ABS, w)), scale);
    }

    /** l1(scaleL1) + l2(scaleL2). */
    public static Regularizer l1L2(double scaleL1, double scaleL2) {
        Regularizer a = l1(scaleL1);
        Regularizer b = l2(scaleL2);
        return w -> {
            Var x = a.apply(w);
            Var y = b.apply(w);
            if (x == null) return y;
            if (y == null) return x;
            return ElementwiseOps.add(x, y);
        };
    }

    private static void checkScale(String fn, double scale) {
        if (!(scale >= 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException(fn + ": setting a scale less than 0 (or not finite) is not allowed: " + scale);
        }
    }
}
