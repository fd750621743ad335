package org.slim4j.autograd.optim;

import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Tensor;

/**
 * TF's AdamOptimizer: slots "Adam" (m) and "Adam_1" (v), non-slot scalars beta1_power and
 * beta2_power (beta^t, advanced after each step), bias correction folded into the step size.
 */
public final class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double epsilon;

    public Adam(double beta1, double beta2, double epsilon) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    @Override
    protected String[] slotNames() {
        return new String[] {"Adam", "Adam_1"};
    }

    @Override
    protected void apply(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double lr) {
        double b1p = nonSlot("beta1_power", beta1).item();
        double b2p = nonSlot("beta2_power", beta2).item();
        k.applyAdam(var, slots[0], slots[1], grad, lr, beta1, beta2, b1p, b2p, epsilon);
    }

    @Override
    protected void finishStep() {
        Tensor b1 = nonSlot("beta1_power", beta1);
        Tensor b2 = nonSlot("beta2_power", beta2);
        b1.floatData()[b1.offset()] = (float) (b1.item() * beta1);
        b2.floatData()[b2.offset()] = (float) (b2.item() * beta2);
    }
}
