package org.slim4j.layers;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.slim4j.tensor.Shape;

/**
 * One run of a network function: what TF calls building the graph, done eagerly. It holds the
 * {@link VariableStore} the layers take their variables from, the stack of
 * {@link VariableScope}s with TF's uniquification of default names ({@code Conv}, {@code Conv_1},
 * ...), the dropout seed of this run, and a multiply-add counter. Open one per forward pass on the
 * thread that runs it:
 *
 * <pre>{@code
 * try (Graph g = Graph.open(store, stepSeed)) {
 *     Var logits = Vgg.vgg16(images, 1000, true, ...).logits();
 * }
 * }</pre>
 *
 * Variable sharing follows TF: within one graph a variable name may be requested once unless the
 * enclosing scope was opened with {@code reuse}; across graphs (successive forward passes) the
 * store's existing variables are reused, with their shapes checked.
 */
public final class Graph implements AutoCloseable {
    private static final ThreadLocal<Graph> CURRENT = new ThreadLocal<>();

    private final VariableStore store;
    private final long seed;
    private final Graph previous;
    private final Thread owner = Thread.currentThread();
    private final ArrayDeque<VariableScope> scopes = new ArrayDeque<>();
    /** TF's _VariableScopeStore.variable_scopes_count: openings per full scope name. */
    private final Map<String, Integer> scopeCounts = new HashMap<>();
    private final Set<String> requested = new HashSet<>();
    private long multiplyAdds;
    private long randomCounter;
    private TracedOp.Tracer tracer;
    private boolean closed;

    private Graph(VariableStore store, long seed, Graph previous) {
        this.store = store;
        this.seed = seed;
        this.previous = previous;
    }

    /** Opens a graph on {@code store} with the store's seed for dropout. */
    public static Graph open(VariableStore store) {
        return open(store, store.seed());
    }

    /** Opens a graph on {@code store}; {@code seed} drives this run's random ops (dropout masks). */
    public static Graph open(VariableStore store, long seed) {
        if (store.isClosed()) throw new IllegalStateException("variable store is closed");
        Graph g = new Graph(store, seed, CURRENT.get());
        CURRENT.set(g);
        return g;
    }

    /** The graph open on this thread. */
    public static Graph current() {
        Graph g = CURRENT.get();
        if (g == null) {
            throw new IllegalStateException("no Graph is open on this thread: build layers inside try (Graph g = Graph.open(store)) { ... }");
        }
        return g;
    }

    /** The open graph, or null. */
    public static Graph currentOrNull() {
        return CURRENT.get();
    }

    public VariableStore store() {
        return store;
    }

    /** Whether this graph only tracks shapes (its store is shape-only). */
    public boolean isShapeOnly() {
        return store.isShapeOnly();
    }

    /** The full name of the innermost open variable scope ("" at the root). */
    public String scopeName() {
        VariableScope s = scopes.peek();
        return s == null ? "" : s.name();
    }

    /** Multiply-adds of the convolutions, depthwise convolutions and matrix products run so far in this graph (whole batch). */
    public long multiplyAdds() {
        return multiplyAdds;
    }

    /** Adds to {@link #multiplyAdds()}; called by {@link Ops}. */
    public void addMultiplyAdds(long n) {
        multiplyAdds += n;
    }

    private String nextTracedOpName;

    /** Sends every op this graph's build emits to {@code t} (graph export); null stops tracing. */
    public void trace(TracedOp.Tracer t) {
        tracer = t;
    }

    /** The name the next traced op takes inside its scope (null: TF's default for its type); see {@link Ops#softmaxNamed}. */
    void nameNextTracedOp(String name) {
        nextTracedOpName = name;
    }

    /** Takes the name set by {@link #nameNextTracedOp}, once. */
    String takeNextTracedOpName() {
        String n = nextTracedOpName;
        nextTracedOpName = null;
        return n;
    }

    /** The tracer set by {@link #trace}, or null. */
    public TracedOp.Tracer tracer() {
        return tracer;
    }

    /**
     * A seed for a random op named {@code name} in this run: distinct per op and per run, and
     * reproducible for the same graph seed and call sequence.
     */
    public long randomSeed(String name) {
        return VariableStore.mix(VariableStore.variableSeed(seed, name) + 0x9E3779B97F4A7C15L * ++randomCounter);
    }

    /**
     * TF's get_variable for layers: the variable {@code <scope>/<name>}, created if the store does
     * not have it yet, otherwise the existing one (its shape must match).
     */
    public Variable variable(String name, Shape shape, Initializer initializer, Regularizer regularizer, boolean trainable, boolean modelVariable) {
        checkOpen();
        String full = scopeName().isEmpty() ? name : scopeName() + "/" + name;
        VariableScope scope = scopes.peek();
        boolean reuse = scope != null && scope.reuse();
        Variable existing = store.get(full);
        if (!requested.add(full) && !reuse) {
            throw new IllegalArgumentException("Variable " + full + " already exists, disallowed. Did you mean to set reuse=True in VarScope?");
        }
        if (existing != null) {
            if (!existing.shape().equals(shape)) {
                throw new IllegalArgumentException("Trying to share variable " + full + ", but specified shape " + shape
                    + " and found shape " + existing.shape() + ".");
            }
            return existing;
        }
        if (reuse) {
            throw new IllegalArgumentException("Variable " + full + " does not exist, or was not created with get_variable(). Did you mean to set reuse=None in VarScope?");
        }
        return store.create(full, shape, initializer, regularizer, trainable, modelVariable);
    }

    // ---- scope bookkeeping (TF 1.x variable_scope semantics), used by VariableScope --------------

    VariableScope enterScope(String name, String defaultName, boolean reuse) {
        checkOpen();
        if (Thread.currentThread() != owner) throw new IllegalStateException("a Graph is used on the thread that opened it");
        String parent = scopeName();
        String local;
        if (name != null) {
            if (name.isEmpty()) throw new IllegalArgumentException("scope name must not be empty");
            local = name;
        } else {
            if (defaultName == null || defaultName.isEmpty()) throw new IllegalArgumentException("a scope needs a name or a default name");
            local = unique(parent, defaultName);
        }
        String full = parent.isEmpty() ? local : parent + "/" + local;
        scopeCounts.merge(full, 1, Integer::sum);
        VariableScope parentScope = scopes.peek();
        VariableScope s = new VariableScope(this, full, reuse || (parentScope != null && parentScope.reuse()));
        scopes.push(s);
        return s;
    }

    void exitScope(VariableScope s) {
        if (scopes.peek() != s) throw new IllegalStateException("variable scopes must be closed in the reverse order of opening (closing " + s.name() + ")");
        scopes.pop();
        // Leaving a scope forgets the counts of its sub-scopes, as TF's close_variable_subscopes does.
        String prefix = s.name() + "/";
        for (Iterator<String> it = scopeCounts.keySet().iterator(); it.hasNext();) {
            if (it.next().startsWith(prefix)) it.remove();
        }
    }

    /** TF's _get_unique_variable_scope: prefix, or prefix_1, prefix_2, ... if already used in this parent. */
    private String unique(String parent, String prefix) {
        String base = parent.isEmpty() ? prefix : parent + "/" + prefix;
        if (scopeCounts.getOrDefault(base, 0) == 0) return prefix;
        int idx = 1;
        while (scopeCounts.getOrDefault(base + "_" + idx, 0) > 0) idx++;
        return prefix + "_" + idx;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("graph is closed");
    }

    /** Ends this run; the previously open graph (if any) becomes current again. */
    @Override
    public void close() {
        if (closed) return;
        if (CURRENT.get() != this) throw new IllegalStateException("graphs must be closed in the reverse order of opening");
        closed = true;
        scopes.clear();
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
    }
}
