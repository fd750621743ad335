package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.biasesInitializer;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.outputsCollections;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;
import static org.slim4j.layers.Layers.MAX_POOL2D;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.maxPool2d;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Activation;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's OverFeat ({@code nets/overfeat.py}, the "fast" model): five convolutions and three 2x2
 * pools, then fc6 (6x6 VALID conv), fc7, fc8 as convolutions, on 231x231 images; scope
 * {@code overfeat}.
 */
public final class OverFeat {
    private OverFeat() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 231;

    /**
     * overfeat(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
     * spatial_squeeze=True, scope='overfeat', global_pool=False). End points
     * {@code overfeat/conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool5, fc6, fc7, fc8}.
     */
    public static NetOutput overfeat(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, boolean spatialSqueeze,
                                     String scope, boolean globalPool) {
        try (VariableScope sc = VariableScope.open(scope, "overfeat")) {
            EndPoints endPoints = new EndPoints();
            try (var a = ArgScope.of(CONV2D, FULLY_CONNECTED, MAX_POOL2D).set(outputsCollections(endPoints)).open()) {
                Var net = conv2d(inputs, 64, 11, 4, "conv1", padding(VALID));
                net = maxPool2d(net, 2, "pool1");
                net = conv2d(net, 256, 5, "conv2", padding(VALID));
                net = maxPool2d(net, 2, "pool2");
                net = conv2d(net, 512, 3, "conv3");
                net = conv2d(net, 1024, 3, "conv4");
                net = conv2d(net, 1024, 3, "conv5");
                net = maxPool2d(net, 2, "pool5");

                // Use conv2d instead of fully_connected layers.
                try (var fc = ArgScope.of(CONV2D).set(weightsInitializer(Initializers.truncatedNormal(0.005)),
                        biasesInitializer(Initializers.constant(0.1))).open()) {
                    net = conv2d(net, 3072, 6, "fc6", padding(VALID));
                    net = dropout(net, dropoutKeepProb, "dropout6", isTraining(isTraining));
                    net = conv2d(net, 4096, 1, "fc7");
                    EndPoints result = AlexNetV2.copyOf(endPoints);
                    if (globalPool) {
                        net = result.put("global_pool", Ops.reduceMean(net, new int[] {1, 2}, true));
                    }
                    if (numClasses > 0) {
                        net = dropout(net, dropoutKeepProb, "dropout7", isTraining(isTraining));
                        net = conv2d(net, numClasses, 1, "fc8", activationFn(null), normalizerFn(null),
                            biasesInitializer(Initializers.zeros()));
                        if (spatialSqueeze) net = Ops.squeezeNamed(net, "fc8/squeezed", 1, 2);
                        result.put(sc.name() + "/fc8", net);
                    }
                    return new NetOutput(net, result);
                }
            }
        }
    }

    /** overfeat_arg_scope(weight_decay=0.0005): conv and fc relu, L2 decay, zero biases; conv SAME; max pool VALID. */
    public static ArgScope overfeatArgScope(double weightDecay) {
        return ArgScope.of(CONV2D, FULLY_CONNECTED).set(
                activationFn(Activation.RELU),
                weightsRegularizer(Regularizers.l2(weightDecay)),
                biasesInitializer(Initializers.zeros()))
            .nest(ArgScope.of(CONV2D).set(padding(SAME)))
            .nest(ArgScope.of(MAX_POOL2D).set(padding(VALID)));
    }

    /** The nets factory entry {@code overfeat}. */
    public static final NetworkFn OVERFEAT = NetworkFn.of("overfeat", DEFAULT_IMAGE_SIZE, 3, 1000, OverFeat::overfeatArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.SPATIAL_SQUEEZE, NetArg.SCOPE, NetArg.GLOBAL_POOL),
        (images, numClasses, training, o) -> overfeat(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.5),
            o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(NetArg.SCOPE, "overfeat"), o.get(NetArg.GLOBAL_POOL, false)));
}
