package org.slim4j.autograd.optim;

import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Tensor;

/** TF's AdagradOptimizer: accum += g^2; var -= lr g / sqrt(accum). Slot "Adagrad". */
public final class Adagrad extends Optimizer {
    private final double initialAccumulatorValue;

    public Adagrad(double initialAccumulatorValue) {
        if (!(initialAccumulatorValue > 0)) {
            throw new IllegalArgumentException("adagrad initial accumulator value must be > 0, got " + initialAccumulatorValue);
        }
        this.initialAccumulatorValue = initialAccumulatorValue;
    }

    @Override
    protected String[] slotNames() {
        return new String[] {"Adagrad"};
    }

    @Override
    protected double slotInitialValue(int k) {
        return initialAccumulatorValue;
    }

    @Override
    protected void apply(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double lr) {
        k.applyAdagrad(var, slots[0], grad, lr);
    }
}
