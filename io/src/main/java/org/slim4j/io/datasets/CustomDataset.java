package org.slim4j.io.datasets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A data set added without code: a {@code dataset.json} in its folder describes it, and
 * {@code --dataset_name=<its name> --dataset_dir=<the folder>} picks it up.
 *
 * <pre>
 * {
 *   "name": "my_flowers",                        required: the --dataset_name
 *   "file_pattern": "my_flowers_%s_*.tfrecord",  required: %s = split name; * ? [..] wildcards
 *   "splits": {"train": 3000, "validation": 300}, required: split → number of records
 *   "num_classes": 5,                             required unless class_names is given
 *   "class_names": ["daisy", "rose", ...],        optional; labels.txt is used when absent
 *   "image_format": "jpeg",                       optional: format of records without image/format
 *                                                 (jpeg, png or raw; default jpeg)
 *   "image_shape": [32, 32, 3],                   optional: fixed [height, width, channels]
 *                                                 (required for "raw" images)
 *   "channels": 3,                                optional: decode to 1 or 3 channels, 0 = as
 *                                                 encoded (default 3)
 *   "items_to_descriptions": {"image": "..."}     optional
 * }
 * </pre>
 * The records are tf.Examples with TF-Slim's keys: {@code image/encoded}, {@code image/format},
 * {@code image/class/label} (what {@code download_and_convert_data} writes). Unknown keys are
 * rejected (they are usually typos), naming the allowed ones.
 */
public final class CustomDataset {
    public static final String DESCRIPTOR_FILENAME = "dataset.json";

    private static final Set<String> KEYS = Set.of("name", "file_pattern", "splits", "num_classes", "class_names",
            "image_format", "image_shape", "channels", "items_to_descriptions");

    private CustomDataset() {
    }

    /** The descriptor file in {@code datasetDir}, or null when there is none. */
    public static Path find(Path datasetDir) {
        if (datasetDir == null) return null;
        Path p = datasetDir.resolve(DESCRIPTOR_FILENAME);
        return Files.isRegularFile(p) ? p : null;
    }

    /** Parses a descriptor file; every problem names the file and the key. */
    public static DatasetDescriptor read(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""), e);
        }
        if (root == null || !root.isObject()) throw new IOException(file + ": expected a JSON object");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw new IOException(file + ": unknown key '" + k + "' (allowed: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
            }
        }
        String name = text(root, "name", file, true);
        if (!name.matches("[A-Za-z0-9_.\\-]+")) throw new IOException(file + ": name '" + name + "' may only use letters, digits, '_', '.', '-'");
        String pattern = text(root, "file_pattern", file, true);
        JsonNode splitsNode = root.get("splits");
        if (splitsNode == null || !splitsNode.isObject() || splitsNode.isEmpty()) {
            throw new IOException(file + ": 'splits' must be an object of split name → number of records, e.g. {\"train\": 1000}");
        }
        Map<String, Long> splits = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = splitsNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToLong() || !e.getValue().isIntegralNumber() || e.getValue().asLong() < 0) {
                throw new IOException(file + ": splits." + e.getKey() + " must be a whole number >= 0, got " + e.getValue());
            }
            splits.put(e.getKey(), e.getValue().asLong());
        }
        List<String> classNames = null;
        JsonNode cn = root.get("class_names");
        if (cn != null) {
            if (!cn.isArray() || cn.isEmpty()) throw new IOException(file + ": 'class_names' must be a non-empty list of strings");
            classNames = new ArrayList<>();
            for (JsonNode n : cn) {
                if (!n.isTextual()) throw new IOException(file + ": 'class_names' must hold strings, got " + n);
                classNames.add(n.asText());
            }
        }
        int numClasses;
        JsonNode nc = root.get("num_classes");
        if (nc != null) {
            if (!nc.isIntegralNumber() || nc.asInt() < 1) throw new IOException(file + ": 'num_classes' must be a whole number >= 1, got " + nc);
            numClasses = nc.asInt();
            if (classNames != null && classNames.size() != numClasses) {
                throw new IOException(file + ": 'num_classes' is " + numClasses + " but 'class_names' has " + classNames.size() + " names");
            }
        } else if (classNames != null) {
            numClasses = classNames.size();
        } else {
            throw new IOException(file + ": 'num_classes' is required (or give 'class_names')");
        }
        String format = root.has("image_format") ? text(root, "image_format", file, true).toLowerCase(java.util.Locale.ROOT) : "jpeg";
        if (!Set.of("jpeg", "jpg", "png", "raw").contains(format)) {
            throw new IOException(file + ": 'image_format' must be jpeg, png or raw, got '" + format + "'");
        }
        int[] shape = null;
        JsonNode sh = root.get("image_shape");
        if (sh != null) {
            if (!sh.isArray() || sh.size() != 3) throw new IOException(file + ": 'image_shape' must be [height, width, channels], got " + sh);
            shape = new int[3];
            for (int i = 0; i < 3; i++) {
                if (!sh.get(i).isIntegralNumber() || sh.get(i).asInt() < 1) throw new IOException(file + ": 'image_shape' entries must be whole numbers >= 1, got " + sh);
                shape[i] = sh.get(i).asInt();
            }
        }
        if (format.equals("raw") && shape == null) throw new IOException(file + ": 'image_shape' is required for raw images");
        int channels = 3;
        JsonNode ch = root.get("channels");
        if (ch != null) {
            if (!ch.isIntegralNumber() || (ch.asInt() != 0 && ch.asInt() != 1 && ch.asInt() != 3)) {
                throw new IOException(file + ": 'channels' must be 0 (as encoded), 1 or 3, got " + ch);
            }
            channels = ch.asInt();
        } else if (shape != null) {
            channels = shape[2];
        }
        Map<String, String> items = new LinkedHashMap<>();
        JsonNode it = root.get("items_to_descriptions");
        if (it != null) {
            if (!it.isObject()) throw new IOException(file + ": 'items_to_descriptions' must be an object of item → text");
            it.fields().forEachRemaining(e -> items.put(e.getKey(), e.getValue().asText()));
        }
        try {
            return new DatasetDescriptor(name, pattern, splits, numClasses, format, shape, channels, null, false, classNames, items);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode root, String key, Path file, boolean required) throws IOException {
        JsonNode n = root.get(key);
        if (n == null) {
            if (required) throw new IOException(file + ": '" + key + "' is required");
            return null;
        }
        if (!n.isTextual() || n.asText().isEmpty()) throw new IOException(file + ": '" + key + "' must be a non-empty string, got " + n);
        return n.asText();
    }
}
