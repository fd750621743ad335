package org.slim4j.nets;

import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.biasesInitializer;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.outputsCollections;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.FULLY_CONNECTED;
import static org.slim4j.layers.Layers.MAX_POOL2D;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.dropout;
import static org.slim4j.layers.Layers.maxPool2d;
import static org.slim4j.layers.Layers.repeat;

import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.Padding;
import org.slim4j.layers.Activation;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Initializers;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Regularizers;
import org.slim4j.layers.VariableScope;

/**
 * TF-Slim's VGG ({@code nets/vgg.py}): configurations A (vgg_a, 11 layers), D (vgg_16) and E
 * (vgg_19) — five blocks of 3x3 convolutions (64, 128, 256, 512, 512 channels), each followed by a
 * 2x2 max pool, then fc6 (7x7 conv), fc7 and fc8 (1x1 convs), on 224x224 images.
 */
public final class Vgg {
    private Vgg() {
    }

    public static final int DEFAULT_IMAGE_SIZE = 224;

    private static final int[] DEPTHS = {64, 128, 256, 512, 512};
    private static final int[] REPEATS_A = {1, 1, 2, 2, 2};
    private static final int[] REPEATS_16 = {2, 2, 3, 3, 3};
    private static final int[] REPEATS_19 = {2, 2, 4, 4, 4};

    /**
     * vgg_a(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5, spatial_squeeze=True,
     * scope='vgg_a', fc_conv_padding='VALID', global_pool=False).
     */
    public static NetOutput vggA(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, boolean spatialSqueeze,
                                 String scope, Padding fcConvPadding, boolean globalPool) {
        return vgg(REPEATS_A, "vgg_a", inputs, numClasses, isTraining, dropoutKeepProb, spatialSqueeze, scope, fcConvPadding, globalPool);
    }

    /** vgg_16(...), as {@link #vggA} with scope 'vgg_16'. */
    public static NetOutput vgg16(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, boolean spatialSqueeze,
                                  String scope, Padding fcConvPadding, boolean globalPool) {
        return vgg(REPEATS_16, "vgg_16", inputs, numClasses, isTraining, dropoutKeepProb, spatialSqueeze, scope, fcConvPadding, globalPool);
    }

    /** vgg_19(...), as {@link #vggA} with scope 'vgg_19'. */
    public static NetOutput vgg19(Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb, boolean spatialSqueeze,
                                  String scope, Padding fcConvPadding, boolean globalPool) {
        return vgg(REPEATS_19, "vgg_19", inputs, numClasses, isTraining, dropoutKeepProb, spatialSqueeze, scope, fcConvPadding, globalPool);
    }

    /**
     * The shared body: {@code net = slim.repeat(net, n, slim.conv2d, depth, [3, 3], scope='convK');
     * net = slim.max_pool2d(net, [2, 2], scope='poolK')} for K = 1..5, then the convolutional fc
     * layers. End points {@code <scope>/convK/convK_i}, {@code <scope>/poolK}, {@code <scope>/fc6},
     * {@code fc7}, {@code fc8} (+ {@code global_pool}).
     */
    private static NetOutput vgg(int[] repeats, String defaultScope, Var inputs, int numClasses, boolean isTraining, double dropoutKeepProb,
                                 boolean spatialSqueeze, String scope, Padding fcConvPadding, boolean globalPool) {
        try (VariableScope sc = VariableScope.open(scope, defaultScope)) {
            EndPoints endPoints = new EndPoints();
            try (var a = ArgScope.of(CONV2D, FULLY_CONNECTED, MAX_POOL2D).set(outputsCollections(endPoints)).open()) {
                Var net = inputs;
                for (int b = 0; b < DEPTHS.length; b++) {
                    int depth = DEPTHS[b];
                    net = repeat(net, repeats[b], (x, s) -> conv2d(x, depth, 3, s), "conv" + (b + 1));
                    net = maxPool2d(net, 2, "pool" + (b + 1));
                }
                // Use conv2d instead of fully_connected layers.
                net = conv2d(net, 4096, 7, "fc6", padding(fcConvPadding));
                net = dropout(net, dropoutKeepProb, "dropout6", isTraining(isTraining));
                net = conv2d(net, 4096, 1, "fc7");
                EndPoints result = AlexNetV2.copyOf(endPoints);
                if (globalPool) {
                    net = result.put("global_pool", Ops.reduceMean(net, new int[] {1, 2}, true));
                }
                if (numClasses > 0) {
                    net = dropout(net, dropoutKeepProb, "dropout7", isTraining(isTraining));
                    net = conv2d(net, numClasses, 1, "fc8", activationFn(null), normalizerFn(null));
                    if (spatialSqueeze) net = Ops.squeezeNamed(net, "fc8/squeezed", 1, 2);
                    result.put(sc.name() + "/fc8", net);
                }
                return new NetOutput(net, result);
            }
        }
    }

    /** vgg_arg_scope(weight_decay=0.0005): conv and fc relu, L2 decay, zero biases; conv SAME. */
    public static ArgScope vggArgScope(double weightDecay) {
        return ArgScope.of(CONV2D, FULLY_CONNECTED).set(
                activationFn(Activation.RELU),
                weightsRegularizer(Regularizers.l2(weightDecay)),
                biasesInitializer(Initializers.zeros()))
            .nest(ArgScope.of(CONV2D).set(padding(SAME)));
    }

    private static final List<org.slim4j.layers.Arg<?>> OPTIONS = List.of(NetArg.DROPOUT_KEEP_PROB, NetArg.SPATIAL_SQUEEZE, NetArg.SCOPE,
        NetArg.FC_CONV_PADDING, NetArg.GLOBAL_POOL);

    private static NetworkFn entry(String name, int[] repeats) {
        return NetworkFn.of(name, DEFAULT_IMAGE_SIZE, 3, 1000, Vgg::vggArgScope, OPTIONS,
            (images, numClasses, training, o) -> vgg(repeats, name, images, numClasses, training, o.get(NetArg.DROPOUT_KEEP_PROB, 0.5),
                o.get(NetArg.SPATIAL_SQUEEZE, true), o.get(NetArg.SCOPE, name), o.get(NetArg.FC_CONV_PADDING, VALID),
                o.get(NetArg.GLOBAL_POOL, false)));
    }

    /** The nets factory entries {@code vgg_a}, {@code vgg_16}, {@code vgg_19}. */
    public static final NetworkFn VGG_A = entry("vgg_a", REPEATS_A);
    public static final NetworkFn VGG_16 = entry("vgg_16", REPEATS_16);
    public static final NetworkFn VGG_19 = entry("vgg_19", REPEATS_19);
}
