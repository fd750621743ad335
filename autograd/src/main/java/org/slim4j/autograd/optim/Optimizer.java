package org.slim4j.autograd.optim;

import java.util.List;
import org.slim4j.autograd.Var;

/** Updates parameters in place from their accumulated gradients. */
public interface Optimizer {
    /** Applies one update with the given learning rate; parameters without a gradient are left alone. */
    void step(List<Var> params, double learningRate);
}
