package org.slim4j.autograd.optim;

import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Tensor;

/**
 * TF1's RMSPropOptimizer (not centered): slots "RMSProp" (mean square, initialised to ones as TF
 * does) and "RMSProp_1" (momentum).
 */
public final class RmsProp extends Optimizer {
    private final double decay;
    private final double momentum;
    private final double epsilon;

    public RmsProp(double decay, double momentum, double epsilon) {
        this.decay = decay;
        this.momentum = momentum;
        this.epsilon = epsilon;
    }

    @Override
    protected String[] slotNames() {
        return new String[] {"RMSProp", "RMSProp_1"};
    }

    @Override
    protected double slotInitialValue(int k) {
        return k == 0 ? 1.0 : 0.0;
    }

    @Override
    protected void apply(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double lr) {
        k.applyRmsProp(var, slots[0], slots[1], grad, lr, decay, momentum, epsilon);
    }
}
