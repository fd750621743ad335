package org.slim4j.autograd.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** TF's MomentumOptimizer: accum = momentum * accum + grad; var -= lr * accum. Slot "Momentum". */
public final class Momentum extends Optimizer {
    private final double momentum;
    private final boolean nesterov;

    public Momentum(double momentum) {
        this(momentum, false);
    }

    public Momentum(double momentum, boolean nesterov) {
        if (momentum < 0) throw new IllegalArgumentException("momentum must be >= 0, got " + momentum);
        this.momentum = momentum;
        this.nesterov = nesterov;
    }

    @Override
    protected String[] slotNames() {
        return new String[] {"Momentum"};
    }

    @Override
    protected void apply(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double lr) {
        k.applyMomentum(var, slots[0], grad, lr, momentum, nesterov, 0);
    }

    /** The decay term in the update's own pass: no extra pass over grad. */
    @Override
    protected void applyWithWeightDecay(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double lr, double weightDecay) {
        k.applyMomentum(var, slots[0], grad, lr, momentum, nesterov, weightDecay);
    }

    /** The variables of each backend in one batched call (on a GPU, one launch instead of one per variable). */
    @Override
    protected void applyAll(List<Update> updates, double lr) {
        Map<OptimizerKernels, List<OptimizerKernels.MomentumUpdate>> byBackend = new LinkedHashMap<>();
        for (Update u : updates) {
            byBackend.computeIfAbsent(Backends.kernels(u.grad(), OptimizerKernels.class), k -> new ArrayList<>())
                .add(new OptimizerKernels.MomentumUpdate(u.var(), u.slots()[0], u.grad(), u.weightDecay()));
        }
        byBackend.forEach((k, batch) -> k.applyMomentum(batch, lr, momentum, nesterov));
    }
}
