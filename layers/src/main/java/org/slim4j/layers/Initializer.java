package org.slim4j.layers;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Makes a variable's initial value. {@link Initializers} has TensorFlow's initialisers; the random
 * stream handed in is seeded from the variable store's seed and the variable's full name, so a
 * variable's initial value does not depend on the order in which variables are created.
 */
@FunctionalInterface
public interface Initializer {
    /** A new CPU tensor of {@code shape} and {@code dtype}. */
    Tensor create(Shape shape, DType dtype, SeededRandom random);
}
