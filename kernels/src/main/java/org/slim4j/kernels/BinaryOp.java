package org.slim4j.kernels;

/** Elementwise binary operations with NumPy/TensorFlow broadcasting. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM,
    /** (a - b)^2 */
    SQUARED_DIFFERENCE
}
