package org.slim4j.kernels;

import org.slim4j.tensor.Tensor;

/** Elementwise arithmetic, activations and their gradients, plus in-place updates for optimizers. */
public interface ElementwiseKernels {
    /** a op b with broadcasting (shapes aligned at the right, size-1 dimensions stretch). */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    Tensor unary(UnaryOp op, Tensor x);

    /**
     * activation(a + b) (with broadcasting): a residual connection's sum and its activation
     * (ResNet's relu(shortcut + residual)). Equal, value for value, to {@code unary(activation,
     * binary(ADD, a, b))}; backends that can do it in one pass over memory override this.
     */
    default Tensor addActivation(Tensor a, Tensor b, UnaryOp activation) {
        Tensor sum = binary(BinaryOp.ADD, a, b);
        try {
            return unary(activation, sum);
        } finally {
            sum.close();
        }
    }

    /**
     * Gradient of a unary op given dy. {@code x} is the op's input and {@code y} its output; each op
     * uses what TensorFlow's gradient uses (Relu/Relu6: x; Sigmoid/Tanh/Exp/Sqrt/Rsqrt: y; others: x).
     */
    Tensor unaryGrad(UnaryOp op, Tensor x, Tensor y, Tensor dy);

    /** x * scale + shift, elementwise with scalars. */
    Tensor affine(Tensor x, double scale, double shift);

    /** x ^ exponent elementwise. */
    Tensor pow(Tensor x, double exponent);

    /** dst += alpha * src, in place (same shape and dtype). */
    void addInPlace(Tensor dst, Tensor src, double alpha);

    /**
     * TF's assign_moving_average without debiasing, in place: moving -= (1 - decay) * (moving -
     * factor * batch), both the same shape and dtype (batch norm's moving statistics). The default
     * is affine, binary SUB and addInPlace in a row; a backend may do it in one pass with the same
     * arithmetic.
     */
    default void movingAverageInPlace(Tensor moving, Tensor batch, double factor, double decay) {
        Tensor value = factor == 1.0 ? batch : affine(batch, factor, 0);
        try (Tensor delta = binary(BinaryOp.SUB, moving, value)) {
            addInPlace(moving, delta, -(1.0 - decay));
        } finally {
            if (value != batch) value.close();
        }
    }

    /** dst *= factor, in place. */
    void scaleInPlace(Tensor dst, double factor);

    /** dst = value everywhere, in place. */
    void fillInPlace(Tensor dst, double value);
}
