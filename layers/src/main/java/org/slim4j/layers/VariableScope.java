package org.slim4j.layers;

/**
 * TF's {@code tf.variable_scope(name_or_scope, default_name, reuse=...)} on the open {@link Graph}:
 * variables created inside are named {@code <scope>/<name>}. With a null name the default name is
 * made unique among the scopes opened so far in the same parent ({@code Conv}, {@code Conv_1}, ...);
 * the counts of a scope's children are forgotten when it closes, exactly as in TF 1.x.
 *
 * <pre>{@code
 * try (VariableScope sc = VariableScope.open(scope, "vgg_16")) {   // with tf.variable_scope(scope, 'vgg_16') as sc:
 *     ... sc.name() ...
 * }
 * }</pre>
 */
public final class VariableScope implements AutoCloseable {
    private final Graph graph;
    private final String name;
    private final boolean reuse;
    private boolean closed;

    VariableScope(Graph graph, String name, boolean reuse) {
        this.graph = graph;
        this.name = name;
        this.reuse = reuse;
    }

    /** A scope called exactly {@code name} (relative to the enclosing one). */
    public static VariableScope open(String name) {
        return Graph.current().enterScope(name, null, false);
    }

    /** {@code name}, or when it is null the uniquified {@code defaultName}. */
    public static VariableScope open(String name, String defaultName) {
        return Graph.current().enterScope(name, defaultName, false);
    }

    /** As {@link #open(String, String)}; with {@code reuse} every variable requested inside must already exist (TF's reuse=True, inherited by sub-scopes). */
    public static VariableScope open(String name, String defaultName, boolean reuse) {
        return Graph.current().enterScope(name, defaultName, reuse);
    }

    /** The full scope name, e.g. {@code vgg_16/conv1/conv1_1}. */
    public String name() {
        return name;
    }

    public boolean reuse() {
        return reuse;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        graph.exitScope(this);
    }

    @Override
    public String toString() {
        return name;
    }
}
