package org.slim4j.layers;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A function whose keyword arguments {@link ArgScope} can default: TF-Slim's {@code @add_arg_scope}.
 * The slim layers are constants in {@link Layers} ({@link Layers#CONV2D}, ...); a network family
 * declares its own for its building blocks, e.g.
 * {@code LayerKind BOTTLENECK = LayerKind.of("bottleneck", Arg.OUTPUTS_COLLECTIONS)}, and reads
 * them with {@link ArgScope#resolve}. Kinds compare by identity.
 */
public final class LayerKind {
    private final String name;
    private final Set<Arg<?>> accepts;

    private LayerKind(String name, Set<Arg<?>> accepts) {
        this.name = name;
        this.accepts = accepts;
    }

    /** A kind called {@code name} (used in messages) that takes the keyword arguments {@code accepts}. */
    public static LayerKind of(String name, Arg<?>... accepts) {
        return new LayerKind(name, Collections.unmodifiableSet(new LinkedHashSet<>(Arrays.asList(accepts))));
    }

    public String name() {
        return name;
    }

    /** The keyword arguments this function takes. */
    public Set<Arg<?>> accepts() {
        return accepts;
    }

    public boolean accepts(Arg<?> arg) {
        return accepts.contains(arg);
    }

    @Override
    public String toString() {
        return name;
    }
}
