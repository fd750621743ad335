package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.padding;
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
 * TF-Slim's Inception V4 ({@code nets/inception_v4.py}, Szegedy et al. 2016): a stem of convs
 * and mixed conv/pool blocks (299 → 35x35x384), 4 Inception-A blocks, Reduction-A (→ 17x17x1024),
 * 7 Inception-B blocks, Reduction-B (→ 8x8x1536), 3 Inception-C blocks; an auxiliary classifier on
 * Mixed_6h; a full-map average pool → dropout → flatten → fully connected logits head; scope
 * {@code InceptionV4}, 1001 classes by default.
 */
public final class InceptionV4 {
    private InceptionV4() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 299;

    private static final List<String> END_POINTS;

    static {
        List<String> names = new ArrayList<>(List.of("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Mixed_3a", "Mixed_4a", "Mixed_5a"));
        for (int i = 0; i < 4; i++) names.add("Mixed_5" + (char) ('b' + i));
        names.add("Mixed_6a");
        for (int i = 0; i < 7; i++) names.add("Mixed_6" + (char) ('b' + i));
        names.add("Mixed_7a");
        for (int i = 0; i < 3; i++) names.add("Mixed_7" + (char) ('b' + i));
        END_POINTS = List.copyOf(names);
    }

    /** The end points of the base, in order. */
    public static List<String> endPointNames() {
        return END_POINTS;
    }

    /** Inception-A (35x35): Branch_0 1x1 96; Branch_1 1x1 64 → 3x3 96; Branch_2 1x1 64 → 3x3 96 → 3x3 96; Branch_3 avg pool → 1x1 96. */
    public static Var blockInceptionA(Var inputs, String scope) {
        try (var same = ArgScope.of(CONV2D, AVG_POOL2D, MAX_POOL2D).set(stride(1), padding(SAME)).open();
             VariableScope sc = VariableScope.open(scope, "BlockInceptionA")) {
            Var branch0;
            Var branch1;
            Var branch2;
            Var branch3;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(inputs, 96, 1, "Conv2d_0a_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(inputs, 64, 1, "Conv2d_0a_1x1");
                branch1 = conv2d(branch1, 96, 3, "Conv2d_0b_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = conv2d(inputs, 64, 1, "Conv2d_0a_1x1");
                branch2 = conv2d(branch2, 96, 3, "Conv2d_0b_3x3");
                branch2 = conv2d(branch2, 96, 3, "Conv2d_0c_3x3");
            }
            try (VariableScope b = VariableScope.open("Branch_3")) {
                branch3 = avgPool2d(inputs, 3, "AvgPool_0a_3x3");
                branch3 = conv2d(branch3, 96, 1, "Conv2d_0b_1x1");
            }
            return concat(branch0, branch1, branch2, branch3);
        }
    }

    /** Reduction-A (35 → 17): Branch_0 3x3/2 384; Branch_1 1x1 192 → 3x3 224 → 3x3/2 256; Branch_2 3x3/2 max pool; VALID. */
    public static Var blockReductionA(Var inputs, String scope) {
        try (var same = ArgScope.of(CONV2D, AVG_POOL2D, MAX_POOL2D).set(stride(1), padding(SAME)).open();
             VariableScope sc = VariableScope.open(scope, "BlockReductionA")) {
            Var branch0;
            Var branch1;
            Var branch2;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(inputs, 384, 3, 2, "Conv2d_1a_3x3", padding(VALID));
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(inputs, 192, 1, "Conv2d_0a_1x1");
                branch1 = conv2d(branch1, 224, 3, "Conv2d_0b_3x3");
                branch1 = conv2d(branch1, 256, 3, 2, "Conv2d_1a_3x3", padding(VALID));
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = maxPool2d(inputs, 3, 2, "MaxPool_1a_3x3", padding(VALID));
            }
            return concat(branch0, branch1, branch2);
        }
    }

    /**
     * Inception-B (17x17): Branch_0 1x1 384; Branch_1 1x1 192 → 1x7 224 → 7x1 256; Branch_2 1x1 192
     * → 7x1 192 → 1x7 224 → 7x1 224 → 1x7 256; Branch_3 avg pool → 1x1 128.
     */
    public static Var blockInceptionB(Var inputs, String scope) {
        try (var same = ArgScope.of(CONV2D, AVG_POOL2D, MAX_POOL2D).set(stride(1), padding(SAME)).open();
             VariableScope sc = VariableScope.open(scope, "BlockInceptionB")) {
            Var branch0;
            Var branch1;
            Var branch2;
            Var branch3;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(inputs, 384, 1, "Conv2d_0a_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(inputs, 192, 1, "Conv2d_0a_1x1");
                branch1 = conv2d(branch1, 224, kernel(1, 7), "Conv2d_0b_1x7");
                branch1 = conv2d(branch1, 256, kernel(7, 1), "Conv2d_0c_7x1");
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = conv2d(inputs, 192, 1, "Conv2d_0a_1x1");
                branch2 = conv2d(branch2, 192, kernel(7, 1), "Conv2d_0b_7x1");
                branch2 = conv2d(branch2, 224, kernel(1, 7), "Conv2d_0c_1x7");
                branch2 = conv2d(branch2, 224, kernel(7, 1), "Conv2d_0d_7x1");
                branch2 = conv2d(branch2, 256, kernel(1, 7), "Conv2d_0e_1x7");
            }
            try (VariableScope b = VariableScope.open("Branch_3")) {
                branch3 = avgPool2d(inputs, 3, "AvgPool_0a_3x3");
                branch3 = conv2d(branch3, 128, 1, "Conv2d_0b_1x1");
            }
            return concat(branch0, branch1, branch2, branch3);
        }
    }

    /**
     * Reduction-B (17 → 8): Branch_0 1x1 192 → 3x3/2 192; Branch_1 1x1 256 → 1x7 256 → 7x1 320 →
     * 3x3/2 320; Branch_2 3x3/2 max pool; VALID.
     */
    public static Var blockReductionB(Var inputs, String scope) {
        try (var same = ArgScope.of(CONV2D, AVG_POOL2D, MAX_POOL2D).set(stride(1), padding(SAME)).open();
             VariableScope sc = VariableScope.open(scope, "BlockReductionB")) {
            Var branch0;
            Var branch1;
            Var branch2;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(inputs, 192, 1, "Conv2d_0a_1x1");
                branch0 = conv2d(branch0, 192, 3, 2, "Conv2d_1a_3x3", padding(VALID));
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(inputs, 256, 1, "Conv2d_0a_1x1");
                branch1 = conv2d(branch1, 256, kernel(1, 7), "Conv2d_0b_1x7");
                branch1 = conv2d(branch1, 320, kernel(7, 1), "Conv2d_0c_7x1");
                branch1 = conv2d(branch1, 320, 3, 2, "Conv2d_1a_3x3", padding(VALID));
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = maxPool2d(inputs, 3, 2, "MaxPool_1a_3x3", padding(VALID));
            }
            return concat(branch0, branch1, branch2);
        }
    }

    /**
     * Inception-C (8x8): Branch_0 1x1 256; Branch_1 1x1 384 → [1x3 256, 3x1 256]; Branch_2 1x1 384
     * → 3x1 448 → 1x3 512 → [1x3 256, 3x1 256]; Branch_3 avg pool → 1x1 256.
     */
    public static Var blockInceptionC(Var inputs, String scope) {
        try (var same = ArgScope.of(CONV2D, AVG_POOL2D, MAX_POOL2D).set(stride(1), padding(SAME)).open();
             VariableScope sc = VariableScope.open(scope, "BlockInceptionC")) {
            Var branch0;
            Var branch1;
            Var branch2;
            Var branch3;
            try (VariableScope b = VariableScope.open("Branch_0")) {
                branch0 = conv2d(inputs, 256, 1, "Conv2d_0a_1x1");
            }
            try (VariableScope b = VariableScope.open("Branch_1")) {
                branch1 = conv2d(inputs, 384, 1, "Conv2d_0a_1x1");
                branch1 = concat(
                    conv2d(branch1, 256, kernel(1, 3), "Conv2d_0b_1x3"),
                    conv2d(branch1, 256, kernel(3, 1), "Conv2d_0c_3x1"));
            }
            try (VariableScope b = VariableScope.open("Branch_2")) {
                branch2 = conv2d(inputs, 384, 1, "Conv2d_0a_1x1");
                branch2 = conv2d(branch2, 448, kernel(3, 1), "Conv2d_0b_3x1");
                branch2 = conv2d(branch2, 512, kernel(1, 3), "Conv2d_0c_1x3");
                branch2 = concat(
                    conv2d(branch2, 256, kernel(1, 3), "Conv2d_0d_1x3"),
                    conv2d(branch2, 256, kernel(3, 1), "Conv2d_0e_3x1"));
            }
            try (VariableScope b = VariableScope.open("Branch_3")) {
                branch3 = avgPool2d(inputs, 3, "AvgPool_0a_3x3");
                branch3 = conv2d(branch3, 256, 1, "Conv2d_0b_1x1");
            }
            return concat(branch0, branch1, branch2, branch3);
        }
    }

    /** inception_v4_base(inputs, final_endpoint='Mixed_7d', scope=None). */
    public static NetOutput inceptionV4Base(Var inputs, String finalEndpoint, String scope) {
        InceptionUtils.checkFinalEndpoint(finalEndpoint, END_POINTS);
        try (VariableScope sc = VariableScope.open(scope, "InceptionV4")) {
            return base(inputs, finalEndpoint);
        }
    }

    /** inception_v4_base(inputs) up to Mixed_7d. */
    public static NetOutput inceptionV4Base(Var inputs) {
        return inceptionV4Base(inputs, "Mixed_7d", null);
    }

    private static NetOutput base(Var inputs, String finalEndpoint) {
        EndPoints endPoints = new EndPoints();
        try (var same = ArgScope.of(CONV2D, MAX_POOL2D, AVG_POOL2D).set(stride(1), padding(SAME)).open()) {
            // 299 x 299 x 3
            Var net = conv2d(inputs, 32, 3, 2, "Conv2d_1a_3x3", padding(VALID));
            if (done(endPoints, "Conv2d_1a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 149 x 149 x 32
            net = conv2d(net, 32, 3, "Conv2d_2a_3x3", padding(VALID));
            if (done(endPoints, "Conv2d_2a_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 147 x 147 x 32
            net = conv2d(net, 64, 3, "Conv2d_2b_3x3");
            if (done(endPoints, "Conv2d_2b_3x3", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 147 x 147 x 64
            try (VariableScope m = VariableScope.open("Mixed_3a")) {
                Var branch0;
                Var branch1;
                try (VariableScope b = VariableScope.open("Branch_0")) {
                    branch0 = maxPool2d(net, 3, 2, "MaxPool_0a_3x3", padding(VALID));
                }
                try (VariableScope b = VariableScope.open("Branch_1")) {
                    branch1 = conv2d(net, 96, 3, 2, "Conv2d_0a_3x3", padding(VALID));
                }
                net = concat(branch0, branch1);
            }
            if (done(endPoints, "Mixed_3a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 73 x 73 x 160
            try (VariableScope m = VariableScope.open("Mixed_4a")) {
                Var branch0;
                Var branch1;
                try (VariableScope b = VariableScope.open("Branch_0")) {
                    branch0 = conv2d(net, 64, 1, "Conv2d_0a_1x1");
                    branch0 = conv2d(branch0, 96, 3, "Conv2d_1a_3x3", padding(VALID));
                }
                try (VariableScope b = VariableScope.open("Branch_1")) {
                    branch1 = conv2d(net, 64, 1, "Conv2d_0a_1x1");
                    branch1 = conv2d(branch1, 64, kernel(1, 7), "Conv2d_0b_1x7");
                    branch1 = conv2d(branch1, 64, kernel(7, 1), "Conv2d_0c_7x1");
                    branch1 = conv2d(branch1, 96, 3, "Conv2d_1a_3x3", padding(VALID));
                }
                net = concat(branch0, branch1);
            }
            if (done(endPoints, "Mixed_4a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 71 x 71 x 192
            try (VariableScope m = VariableScope.open("Mixed_5a")) {
                Var branch0;
                Var branch1;
                try (VariableScope b = VariableScope.open("Branch_0")) {
                    branch0 = conv2d(net, 192, 3, 2, "Conv2d_1a_3x3", padding(VALID));
                }
                try (VariableScope b = VariableScope.open("Branch_1")) {
                    branch1 = maxPool2d(net, 3, 2, "MaxPool_1a_3x3", padding(VALID));
                }
                net = concat(branch0, branch1);
            }
            if (done(endPoints, "Mixed_5a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 35 x 35 x 384: 4 x Inception-A
            for (int i = 0; i < 4; i++) {
                String blockScope = "Mixed_5" + (char) ('b' + i);
                net = blockInceptionA(net, blockScope);
                if (done(endPoints, blockScope, net, finalEndpoint)) return new NetOutput(net, endPoints);
            }
            // Reduction-A
            net = blockReductionA(net, "Mixed_6a");
            if (done(endPoints, "Mixed_6a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 17 x 17 x 1024: 7 x Inception-B
            for (int i = 0; i < 7; i++) {
                String blockScope = "Mixed_6" + (char) ('b' + i);
                net = blockInceptionB(net, blockScope);
                if (done(endPoints, blockScope, net, finalEndpoint)) return new NetOutput(net, endPoints);
            }
            // Reduction-B
            net = blockReductionB(net, "Mixed_7a");
            if (done(endPoints, "Mixed_7a", net, finalEndpoint)) return new NetOutput(net, endPoints);
            // 8 x 8 x 1536: 3 x Inception-C
            for (int i = 0; i < 3; i++) {
                String blockScope = "Mixed_7" + (char) ('b' + i);
                net = blockInceptionC(net, blockScope);
                if (done(endPoints, blockScope, net, finalEndpoint)) return new NetOutput(net, endPoints);
            }
            return new NetOutput(net, endPoints);
        }
    }

    /**
     * inception_v4(inputs, num_classes=1001, is_training=True, dropout_keep_prob=0.8,
     * scope='InceptionV4', create_aux_logits=True).
     *
     * <p>AuxLogits (when create_aux_logits and numClasses > 0), on Mixed_6h: 5x5/3 VALID avg pool →
     * 1x1 128 → VALID conv 768 over the whole map ({@code Conv2d_2a}) → flatten → fully connected
     * {@code Aux_logits} (linear) → end point {@code AuxLogits}. Logits: average pool over the whole
     * map ({@code AvgPool_1a}, end point {@code global_pool}); numClasses 0 returns it; else
     * Dropout_1b → flatten ({@code PreLogitsFlatten}) → fully connected {@code Logits} (linear) →
     * softmax ({@code Predictions}). There is no spatial_squeeze or global_pool option.
     */
    public static NetOutput inceptionV4(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, String scope,
                                        boolean createAuxLogits) {
        try (VariableScope sc = VariableScope.open(scope, "InceptionV4");
             var training = ArgScope.of(BATCH_NORM, DROPOUT).set(isTraining(isTraining)).open()) {
            NetOutput b = base(inputs, "Mixed_7d");
            Var net = b.logits();
            EndPoints endPoints = b.endPoints();
            try (var same = ArgScope.of(CONV2D, MAX_POOL2D, AVG_POOL2D).set(stride(1), padding(SAME)).open()) {
                if (createAuxLogits && numClasses > 0) {
                    try (VariableScope aux = VariableScope.open("AuxLogits")) {
                        // 17 x 17 x 1024
                        Var auxLogits = avgPool2d(endPoints.get("Mixed_6h"), 5, 3, "AvgPool_1a_5x5", padding(VALID));
                        auxLogits = conv2d(auxLogits, 128, 1, "Conv2d_1b_1x1");
                        int[] d = auxLogits.value().dims();
                        auxLogits = conv2d(auxLogits, 768, kernel(d[1], d[2]), "Conv2d_2a", padding(VALID));
                        auxLogits = flatten(auxLogits);
                        auxLogits = fullyConnected(auxLogits, numClasses, "Aux_logits", activationFn(null));
                        endPoints.put("AuxLogits", auxLogits);
                    }
                }
                // Final pooling and prediction
                try (VariableScope logitsScope = VariableScope.open("Logits")) {
                    // 8 x 8 x 1536; shapes are always static here, so always TF's fixed-kernel branch
                    int[] d = net.value().dims();
                    net = avgPool2d(net, kernel(d[1], d[2]), "AvgPool_1a", padding(VALID));
                    endPoints.put("global_pool", net);
                    if (numClasses == 0) return new NetOutput(net, endPoints);
                    // 1 x 1 x 1536
                    net = dropout(net, dropoutKeepProb, "Dropout_1b");
                    net = flatten(net, "PreLogitsFlatten");
                    endPoints.put("PreLogitsFlatten", net);
                    // 1536
                    Var logits = fullyConnected(net, numClasses, "Logits", activationFn(null));
                    endPoints.put("Logits", logits);
                    endPoints.put("Predictions", Ops.softmaxNamed(logits, "Predictions"));
                    return new NetOutput(logits, endPoints);
                }
            }
        }
    }

    /** inception_v4_arg_scope = inception_arg_scope. */
    public static ArgScope inceptionV4ArgScope(double weightDecay) {
        return InceptionUtils.inceptionArgScope(weightDecay);
    }

    /** The nets factory entry {@code inception_v4}. */
    public static final NetworkFn INCEPTION_V4 = NetworkFn.of("inception_v4", DEFAULT_IMAGE_SIZE, 3, 1001, InceptionV4::inceptionV4ArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.SCOPE, NetArg.CREATE_AUX_LOGITS),
        (images, numClasses, training, o) -> inceptionV4(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.8),
            o.get(NetArg.SCOPE, "InceptionV4"), o.get(NetArg.CREATE_AUX_LOGITS, true)));
}
