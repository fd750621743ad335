package org.slim4j.nets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Expected variables of NASNet-style networks, written out by hand from TF-Slim's naming rules:
 * convolutions {@code weights} (no biases under the NASNet arg scope), batch norms with
 * {@code beta, gamma, moving_mean, moving_variance}, stacked separable convolutions
 * {@code separable_KxK_i/{depthwise,pointwise}_weights} + {@code bn_sep_KxK_i}; and a parameter
 * counter over the same pieces.
 */
final class NasnetExpect {
    final List<String> names = new ArrayList<>();
    long trainable;
    long all;

    /** A conv without biases: {@code scope/weights}. */
    NasnetExpect conv(String scope, int kh, int kw, int in, int out) {
        names.add(scope + "/weights " + Arrays.toString(new int[] {kh, kw, in, out}));
        long n = (long) kh * kw * in * out;
        trainable += n;
        all += n;
        return this;
    }

    /** A batch norm with scale: beta and gamma trainable, the moving statistics not. */
    NasnetExpect bn(String scope, int c) {
        for (String v : List.of("beta", "gamma", "moving_mean", "moving_variance")) names.add(scope + "/" + v + " [" + c + "]");
        trainable += 2L * c;
        all += 4L * c;
        return this;
    }

    /** relu → 1x1 conv → batch norm, e.g. prev_1x1 + prev_bn. */
    NasnetExpect conv1x1Bn(String conv, String bn, int in, int out) {
        return conv(conv, 1, 1, in, out).bn(bn, out);
    }

    /** separable_KxK_2 under {@code prefix}: two separable convs (depth multiplier 1) each followed by a batch norm. */
    NasnetExpect sep(String prefix, int k, int in, int f) {
        for (int layer = 1; layer <= 2; layer++) {
            int c = layer == 1 ? in : f;
            String s = prefix + "/separable_" + k + "x" + k + "_" + layer;
            names.add(s + "/depthwise_weights " + Arrays.toString(new int[] {k, k, c, 1}));
            names.add(s + "/pointwise_weights " + Arrays.toString(new int[] {1, 1, c, f}));
            trainable += (long) k * k * c + (long) c * f;
            all += (long) k * k * c + (long) c * f;
            bn(prefix + "/bn_sep_" + k + "x" + k + "_" + layer, f);
        }
        return this;
    }

    /** Factorized reduction to f filters under {@code prefix} (path1_conv, path2_conv, final_path_bn). */
    NasnetExpect factorized(String prefix, int in, int f) {
        return conv(prefix + "/path1_conv", 1, 1, in, f / 2).conv(prefix + "/path2_conv", 1, 1, in, f - f / 2).bn(prefix + "/final_path_bn", f);
    }

    /** A fully connected layer with biases. */
    NasnetExpect fc(String scope, int in, int out) {
        names.add(scope + "/weights [" + in + ", " + out + "]");
        names.add(scope + "/biases [" + out + "]");
        trainable += (long) in * out + out;
        all += (long) in * out + out;
        return this;
    }

    /** The aux head on a map of {@code size} with {@code in} channels. */
    NasnetExpect auxHead(String scope, int in, int size, int classes) {
        int k = (size - 5) / 3 + 1;
        String s = scope + "/aux_logits";
        return conv(s + "/proj", 1, 1, in, 128).bn(s + "/aux_bn0", 128).conv(s + "/Conv", k, k, 128, 768).bn(s + "/aux_bn1", 768)
            .fc(s + "/FC", 768, classes);
    }

    /** "name [d0, d1, ...]" of the variables under {@code prefix/}, in creation order. */
    static List<String> actual(Map<String, int[]> variables, String prefix) {
        List<String> out = new ArrayList<>();
        variables.forEach((k, v) -> {
            if (k.startsWith(prefix + "/")) out.add(k + " " + Arrays.toString(v));
        });
        return out;
    }

    /** This list restricted to {@code prefix/}. */
    List<String> under(String prefix) {
        return names.stream().filter(n -> n.startsWith(prefix + "/")).toList();
    }
}
