package org.slim4j.nets;

import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.flatten;
import static org.slim4j.layers.Layers.fullyConnected;
import static org.slim4j.layers.Layers.maxPool2d;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Activation;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's LeNet ({@code nets/lenet.py}): conv 32 5x5 → max pool 2 → conv 64 5x5 → max pool 2 →
 * fc 1024 → dropout → fc num_classes, on 28x28 MNIST digits; scope {@code LeNet}.
 */
public final class LeNet {
    private LeNet() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 28;

    /**
     * lenet(images, num_classes=10, is_training=False, dropout_keep_prob=0.5,
     * prediction_fn=slim.softmax, scope='LeNet'). End points conv1, pool1, conv2, pool2, Flatten,
     * fc3, dropout3, Logits, Predictions; numClasses 0 returns the fc3 features.
     */
    public static NetOutput lenet(Var images, int numClasses, boolean isTraining, double dropoutKeepProb, PredictionFn predictionFn, String scope) {
        EndPoints endPoints = new EndPoints();
        Var logits;
        try (VariableScope sc = VariableScope.open(scope, "LeNet")) {
            Var net = endPoints.put("conv1", conv2d(images, 32, 5, "conv1"));
            net = endPoints.put("pool1", maxPool2d(net, 2, 2, "pool1"));
            net = endPoints.put("conv2", conv2d(net, 64, 5, "conv2"));
            net = endPoints.put("pool2", maxPool2d(net, 2, 2, "pool2"));
            net = flatten(net);
            endPoints.put("Flatten", net);
            net = endPoints.put("fc3", fullyConnected(net, 1024, "fc3"));
            if (numClasses == 0) return new NetOutput(net, endPoints);
            net = endPoints.put("dropout3", dropout(net, dropoutKeepProb, "dropout3", isTraining(isTraining)));
            logits = endPoints.put("Logits", fullyConnected(net, numClasses, "fc4", activationFn(null)));
        }
        if (predictionFn != null) endPoints.put("Predictions", predictionFn.apply(logits, "Predictions"));
        return new NetOutput(logits, endPoints);
    }

    /** lenet_arg_scope(weight_decay=0.0): conv and fc with L2 decay, trunc_normal(0.1) weights, relu. */
    public static ArgScope lenetArgScope(double weightDecay) {
        return ArgScope.of(CONV2D, FULLY_CONNECTED).set(
            weightsRegularizer(Regularizers.l2(weightDecay)),
            weightsInitializer(Initializers.truncatedNormal(0.1)),
            activationFn(Activation.RELU)).build();
    }

    /** The nets factory entry {@code lenet}. */
    public static final NetworkFn LENET = NetworkFn.of("lenet", DEFAULT_IMAGE_SIZE, 1, 10, LeNet::lenetArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.PREDICTION_FN, NetArg.SCOPE),
        (images, numClasses, training, o) -> lenet(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.5),
            o.get(NetArg.PREDICTION_FN, PredictionFn.SOFTMAX), o.get(NetArg.SCOPE, "LeNet")));
}
