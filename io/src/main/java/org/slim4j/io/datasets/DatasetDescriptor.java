package org.slim4j.io.datasets;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What TF-Slim's {@code datasets/<name>.py} module knows about a data set: where its files are
 * ({@code filePattern % split}, relative to the dataset folder, with shell wildcards), how many
 * samples each split has, the number of classes, and how to decode its tf.Examples (the
 * {@code keys_to_features} / {@code items_to_handlers} of its TFExampleDecoder).
 *
 * @param name              the {@code --dataset_name}
 * @param filePattern       e.g. {@code flowers_%s_*.tfrecord}; exactly one {@code %s}, replaced by the split name
 * @param splits            split name → num_samples, in TF-Slim's order
 * @param numClasses        the classifier's output size (1001 for imagenet: background is class 0)
 * @param defaultFormat     image/format to assume when a record has none ("png", "jpeg" or "raw")
 * @param imageShape        [H, W, C] when every image has this shape (mnist, cifar10), else null
 * @param channels          channels to decode to (1 or 3), or 0 to keep the encoded count
 * @param labelDefault      image/class/label when a record has none (imagenet: -1), or null if it is required
 * @param hasObjectBoxes    whether records carry image/object/bbox/{ymin,xmin,ymax,xmax} (imagenet)
 * @param classNames        the class names a converter writes to labels.txt (index = label), or null
 * @param itemsToDescriptions TF-Slim's items_to_descriptions
 */
public record DatasetDescriptor(
        String name,
        String filePattern,
        Map<String, Long> splits,
        int numClasses,
        String defaultFormat,
        int[] imageShape,
        int channels,
        Long labelDefault,
        boolean hasObjectBoxes,
        List<String> classNames,
        Map<String, String> itemsToDescriptions) {

    public static final String IMAGE_KEY = "image/encoded";
    public static final String FORMAT_KEY = "image/format";
    public static final String LABEL_KEY = "image/class/label";
    public static final String LABEL_TEXT_KEY = "image/class/text";
    public static final String HEIGHT_KEY = "image/height";
    public static final String WIDTH_KEY = "image/width";
    /** imagenet's box keys; build_imagenet_data writes the box labels as image/object/bbox/label. */
    public static final String BBOX_YMIN_KEY = "image/object/bbox/ymin";
    public static final String BBOX_XMIN_KEY = "image/object/bbox/xmin";
    public static final String BBOX_YMAX_KEY = "image/object/bbox/ymax";
    public static final String BBOX_XMAX_KEY = "image/object/bbox/xmax";

    public DatasetDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(filePattern, "filePattern");
        int at = filePattern.indexOf("%s");
        if (at < 0 || filePattern.indexOf("%s", at + 2) >= 0) {
            throw new IllegalArgumentException("dataset " + name + ": file pattern '" + filePattern + "' must contain %s exactly once (it is replaced by the split name)");
        }
        if (filePattern.startsWith("/") || filePattern.contains("..")) {
            throw new IllegalArgumentException("dataset " + name + ": file pattern '" + filePattern + "' must be relative to the dataset folder");
        }
        if (splits == null || splits.isEmpty()) throw new IllegalArgumentException("dataset " + name + ": no splits");
        splits.forEach((k, v) -> {
            if (k == null || k.isEmpty() || v == null || v < 0) {
                throw new IllegalArgumentException("dataset " + name + ": bad split " + k + " = " + v + " (a name and a size >= 0 are needed)");
            }
        });
        splits = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(splits));
        if (numClasses < 1) throw new IllegalArgumentException("dataset " + name + ": num_classes must be >= 1, got " + numClasses);
        if (imageShape != null) {
            if (imageShape.length != 3 || Arrays.stream(imageShape).anyMatch(d -> d < 1)) {
                throw new IllegalArgumentException("dataset " + name + ": image shape must be [height, width, channels] > 0, got " + Arrays.toString(imageShape));
            }
            imageShape = imageShape.clone();
        }
        if (channels != 0 && channels != 1 && channels != 3) {
            throw new IllegalArgumentException("dataset " + name + ": channels must be 0 (as encoded), 1 or 3, got " + channels);
        }
        defaultFormat = defaultFormat == null ? "jpeg" : defaultFormat;
        if (classNames != null) {
            classNames = List.copyOf(classNames);
            if (classNames.size() != numClasses) {
                throw new IllegalArgumentException("dataset " + name + ": " + classNames.size() + " class names for " + numClasses + " classes");
            }
        }
        itemsToDescriptions = itemsToDescriptions == null ? Map.of()
                : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(itemsToDescriptions));
    }

    /** The file pattern of one split, relative to the dataset folder: TF-Slim's {@code file_pattern % split_name}. */
    public String patternFor(String split) {
        return filePattern.replace("%s", split);
    }

    /** num_samples of {@code split}. */
    public long numSamples(String split) {
        Long n = splits.get(split);
        if (n == null) throw unknownSplit(split);
        return n;
    }

    /** TF-Slim's "split name %s was not recognized", with the known splits. */
    public IllegalArgumentException unknownSplit(String split) {
        return new IllegalArgumentException("dataset " + name + " has no split '" + split + "' (splits: " + String.join(", ", splits.keySet()) + ")");
    }

    @Override
    public int[] imageShape() {
        return imageShape == null ? null : imageShape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DatasetDescriptor d && name.equals(d.name) && filePattern.equals(d.filePattern)
                && splits.equals(d.splits) && numClasses == d.numClasses && defaultFormat.equals(d.defaultFormat)
                && Arrays.equals(imageShape, d.imageShape) && channels == d.channels && Objects.equals(labelDefault, d.labelDefault)
                && hasObjectBoxes == d.hasObjectBoxes && Objects.equals(classNames, d.classNames)
                && itemsToDescriptions.equals(d.itemsToDescriptions);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, filePattern, splits, numClasses);
    }

    @Override
    public String toString() {
        return "DatasetDescriptor[" + name + ", " + filePattern + ", " + splits + ", " + numClasses + " classes]";
    }
}
