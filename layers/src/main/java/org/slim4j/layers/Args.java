package org.slim4j.layers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An immutable set of keyword arguments ({@code name=value} pairs, later ones win). It is what a
 * layer sees after {@link ArgScope} defaults and explicit arguments are merged, what
 * {@code normalizer_params} holds, and how a network receives its options.
 */
public final class Args {
    private static final Args EMPTY = new Args(Map.of());

    private final Map<Arg<?>, Object> values;

    private Args(Map<Arg<?>, Object> values) {
        this.values = values;
    }

    public static Args empty() {
        return EMPTY;
    }

    public static Args of(Arg.Value<?>... values) {
        return values == null ? EMPTY : EMPTY.with(values);
    }

    /** These arguments with {@code more} added (overriding existing keys). */
    public Args with(Arg.Value<?>... more) {
        if (more.length == 0) return this;
        Map<Arg<?>, Object> m = new LinkedHashMap<>(values);
        for (Arg.Value<?> v : more) m.put(v.arg(), v.value());
        return new Args(Collections.unmodifiableMap(m));
    }

    /** These arguments overridden by {@code other}'s. */
    public Args with(Args other) {
        if (other.values.isEmpty()) return this;
        if (values.isEmpty()) return other;
        Map<Arg<?>, Object> m = new LinkedHashMap<>(values);
        m.putAll(other.values);
        return new Args(Collections.unmodifiableMap(m));
    }

    public <T> Args with(Arg<T> arg, T value) {
        return with(arg.is(value));
    }

    /** Whether {@code arg} was given (possibly as null). */
    public boolean has(Arg<?> arg) {
        return values.containsKey(arg);
    }

    /** The value of {@code arg}, or {@code fallback} when it was not given (a given null stays null). */
    @SuppressWarnings("unchecked")
    public <T> T get(Arg<T> arg, T fallback) {
        return values.containsKey(arg) ? (T) values.get(arg) : fallback;
    }

    public Set<Arg<?>> keys() {
        return values.keySet();
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** Throws if any key is not in {@code accepted}, naming the function, as Python's TypeError does. */
    public Args requireOnly(String function, Set<Arg<?>> accepted) {
        for (Arg<?> a : values.keySet()) {
            if (!accepted.contains(a)) {
                throw new IllegalArgumentException(function + "() got an unexpected keyword argument '" + a.name() + "'");
            }
        }
        return this;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<Arg<?>, Object> e : values.entrySet()) {
            if (sb.length() > 1) sb.append(", ");
            Object v = e.getValue();
            sb.append(e.getKey().name()).append('=').append(v instanceof int[] a ? java.util.Arrays.toString(a) : v);
        }
        return sb.append('}').toString();
    }
}
