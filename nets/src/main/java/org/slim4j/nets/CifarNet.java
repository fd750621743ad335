package org.slim4j.nets;

import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.biasesInitializer;
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
import org.slim4j.kernels.LrnSpec;
import org.slim4j.layers.Activation;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's CifarNet ({@code nets/cifarnet.py}), after the TF CIFAR-10 tutorial model: conv 64 5x5
 * → max pool → LRN → conv 64 5x5 → LRN → max pool → fc 384 → dropout → fc 192 → logits, on 32x32
 * images; scope {@code CifarNet}.
 */
public final class CifarNet {
    private CifarNet() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 32;

    /**
     * cifarnet(images, num_classes=10, is_training=False, dropout_keep_prob=0.5,
     * prediction_fn=slim.softmax, scope='CifarNet'). End points conv1, pool1, conv2, pool2, Flatten,
     * fc3, fc4, Logits, Predictions; numClasses 0 returns the fc4 features.
     */
    public static NetOutput cifarnet(Var images, int numClasses, boolean isTraining, double dropoutKeepProb, PredictionFn predictionFn, String scope) {
        EndPoints endPoints = new EndPoints();
        try (VariableScope sc = VariableScope.open(scope, "CifarNet")) {
            Var net = endPoints.put("conv1", conv2d(images, 64, 5, "conv1"));
            net = endPoints.put("pool1", maxPool2d(net, 2, 2, "pool1"));
            net = Ops.lrn(net, LrnSpec.cifarNet()); // tf.nn.lrn(net, 4, bias=1.0, alpha=0.001/9.0, beta=0.75, name='norm1')
            net = endPoints.put("conv2", conv2d(net, 64, 5, "conv2"));
            net = Ops.lrn(net, LrnSpec.cifarNet()); // norm2
            net = endPoints.put("pool2", maxPool2d(net, 2, 2, "pool2"));
            net = endPoints.put("Flatten", flatten(net));
            net = endPoints.put("fc3", fullyConnected(net, 384, "fc3"));
            net = dropout(net, dropoutKeepProb, "dropout3", isTraining(isTraining));
            net = endPoints.put("fc4", fullyConnected(net, 192, "fc4"));
            if (numClasses == 0) return new NetOutput(net, endPoints);
            Var logits = endPoints.put("Logits", fullyConnected(net, numClasses, "logits",
                biasesInitializer(Initializers.zeros()),
                weightsInitializer(Initializers.truncatedNormal(1 / 192.0)),
                weightsRegularizer(null),
                activationFn(null)));
            if (predictionFn != null) endPoints.put("Predictions", predictionFn.apply(logits, "Predictions"));
            return new NetOutput(logits, endPoints);
        }
    }

    /**
     * cifarnet_arg_scope(weight_decay=0.004): conv trunc_normal(0.05) + relu; fc constant 0.1
     * biases, trunc_normal(0.04) weights, L2 decay, relu.
     */
    public static ArgScope cifarnetArgScope(double weightDecay) {
        return ArgScope.of(CONV2D).set(
                weightsInitializer(Initializers.truncatedNormal(5e-2)),
                activationFn(Activation.RELU))
            .nest(ArgScope.of(FULLY_CONNECTED).set(
                biasesInitializer(Initializers.constant(0.1)),
                weightsInitializer(Initializers.truncatedNormal(0.04)),
                weightsRegularizer(Regularizers.l2(weightDecay)),
                activationFn(Activation.RELU)));
    }

    /** The nets factory entry {@code cifarnet}. */
    public static final NetworkFn CIFARNET = NetworkFn.of("cifarnet", DEFAULT_IMAGE_SIZE, 3, 10, CifarNet::cifarnetArgScope,
        List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.PREDICTION_FN, NetArg.SCOPE),
        (images, numClasses, training, o) -> cifarnet(images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.5),
            o.get(NetArg.PREDICTION_FN, PredictionFn.SOFTMAX), o.get(NetArg.SCOPE, "CifarNet")));
}
