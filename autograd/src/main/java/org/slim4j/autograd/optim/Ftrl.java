package org.slim4j.autograd.optim;

import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Tensor;

/** TF's FtrlOptimizer (FTRL-proximal): slots "Ftrl" (accumulator) and "Ftrl_1" (linear). */
public final class Ftrl extends Optimizer {
    private final double learningRatePower;
    private final double initialAccumulatorValue;
    private final double l1;
    private final double l2;

    public Ftrl(double learningRatePower, double initialAccumulatorValue, double l1, double l2) {
        if (learningRatePower > 0) throw new IllegalArgumentException("ftrl learning_rate_power must be <= 0, got " + learningRatePower);
        if (l1 < 0 || l2 < 0) throw new IllegalArgumentException("ftrl l1/l2 must be >= 0, got " + l1 + "/" + l2);
        this.learningRatePower = learningRatePower;
        this.initialAccumulatorValue = initialAccumulatorValue;
        this.l1 = l1;
        this.l2 = l2;
    }

    @Override
    protected String[] slotNames() {
        return new String[] {"Ftrl", "Ftrl_1"};
    }

    @Override
    protected double slotInitialValue(int k) {
        return k == 0 ? initialAccumulatorValue : 0.0;
    }

    @Override
    protected void apply(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double lr) {
        k.applyFtrl(var, slots[0], slots[1], grad, lr, l1, l2, learningRatePower);
    }
}
