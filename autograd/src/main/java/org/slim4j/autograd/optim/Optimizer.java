package org.slim4j.autograd.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * A TensorFlow optimizer: applies its update rule to each parameter from the parameter's
 * accumulated gradient, keeping per-variable slots under TF's names ({@code <var>/Momentum},
 * {@code <var>/Adam_1}, ...) and optional non-slot scalars ({@code beta1_power}), so that training
 * state checkpoints and resumes exactly as TF-Slim's does.
 */
public abstract class Optimizer implements AutoCloseable {
    private final Map<Var, Tensor[]> slots = new LinkedHashMap<>();
    private final Map<String, Tensor> nonSlots = new LinkedHashMap<>();

    /** TF's slot name suffixes, in slot order (empty for plain gradient descent). */
    protected abstract String[] slotNames();

    /** Initial value of slot {@code k} (TF: zeros, except RMSProp's ms and Adagrad/Ftrl accumulators). */
    protected double slotInitialValue(int k) {
        return 0;
    }

    /** Updates one variable in place. */
    protected abstract void apply(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double learningRate);

    /** Called once per step after all variables were updated (e.g. Adam's beta powers). */
    protected void finishStep() {
    }

    /**
     * Updates one variable from the gradient grad + weightDecay * var: an L2 regulariser's
     * gradient that the loss left out (see {@code VariableStore.regularizationLoss(boolean)}). This
     * default adds the term to grad in place (one more pass) and applies the rule; optimizers whose
     * kernel takes the term in its own pass override it.
     */
    protected void applyWithWeightDecay(OptimizerKernels k, Tensor var, Tensor[] slots, Tensor grad, double learningRate,
                                        double weightDecay) {
        Backends.kernels(grad, ElementwiseKernels.class).addInPlace(grad, var, weightDecay);
        apply(k, var, slots, grad, learningRate);
    }

    /** One update of every parameter that has a gradient. */
    public final void step(List<Var> params, double learningRate) {
        step(params, learningRate, p -> 0);
    }

    /**
     * One update of every parameter, each from its gradient plus {@code weightDecay(p) * p}: the
     * gradient of L2 regularisation losses computed without autograd. A parameter with a decay and
     * no gradient (unused by the loss) is updated from the decay term alone, as its regulariser's
     * gradient would have done.
     */
    public final void step(List<Var> params, double learningRate, ToDoubleFunction<Var> weightDecay) {
        List<Update> updates = new ArrayList<>();
        List<Tensor> zeroGrads = new ArrayList<>();
        try {
            for (Var p : params) {
                double decay = weightDecay.applyAsDouble(p);
                Tensor g = p.grad();
                if (g == null && decay == 0) continue;
                Tensor value = p.value();
                if (g == null) {
                    g = Tensor.zeros(value.device(), value.dtype(), value.shape());
                    zeroGrads.add(g);
                }
                updates.add(new Update(value, slotsFor(p), g, decay));
            }
            if (!updates.isEmpty()) applyAll(updates, learningRate);
        } finally {
            // Safe once queued: a device reuses the memory only for work queued after the updates.
            zeroGrads.forEach(Tensor::close);
        }
        if (!updates.isEmpty()) finishStep();
    }

    /** One variable's part of a step: its value, its slots, its gradient and its L2 weight decay (0 for none). */
    protected record Update(Tensor var, Tensor[] slots, Tensor grad, double weightDecay) {
    }

    /**
     * Applies one step's updates. This default takes them one at a time ({@link #apply}, or
     * {@link #applyWithWeightDecay} where there is a decay); an optimizer whose kernels can update
     * many variables in one call overrides it.
     */
    protected void applyAll(List<Update> updates, double learningRate) {
        for (Update u : updates) {
            OptimizerKernels k = Backends.kernels(u.grad(), OptimizerKernels.class);
            if (u.weightDecay() == 0) apply(k, u.var(), u.slots(), u.grad(), learningRate);
            else applyWithWeightDecay(k, u.var(), u.slots(), u.grad(), learningRate, u.weightDecay());
        }
    }

    /** Creates the slots of {@code params} now (before a restore fills them from a checkpoint). */
    public final void createSlots(List<Var> params) {
        for (Var p : params) slotsFor(p);
    }

    private Tensor[] slotsFor(Var p) {
        return slots.computeIfAbsent(p, v -> {
            String[] names = slotNames();
            Tensor[] s = new Tensor[names.length];
            Tensor value = v.value();
            for (int k = 0; k < names.length; k++) {
                s[k] = TensorScope.escape(Tensor.zeros(value.device(), value.dtype(), value.shape()));
                double init = slotInitialValue(k);
                if (init != 0) Backends.kernels(s[k], org.slim4j.kernels.ElementwiseKernels.class).fillInPlace(s[k], init);
            }
            return s;
        });
    }

    /**
     * A scalar float32 non-slot variable (e.g. Adam's beta1_power), created once. It stays on the
     * host whatever the parameters' device: update rules take it as a number, so a GPU step reads it
     * without a device round trip; checkpoints save and restore it like any host tensor.
     */
    protected final Tensor nonSlot(String name, double initial) {
        return nonSlots.computeIfAbsent(name, n -> TensorScope.escape(Tensor.fill(DType.FLOAT32, Shape.scalar(), initial)));
    }

    /**
     * The optimizer's variables under TF's checkpoint names: {@code <var name>/<slot>} for every
     * parameter with slots, then the non-slot scalars. The tensors are live: copying into them restores.
     */
    public final Map<String, Tensor> variables(Function<Var, String> nameOf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        String[] names = slotNames();
        for (Map.Entry<Var, Tensor[]> e : slots.entrySet()) {
            for (int k = 0; k < names.length; k++) out.put(nameOf.apply(e.getKey()) + "/" + names[k], e.getValue()[k]);
        }
        out.putAll(nonSlots);
        return out;
    }

    /** Releases every slot. */
    @Override
    public void close() {
        List<Tensor> all = new ArrayList<>(nonSlots.values());
        for (Tensor[] s : slots.values()) all.addAll(List.of(s));
        all.forEach(Tensor::close);
        slots.clear();
        nonSlots.clear();
    }
}
