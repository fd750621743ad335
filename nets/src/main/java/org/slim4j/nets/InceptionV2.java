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
import static org.slim4j.layers.Layers.maxPool2d;
import static org.slim4j.layers.Layers.separableConv2d;
import static org.slim4j.nets.InceptionUtils.concat;
import static org.slim4j.nets.InceptionUtils.done;
import static org.slim4j.nets.InceptionUtils.truncNormal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;
import org.slim4j.autograd.Var;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Ops;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's Inception V2 / BN-Inception ({@code nets/inception_v2.py}, Ioffe and Szegedy 2015): a
 * separable 7x7/2 root conv, ten Inception modules with 3x3 (instead of 5x5) towers and two
 * stride-2 reduction modules (Mixed_4a, Mixed_5a), and an average pool → dropout → 1x1 conv logits
 * head, on 224x224 images; scope {@code InceptionV2}. Every channel count d becomes
 * {@code max(int(d * depth_multiplier), min_depth)}.
 */
public final class InceptionV2 {
    private InceptionV2() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 224;

    private static final List<String> ROOT_END_POINTS = List.of("Conv2d_1a_7x7", "MaxPool_2a_3x3", "Conv2d_2b_1x1", "Conv2d_2c_3x3",
        "MaxPool_3a_3x3");
    private static final List<String> MODULE_END_POINTS = List.of("Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d",
        "Mixed_4e", "Mixed_5a", "Mixed_5b", "Mixed_5c");

    /** The end points of the base, in order. */
    public static List<String> endPointNames(boolean includeRootBlock) {
        if (!includeRootBlock) return MODULE_END_POINTS;
        List<String> all = new ArrayList<>(ROOT_END_POINTS);
        all.addAll(MODULE_END_POINTS);
        return List.copyOf(all);
    }

    /**
     * inception_v2_base(inputs, final_endpoint='Mixed_5c', min_depth=16, depth_multiplier=1.0,
     * use_separable_conv=True, include_root_block=True, scope=None) in NHWC (TF's NCHW option exists
     * only for the non-separable variant and is not supported here).
     */
    public static NetOutput inceptionV2Base(Var inputs, String finalEndpoint, int minDepth, double depthMultiplier, boolean useSeparableConv,
                                            boolean includeRootBlock, String scope) {
        InceptionUtils.checkDepthMultiplier(depthMultiplier);
        InceptionUtils.checkFinalEndpoint(finalEndpoint, endPointNames(includeRootBlock));
        try (VariableScope sc = VariableScope.open(scope, "InceptionV2")) {
            return base(inputs, finalEndpoint, minDepth, depthMultiplier, useSeparableConv, includeRootBlock);
        }
    }

    /** inception_v2_base(inputs) up to Mixed_5c with the defaults. */
    public static NetOutput inceptionV2Base(Var inputs) {
        return inceptionV2Base(inputs, "Mixed_5c", 16, 1.0, true, true, null);
    }

    private static NetOutput base(Var inputs, String finalEndpoint, int minDepth, double depthMultiplier, boolean useSeparableConv,
                                  boolean includeRootBlock) {
        IntUnaryOperator depth = InceptionUtils.depthFn(depthMultiplier, minDepth);
        EndPoints endPoints = new EndPoints();
        try (var same = ArgScope.of(CONV2D, MAX_POOL2D, AVG_POOL2D).set(stride(1), padding(SAME)).open()) {
            Var net = inputs;
            if (includeRootBlock) {
                if (useSeparableConv) {
                    // The depthwise stage's channel multiplier (not the network's depth_multiplier):
                    // in_channels * multiplier must stay <= out_channels.
                    int depthwiseMultiplier = Math.min((int) (depth.applyAsInt(64) / 3.0), 8);
                    net = separableConv2d(inputs, depth.applyAsInt(64), 7, depthwiseMultiplier, "Conv2d_1a_7x7", stride(2), padding(SAME),
                        weightsInitializer(truncNormal(1.0)));
                } else {
                    net = conv2d(inputs, depth.applyAsInt(64), 7, 2, "Conv2d_1a_7x7", weightsInitializer(truncNormal(1.0)));
                }
                if (done(endPoints, "Conv2d_1a_7x7", net, finalEndpoint)) return new NetOutput(net, endPoints);
                net = maxPool2d(net, 3, 2, "MaxPool_2a_3x3");
                if (done(endPoints, "MaxPool_2a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
                net = conv2d(net, depth.applyAsInt(64), 1, "Conv2d_2b_1x1", weightsInitializer(truncNormal(0.1)));
                if (done(endPoints, "Conv2d_2b_1x1", net, finalEndpoint)) return new NetOutput(net, endPoints);
                net = conv2d(net, depth.applyAsInt(192), 3, "Conv2d_2c_3x3");
                if (done(endPoints, "Conv2d_2c_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
                net = maxPool2d(net, 3, 2, "MaxPool_3a_3x3");
                if (done(endPoints, "MaxPool_3a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            }
            // 28 x 28 x 192
            net = module(net, "Mixed_3b", depth, 64, 64, 64, 64, 96, false, 32);
            if (done(endPoints, "Mixed_3b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_3c", depth, 64, 64, 96, 64, 96, false, 64);
            if (done(endPoints, "Mixed_3c", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = reduction(net, "Mixed_4a", depth, 128, 160, 64, 96);
            if (done(endPoints, "Mixed_4a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 14 x 14 x 576
            net = module(net, "Mixed_4b", depth, 224, 64, 96, 96, 128, false, 128);
            if (done(endPoints, "Mixed_4b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_4c", depth, 192, 96, 128, 96, 128, false, 128);
            if (done(endPoints, "Mixed_4c", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_4d", depth, 160, 128, 160, 128, 160, false, 96);
            if (done(endPoints, "Mixed_4d", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_4e", depth, 96, 128, 192, 160, 192, false, 96);
            if (done(endPoints, "Mixed_4e", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = reduction(net, "Mixed_5a", depth, 128, 192, 192, 256);
            if (done(endPoints, "Mixed_5a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 7 x 7 x 1024
            net = module(net, "Mixed_5b", depth, 352, 192, 320, 160, 224, false, 128);
            if (done(endPoints, "Mixed_5b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = module(net, "Mixed_5c", depth, 352, 192, 320, 192, 224, true, 128);
            done(endPoints, "Mixed_5c", net, finalEndpoint);
            return new NetOutput(net, endPoints);
        }
    }

    /**
     * An Inception module: Branch_0 1x1 b0; Branch_1 1x1 b1a → 3x3 b1b; Branch_2 1x1 b2a → 3x3 b2b
     * → 3x3 b2b; Branch_3 3x3 average (Mixed_5c: max) pool → 1x1 b3. The 1x1 reductions draw from
     * trunc_normal(0.09), the pool projection from trunc_normal(0.1).
     */
    private static Var module(Var net, String name, IntUnaryOperator depth, int b0, int b1a, int b1b, int b2a, int b2b, boolean maxPool, int b3) {
        try (VariableScope m = VariableScope.open(name)) {
            Var branch0;
            Var branch1;
            Var branch2;
            Var branch3;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(net, depth.applyAsInt(b0), 1, "Conv2d_0a_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(net, depth.applyAsInt(b1a), 1, "Conv2d_0a_1x1", weightsInitializer(truncNormal(0.09)));
                branch1 = conv2d(branch1, depth.applyAsInt(b1b), 3, "Conv2d_0b_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = conv2d(net, depth.applyAsInt(b2a), 1, "Conv2d_0a_1x1", weightsInitializer(truncNormal(0.09)));
                branch2 = conv2d(branch2, depth.applyAsInt(b2b), 3, "Conv2d_0b_3x3");
                branch2 = conv2d(branch2, depth.applyAsInt(b2b), 3, "Conv2d_0c_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_3")) {
                branch3 = maxPool ? maxPool2d(net, 3, "MaxPool_0a_3x3") : avgPool2d(net, 3, "AvgPool_0a_3x3");
                branch3 = conv2d(branch3, depth.applyAsInt(b3), 1, "Conv2d_0b_1x1", weightsInitializer(truncNormal(0.1)));
            }
            return concat(branch0, branch1, branch2, branch3);
        }
    }

    /**
     * A grid reduction (Mixed_4a, Mixed_5a), stride 2 with SAME padding: Branch_0 1x1 b0a → 3x3/2
     * b0b; Branch_1 1x1 b1a → 3x3 b1b → 3x3/2 b1b; Branch_2 3x3/2 max pool.
     */
    private static Var reduction(Var net, String name, IntUnaryOperator depth, int b0a, int b0b, int b1a, int b1b) {
        try (VariableScope m = VariableScope.open(name)) {
            Var branch0;
            Var branch1;
            Var branch2;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(net, depth.applyAsInt(b0a), 1, "Conv2d_0a_1x1", weightsInitializer(truncNormal(0.09)));
                branch0 = conv2d(branch0, depth.applyAsInt(b0b), 3, 2, "Conv2d_1a_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(net, depth.applyAsInt(b1a), 1, "Conv2d_0a_1x1", weightsInitializer(truncNormal(0.09)));
                branch1 = conv2d(branch1, depth.applyAsInt(b1b), 3, "Conv2d_0b_3x3");
                branch1 = conv2d(branch1, depth.applyAsInt(b1b), 3, 2, "Conv2d_1a_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = maxPool2d(net, 3, 2, "MaxPool_1a_3x3");
            }
            return concat(branch0, branch1, branch2);
        }
    }

    /**
     * inception_v2(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8, min_depth=16,
     * depth_multiplier=1.0, prediction_fn=slim.softmax, spatial_squeeze=True, scope='InceptionV2',
     * global_pool=False). Head in scope {@code Logits}: average pool with kernel
     * min(7, H) x min(7, W), VALID, slim's default stride 2 (scope {@code AvgPool_1a_7x7}, end point
     * {@code AvgPool_1a}) or the global mean ({@code global_pool}); numClasses 0 returns it; else
     * Dropout_1b ({@code PreLogits}) → Conv2d_1c_1x1 → squeeze → {@code Logits}, {@code Predictions}.
     */
    public static NetOutput inceptionV2(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, int minDepth, double depthMultiplier,
                                        PredictionFn predictionFn, boolean spatialSqueeze, String scope, boolean globalPool) {
        InceptionUtils.checkDepthMultiplier(depthMultiplier);
        try (VariableScope sc = VariableScope.open(scope, "InceptionV2");
             var training = ArgScope.of(BATCH_NORM, DROPOUT).set(isTraining(isTraining)).open()) {
            NetOutput b = base(inputs, "Mixed_5c", minDepth, depthMultiplier, true, true);
            Var net = b.logits();
            EndPoints endPoints = b.endPoints();
            Var logits;
            try (VariableScope logitsScope = VariableScope.open("Logits")) {
                if (globalPool) {
                    net = endPoints.put("global_pool", Ops.reduceMean(net, new int[] {1, 2}, true));
                } else {
                    int[] k = InceptionUtils.reducedKernelSizeForSmallInput(net, new int[] {7, 7});
                    net = endPoints.put("AvgPool_1a", avgPool2d(net, k, "AvgPool_1a_" + InceptionUtils.kernelName(k), padding(VALID)));
                }
                if (numClasses == 0) return new NetOutput(net, endPoints);
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

    /** inception_v2_arg_scope = inception_arg_scope. */
    public static ArgScope inceptionV2ArgScope(double weightDecay) {
        return InceptionUtils.inceptionArgScope(weightDecay);
    }

    /** The nets factory entry {@code inception_v2}. */
    public static final NetworkFn INCEPTION_V2 = NetworkFn.of("inception_v2", DEFAULT_IMAGE_SIZE, 3, 1000, InceptionV2::inceptionV2ArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.MIN_DEPTH, NetArg.DEPTH_MULTIPLIER, NetArg.PREDICTION_FN, NetArg.SPATIAL_SQUEEZE, NetArg.SCOPE,
            NetArg.GLOBAL_POOL),
        (images, numClasses, training, o) -> inceptionV2(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.8),
            o.get(NetArg.MIN_DEPTH, 16), o.get(NetArg.DEPTH_MULTIPLIER, 1.0), o.get(NetArg.PREDICTION_FN, PredictionFn.SOFTMAX),
            o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(NetArg.SCOPE, "InceptionV2"), o.get(NetArg.GLOBAL_POOL, false)));
}
