package org.slim4j.nets;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Args;

/**
 * TF-Slim's nets factory ({@code nets/nets_factory.py}): every network by its factory name.
 *
 * <pre>{@code
 * NetworkFn fn = Nets.get("vgg_16");            // fn.defaultImageSize() == 224
 * try (Network net = Network.create(fn, 1000, 0.0005, seed)) { NetOutput out = net.apply(images, true); }
 * }</pre>
 */
public final class Nets {
    private Nets() {
    }

    private static final Map<String, NetworkFn> NETWORKS = new LinkedHashMap<>();

    static {
        // register networks here (one line per factory name, in nets_factory's order)
        register(AlexNetV2.ALEXNET_V2);
        register(CifarNet.CIFARNET);
        register(OverFeat.OVERFEAT);
        register(Vgg.VGG_A);
        register(Vgg.VGG_16);
        register(Vgg.VGG_19);
        register(InceptionV1.INCEPTION_V1);
        register(InceptionV2.INCEPTION_V2);
        register(InceptionV3.INCEPTION_V3);
        register(InceptionV4.INCEPTION_V4);
        register(InceptionResnetV2.INCEPTION_RESNET_V2);
        register(LeNet.LENET);
        register(ResnetV1.RESNET_V1_50);
        register(ResnetV1.RESNET_V1_101);
        register(ResnetV1.RESNET_V1_152);
        register(ResnetV1.RESNET_V1_200);
        register(ResnetV2.RESNET_V2_50);
        register(ResnetV2.RESNET_V2_101);
        register(ResnetV2.RESNET_V2_152);
        register(ResnetV2.RESNET_V2_200);
        register(MobilenetV1.MOBILENET_V1);
        register(MobilenetV1.MOBILENET_V1_075);
        register(MobilenetV1.MOBILENET_V1_050);
        register(MobilenetV1.MOBILENET_V1_025);
        register(MobilenetV2.MOBILENET_V2);
        register(MobilenetV2.MOBILENET_V2_140);
        register(MobilenetV2.MOBILENET_V2_035);
        register(Nasnet.NASNET_CIFAR);
        register(Nasnet.NASNET_MOBILE);
        register(Nasnet.NASNET_LARGE);
        register(Pnasnet.PNASNET_LARGE);
        register(Pnasnet.PNASNET_MOBILE);
    }

    private static void register(NetworkFn fn) {
        if (NETWORKS.putIfAbsent(fn.name(), fn) != null) throw new IllegalStateException("network " + fn.name() + " registered twice");
    }

    /** The network called {@code name}; unknown names are an error listing the known ones. */
    public static NetworkFn get(String name) {
        NetworkFn fn = NETWORKS.get(name);
        if (fn == null) throw new IllegalArgumentException("Name of network unknown " + name + " (known: " + String.join(", ", names()) + ")");
        return fn;
    }

    /** Every factory name, in registration order. */
    public static List<String> names() {
        return new ArrayList<>(NETWORKS.keySet());
    }

    /**
     * TF's {@code get_network_fn(name, num_classes, weight_decay, is_training)}: a function of the
     * images that builds the network in the open graph under its arg scope.
     */
    public static Function<Var, NetOutput> networkFn(String name, int numClasses, double weightDecay, boolean isTraining) {
        NetworkFn fn = get(name);
        return images -> fn.apply(images, numClasses, weightDecay, isTraining, Args.empty());
    }
}
