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
 * TF-Slim's AlexNet v2 ({@code nets/alexnet.py}, "One weird trick", no LRN): five convolutions and
 * three pools, then the fully connected layers as convolutions (fc6 5x5 VALID, fc7 and fc8 1x1),
 * on 224x224 images; scope {@code alexnet_v2}.
 */
public final class AlexNetV2 {
    private AlexNetV2() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 224;

    /**
     * alexnet_v2(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
     * spatial_squeeze=True, scope='alexnet_v2', global_pool=False). End points
     * {@code alexnet_v2/conv1 ... pool5, fc6, fc7, fc8} (+ {@code global_pool}).
     */
    public static NetOutput alexnetV2(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, boolean spatialSqueeze,
                                      String scope, boolean globalPool) {
        try (VariableScope sc = VariableScope.open(scope, "alexnet_v2")) {
            EndPoints endPoints = new EndPoints();
            try (var a = ArgScope.of(CONV2D, FULLY_CONNECTED, MAX_POOL2D).set(outputsCollections(endPoints)).open()) {
                Var net = conv2d(inputs, 64, 11, 4, "conv1", padding(VALID));
                net = maxPool2d(net, 3, 2, "pool1");
                net = conv2d(net, 192, 5, "conv2");
                net = maxPool2d(net, 3, 2, "pool2");
                net = conv2d(net, 384, 3, "conv3");
                net = conv2d(net, 384, 3, "conv4");
                net = conv2d(net, 256, 3, "conv5");
                net = maxPool2d(net, 3, 2, "pool5");

                // Use conv2d instead of fully_connected layers.
                try (var fc = ArgScope.of(CONV2D).set(weightsInitializer(Initializers.truncatedNormal(0.005)),
                        biasesInitializer(Initializers.constant(0.1))).open()) {
                    net = conv2d(net, 4096, 5, "fc6", padding(VALID));
                    net = dropout(net, dropoutKeepProb, "dropout6", isTraining(isTraining));
                    net = conv2d(net, 4096, 1, "fc7");
                    EndPoints result = copyOf(endPoints);
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

    /** The end points dict made from the collection so far (slim.utils.convert_collection_to_dict). */
    static EndPoints copyOf(EndPoints collection) {
        EndPoints e = new EndPoints();
        collection.asMap().forEach(e::put);
        return e;
    }

    /**
     * alexnet_v2_arg_scope(weight_decay=0.0005): conv and fc relu, biases 0.1, L2 decay; conv SAME;
     * max pool VALID.
     */
    public static ArgScope alexnetV2ArgScope(double weightDecay) {
        return ArgScope.of(CONV2D, FULLY_CONNECTED).set(
                activationFn(Activation.RELU),
                biasesInitializer(Initializers.constant(0.1)),
                weightsRegularizer(Regularizers.l2(weightDecay)))
            .nest(ArgScope.of(CONV2D).set(padding(SAME)))
            .nest(ArgScope.of(MAX_POOL2D).set(padding(VALID)));
    }

    /** The nets factory entry {@code alexnet_v2}. */
    public static final NetworkFn ALEXNET_V2 = NetworkFn.of("alexnet_v2", DEFAULT_IMAGE_SIZE, 3, 1000, AlexNetV2::alexnetV2ArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.SPATIAL_SQUEEZE, NetArg.SCOPE, NetArg.GLOBAL_POOL),
        (images, numClasses, training, o) -> alexnetV2(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.5),
            o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(NetArg.SCOPE, "alexnet_v2"), o.get(NetArg.GLOBAL_POOL, false)));
}
