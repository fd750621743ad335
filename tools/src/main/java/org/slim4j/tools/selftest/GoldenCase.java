package org.slim4j.tools.selftest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One golden op case, {@code ops/<case>/case.json}: the TF op, its attrs, and its input and
 * output tensors (.npy files beside the json). See the golden README's "Op cases" section.
 */
public record GoldenCase(String name, String op, JsonNode attrs, List<TensorSpec> inputs, List<TensorSpec> outputs, Path dir) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * An input or output tensor: its file and TF dtype; a list input ({@code ConcatV2.values})
     * has {@code list} set and no file of its own.
     */
    public record TensorSpec(String name, String file, String tfDtype, int[] shape, List<TensorSpec> list) {
        public boolean isList() {
            return list != null;
        }
    }

    /** Parses {@code dir/case.json}. */
    public static GoldenCase load(Path dir) throws IOException {
        Path json = dir.resolve("case.json");
        JsonNode root = JSON.readTree(json.toFile());
        String name = text(root, "name", json);
        String op = text(root, "op", json);
        JsonNode attrs = root.has("attrs") ? root.get("attrs") : JsonNodeFactory.instance.objectNode();
        // A pipeline case lists its TF ops under "steps" instead of attrs; they are its attrs.
        if (!root.has("attrs") && root.has("steps")) attrs = JsonNodeFactory.instance.objectNode().set("steps", root.get("steps"));
        return new GoldenCase(name, op, attrs, specs(root.get("inputs"), json), specs(root.get("outputs"), json), dir);
    }

    private static List<TensorSpec> specs(JsonNode array, Path json) throws IOException {
        List<TensorSpec> out = new ArrayList<>();
        if (array == null) return out;
        if (!array.isArray()) throw new IOException(json + ": inputs/outputs must be arrays");
        for (JsonNode n : array) {
            String name = text(n, "name", json);
            if (n.has("list")) {
                out.add(new TensorSpec(name, null, null, null, specs(n.get("list"), json)));
                continue;
            }
            JsonNode shapeNode = n.get("shape");
            int[] shape = new int[shapeNode == null ? 0 : shapeNode.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = shapeNode.get(i).asInt();
            out.add(new TensorSpec(name, text(n, "file", json), text(n, "tf_dtype", json), shape, null));
        }
        return out;
    }

    private static String text(JsonNode n, String field, Path json) throws IOException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) throw new IOException(json + ": missing string field '" + field + "'");
        return v.asText();
    }
}
