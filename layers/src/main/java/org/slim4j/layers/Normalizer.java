package org.slim4j.layers;

import org.slim4j.autograd.Var;

/**
 * A layer's {@code normalizer_fn}: called on the pre-activation output inside the layer's scope
 * with the layer's {@code normalizer_params} as explicit arguments. When a layer has one it
 * creates no biases.
 */
@FunctionalInterface
public interface Normalizer {
    Var apply(Var x, Args params);

    /** slim.batch_norm (variables under {@code <layer>/BatchNorm/}). */
    Normalizer BATCH_NORM = (x, params) -> Layers.batchNorm(x, null, params);
}
