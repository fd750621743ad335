package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.rate;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Layers.AVG_POOL2D;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.DROPOUT;
import static org.slim4j.layers.Layers.MAX_POOL2D;
import static org.slim4j.layers.Layers.avgPool2d;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.flatten;
import static org.slim4j.layers.Layers.fullyConnected;
import static org.slim4j.layers.Layers.kernel;
import static org.slim4j.layers.Layers.maxPool2d;
import static org.slim4j.layers.Layers.repeat;
import static org.slim4j.nets.InceptionUtils.concat;
import static org.slim4j.nets.InceptionUtils.done;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.layers.Activation;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Layers.LayerFn;
import org.slim4j.layers.Ops;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's Inception-ResNet-v2 ({@code nets/inception_resnet_v2.py}, Szegedy et al. 2016): the
 * Inception V3-like stem (299 → 35x35x320 after Mixed_5b), 10 residual Inception blocks block35
 * (scale 0.17), a reduction to 17x17x1088 (Mixed_6a), 20 block17 (scale 0.10, end point
 * {@code PreAuxLogits}), a reduction to 8x8x2080 (Mixed_7a), 9 block8 (scale 0.20) and a last
 * block8 without activation, a 1x1 conv to 1536 channels; an auxiliary classifier on
 * PreAuxLogits; a full-map average pool → flatten → dropout → fully connected logits head; scope
 * {@code InceptionResnetV2}, 1001 classes by default.
 *
 * <p>Each residual block computes branches of BN+activation convs, concatenates them, projects
 * back to the input depth with a 1x1 conv that has biases but no batch norm and no activation
 * ({@code Conv2d_1x1} of the block), and returns {@code act(x + scale * up)} (with relu6 the
 * scaled projection is first clipped to [-6, 6]).
 */
public final class InceptionResnetV2 {
    private InceptionResnetV2() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 299;

    private static final List<String> END_POINTS = List.of("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_3a_3x3",
        "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_5a_3x3", "Mixed_5b", "Mixed_6a", "PreAuxLogits", "Mixed_7a", "Conv2d_7b_1x1");

    /** The end points of the base, in order. */
    public static List<String> endPointNames() {
        return END_POINTS;
    }

    /** block35: the 35x35 residual block (Branch_0 1x1 32; Branch_1 1x1 32 → 3x3 32; Branch_2 1x1 32 → 3x3 48 → 3x3 64). */
    public static Var block35(Var net, double scale, Activation activation, String scope) {
        try (VariableScope sc = VariableScope.open(scope, "Block35")) {
            Var towerConv;
            Var towerConv1;
            Var towerConv2;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                towerConv = conv2d(net, 32, 1, "Conv2d_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                towerConv1 = conv2d(net, 32, 1, "Conv2d_0a_1x1");
                towerConv1 = conv2d(towerConv1, 32, 3, "Conv2d_0b_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                towerConv2 = conv2d(net, 32, 1, "Conv2d_0a_1x1");
                towerConv2 = conv2d(towerConv2, 48, 3, "Conv2d_0b_3x3");
                towerConv2 = conv2d(towerConv2, 64, 3, "Conv2d_0c_3x3");
            }
            return residual(net, concat(towerConv, towerConv1, towerConv2), scale, activation);
        }
    }

    /** block17: the 17x17 residual block (Branch_0 1x1 192; Branch_1 1x1 128 → 1x7 160 → 7x1 192). */
    public static Var block17(Var net, double scale, Activation activation, String scope) {
        try (VariableScope sc = VariableScope.open(scope, "Block17")) {
            Var towerConv;
            Var towerConv1;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                towerConv = conv2d(net, 192, 1, "Conv2d_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                towerConv1 = conv2d(net, 128, 1, "Conv2d_0a_1x1");
                towerConv1 = conv2d(towerConv1, 160, kernel(1, 7), "Conv2d_0b_1x7");
                towerConv1 = conv2d(towerConv1, 192, kernel(7, 1), "Conv2d_0c_7x1");
            }
            return residual(net, concat(towerConv, towerConv1), scale, activation);
        }
    }

    /** block8: the 8x8 residual block (Branch_0 1x1 192; Branch_1 1x1 192 → 1x3 224 → 3x1 256). */
    public static Var block8(Var net, double scale, Activation activation, String scope) {
        try (VariableScope sc = VariableScope.open(scope, "Block8")) {
            Var towerConv;
            Var towerConv1;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                towerConv = conv2d(net, 192, 1, "Conv2d_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                towerConv1 = conv2d(net, 192, 1, "Conv2d_0a_1x1");
                towerConv1 = conv2d(towerConv1, 224, kernel(1, 3), "Conv2d_0b_1x3");
                towerConv1 = conv2d(towerConv1, 256, kernel(3, 1), "Conv2d_0c_3x1");
            }
            return residual(net, concat(towerConv, towerConv1), scale, activation);
        }
    }

    /** The blocks' common tail, in the block's scope: act(net + scale * Conv2d_1x1(mixed)). */
    private static Var residual(Var net, Var mixed, double scale, Activation activation) {
        Var up = conv2d(mixed, net.value().dim(3), 1, "Conv2d_1x1", normalizerFn(null), activationFn(null));
        Var scaledUp = Ops.scale(up, scale);
        // Use clip_by_value to simulate bandpass activation.
        if (activation == Activation.RELU6) scaledUp = Ops.clipByValue(scaledUp, -6.0, 6.0);
        if (activation == Activation.RELU) return Ops.addActivation(net, scaledUp, UnaryOp.RELU);
        if (activation == Activation.RELU6) return Ops.addActivation(net, scaledUp, UnaryOp.RELU6);
        Var out = Ops.add(net, scaledUp);
        return activation != null ? activation.apply(out) : out;
    }

    /**
     * inception_resnet_v2_base(inputs, final_endpoint='Conv2d_7b_1x1', output_stride=16,
     * align_feature_maps=False, scope=None, activation_fn=tf.nn.relu). align_feature_maps turns the
     * stem's and reductions' VALID paddings into SAME; output_stride 8 makes Mixed_6a stride 1 and
     * the block17 convs atrous (rate 2), and is supported only up to PreAuxLogits, as in TF-Slim.
     */
    public static NetOutput inceptionResnetV2Base(Var inputs, String finalEndpoint, int outputStride, boolean alignFeatureMaps, String scope,
                                                  Activation activation) {
        if (outputStride != 8 && outputStride != 16) throw new IllegalArgumentException("output_stride must be 8 or 16 (got " + outputStride + ")");
        InceptionUtils.checkFinalEndpoint(finalEndpoint, END_POINTS);
        if (outputStride == 8 && END_POINTS.indexOf(finalEndpoint) > END_POINTS.indexOf("PreAuxLogits")) {
            throw new IllegalArgumentException("output_stride==8 is only supported up to the PreAuxlogits end_point for now (final_endpoint "
                + finalEndpoint + ")");
        }
        try (VariableScope sc = VariableScope.open(scope, "InceptionResnetV2")) {
            return base(inputs, finalEndpoint, outputStride, alignFeatureMaps, activation);
        }
    }

    /** inception_resnet_v2_base(inputs) with the defaults. */
    public static NetOutput inceptionResnetV2Base(Var inputs) {
        return inceptionResnetV2Base(inputs, "Conv2d_7b_1x1", 16, false, null, Activation.RELU);
    }

    private static NetOutput base(Var inputs, String finalEndpoint, int outputStride, boolean alignFeatureMaps, Activation activation) {
        Padding pad = alignFeatureMaps ? SAME : VALID;
        EndPoints endPoints = new EndPoints();
        try (var same = ArgScope.of(CONV2D, MAX_POOL2D, AVG_POOL2D).set(stride(1), padding(SAME)).open()) {
            // 149 x 149 x 32
            Var net = conv2d(inputs, 32, 3, 2, "Conv2d_1a_3x3", padding(pad));
            if (done(endPoints, "Conv2d_1a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 147 x 147 x 32
            net = conv2d(net, 32, 3, "Conv2d_2a_3x3", padding(pad));
            if (done(endPoints, "Conv2d_2a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 147 x 147 x 64
            net = conv2d(net, 64, 3, "Conv2d_2b_3x3");
            if (done(endPoints, "Conv2d_2b_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 73 x 73 x 64
            net = maxPool2d(net, 3, 2, "MaxPool_3a_3x3", padding(pad));
            if (done(endPoints, "MaxPool_3a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 73 x 73 x 80
            net = conv2d(net, 80, 1, "Conv2d_3b_1x1", padding(pad));
            if (done(endPoints, "Conv2d_3b_1x1", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 71 x 71 x 192
            net = conv2d(net, 192, 3, "Conv2d_4a_3x3", padding(pad));
            if (done(endPoints, "Conv2d_4a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 35 x 35 x 192
            net = maxPool2d(net, 3, 2, "MaxPool_5a_3x3", padding(pad));
            if (done(endPoints, "MaxPool_5a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);

            // 35 x 35 x 320
            try (VariableScope m = VariableScope.open("Mixed_5b")) {
                Var towerConv;
                Var towerConv1;
                Var towerConv2;
                Var towerPool;
                try (VariableScope b = VariableScope.open("Branch_0")) {
                    towerConv = conv2d(net, 96, 1, "Conv2d_1x1");
                }
                try (VariableScope b = VariableScope.open("Branch_1")) {
                    towerConv1 = conv2d(net, 48, 1, "Conv2d_0a_1x1");
                    towerConv1 = conv2d(towerConv1, 64, 5, "Conv2d_0b_5x5");
                }
                try (VariableScope b = VariableScope.open("Branch_2")) {
                    towerConv2 = conv2d(net, 64, 1, "Conv2d_0a_1x1");
                    towerConv2 = conv2d(towerConv2, 96, 3, "Conv2d_0b_3x3");
                    towerConv2 = conv2d(towerConv2, 96, 3, "Conv2d_0c_3x3");
                }
                try (VariableScope b = VariableScope.open("Branch_3")) {
                    towerPool = avgPool2d(net, 3, 1, "AvgPool_0a_3x3", padding(SAME));
                    towerPool = conv2d(towerPool, 64, 1, "Conv2d_0b_1x1");
                }
                net = concat(towerConv, towerConv1, towerConv2, towerPool);
            }
            if (done(endPoints, "Mixed_5b", net, finalEndpoint)) return new NetOutput(net, endPoints);
            net = repeat(net, 10, LayerFn.named("block35", (x, s) -> block35(x, 0.17, activation, s)));

            // 17 x 17 x 1088 (33 x 33 x 1088 with output_stride 8)
            boolean useAtrous = outputStride == 8;
            int reductionStride = useAtrous ? 1 : 2;
            try (VariableScope m = VariableScope.open("Mixed_6a")) {
                Var towerConv;
                Var towerConv1;
                Var towerPool;
                try (VariableScope b = VariableScope.open("Branch_0")) {
                    towerConv = conv2d(net, 384, 3, reductionStride, "Conv2d_1a_3x3", padding(pad));
                }
                try (VariableScope b = VariableScope.open("Branch_1")) {
                    towerConv1 = conv2d(net, 256, 1, "Conv2d_0a_1x1");
                    towerConv1 = conv2d(towerConv1, 256, 3, "Conv2d_0b_3x3");
                    towerConv1 = conv2d(towerConv1, 384, 3, reductionStride, "Conv2d_1a_3x3", padding(pad));
                }
                try (VariableScope b = VariableScope.open("Branch_2")) {
                    towerPool = maxPool2d(net, 3, reductionStride, "MaxPool_1a_3x3", padding(pad));
                }
                net = concat(towerConv, towerConv1, towerPool);
            }
            if (done(endPoints, "Mixed_6a", net, finalEndpoint)) return new NetOutput(net, endPoints);

            try (var atrous = ArgScope.of(CONV2D).set(rate(useAtrous ? 2 : 1)).open()) {
                net = repeat(net, 20, LayerFn.named("block17", (x, s) -> block17(x, 0.10, activation, s)));
            }
            if (done(endPoints, "PreAuxLogits", net, finalEndpoint)) return new NetOutput(net, endPoints);

            // 8 x 8 x 2080
            try (VariableScope m = VariableScope.open("Mixed_7a")) {
                Var towerConv;
                Var towerConv1;
                Var towerConv2;
                Var towerPool;
                try (VariableScope b = VariableScope.open("Branch_0")) {
                    towerConv = conv2d(net, 256, 1, "Conv2d_0a_1x1");
                    towerConv = conv2d(towerConv, 384, 3, 2, "Conv2d_1a_3x3", padding(pad));
                }
                try (VariableScope b = VariableScope.open("Branch_1")) {
                    towerConv1 = conv2d(net, 256, 1, "Conv2d_0a_1x1");
                    towerConv1 = conv2d(towerConv1, 288, 3, 2, "Conv2d_1a_3x3", padding(pad));
                }
                try (VariableScope b = VariableScope.open("Branch_2")) {
                    towerConv2 = conv2d(net, 256, 1, "Conv2d_0a_1x1");
                    towerConv2 = conv2d(towerConv2, 288, 3, "Conv2d_0b_3x3");
                    towerConv2 = conv2d(towerConv2, 320, 3, 2, "Conv2d_1a_3x3", padding(pad));
                }
                try (VariableScope b = VariableScope.open("Branch_3")) {
                    towerPool = maxPool2d(net, 3, 2, "MaxPool_1a_3x3", padding(pad));
                }
                net = concat(towerConv, towerConv1, towerConv2, towerPool);
            }
            if (done(endPoints, "Mixed_7a", net, finalEndpoint)) return new NetOutput(net, endPoints);

            net = repeat(net, 9, LayerFn.named("block8", (x, s) -> block8(x, 0.20, activation, s)));
            net = block8(net, 1.0, null, null);
            // 8 x 8 x 1536
            net = conv2d(net, 1536, 1, "Conv2d_7b_1x1");
            done(endPoints, "Conv2d_7b_1x1", net, finalEndpoint);
            return new NetOutput(net, endPoints);
        }
    }

    /**
     * inception_resnet_v2(inputs, num_classes=1001, is_training=True, dropout_keep_prob=0.8,
     * scope='InceptionResnetV2', create_aux_logits=True, activation_fn=tf.nn.relu).
     *
     * <p>AuxLogits (when create_aux_logits and numClasses > 0), on PreAuxLogits: 5x5/3 VALID avg pool
     * (scoped {@code Conv2d_1a_3x3}, sic) → 1x1 128 → VALID conv 768 over the whole map
     * ({@code Conv2d_2a_5x5}) → flatten → fully connected {@code Logits} (linear) → end point
     * {@code AuxLogits}. Logits: average pool over the whole map ({@code AvgPool_1a_8x8}, end point
     * {@code global_pool}); numClasses 0 returns it; else flatten → Dropout
     * ({@code PreLogitsFlatten}) → fully connected {@code Logits} (linear) → softmax
     * ({@code Predictions}).
     */
    public static NetOutput inceptionResnetV2(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, String scope,
                                              boolean createAuxLogits, Activation activation) {
        try (VariableScope sc = VariableScope.open(scope, "InceptionResnetV2");
             var training = ArgScope.of(BATCH_NORM, DROPOUT).set(isTraining(isTraining)).open()) {
            NetOutput b = base(inputs, "Conv2d_7b_1x1", 16, false, activation);
            Var net = b.logits();
            EndPoints endPoints = b.endPoints();

            if (createAuxLogits && numClasses > 0) {
                try (VariableScope aux = VariableScope.open("AuxLogits")) {
                    Var auxLogits = avgPool2d(endPoints.get("PreAuxLogits"), 5, 3, "Conv2d_1a_3x3", padding(VALID));
                    auxLogits = conv2d(auxLogits, 128, 1, "Conv2d_1b_1x1");
                    int[] d = auxLogits.value().dims();
                    auxLogits = conv2d(auxLogits, 768, kernel(d[1], d[2]), "Conv2d_2a_5x5", padding(VALID));
                    auxLogits = flatten(auxLogits);
                    auxLogits = fullyConnected(auxLogits, numClasses, "Logits", activationFn(null));
                    endPoints.put("AuxLogits", auxLogits);
                }
            }

            try (VariableScope logitsScope = VariableScope.open("Logits")) {
                // shapes are always static here, so always TF's fixed-kernel branch
                int[] d = net.value().dims();
                net = avgPool2d(net, kernel(d[1], d[2]), "AvgPool_1a_8x8", padding(VALID));
                endPoints.put("global_pool", net);
                if (numClasses == 0) return new NetOutput(net, endPoints);
                net = flatten(net);
                net = dropout(net, dropoutKeepProb, "Dropout", isTraining(isTraining));
                endPoints.put("PreLogitsFlatten", net);
                Var logits = fullyConnected(net, numClasses, "Logits", activationFn(null));
                endPoints.put("Logits", logits);
                endPoints.put("Predictions", Ops.softmaxNamed(logits, "Predictions"));
                return new NetOutput(logits, endPoints);
            }
        }
    }

    /** inception_resnet_v2_arg_scope(weight_decay) with the other defaults. */
    public static ArgScope inceptionResnetV2ArgScope(double weightDecay) {
        return InceptionUtils.inceptionResnetV2ArgScope(weightDecay);
    }

    /** The network's activation_fn option (the layers' key, as TF's keyword is the same). */
    public static final Arg<Activation> ACTIVATION_FN = Arg.ACTIVATION_FN;

    /** The nets factory entry {@code inception_resnet_v2}. */
    public static final NetworkFn INCEPTION_RESNET_V2 = NetworkFn.of("inception_resnet_v2", DEFAULT_IMAGE_SIZE, 3, 1001,
        InceptionResnetV2::inceptionResnetV2ArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.SCOPE, NetArg.CREATE_AUX_LOGITS, ACTIVATION_FN),
        (images, numClasses, training, o) -> inceptionResnetV2(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.8),
            o.get(NetArg.SCOPE, "InceptionResnetV2"), o.get(NetArg.CREATE_AUX_LOGITS, true), o.get(ACTIVATION_FN, Activation.RELU)));
}
