package org.slim4j.autograd.optim;

import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Tensor;

/** TF's AdadeltaOptimizer: slots "Adadelta" (accum) and "Adadelta_1" (accum_update). */
public final class Adadelta extends Optimizer {
    private final double rho;
    private final double epsilon;

    public Adadelta(double rho, double epsilon) {
        this.rho = rho;
        this.epsilon = epsilon;
    }

    @Override
    protected String[] slotNames() {
        return new String[] {"Adadelta", "Adadelta_1"};
    }

    @Override
    protected void apply(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double lr) {
        k.applyAdadelta(var, slots[0], slots[1], grad, lr, rho, epsilon);
    }
}
