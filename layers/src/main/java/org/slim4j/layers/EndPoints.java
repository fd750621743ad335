package org.slim4j.layers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slim4j.autograd.Var;

/**
 * A network's named intermediate outputs, in the order they were produced: TF-Slim's
 * {@code end_points} dict, and also its outputs collection (hand it to layers with
 * {@code outputsCollections(endPoints)} in an arg scope and every layer records its output under
 * its full scope name, e.g. {@code vgg_16/conv1/conv1_1}). Re-putting a name replaces the value
 * and keeps the original position, as the Python dict does.
 */
public final class EndPoints {
    private final Map<String, Var> points = new LinkedHashMap<>();

    /** Records {@code value} under {@code name} and returns it, so that {@code net = endPoints.put("conv1", conv2d(...))} reads like TF-Slim. */
    public Var put(String name, Var value) {
        points.put(name, value);
        return value;
    }

    /** The end point called {@code name}, or an exception listing the existing names. */
    public Var get(String name) {
        Var v = points.get(name);
        if (v == null) throw new IllegalArgumentException("no end point '" + name + "'; end points: " + points.keySet());
        return v;
    }

    public boolean contains(String name) {
        return points.containsKey(name);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(points.keySet());
    }

    /** A read-only view in production order. */
    public Map<String, Var> asMap() {
        return Collections.unmodifiableMap(points);
    }

    public int size() {
        return points.size();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("EndPoints{");
        boolean first = true;
        for (Map.Entry<String, Var> e : points.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            sb.append(e.getKey()).append('=').append(e.getValue().value().shape());
        }
        return sb.append('}').toString();
    }
}
