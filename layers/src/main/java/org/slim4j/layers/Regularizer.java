package org.slim4j.layers;

import org.slim4j.autograd.Var;

/**
 * A weights/biases regulariser: maps a variable to its scalar loss term, or null for none (TF's
 * {@code l2_regularizer(0.0)} returns None). The variable store keeps the pair and evaluates it
 * from the current values whenever the regularisation loss is asked for.
 */
@FunctionalInterface
public interface Regularizer {
    Var apply(Var weights);
}
