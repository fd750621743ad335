package org.slim4j.layers;

import org.slim4j.autograd.Var;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * One variable of a {@link VariableStore}: its full TF name (e.g.
 * {@code vgg_16/conv1/conv1_1/weights}), its value, whether it is trained, whether it is a model
 * variable (TF's MODEL_VARIABLES: everything a layer creates, moving statistics included), and its
 * regulariser. {@link #var()} is the autograd leaf layers compute with: a parameter when trainable,
 * a constant otherwise.
 */
public final class Variable {
    private final String name;
    private final Var var;
    private final boolean trainable;
    private final boolean modelVariable;
    private final Regularizer regularizer;

    Variable(String name, Var var, boolean trainable, boolean modelVariable, Regularizer regularizer) {
        this.name = name;
        this.var = var;
        this.trainable = trainable;
        this.modelVariable = modelVariable;
        this.regularizer = regularizer;
    }

    /** The full name, as in a TF checkpoint. */
    public String name() {
        return name;
    }

    public Var var() {
        return var;
    }

    /** The current value (updated in place by optimisers and moving averages). */
    public Tensor value() {
        return var.value();
    }

    public Shape shape() {
        return var.value().shape();
    }

    /** Number of elements. */
    public long size() {
        return var.value().shape().numel();
    }

    public boolean trainable() {
        return trainable;
    }

    public boolean modelVariable() {
        return modelVariable;
    }

    /** The regulariser given at creation, or null. */
    public Regularizer regularizer() {
        return regularizer;
    }

    @Override
    public String toString() {
        return name + " " + shape() + (trainable ? "" : " (not trainable)");
    }
}
