package org.slim4j.tools.train;

import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.decay;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.normalizerParams;
import static org.slim4j.layers.Arg.scale;
import static org.slim4j.layers.Arg.weightsRegularizer;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Activation;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Layers;
import org.slim4j.layers.Normalizer;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;
import org.slim4j.nets.NetOutput;
import org.slim4j.nets.NetworkFn;

/**
 * A network built only from op families the CUDA backend has today (matmul, bias add, batch norm,
 * relu, reshape views; softmax cross-entropy and L2 decay in the loss), for tests of the GPU
 * training path on the CUDA emulator: flatten → fc 8 (batch norm with scale, relu) → fc logits,
 * on 3x3x2 images, 4 classes by default.
 */
public final class TinyFcNet {
    private TinyFcNet() {
    }

    public static final NetworkFn NET = NetworkFn.of("tiny_fc_bn", 3, 2, 4,
        wd -> ArgScope.of(Layers.FULLY_CONNECTED).set(weightsRegularizer(Regularizers.l2(wd)), activationFn(Activation.RELU)).build(),
        List.of(), (images, numClasses, training, o) -> {
            EndPoints ep = new EndPoints();
            try (VariableScope sc = VariableScope.open("Tiny", "Tiny")) {
                Var net = ep.put("Flatten", Layers.flatten(images));
                net = ep.put("fc1", Layers.fullyConnected(net, 8, "fc1", normalizerFn(Normalizer.BATCH_NORM),
                    normalizerParams(isTraining(training), decay(0.9), scale(true))));
                Var logits = ep.put("Logits", Layers.fullyConnected(net, numClasses, "logits", activationFn(null)));
                return new NetOutput(logits, ep);
            }
        });
}
