package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The variables a TF-Slim network should create, written down layer by layer in the tests from the
 * architecture (not from the implementation): each layer adds its variables in slim's creation
 * order (weights, then biases or BatchNorm/beta, moving_mean, moving_variance), and the expected
 * trainable and total parameter counts follow.
 */
final class ExpectedVariables {
    private final String prefix;
    private final Map<String, int[]> variables = new LinkedHashMap<>();
    private long trainable;
    private long all;
    private long bnChannels;

    ExpectedVariables(String prefix) {
        this.prefix = prefix;
    }

    /** A conv2d under the inception arg scope: weights [kh, kw, in, out] and batch norm (no gamma). */
    ExpectedVariables conv(String scope, int kh, int kw, int in, int out) {
        add(scope + "/weights", true, kh, kw, in, out);
        add(scope + "/BatchNorm/beta", true, out);
        add(scope + "/BatchNorm/moving_mean", false, out);
        add(scope + "/BatchNorm/moving_variance", false, out);
        bnChannels += out;
        return this;
    }

    /** A square conv2d with batch norm. */
    ExpectedVariables conv(String scope, int k, int in, int out) {
        return conv(scope, k, k, in, out);
    }

    /** A conv2d without normalizer: weights and biases. */
    ExpectedVariables convWithBiases(String scope, int kh, int kw, int in, int out) {
        add(scope + "/weights", true, kh, kw, in, out);
        add(scope + "/biases", true, out);
        return this;
    }

    /** A fully_connected layer: weights [in, out] and biases. */
    ExpectedVariables fc(String scope, int in, int out) {
        add(scope + "/weights", true, in, out);
        add(scope + "/biases", true, out);
        return this;
    }

    /** A variable of its own (e.g. separable_conv2d's depthwise_weights). */
    ExpectedVariables add(String name, boolean isTrainable, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        variables.put(prefix + name, shape);
        all += n;
        if (isTrainable) trainable += n;
        return this;
    }

    long trainable() {
        return trainable;
    }

    long all() {
        return all;
    }

    /** Channels that carry batch norm (each has a beta, a moving mean and a moving variance). */
    long bnChannels() {
        return bnChannels;
    }

    List<String> names() {
        return new ArrayList<>(variables.keySet());
    }

    /** The built network has exactly these variables, in this order, with these shapes. */
    void assertMatches(Map<String, int[]> actual, String what) {
        assertEquals(names(), new ArrayList<>(actual.keySet()), what + ": variable names");
        variables.forEach((name, shape) -> assertArrayEquals(shape, actual.get(name), what + ": shape of " + name));
    }
}
