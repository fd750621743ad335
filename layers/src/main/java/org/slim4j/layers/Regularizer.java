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

    /**
     * d such that this regulariser's gradient is d · weights and its loss d · l2_loss(weights) (an L2
     * regulariser's scale), so that an optimizer can add the term in its own pass and the store can
     * sum many such losses in one reduction ({@link VariableStore#regularizationLoss(boolean)}); 0
     * when the regulariser has another form.
     */
    default double weightDecay() {
        return 0;
    }
}
