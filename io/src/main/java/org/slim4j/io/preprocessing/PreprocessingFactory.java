package org.slim4j.io.preprocessing;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * TF-Slim's {@code preprocessing_factory.get_preprocessing(name, is_training)}: the same names and the
 * same mapping from network names to the four preprocessing modules. Names it does not map (e.g.
 * alexnet_v2, overfeat, mobilenet_v1_075, nasnet_cifar) are rejected as in TF-Slim; pass a
 * preprocessing name explicitly for those nets.
 */
public final class PreprocessingFactory {
    private static final Map<String, String> MODULE_OF = new LinkedHashMap<>();

    static {
        map("cifarnet", "cifarnet");
        map("inception", "inception", "inception_v1", "inception_v2", "inception_v3", "inception_v4", "inception_resnet_v2",
                "mobilenet_v1", "mobilenet_v2", "mobilenet_v2_035", "mobilenet_v2_140", "nasnet_mobile", "nasnet_large",
                "pnasnet_mobile", "pnasnet_large");
        map("lenet", "lenet");
        map("vgg", "resnet_v1_50", "resnet_v1_101", "resnet_v1_152", "resnet_v1_200", "resnet_v2_50", "resnet_v2_101",
                "resnet_v2_152", "resnet_v2_200", "vgg", "vgg_a", "vgg_16", "vgg_19");
    }

    private PreprocessingFactory() {
    }

    private static void map(String module, String... names) {
        for (String n : names) MODULE_OF.put(n, module);
    }

    /**
     * The preprocessing for {@code name} with TF-Slim's defaults.
     *
     * @throws IllegalArgumentException for a name TF-Slim does not map (TF-Slim's ValueError), listing the known names
     */
    public static ImagePreprocessor get(String name, boolean isTraining) {
        String module = name == null ? null : MODULE_OF.get(name);
        if (module == null) {
            throw new IllegalArgumentException("Preprocessing name [" + name + "] was not recognized; known names: "
                    + String.join(", ", names()));
        }
        return switch (module) {
            case "cifarnet" -> new CifarNetPreprocessing(isTraining);
            case "inception" -> new InceptionPreprocessing(isTraining);
            case "lenet" -> new LeNetPreprocessing(isTraining);
            case "vgg" -> new VggPreprocessing(isTraining);
            default -> throw new AssertionError(module);
        };
    }

    /** Every name {@link #get} accepts, sorted. */
    public static List<String> names() {
        return List.copyOf(new TreeSet<>(MODULE_OF.keySet()));
    }

    /** The module (inception, vgg, cifarnet, lenet) that {@code name} maps to, or null. */
    public static String moduleOf(String name) {
        return MODULE_OF.get(name);
    }

    /** The names that map to each module. */
    public static Map<String, Set<String>> modules() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        MODULE_OF.forEach((n, mod) -> m.computeIfAbsent(mod, k -> new TreeSet<>()).add(n));
        m.replaceAll((k, v) -> Collections.unmodifiableSet(v));
        return Collections.unmodifiableMap(m);
    }
}
