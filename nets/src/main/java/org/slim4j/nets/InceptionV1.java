package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.DROPOUT;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;
import static org.slim4j.layers.Layers.MAX_POOL2D;
import static org.slim4j.layers.Layers.avgPool2d;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.maxPool2d;
import static org.slim4j.nets.InceptionUtils.concat;
import static org.slim4j.nets.InceptionUtils.done;

import java.util.ArrayList;
import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Ops;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's Inception V1 / GoogLeNet ({@code nets/inception_v1.py}, Szegedy et al. 2014) with
 * batch norm: a 7x7/2 conv root, nine Inception modules (Mixed_3b .. Mixed_5c, each a 1x1 branch,
 * a 1x1→3x3 branch, a second 1x1→3x3 branch and a 3x3 max pool→1x1 branch concatenated over
 * channels) and a 7x7 average pool → dropout → 1x1 conv logits head, on 224x224 images; scope
 * {@code InceptionV1}. Every conv and fc inside draws its weights from trunc_normal(0.01).
 */
public final class InceptionV1 {
    private InceptionV1() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 224;

    private static final List<String> ROOT_END_POINTS = List.of("Conv2d_1a_7x7", "MaxPool_2a_3x3", "Conv2d_2b_1x1", "Conv2d_2c_3x3",
        "MaxPool_3a_3x3");
    private static final List<String> MODULE_END_POINTS = List.of("Mixed_3b", "Mixed_3c", "MaxPool_4a_3x3", "Mixed_4b", "Mixed_4c",
        "Mixed_4d", "Mixed_4e", "Mixed_4f", "MaxPool_5a_2x2", "Mixed_5b", "Mixed_5c");

    /**
     * inception_v1_base(inputs, final_endpoint='Mixed_5c', include_root_block=True,
     * scope='InceptionV1'): the network up to {@code finalEndpoint}; returns that end point's
     * output and the end points so far (keyed {@code Conv2d_1a_7x7}, ..., {@code Mixed_5c}).
     */
    public static NetOutput inceptionV1Base(Var inputs, String finalEndpoint, boolean includeRootBlock, String scope) {
        InceptionUtils.checkFinalEndpoint(finalEndpoint, endPointNames(includeRootBlock));
        try (VariableScope sc = VariableScope.open(scope, "InceptionV1")) {
            return base(inputs, finalEndpoint, includeRootBlock);
        }
    }

    /** inception_v1_base(inputs) up to Mixed_5c. */
    public static NetOutput inceptionV1Base(Var inputs) {
        return inceptionV1Base(inputs, "Mixed_5c", true, null);
    }

    /** The end points of the base, in order. */
    public static List<String> endPointNames(boolean includeRootBlock) {
        if (!includeRootBlock) return MODULE_END_POINTS;
        List<String> all = new ArrayList<>(ROOT_END_POINTS);
        all.addAll(MODULE_END_POINTS);
        return List.copyOf(all);
    }

    /** The base's body in the already open network scope. */
    private static NetOutput base(Var inputs, String finalEndpoint, boolean includeRootBlock) {
        EndPoints endPoints = new EndPoints();
        try (var init = ArgScope.of(CONV2D, FULLY_CONNECTED).set(weightsInitializer(InceptionUtils.truncNormal(0.01))).open();
             var same = ArgScope.of(CONV2D, MAX_POOL2D).set(stride(1), padding(SAME)).open()) {
            Var net = inputs;
            if (includeRootBlock) {
                net = conv2d(inputs, 64, 7, 2, "Conv2d_1a_7x7");
                if (done(endPoints, "Conv2d_1a_7x7", net, finalEndpoint)) return new NetOutput(net, endPoints);
                net = maxPool2d(net, 3, 2, "MaxPool_2a_3x3");
                if (done(endPoints, "MaxPool_2a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
                net = conv2d(net, 64, 1, "Conv2d_2b_1x1");
                if (done(endPoints, "Conv2d_2b_1x1", net, finalEndpoint)) return new NetOutput(net, endPoints);
                net = conv2d(net, 192, 3, "Conv2d_2c_3x3");
                if (done(endPoints, "Conv2d_2c_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
                net = maxPool2d(net, 3, 2, "MaxPool_3a_3x3");
                if (done(endPoints, "MaxPool_3a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            }
            net = module(net, "Mixed_3b", 64, 96, 128, 16, 32, 32, "Conv2d_0b_3x3");
            if (done(endPoints, "Mixed_3b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_3c", 128, 128, 192, 32, 96, 64, "Conv2d_0b_3x3");
            if (done(endPoints, "Mixed_3c", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = maxPool2d(net, 3, 2, "MaxPool_4a_3x3");
            if (done(endPoints, "MaxPool_4a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_4b", 192, 96, 208, 16, 48, 64, "Conv2d_0b_3x3");
            if (done(endPoints, "Mixed_4b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_4c", 160, 112, 224, 24, 64, 64, "Conv2d_0b_3x3");
            if (done(endPoints, "Mixed_4c", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_4d", 128, 128, 256, 24, 64, 64, "Conv2d_0b_3x3");
            if (done(endPoints, "Mixed_4d", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_4e", 112, 144, 288, 32, 64, 64, "Conv2d_0b_3x3");
            if (done(endPoints, "Mixed_4e", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_4f", 256, 160, 320, 32, 128, 128, "Conv2d_0b_3x3");
            if (done(endPoints, "Mixed_4f", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = maxPool2d(net, 2, 2, "MaxPool_5a_2x2");
            if (done(endPoints, "MaxPool_5a_2x2", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // TF-Slim's Mixed_5b names its Branch_2 3x3 conv Conv2d_0a_3x3 (checkpoints depend on it).
            net = module(net, "Mixed_5b", 256, 160, 320, 32, 128, 128, "Conv2d_0a_3x3");
            if (done(endPoints, "Mixed_5b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_5c", 384, 192, 384, 48, 128, 128, "Conv2d_0b_3x3");
            done(endPoints, "Mixed_5c", net, finalEndpoint);
            return new NetOutput(net, endPoints);
        }
    }

    /**
     * One Inception module: Branch_0 1x1 b0; Branch_1 1x1 b1a → 3x3 b1b; Branch_2 1x1 b2a → 3x3
     * b2b (scope {@code b2bScope}); Branch_3 3x3 max pool → 1x1 b3; concatenated over channels.
     */
    private static Var module(Var net, String name, int b0, int b1a, int b1b, int b2a, int b2b, int b3, String b2bScope) {
        try (VariableScope m = VariableScope.open(name)) {
            Var branch0;
            Var branch1;
            Var branch2;
            Var branch3;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(net, b0, 1, "Conv2d_0a_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(net, b1a, 1, "Conv2d_0a_1x1");
                branch1 = conv2d(branch1, b1b, 3, "Conv2d_0b_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = conv2d(net, b2a, 1, "Conv2d_0a_1x1");
                branch2 = conv2d(branch2, b2b, 3, b2bScope);
            }
            try (VariableScope b = VariableScope.open("Branch_3")) {
                branch3 = maxPool2d(net, 3, "MaxPool_0a_3x3");
                branch3 = conv2d(branch3, b3, 1, "Conv2d_0b_1x1");
            }
            return concat(branch0, branch1, branch2, branch3);
        }
    }

    /**
     * inception_v1(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8,
     * prediction_fn=slim.softmax, spatial_squeeze=True, scope='InceptionV1', global_pool=False).
     * Head in scope {@code Logits}: a fixed 7x7 stride-1 VALID average pool (end point
     * {@code AvgPool_0a_7x7}) or, with global_pool, a mean over all positions ({@code global_pool});
     * numClasses 0 returns that [N, 1, 1, 1024] output; else Dropout_0b → Conv2d_0c_1x1 (linear,
     * with biases) → squeeze → {@code Logits}, {@code Predictions}.
     */
    public static NetOutput inceptionV1(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, PredictionFn predictionFn,
                                        boolean spatialSqueeze, String scope, boolean globalPool) {
        try (VariableScope sc = VariableScope.open(scope, "InceptionV1");
             var training = ArgScope.of(BATCH_NORM, DROPOUT).set(isTraining(isTraining)).open()) {
            NetOutput b = base(inputs, "Mixed_5c", true);
            Var net = b.logits();
            EndPoints endPoints = b.endPoints();
            try (VariableScope logitsScope = VariableScope.open("Logits")) {
                if (globalPool) {
                    net = endPoints.put("global_pool", Ops.reduceMean(net, new int[] {1, 2}, true));
                } else {
                    net = endPoints.put("AvgPool_0a_7x7", avgPool2d(net, 7, 1, "AvgPool_0a_7x7"));
                }
                if (numClasses == 0) return new NetOutput(net, endPoints);
                net = dropout(net, dropoutKeepProb, "Dropout_0b");
                Var logits = conv2d(net, numClasses, 1, "Conv2d_0c_1x1", activationFn(null), normalizerFn(null));
                if (spatialSqueeze) logits = Ops.squeezeNamed(logits, "SpatialSqueeze", 1, 2);
                endPoints.put("Logits", logits);
                if (predictionFn != null) endPoints.put("Predictions", predictionFn.apply(logits, "Predictions"));
                return new NetOutput(logits, endPoints);
            }
        }
    }

    /** inception_v1_arg_scope = inception_arg_scope. */
    public static ArgScope inceptionV1ArgScope(double weightDecay) {
        return InceptionUtils.inceptionArgScope(weightDecay);
    }

    /** The nets factory entry {@code inception_v1}. */
    public static final NetworkFn INCEPTION_V1 = NetworkFn.of("inception_v1", DEFAULT_IMAGE_SIZE, 3, 1000, InceptionV1::inceptionV1ArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.PREDICTION_FN, NetArg.SPATIAL_SQUEEZE, NetArg.SCOPE, NetArg.GLOBAL_POOL),
        (images, numClasses, training, o) -> inceptionV1(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.8),
            o.get(NetArg.PREDICTION_FN, PredictionFn.SOFTMAX), o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(NetArg.SCOPE, "InceptionV1"),
            o.get(NetArg.GLOBAL_POOL, false)));
}
