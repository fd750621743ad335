package org.slim4j.layers;

import org.slim4j.autograd.Var;

/**
 * A layer's {@code activation_fn}. Write custom ones with {@link Ops} so that they also work in
 * shape-only builds. {@code null} where an activation is expected means linear (TF's None).
 */
@FunctionalInterface
public interface Activation {
    Var apply(Var x);

    /** tf.nn.relu. */
    Activation RELU = Ops::relu;
    /** tf.nn.relu6. */
    Activation RELU6 = Ops::relu6;
    /** tf.nn.sigmoid. */
    Activation SIGMOID = Ops::sigmoid;
    /** tf.nn.tanh. */
    Activation TANH = Ops::tanh;
    /** tf.identity. */
    Activation IDENTITY = x -> x;
}
