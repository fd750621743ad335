package org.slim4j.io.datasets;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The built-in descriptors: TF-Slim's {@code datasets/{mnist,cifar10,flowers,imagenet}.py} with their
 * file patterns, split sizes, class counts and decoders, plus fashion_mnist (written in mnist's
 * format by {@code download_and_convert_data}, with its own file names and 10 class names).
 */
public final class Datasets {
    private Datasets() {
    }

    /** mnist's class names as TF-Slim writes them, including its 'size' for six. */
    public static final List<String> MNIST_CLASSES =
            List.of("zero", "one", "two", "three", "four", "five", "size", "seven", "eight", "nine");

    /** Fashion-MNIST's classes, in label order. */
    public static final List<String> FASHION_MNIST_CLASSES =
            List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    public static final List<String> CIFAR10_CLASSES =
            List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    public static final DatasetDescriptor MNIST = new DatasetDescriptor("mnist", "mnist_%s.tfrecord",
            splits("train", 60000, "test", 10000), 10, "raw", new int[] {28, 28, 1}, 1, null, false, MNIST_CLASSES,
            items("A [28 x 28 x 1] grayscale image.", "A single integer between 0 and 9"));

    public static final DatasetDescriptor FASHION_MNIST = new DatasetDescriptor("fashion_mnist", "fashion_mnist_%s.tfrecord",
            splits("train", 60000, "test", 10000), 10, "raw", new int[] {28, 28, 1}, 1, null, false, FASHION_MNIST_CLASSES,
            items("A [28 x 28 x 1] grayscale image of a clothing article.", "A single integer between 0 and 9"));

    public static final DatasetDescriptor CIFAR10 = new DatasetDescriptor("cifar10", "cifar10_%s.tfrecord",
            splits("train", 50000, "test", 10000), 10, "png", new int[] {32, 32, 3}, 3, null, false, CIFAR10_CLASSES,
            items("A [32 x 32 x 3] color image.", "A single integer between 0 and 9"));

    /** Class names are the sorted folder names of the photos, so they come from labels.txt only. */
    public static final DatasetDescriptor FLOWERS = new DatasetDescriptor("flowers", "flowers_%s_*.tfrecord",
            splits("train", 3320, "validation", 350), 5, "png", null, 3, null, false, null,
            items("A color image of varying size.", "A single integer between 0 and 4"));

    public static final DatasetDescriptor IMAGENET;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("image", "A color image of varying height and width.");
        d.put("label", "The label id of the image, integer between 0 and 999");
        d.put("label_text", "The text of the label.");
        d.put("object/bbox", "A list of bounding boxes.");
        d.put("object/label", "A list of labels, one per each object.");
        IMAGENET = new DatasetDescriptor("imagenet", "%s-*", splits("train", 1281167, "validation", 50000), 1001,
                "jpeg", null, 3, -1L, true, null, d);
    }

    /** Built-in descriptors by name, sorted by name. */
    public static final Map<String, DatasetDescriptor> BUILT_IN;

    static {
        Map<String, DatasetDescriptor> m = new java.util.TreeMap<>();
        for (DatasetDescriptor x : List.of(MNIST, FASHION_MNIST, CIFAR10, FLOWERS, IMAGENET)) m.put(x.name(), x);
        BUILT_IN = java.util.Collections.unmodifiableMap(m);
    }

    private static Map<String, Long> splits(String a, long na, String b, long nb) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put(a, na);
        m.put(b, nb);
        return m;
    }

    private static Map<String, String> items(String image, String label) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("image", image);
        m.put("label", label);
        return m;
    }
}
