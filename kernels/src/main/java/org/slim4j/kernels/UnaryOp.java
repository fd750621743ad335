package org.slim4j.kernels;

/** Elementwise unary operations. */
public enum UnaryOp {
    NEG, ABS, SQUARE, SQRT, RSQRT, EXP, LOG, RECIPROCAL,
    RELU, RELU6, SIGMOID, TANH
}
