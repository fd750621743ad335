package org.slim4j.layers;

import java.util.List;
import java.util.Map;
import org.slim4j.autograd.Var;

/**
 * One TensorFlow op a network build emitted, as graph export sees it: TF's op type
 * ({@code Conv2D}, {@code FusedBatchNormV3}, ...), the variable scope it ran in, its output, its
 * inputs ({@link Var}s, or {@link Const}s for the operands TF passes as tensors, such as Reshape's
 * shape) and its attributes (int[] lists, String, Boolean, Integer, Float). The element type
 * ({@code T}) is the output's dtype. Recorded by {@link Ops} and {@link Layers} when the open
 * {@link Graph} has a {@link Tracer}; builds without one record nothing.
 */
public record TracedOp(String scope, String type, Var output, List<Object> inputs, Map<String, Object> attrs) {
    /** Attribute key (not a TF attribute) naming the op inside its scope where TF-Slim names it explicitly. */
    public static final String NAME = "_slim4j_name";


    /** A constant operand: int32 {@code ints} or float32 {@code floats} of {@code shape}; {@code name} is TF's input name (e.g. {@code shape}, {@code axis}). */
    public record Const(String name, int[] shape, int[] ints, float[] floats) {
        public static Const ints(String name, int... values) {
            return new Const(name, new int[] {values.length}, values, null);
        }

        public static Const scalar(String name, int value) {
            return new Const(name, new int[0], new int[] {value}, null);
        }

        public static Const scalar(String name, float value) {
            return new Const(name, new int[0], null, new float[] {value});
        }
    }

    /** Receives the ops of a build, in execution order ({@link Graph#trace}). */
    @FunctionalInterface
    public interface Tracer {
        void op(TracedOp op);
    }

    /** Records an op in the open graph's tracer, if any; returns {@code output}. */
    public static Var record(String type, Var output, Map<String, Object> attrs, Object... inputs) {
        Graph g = Graph.currentOrNull();
        if (g != null && g.tracer() != null) {
            String name = g.takeNextTracedOpName();
            Map<String, Object> a = attrs;
            if (name != null) {
                a = new java.util.LinkedHashMap<>(attrs);
                a.put(NAME, name);
            }
            g.tracer().op(new TracedOp(g.scopeName(), type, output, List.of(inputs), a));
        }
        return output;
    }
}
