package org.slim4j.tools.train;

import org.slim4j.autograd.optim.Optimizer;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Tensor;

/**
 * TF's AdamOptimizer with the same rule, slots ({@code Adam}, {@code Adam_1}) and non-slot scalars
 * ({@code beta1_power}, {@code beta2_power}) as {@link org.slim4j.autograd.optim.Adam}, plus
 * {@link #createNonSlots()}: the library class creates its beta powers lazily at the first step, so a
 * resumed run could not restore them from the checkpoint before stepping. This adapter creates them
 * up front (TF creates them with the optimizer's other variables, too).
 */
final class ResumableAdam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double epsilon;

    ResumableAdam(double beta1, double beta2, double epsilon) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    /** Creates beta1_power and beta2_power (initial values beta1, beta2) so a restore can fill them. */
    void createNonSlots() {
        nonSlot("beta1_power", beta1);
        nonSlot("beta2_power", beta2);
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
        // TF multiplies the float32 powers by beta after each update (in float32).
        Tensor b1 = nonSlot("beta1_power", beta1);
        Tensor b2 = nonSlot("beta2_power", beta2);
        b1.floatData()[b1.offset()] = (float) (b1.item() * (float) beta1);
        b2.floatData()[b2.offset()] = (float) (b2.item() * (float) beta2);
    }
}
