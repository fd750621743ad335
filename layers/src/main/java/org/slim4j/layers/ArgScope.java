package org.slim4j.layers;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TF-Slim's {@code arg_scope}: default keyword arguments for a list of layer kinds, active within a
 * block. An {@code ArgScope} is an immutable value; {@link #open()} makes it active on this thread
 * until the returned handle is closed. Scopes nest (merged per kind, the inner value wins), and
 * arguments given explicitly to a layer call win over every scope.
 *
 * <pre>{@code
 * // with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
 * //                     weights_regularizer=slim.l2_regularizer(weight_decay)):
 * //   with slim.arg_scope([slim.conv2d], padding='SAME') as sc: return sc
 * static ArgScope vggArgScope(double weightDecay) {
 *     return ArgScope.of(CONV2D, FULLY_CONNECTED).set(activationFn(RELU), weightsRegularizer(l2(weightDecay)))
 *         .nest(ArgScope.of(CONV2D).set(padding(SAME)));
 * }
 * try (var s = vggArgScope(0.0005).open()) { ... }
 * }</pre>
 *
 * <p>Unlike TF, where re-entering a saved scope dict replaces the whole stack, opening a saved scope
 * here merges it onto the active one; the two agree whenever the saved scope is opened at the top
 * level, which is how the nets factory uses them.
 */
public final class ArgScope {
    private static final ArgScope EMPTY = new ArgScope(Map.of());
    private static final ThreadLocal<ArrayDeque<ArgScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Map<LayerKind, Args> defaults;

    private ArgScope(Map<LayerKind, Args> defaults) {
        this.defaults = defaults;
    }

    /** A scope with no defaults. */
    public static ArgScope empty() {
        return EMPTY;
    }

    /** Starts a scope for these kinds; add the defaults with {@link Builder#set}. */
    public static Builder of(LayerKind... kinds) {
        if (kinds.length == 0) throw new IllegalArgumentException("arg_scope needs at least one layer kind");
        return new Builder(List.of(kinds));
    }

    /** The defaults of a list of kinds being assembled; it is already a usable {@link ArgScope} via {@link #build()}. */
    public static final class Builder {
        private final List<LayerKind> kinds;
        private Args args = Args.empty();

        private Builder(List<LayerKind> kinds) {
            this.kinds = kinds;
        }

        /** Adds defaults; each must be an argument of every listed kind (TF raises otherwise). */
        public Builder set(Arg.Value<?>... values) {
            for (Arg.Value<?> v : values) {
                for (LayerKind k : kinds) {
                    if (!k.accepts(v.arg())) {
                        throw new IllegalArgumentException(k.name() + " does not take the argument '" + v.arg().name()
                            + "' (arg_scope over " + kinds + ")");
                    }
                }
            }
            args = args.with(values);
            return this;
        }

        public <T> Builder set(Arg<T> arg, T value) {
            return set(arg.is(value));
        }

        public ArgScope build() {
            Map<LayerKind, Args> m = new LinkedHashMap<>();
            for (LayerKind k : kinds) m.merge(k, args, Args::with);
            return new ArgScope(Collections.unmodifiableMap(m));
        }

        /** {@code build().nest(inner)}. */
        public ArgScope nest(ArgScope inner) {
            return build().nest(inner);
        }

        public ArgScope nest(Builder inner) {
            return build().nest(inner.build());
        }

        /** {@code build().open()}. */
        public Opened open() {
            return build().open();
        }
    }

    /** This scope with {@code inner} nested inside it: per kind, inner values override these. */
    public ArgScope nest(ArgScope inner) {
        if (inner.defaults.isEmpty()) return this;
        if (defaults.isEmpty()) return inner;
        Map<LayerKind, Args> m = new LinkedHashMap<>(defaults);
        for (Map.Entry<LayerKind, Args> e : inner.defaults.entrySet()) m.merge(e.getKey(), e.getValue(), Args::with);
        return new ArgScope(Collections.unmodifiableMap(m));
    }

    public ArgScope nest(Builder inner) {
        return nest(inner.build());
    }

    /** The defaults this scope gives {@code kind} (empty when none). */
    public Args defaultsFor(LayerKind kind) {
        return defaults.getOrDefault(kind, Args.empty());
    }

    /** Activates this scope (nested inside the active one) until the handle is closed. */
    public Opened open() {
        ArrayDeque<ArgScope> stack = STACK.get();
        ArgScope merged = current().nest(this);
        stack.push(merged);
        return new Opened(merged);
    }

    /** The scope active on this thread (all open scopes merged). */
    public static ArgScope current() {
        ArgScope top = STACK.get().peek();
        return top == null ? EMPTY : top;
    }

    /**
     * The arguments a call of {@code kind} runs with: the active defaults for it overridden by
     * {@code explicit}; explicit arguments the kind does not take are an error.
     */
    public static Args resolve(LayerKind kind, Arg.Value<?>... explicit) {
        Args e = Args.of(explicit).requireOnly(kind.name(), kind.accepts());
        return current().defaultsFor(kind).with(e);
    }

    /** As {@link #resolve(LayerKind, Arg.Value[])} with explicit arguments already collected. */
    public static Args resolve(LayerKind kind, Args explicit) {
        explicit.requireOnly(kind.name(), kind.accepts());
        return current().defaultsFor(kind).with(explicit);
    }

    /** The handle of an opened scope; closing it restores the previous defaults. */
    public static final class Opened implements AutoCloseable {
        private final ArgScope scope;
        private boolean closed;

        private Opened(ArgScope scope) {
            this.scope = scope;
        }

        /** The merged scope that is active while open (TF's {@code as sc}). */
        public ArgScope scope() {
            return scope;
        }

        @Override
        public void close() {
            if (closed) return;
            ArrayDeque<ArgScope> stack = STACK.get();
            if (stack.peek() != scope) throw new IllegalStateException("arg scopes must be closed in the reverse order of opening");
            stack.pop();
            closed = true;
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ArgScope{");
        boolean first = true;
        for (Map.Entry<LayerKind, Args> e : defaults.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            sb.append(e.getKey().name()).append('=').append(e.getValue());
        }
        return sb.append('}').toString();
    }

    /** Kinds with defaults in this scope, in insertion order. */
    public List<LayerKind> kinds() {
        return List.copyOf(defaults.keySet());
    }
}
