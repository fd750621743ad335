package org.slim4j.kernels.cpu;

import java.util.Arrays;
import java.util.function.Supplier;
import org.slim4j.kernels.FrozenWeights;

/**
 * Names one prepared form of a convolution filter or GEMM weight for {@link FrozenWeights}: the
 * layout ({@code kind}) and the shapes it was made for. Two calls share a kept form only when all
 * of these are equal.
 */
record FilterForm(String kind, int kh, int kw, int cin, int cout) {
    /**
     * This form of the filter {@code g}: kept across calls (a copy of the {@code size} floats
     * {@code make} produces) while g is a stored weight that is frozen, else what make produces in
     * its thread's buffer.
     */
    float[] of(Winograd3x3.Taps g, int size, Supplier<float[]> make) {
        if (g instanceof Winograd3x3.HwioTaps h) {
            float[] kept = FrozenWeights.prepared(h.w(), h.wo(), this, () -> Arrays.copyOf(make.get(), size));
            if (kept != null) return kept;
        }
        return make.get();
    }
}
