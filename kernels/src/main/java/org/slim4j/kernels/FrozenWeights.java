package org.slim4j.kernels;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;

/**
 * Weights declared constant for a while (inference: evaluation, the inference benchmark), so that
 * kernels may prepare each one's kernel-specific form once and reuse it on every call: the packed
 * GEMM panels of a convolution filter or a fully-connected weight, a Winograd-transformed filter.
 * Without it every call repacks its weights (LeNet's fc3 reads and packs 12.8 MB per step). oneDNN
 * calls this weight prepacking.
 *
 * <pre>{@code
 * try (FrozenWeights frozen = FrozenWeights.freeze(modelWeights)) {
 *     for (...) net.forward(batch);      // the weights must not change in here
 * }
 * }</pre>
 *
 * <p>The contract is that a frozen tensor's values do not change while a scope that froze it is
 * open. As a safety net each weight keeps a fingerprint of 64 of its values, checked on every use
 * of a prepared form: a weight found changed (a checkpoint restored, an optimizer step) has its
 * forms prepared again. A change to values the fingerprint does not sample goes unnoticed, hence
 * the contract. Prepared forms are plain arrays, dropped when the last scope freezing their weight
 * closes; they take about as much memory as the weights they come from. Only float32 CPU tensors
 * are frozen; others are ignored. Scopes may overlap and are shared by all threads.
 */
public final class FrozenWeights implements AutoCloseable {
    /** Values a fingerprint samples. */
    private static final int FINGERPRINT_SAMPLES = 64;

    /** A frozen region of a float array: the weight's first element at offset, numel values. */
    private static final class Region {
        final int offset;
        final int numel;
        int scopes;
        long fingerprint;
        final Map<Object, float[]> forms = new HashMap<>();

        Region(int offset, int numel, long fingerprint) {
            this.offset = offset;
            this.numel = numel;
            this.fingerprint = fingerprint;
        }
    }

    private static final Map<float[], List<Region>> FROZEN = new IdentityHashMap<>();
    private static long prepared;
    private static long refreshed;

    private final List<float[]> arrays = new ArrayList<>();
    private final List<Integer> offsets = new ArrayList<>();
    private boolean closed;

    private FrozenWeights() {
    }

    /** Freezes the float32 CPU tensors among {@code weights} until the returned scope closes. */
    public static FrozenWeights freeze(Collection<Tensor> weights) {
        FrozenWeights scope = new FrozenWeights();
        synchronized (FrozenWeights.class) {
            for (Tensor t : weights) {
                if (t == null || t.isClosed() || t.dtype() != DType.FLOAT32 || !(t.device() instanceof CpuDevice) || t.numel() == 0) continue;
                float[] data = t.floatData();
                List<Region> regions = FROZEN.computeIfAbsent(data, d -> new ArrayList<>());
                Region r = find(regions, t.offset());
                if (r == null) {
                    r = new Region(t.offset(), t.numel(), fingerprint(data, t.offset(), t.numel()));
                    regions.add(r);
                }
                r.scopes++;
                scope.arrays.add(data);
                scope.offsets.add(t.offset());
            }
        }
        return scope;
    }

    /**
     * The prepared form {@code key} of the frozen weight whose first value is w[wo], made by
     * {@code prepare} on first use (it must return an array of its own, not a reused buffer); null
     * when no open scope froze a weight starting there, and the caller prepares its own.
     * {@code key} must identify everything the form depends on besides the weight's values
     * (kind and shapes), by equals.
     */
    public static float[] prepared(float[] w, int wo, Object key, Supplier<float[]> prepare) {
        Region r;
        synchronized (FrozenWeights.class) {
            List<Region> regions = FROZEN.get(w);
            r = regions == null ? null : find(regions, wo);
            if (r == null) return null;
            long now = fingerprint(w, r.offset, r.numel);
            if (now != r.fingerprint) {
                r.forms.clear();
                r.fingerprint = now;
                refreshed++;
            }
            float[] form = r.forms.get(key);
            if (form != null) return form;
        }
        // Prepared outside the lock: preparing may run parallel regions.
        float[] form = prepare.get();
        synchronized (FrozenWeights.class) {
            if (r.scopes > 0) {
                float[] raced = r.forms.putIfAbsent(key, form);
                if (raced != null) return raced;
                prepared++;
            }
        }
        return form;
    }

    /** Floats held in prepared forms now (all scopes). */
    public static synchronized long preparedFloats() {
        long n = 0;
        for (List<Region> regions : FROZEN.values()) {
            for (Region r : regions) {
                for (float[] f : r.forms.values()) n += f.length;
            }
        }
        return n;
    }

    /** Forms prepared since the JVM started, and how many times a changed weight's forms were dropped. */
    public static synchronized long[] counters() {
        return new long[] {prepared, refreshed};
    }

    /** Whether some open scope froze the weight whose first value is w[wo]. */
    public static synchronized boolean isFrozen(float[] w, int wo) {
        List<Region> regions = FROZEN.get(w);
        return regions != null && find(regions, wo) != null;
    }

    @Override
    public void close() {
        synchronized (FrozenWeights.class) {
            if (closed) return;
            closed = true;
            for (int i = 0; i < arrays.size(); i++) {
                float[] data = arrays.get(i);
                List<Region> regions = FROZEN.get(data);
                Region r = regions == null ? null : find(regions, offsets.get(i));
                if (r == null || --r.scopes > 0) continue;
                regions.remove(r);
                if (regions.isEmpty()) FROZEN.remove(data);
            }
        }
    }

    private static Region find(List<Region> regions, int offset) {
        for (Region r : regions) {
            if (r.offset == offset) return r;
        }
        return null;
    }

    /** A hash of up to {@link #FINGERPRINT_SAMPLES} evenly spaced values (their bits), first and last included. */
    private static long fingerprint(float[] w, int off, int numel) {
        long h = numel;
        int samples = Math.min(numel, FINGERPRINT_SAMPLES);
        for (int s = 0; s < samples; s++) {
            int i = samples == 1 ? 0 : (int) ((long) s * (numel - 1) / (samples - 1));
            h = h * 0x9E3779B97F4A7C15L + Float.floatToRawIntBits(w[off + i]);
        }
        return h;
    }
}
