package org.slim4j.autograd.optim;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * Gradient descent, optionally with TF's MomentumOptimizer rule:
 * accum = momentum * accum + grad; var -= lr * accum.
 */
public final class Sgd implements Optimizer, AutoCloseable {
    private final double momentum;
    private final Map<Var, Tensor> accumulators = new IdentityHashMap<>();

    public Sgd() {
        this(0);
    }

    public Sgd(double momentum) {
        if (momentum < 0) throw new IllegalArgumentException("momentum must be >= 0, got " + momentum);
        this.momentum = momentum;
    }

    @Override
    public void step(List<Var> params, double learningRate) {
        for (Var p : params) {
            Tensor g = p.grad();
            if (g == null) continue;
            ElementwiseKernels k = Backends.kernels(g, ElementwiseKernels.class);
            if (momentum == 0) {
                k.addInPlace(p.value(), g, -learningRate);
                continue;
            }
            Tensor acc = accumulators.get(p);
            if (acc == null) {
                acc = TensorScope.escape(Tensor.zerosLike(g));
                accumulators.put(p, acc);
            }
            k.scaleInPlace(acc, momentum);
            k.addInPlace(acc, g, 1.0);
            k.addInPlace(p.value(), acc, -learningRate);
        }
    }

    /** Releases the momentum accumulators. */
    @Override
    public void close() {
        accumulators.values().forEach(Tensor::close);
        accumulators.clear();
    }
}
