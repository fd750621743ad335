package org.slim4j.tools.selftest;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.slim4j.tensor.Backend;
import org.slim4j.tensor.Tensor;

/** What a {@link GoldenOpTable} entry sees of one case: its inputs by TF name, its attrs and the backend. */
public final class OpCall {
    /**
     * Something slim4j cannot run yet (a kernel family the backend lacks, an unsupported attr):
     * the selftest reports the message as the case's reason, without a stack trace.
     */
    public static final class Unsupported extends RuntimeException {
        public Unsupported(String message) {
            super(message);
        }
    }

    private final String op;
    private final Map<String, Tensor> inputs;
    private final Map<String, List<Tensor>> lists;
    private final JsonNode attrs;
    private final Backend backend;

    OpCall(String op, Map<String, Tensor> inputs, Map<String, List<Tensor>> lists, JsonNode attrs, Backend backend) {
        this.op = op;
        this.inputs = inputs;
        this.lists = lists;
        this.attrs = attrs;
        this.backend = backend;
    }

    /** The backend's implementation of a kernel family. */
    public <K> K kernels(Class<K> family) {
        if (!backend.supports(family)) {
            throw new Unsupported("missing op: the " + backend.device().name() + " backend has no " + family.getSimpleName());
        }
        return backend.kernels(family);
    }

    /** The input tensor named {@code name} (TF's input name), already in its TF dtype. */
    public Tensor in(String name) {
        Tensor t = inputs.get(name);
        if (t == null) throw new IllegalArgumentException(op + ": the case has no input '" + name + "' (has " + inputs.keySet() + ")");
        return t;
    }

    /** A list input such as ConcatV2's values. */
    public List<Tensor> list(String name) {
        List<Tensor> l = lists.get(name);
        if (l == null) throw new IllegalArgumentException(op + ": the case has no list input '" + name + "'");
        return l;
    }

    /** An integer input (sizes, paddings, axes) as Java ints. */
    public int[] ints(String name) {
        Tensor t = in(name);
        if (t.dtype().isFloating()) throw new IllegalArgumentException(op + ": input '" + name + "' is " + t.dtype() + ", expected an integer tensor");
        return t.toIntArray();
    }

    public boolean hasAttr(String name) {
        return attrs.has(name);
    }

    /** A structured attr as JSON (a pipeline case's "steps" list). */
    public JsonNode attrJson(String name) {
        return attr(name);
    }

    private JsonNode attr(String name) {
        JsonNode v = attrs.get(name);
        if (v == null) throw new IllegalArgumentException(op + ": missing attr '" + name + "'");
        return v;
    }

    public int[] attrInts(String name) {
        JsonNode v = attr(name);
        if (!v.isArray()) throw new IllegalArgumentException(op + ": attr '" + name + "' is not a list: " + v);
        int[] r = new int[v.size()];
        for (int i = 0; i < r.length; i++) r[i] = v.get(i).asInt();
        return r;
    }

    public int attrInt(String name) {
        JsonNode v = attr(name);
        if (!v.isIntegralNumber()) throw new IllegalArgumentException(op + ": attr '" + name + "' is not an integer: " + v);
        return v.asInt();
    }

    /** A float attr: the JSON holds the float32 value TF stored, so the cast is exact. */
    public float attrFloat(String name) {
        JsonNode v = attr(name);
        if (!v.isNumber()) throw new IllegalArgumentException(op + ": attr '" + name + "' is not a number: " + v);
        return (float) v.asDouble();
    }

    public boolean attrBool(String name, boolean absent) {
        JsonNode v = attrs.get(name);
        if (v == null) return absent;
        if (!v.isBoolean()) throw new IllegalArgumentException(op + ": attr '" + name + "' is not a boolean: " + v);
        return v.asBoolean();
    }

    public String attrString(String name, String absent) {
        JsonNode v = attrs.get(name);
        if (v == null) return absent;
        if (!v.isTextual()) throw new IllegalArgumentException(op + ": attr '" + name + "' is not a string: " + v);
        return v.asText();
    }
}
