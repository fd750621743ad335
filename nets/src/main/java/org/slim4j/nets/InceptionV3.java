package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Layers.AVG_POOL2D;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.DROPOUT;
import static org.slim4j.layers.Layers.MAX_POOL2D;
import static org.slim4j.layers.Layers.avgPool2d;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.kernel;
import static org.slim4j.layers.Layers.maxPool2d;
import static org.slim4j.nets.InceptionUtils.concat;
import static org.slim4j.nets.InceptionUtils.done;
import static org.slim4j.nets.InceptionUtils.truncNormal;

import java.util.List;
import java.util.function.IntUnaryOperator;
import org.slim4j.autograd.Var;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Ops;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's Inception V3 ({@code nets/inception_v3.py}, Szegedy et al. 2015, "Rethinking the
 * Inception Architecture"): a VALID-padded stem of 3x3 convs and pools (299 → 35), three 35x35
 * modules (Mixed_5b..5d), a reduction to 17x17 (Mixed_6a), four 17x17 modules with factorised
 * 1x7 / 7x1 towers (Mixed_6b..6e), a reduction to 8x8 (Mixed_7a) and two 8x8 modules with split
 * 1x3 / 3x1 outputs (Mixed_7b, 7c); an auxiliary classifier on Mixed_6e; an 8x8 average pool →
 * dropout → 1x1 conv logits head; scope {@code InceptionV3}. Every channel count d becomes
 * {@code max(int(d * depth_multiplier), min_depth)}.
 */
public final class InceptionV3 {
    private InceptionV3() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 299;

    private static final List<String> END_POINTS = List.of("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_3a_3x3",
        "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_5a_3x3", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
        "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c");

    /** The end points of the base, in order. */
    public static List<String> endPointNames() {
        return END_POINTS;
    }

    /** inception_v3_base(inputs, final_endpoint='Mixed_7c', min_depth=16, depth_multiplier=1.0, scope=None). */
    public static NetOutput inceptionV3Base(Var inputs, String finalEndpoint, int minDepth, double depthMultiplier, String scope) {
        InceptionUtils.checkDepthMultiplier(depthMultiplier);
        InceptionUtils.checkFinalEndpoint(finalEndpoint, END_POINTS);
        try (VariableScope sc = VariableScope.open(scope, "InceptionV3")) {
            return base(inputs, finalEndpoint, InceptionUtils.depthFn(depthMultiplier, minDepth));
        }
    }

    /** inception_v3_base(inputs) up to Mixed_7c with the defaults. */
    public static NetOutput inceptionV3Base(Var inputs) {
        return inceptionV3Base(inputs, "Mixed_7c", 16, 1.0, null);
    }

    private static NetOutput base(Var inputs, String finalEndpoint, IntUnaryOperator depth) {
        EndPoints endPoints = new EndPoints();
        Var net;
        try (var valid = ArgScope.of(CONV2D, MAX_POOL2D, AVG_POOL2D).set(stride(1), padding(VALID)).open()) {
            // 299 x 299 x 3
            net = conv2d(inputs, depth.applyAsInt(32), 3, 2, "Conv2d_1a_3x3");
            if (done(endPoints, "Conv2d_1a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 149 x 149 x 32
            net = conv2d(net, depth.applyAsInt(32), 3, "Conv2d_2a_3x3");
            if (done(endPoints, "Conv2d_2a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 147 x 147 x 32
            net = conv2d(net, depth.applyAsInt(64), 3, "Conv2d_2b_3x3", padding(SAME));
            if (done(endPoints, "Conv2d_2b_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 147 x 147 x 64
            net = maxPool2d(net, 3, 2, "MaxPool_3a_3x3");
            if (done(endPoints, "MaxPool_3a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 73 x 73 x 64
            net = conv2d(net, depth.applyAsInt(80), 1, "Conv2d_3b_1x1");
            if (done(endPoints, "Conv2d_3b_1x1", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 73 x 73 x 80
            net = conv2d(net, depth.applyAsInt(192), 3, "Conv2d_4a_3x3");
            if (done(endPoints, "Conv2d_4a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 71 x 71 x 192
            net = maxPool2d(net, 3, 2, "MaxPool_5a_3x3");
            if (done(endPoints, "MaxPool_5a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 35 x 35 x 192
        }
        try (var same = ArgScope.of(CONV2D, MAX_POOL2D, AVG_POOL2D).set(stride(1), padding(SAME)).open()) {
            // 35 x 35 x 256 (5b), 288 (5c, 5d); Mixed_5c's Branch_1 has TF-Slim's odd scope names.
            net = module35(net, "Mixed_5b", depth, 32, "Conv2d_0a_1x1", "Conv2d_0b_5x5");
            if (done(endPoints, "Mixed_5b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module35(net, "Mixed_5c", depth, 64, "Conv2d_0b_1x1", "Conv_1_0c_5x5");
            if (done(endPoints, "Mixed_5c", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module35(net, "Mixed_5d", depth, 64, "Conv2d_0a_1x1", "Conv2d_0b_5x5");
            if (done(endPoints, "Mixed_5d", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 17 x 17 x 768
            try (VariableScope m = VariableScope.open("Mixed_6a")) {
                Var branch0;
                Var branch1;
                Var branch2;
                try (VariableScope b = VariableScope.open("Branch_0")) {
                    // (sic) a 3x3 conv scoped Conv2d_1a_1x1, as in the released checkpoints
                    branch0 = conv2d(net, depth.applyAsInt(384), 3, 2, "Conv2d_1a_1x1", padding(VALID));
                }
                try (VariableScope b = VariableScope.open("Branch_1")) {
                    branch1 = conv2d(net, depth.applyAsInt(64), 1, "Conv2d_0a_1x1");
                    branch1 = conv2d(branch1, depth.applyAsInt(96), 3, "Conv2d_0b_3x3");
                    branch1 = conv2d(branch1, depth.applyAsInt(96), 3, 2, "Conv2d_1a_1x1", padding(VALID));
                }
                try (VariableScope b = VariableScope.open("Branch_2")) {
                    branch2 = maxPool2d(net, 3, 2, "MaxPool_1a_3x3", padding(VALID));
                }
                net = concat(branch0, branch1, branch2);
            }
            if (done(endPoints, "Mixed_6a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module17(net, "Mixed_6b", depth, 128);
            if (done(endPoints, "Mixed_6b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module17(net, "Mixed_6c", depth, 160);
            if (done(endPoints, "Mixed_6c", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module17(net, "Mixed_6d", depth, 160);
            if (done(endPoints, "Mixed_6d", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module17(net, "Mixed_6e", depth, 192);
            if (done(endPoints, "Mixed_6e", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 8 x 8 x 1280
            try (VariableScope m = VariableScope.open("Mixed_7a")) {
                Var branch0;
                Var branch1;
                Var branch2;
                try (VariableScope b = VariableScope.open("Branch_0")) {
                    branch0 = conv2d(net, depth.applyAsInt(192), 1, "Conv2d_0a_1x1");
                    branch0 = conv2d(branch0, depth.applyAsInt(320), 3, 2, "Conv2d_1a_3x3", padding(VALID));
                }
                try (VariableScope b = VariableScope.open("Branch_1")) {
                    branch1 = conv2d(net, depth.applyAsInt(192), 1, "Conv2d_0a_1x1");
                    branch1 = conv2d(branch1, depth.applyAsInt(192), kernel(1, 7), "Conv2d_0b_1x7");
                    branch1 = conv2d(branch1, depth.applyAsInt(192), kernel(7, 1), "Conv2d_0c_7x1");
                    branch1 = conv2d(branch1, depth.applyAsInt(192), 3, 2, "Conv2d_1a_3x3", padding(VALID));
                }
                try (VariableScope b = VariableScope.open("Branch_2")) {
                    branch2 = maxPool2d(net, 3, 2, "MaxPool_1a_3x3", padding(VALID));
                }
                net = concat(branch0, branch1, branch2);
            }
            if (done(endPoints, "Mixed_7a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 8 x 8 x 2048; Mixed_7b's Branch_1 split is Conv2d_0b_1x3 / Conv2d_0b_3x1, Mixed_7c's Conv2d_0b_1x3 / Conv2d_0c_3x1
            net = module8(net, "Mixed_7b", depth, "Conv2d_0b_3x1");
            if (done(endPoints, "Mixed_7b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module8(net, "Mixed_7c", depth, "Conv2d_0c_3x1");
            done(endPoints, "Mixed_7c", net, finalEndpoint);
            return new NetOutput(net, endPoints);
        }
    }

    /**
     * A 35x35 module: Branch_0 1x1 64; Branch_1 1x1 48 → 5x5 64; Branch_2 1x1 64 → 3x3 96 → 3x3 96;
     * Branch_3 3x3 avg pool → 1x1 {@code poolProjection}.
     */
    private static Var module35(Var net, String name, IntUnaryOperator depth, int poolProjection, String b1aScope, String b1bScope) {
        try (VariableScope m = VariableScope.open(name)) {
            Var branch0;
            Var branch1;
            Var branch2;
            Var branch3;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(net, depth.applyAsInt(64), 1, "Conv2d_0a_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(net, depth.applyAsInt(48), 1, b1aScope);
                branch1 = conv2d(branch1, depth.applyAsInt(64), 5, b1bScope);
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = conv2d(net, depth.applyAsInt(64), 1, "Conv2d_0a_1x1");
                branch2 = conv2d(branch2, depth.applyAsInt(96), 3, "Conv2d_0b_3x3");
                branch2 = conv2d(branch2, depth.applyAsInt(96), 3, "Conv2d_0c_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_3")) {
                branch3 = avgPool2d(net, 3, "AvgPool_0a_3x3");
                branch3 = conv2d(branch3, depth.applyAsInt(poolProjection), 1, "Conv2d_0b_1x1");
            }
            return concat(branch0, branch1, branch2, branch3);
        }
    }

    /**
     * A 17x17 module with factorised 7x7 towers of inner width {@code w}: Branch_0 1x1 192;
     * Branch_1 1x1 w → 1x7 w → 7x1 192; Branch_2 1x1 w → 7x1 w → 1x7 w → 7x1 w → 1x7 192;
     * Branch_3 3x3 avg pool → 1x1 192.
     */
    private static Var module17(Var net, String name, IntUnaryOperator depth, int w) {
        try (VariableScope m = VariableScope.open(name)) {
            Var branch0;
            Var branch1;
            Var branch2;
            Var branch3;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(net, depth.applyAsInt(192), 1, "Conv2d_0a_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(net, depth.applyAsInt(w), 1, "Conv2d_0a_1x1");
                branch1 = conv2d(branch1, depth.applyAsInt(w), kernel(1, 7), "Conv2d_0b_1x7");
                branch1 = conv2d(branch1, depth.applyAsInt(192), kernel(7, 1), "Conv2d_0c_7x1");
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = conv2d(net, depth.applyAsInt(w), 1, "Conv2d_0a_1x1");
                branch2 = conv2d(branch2, depth.applyAsInt(w), kernel(7, 1), "Conv2d_0b_7x1");
                branch2 = conv2d(branch2, depth.applyAsInt(w), kernel(1, 7), "Conv2d_0c_1x7");
                branch2 = conv2d(branch2, depth.applyAsInt(w), kernel(7, 1), "Conv2d_0d_7x1");
                branch2 = conv2d(branch2, depth.applyAsInt(192), kernel(1, 7), "Conv2d_0e_1x7");
            }
            try (VariableScope b = VariableScope.open("Branch_3")) {
                branch3 = avgPool2d(net, 3, "AvgPool_0a_3x3");
                branch3 = conv2d(branch3, depth.applyAsInt(192), 1, "Conv2d_0b_1x1");
            }
            return concat(branch0, branch1, branch2, branch3);
        }
    }

    /**
     * An 8x8 module: Branch_0 1x1 320; Branch_1 1x1 384 → [1x3 384, 3x1 384]; Branch_2 1x1 448 →
     * 3x3 384 → [1x3 384, 3x1 384]; Branch_3 3x3 avg pool → 1x1 192 (2048 channels).
     */
    private static Var module8(Var net, String name, IntUnaryOperator depth, String b1SecondSplitScope) {
        try (VariableScope m = VariableScope.open(name)) {
            Var branch0;
            Var branch1;
            Var branch2;
            Var branch3;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(net, depth.applyAsInt(320), 1, "Conv2d_0a_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(net, depth.applyAsInt(384), 1, "Conv2d_0a_1x1");
                branch1 = concat(
                    conv2d(branch1, depth.applyAsInt(384), kernel(1, 3), "Conv2d_0b_1x3"),
                    conv2d(branch1, depth.applyAsInt(384), kernel(3, 1), b1SecondSplitScope));
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = conv2d(net, depth.applyAsInt(448), 1, "Conv2d_0a_1x1");
                branch2 = conv2d(branch2, depth.applyAsInt(384), 3, "Conv2d_0b_3x3");
                branch2 = concat(
                    conv2d(branch2, depth.applyAsInt(384), kernel(1, 3), "Conv2d_0c_1x3"),
                    conv2d(branch2, depth.applyAsInt(384), kernel(3, 1), "Conv2d_0d_3x1"));
            }
            try (VariableScope b = VariableScope.open("Branch_3")) {
                branch3 = avgPool2d(net, 3, "AvgPool_0a_3x3");
                branch3 = conv2d(branch3, depth.applyAsInt(192), 1, "Conv2d_0b_1x1");
            }
            return concat(branch0, branch1, branch2, branch3);
        }
    }

    /**
     * inception_v3(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8, min_depth=16,
     * depth_multiplier=1.0, prediction_fn=slim.softmax, spatial_squeeze=True,
     * create_aux_logits=True, scope='InceptionV3', global_pool=False).
     *
     * <p>AuxLogits (when create_aux_logits and numClasses > 0), on Mixed_6e, stride 1 SAME: 5x5/3
     * VALID avg pool → 1x1 depth(128) → VALID conv depth(768) with kernel min(5, map)
     * (trunc_normal(0.01), scope {@code Conv2d_2a_5x5} at the default size) → 1x1 linear conv to the
     * classes (trunc_normal(0.001), with biases) → squeeze → end point {@code AuxLogits}. Logits:
     * VALID avg pool with kernel min(8, map) (slim's default stride 2; end point {@code AvgPool_1a})
     * or the global mean ({@code global_pool}); numClasses 0 returns it (no dropout); else
     * Dropout_1b ({@code PreLogits}) → Conv2d_1c_1x1 → squeeze → {@code Logits}, {@code Predictions}.
     */
    public static NetOutput inceptionV3(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, int minDepth, double depthMultiplier,
                                        PredictionFn predictionFn, boolean spatialSqueeze, boolean createAuxLogits, String scope, boolean globalPool) {
        IntUnaryOperator depth = InceptionUtils.depthFn(depthMultiplier, minDepth);
        try (VariableScope sc = VariableScope.open(scope, "InceptionV3");
             var training = ArgScope.of(BATCH_NORM, DROPOUT).set(isTraining(isTraining)).open()) {
            NetOutput b = base(inputs, "Mixed_7c", depth);
            Var net = b.logits();
            EndPoints endPoints = b.endPoints();

            if (createAuxLogits && numClasses > 0) {
                try (var same = ArgScope.of(CONV2D, MAX_POOL2D, AVG_POOL2D).set(stride(1), padding(SAME)).open();
                     VariableScope aux = VariableScope.open("AuxLogits")) {
                    Var auxLogits = avgPool2d(endPoints.get("Mixed_6e"), 5, 3, "AvgPool_1a_5x5", padding(VALID));
                    auxLogits = conv2d(auxLogits, depth.applyAsInt(128), 1, "Conv2d_1b_1x1");
                    // Shape of feature map before the final layer.
                    int[] k = InceptionUtils.reducedKernelSizeForSmallInput(auxLogits, new int[] {5, 5});
                    auxLogits = conv2d(auxLogits, depth.applyAsInt(768), k, "Conv2d_2a_" + InceptionUtils.kernelName(k),
                        weightsInitializer(truncNormal(0.01)), padding(VALID));
                    auxLogits = conv2d(auxLogits, numClasses, 1, "Conv2d_2b_1x1", activationFn(null), normalizerFn(null),
                        weightsInitializer(truncNormal(0.001)));
                    if (spatialSqueeze) auxLogits = Ops.squeezeNamed(auxLogits, "SpatialSqueeze", 1, 2);
                    endPoints.put("AuxLogits", auxLogits);
                }
            }

            Var logits;
            try (VariableScope logitsScope = VariableScope.open("Logits")) {
                if (globalPool) {
                    net = endPoints.put("global_pool", Ops.reduceMean(net, new int[] {1, 2}, true));
                } else {
                    int[] k = InceptionUtils.reducedKernelSizeForSmallInput(net, new int[] {8, 8});
                    net = endPoints.put("AvgPool_1a", avgPool2d(net, k, "AvgPool_1a_" + InceptionUtils.kernelName(k), padding(VALID)));
                }
                if (numClasses == 0) return new NetOutput(net, endPoints);
                // 1 x 1 x 2048
                net = dropout(net, dropoutKeepProb, "Dropout_1b");
                endPoints.put("PreLogits", net);
                logits = conv2d(net, numClasses, 1, "Conv2d_1c_1x1", activationFn(null), normalizerFn(null));
                if (spatialSqueeze) logits = Ops.squeezeNamed(logits, "SpatialSqueeze", 1, 2);
            }
            endPoints.put("Logits", logits);
            if (predictionFn != null) endPoints.put("Predictions", predictionFn.apply(logits, "Predictions"));
            return new NetOutput(logits, endPoints);
        }
    }

    /** inception_v3_arg_scope = inception_arg_scope. */
    public static ArgScope inceptionV3ArgScope(double weightDecay) {
        return InceptionUtils.inceptionArgScope(weightDecay);
    }

    /** The nets factory entry {@code inception_v3}. */
    public static final NetworkFn INCEPTION_V3 = NetworkFn.of("inception_v3", DEFAULT_IMAGE_SIZE, 3, 1000, InceptionV3::inceptionV3ArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.MIN_DEPTH, NetArg.DEPTH_MULTIPLIER, NetArg.PREDICTION_FN, NetArg.SPATIAL_SQUEEZE,
            NetArg.CREATE_AUX_LOGITS, NetArg.SCOPE, NetArg.GLOBAL_POOL),
        (images, numClasses, training, o) -> inceptionV3(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.8),
            o.get(NetArg.MIN_DEPTH, 16), o.get(NetArg.DEPTH_MULTIPLIER, 1.0), o.get(NetArg.PREDICTION_FN, PredictionFn.SOFTMAX),
            o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(NetArg.CREATE_AUX_LOGITS, true), o.get(NetArg.SCOPE, "InceptionV3"),
            o.get(NetArg.GLOBAL_POOL, false)));
}
