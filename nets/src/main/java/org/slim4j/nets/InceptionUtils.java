package org.slim4j.nets;

import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.biasesRegularizer;
import static org.slim4j.layers.Arg.decay;
import static org.slim4j.layers.Arg.epsilon;
import static org.slim4j.layers.Arg.fused;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.normalizerParams;
import static org.slim4j.layers.Arg.scale;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;

import java.util.List;
import java.util.function.IntUnaryOperator;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Activation;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Args;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializer;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.Normalizer;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Regularizers;

/**
 * What TF-Slim's Inception family shares ({@code nets/inception_utils.py} and the helpers the
 * network files repeat): the {@code inception_arg_scope} (batch norm after every conv2d, He
 * initialisation, L2 decay on conv and fc weights), the depth function of the width-multiplied
 * nets, {@code _reduced_kernel_size_for_small_input}, and the bookkeeping of
 * {@code final_endpoint}.
 */
public final class InceptionUtils {
    private InceptionUtils() {
    }

    /** tf.GraphKeys.UPDATE_OPS, the default batch_norm_updates_collections (slim4j updates in place either way). */
    static final String UPDATE_OPS = "update_ops";

    /**
     * inception_arg_scope(weight_decay=0.00004, use_batch_norm=True, batch_norm_decay=0.9997,
     * batch_norm_epsilon=0.001, activation_fn=tf.nn.relu, batch_norm_scale=False): conv2d and
     * fully_connected weights get an L2 regulariser; conv2d gets variance_scaling (He, truncated
     * normal) weights, the activation and, with use_batch_norm, slim.batch_norm as normalizer
     * (fused=None, so the fused kernel). fully_connected has no batch norm; separable_conv2d is not
     * in the scope at all (Inception V2's first layer keeps its biases and default relu).
     */
    public static ArgScope inceptionArgScope(double weightDecay, boolean useBatchNorm, double batchNormDecay, double batchNormEpsilon,
                                             Activation activation, boolean batchNormScale) {
        Args batchNormParams = Args.of(decay(batchNormDecay), epsilon(batchNormEpsilon), Arg.UPDATES_COLLECTIONS.is(UPDATE_OPS),
            fused(null), scale(batchNormScale));
        return ArgScope.of(CONV2D, FULLY_CONNECTED).set(weightsRegularizer(Regularizers.l2(weightDecay)))
            .nest(ArgScope.of(CONV2D).set(
                weightsInitializer(Initializers.varianceScaling()),
                activationFn(activation),
                normalizerFn(useBatchNorm ? Normalizer.BATCH_NORM : null),
                normalizerParams(useBatchNorm ? batchNormParams : Args.empty())));
    }

    /** inception_arg_scope(weight_decay) with the other defaults: what the nets factory opens for inception_v1..v4. */
    public static ArgScope inceptionArgScope(double weightDecay) {
        return inceptionArgScope(weightDecay, true, 0.9997, 0.001, Activation.RELU, false);
    }

    /** inception_arg_scope() with weight_decay 0.00004. */
    public static ArgScope inceptionArgScope() {
        return inceptionArgScope(0.00004);
    }

    /**
     * inception_resnet_v2_arg_scope(weight_decay=0.00004, batch_norm_decay=0.9997,
     * batch_norm_epsilon=0.001, activation_fn=tf.nn.relu, batch_norm_scale=False): unlike
     * inception_arg_scope the biases of conv2d and fully_connected are L2-regularised too, and the
     * conv2d weights keep the layer default (xavier).
     */
    public static ArgScope inceptionResnetV2ArgScope(double weightDecay, double batchNormDecay, double batchNormEpsilon,
                                                     Activation activation, boolean batchNormScale) {
        Args batchNormParams = Args.of(decay(batchNormDecay), epsilon(batchNormEpsilon), Arg.UPDATES_COLLECTIONS.is(UPDATE_OPS),
            fused(null), scale(batchNormScale));
        return ArgScope.of(CONV2D, FULLY_CONNECTED).set(
                weightsRegularizer(Regularizers.l2(weightDecay)),
                biasesRegularizer(Regularizers.l2(weightDecay)))
            .nest(ArgScope.of(CONV2D).set(
                activationFn(activation),
                normalizerFn(Normalizer.BATCH_NORM),
                normalizerParams(batchNormParams)));
    }

    public static ArgScope inceptionResnetV2ArgScope(double weightDecay) {
        return inceptionResnetV2ArgScope(weightDecay, 0.9997, 0.001, Activation.RELU, false);
    }

    /** {@code trunc_normal = lambda stddev: tf.truncated_normal_initializer(0.0, stddev)} of the network files. */
    static Initializer truncNormal(double stddev) {
        return Initializers.truncatedNormal(0.0, stddev);
    }

    /**
     * {@code depth = lambda d: max(int(d * depth_multiplier), min_depth)} of Inception V2/V3; rejects
     * a non-positive multiplier with TF's message.
     */
    static IntUnaryOperator depthFn(double depthMultiplier, int minDepth) {
        checkDepthMultiplier(depthMultiplier);
        return d -> Math.max((int) (d * depthMultiplier), minDepth);
    }

    static void checkDepthMultiplier(double depthMultiplier) {
        if (!(depthMultiplier > 0)) throw new IllegalArgumentException("depth_multiplier is not greater than zero (got " + depthMultiplier + ")");
    }

    /**
     * _reduced_kernel_size_for_small_input(input_tensor, kernel_size): the kernel shrunk to the
     * feature map when the map is smaller, {min(H, kh), min(W, kw)} (shapes are always static here).
     */
    public static int[] reducedKernelSizeForSmallInput(Var input, int[] kernelSize) {
        int[] d = input.value().dims();
        return new int[] {Math.min(d[1], kernelSize[0]), Math.min(d[2], kernelSize[1])};
    }

    /** tf.concat(axis=3, values=[...]): the channel concatenation of an Inception module's branches. */
    static Var concat(Var... branches) {
        return Ops.concat(List.of(branches), 3);
    }

    /** The {@code H x W} suffix of scope names built from a kernel size, e.g. {@code AvgPool_1a_8x8}. */
    static String kernelName(int[] k) {
        return k[0] + "x" + k[1];
    }

    /**
     * The {@code final_endpoint} argument of the base functions: must be one of the network's end
     * points (checked before anything is built; TF raises "Unknown final endpoint" after building).
     */
    static void checkFinalEndpoint(String finalEndpoint, List<String> valid) {
        if (!valid.contains(finalEndpoint)) {
            throw new IllegalArgumentException("Unknown final endpoint " + finalEndpoint + " (valid: " + String.join(", ", valid) + ")");
        }
    }

    /**
     * Records {@code net} as end point {@code name} and says whether it is the final one, TF's
     * {@code add_and_check_final}: {@code if (done(endPoints, "Mixed_5b", net, finalEndpoint)) return ...}.
     */
    static boolean done(EndPoints endPoints, String name, Var net, String finalEndpoint) {
        endPoints.put(name, net);
        return name.equals(finalEndpoint);
    }
}
