package org.slim4j.autograd.optim;

import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Tensor;

/** TF's GradientDescentOptimizer: var -= lr * grad. No slots. */
public final class GradientDescent extends Optimizer {
    @Override
    protected String[] slotNames() {
        return new String[0];
    }

    @Override
    protected void apply(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double lr) {
        k.applyGradientDescent(var, grad, lr);
    }
}
