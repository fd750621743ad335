package org.slim4j.kernels;

import java.util.List;
import org.slim4j.tensor.Tensor;

/**
 * In-place parameter updates with TensorFlow's exact rules (its Apply* ops), one fused pass per
 * variable. All tensors of one call have the same shape and dtype; slots are updated in place.
 */
public interface OptimizerKernels {
    /** var -= lr * grad. */
    void applyGradientDescent(Tensor var, Tensor grad, double lr);

    /**
     * accum = momentum * accum + g; var -= lr * accum (or, Nesterov, lr * (g + momentum * accum)),
     * with g = grad + weightDecay * var: an L2 regulariser's gradient (scale * var for
     * scale * l2_loss(var)) folded into the same pass instead of being added to grad beforehand.
     */
    void applyMomentum(Tensor var, Tensor accum, Tensor grad, double lr, double momentum, boolean nesterov, double weightDecay);

    /** One variable of a batched {@link #applyMomentum(List, double, double, boolean)}: its tensors and weight decay. */
    record MomentumUpdate(Tensor var, Tensor accum, Tensor grad, double weightDecay) {
    }

    /**
     * {@link #applyMomentum(Tensor, Tensor, Tensor, double, double, boolean, double)} on every
     * update, with the same results; this default makes one call each, a backend may update them
     * all in one launch.
     */
    default void applyMomentum(List<MomentumUpdate> updates, double lr, double momentum, boolean nesterov) {
        for (MomentumUpdate u : updates) applyMomentum(u.var(), u.accum(), u.grad(), lr, momentum, nesterov, u.weightDecay());
    }

    /**
     * Dynamic loss scaling's unscale-and-check (mixed precision): multiplies every gradient in place
     * by {@code invScale} and returns a scalar on the first tensor's device and of its dtype, 1 when
     * any element of any gradient is NaN or infinite, else 0 (a step whose gradients overflowed is
     * skipped). At least one tensor; all float32 or float64 on one device.
     */
    Tensor unscaleGradients(List<Tensor> grads, double invScale);

    /**
     * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
     * var -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon), with b1Power = b1^t, b2Power = b2^t.
     */
    void applyAdam(Tensor var, Tensor m, Tensor v, Tensor grad, double lr, double beta1, double beta2,
                   double beta1Power, double beta2Power, double epsilon);

    /** accum += g^2; var -= lr * g / sqrt(accum). */
    void applyAdagrad(Tensor var, Tensor accum, Tensor grad, double lr);

    /**
     * accum = rho accum + (1 - rho) g^2; update = sqrt(accumUpdate + eps) / sqrt(accum + eps) * g;
     * accumUpdate = rho accumUpdate + (1 - rho) update^2; var -= lr * update.
     */
    void applyAdadelta(Tensor var, Tensor accum, Tensor accumUpdate, Tensor grad, double lr, double rho, double epsilon);

    /** ms = decay ms + (1 - decay) g^2; mom = momentum mom + lr g / sqrt(ms + eps); var -= mom. */
    void applyRmsProp(Tensor var, Tensor ms, Tensor mom, Tensor grad, double lr, double decay, double momentum, double epsilon);

    /**
     * FTRL-proximal as TF's ApplyFtrl: accumNew = accum + g^2;
     * linear += g - (accumNew^-p - accum^-p) / lr * var; quadratic = accumNew^-p / lr + 2 l2;
     * var = |linear| > l1 ? (sign(linear) l1 - linear) / quadratic : 0; accum = accumNew (p = lrPower).
     */
    void applyFtrl(Tensor var, Tensor accum, Tensor linear, Tensor grad, double lr, double l1, double l2, double lrPower);

    /** shadow -= (1 - decay) * (shadow - var): the exponential moving average update. */
    void applyMovingAverage(Tensor shadow, Tensor var, double decay);
}
