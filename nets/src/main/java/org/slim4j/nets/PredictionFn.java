package org.slim4j.nets;

import org.slim4j.autograd.Var;
import org.slim4j.layers.Layers;

/** A network's {@code prediction_fn(logits, scope=...)}; {@link #SOFTMAX} is slim.softmax. */
@FunctionalInterface
public interface PredictionFn {
    Var apply(Var logits, String scope);

    PredictionFn SOFTMAX = Layers::softmax;
}
