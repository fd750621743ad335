package org.slim4j.kernels.cpu;

import org.slim4j.kernels.DropoutKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Inverted-dropout masks: element i is 1/keepProb when the i-th uniform draw u of a
 * {@link SeededRandom} stream seeded with {@code seed} satisfies u < keepProb, else 0. Kept with
 * probability keepProb, so E[mask] = 1 and training-time activations keep their expected scale.
 *
 * <p>SplitMix64 advances its state by a fixed increment per draw, so a parallel chunk starting at
 * element s jumps straight to state seed + s * increment: the mask is the same sequential stream
 * whatever the thread count.
 */
public final class DropoutCpu implements DropoutKernels {
    /** SplitMix64's per-draw state increment (see {@link SeededRandom#nextLong()}). */
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private static final int GRAIN = 16384;

    @Override
    public Tensor mask(Shape shape, DType dtype, double keepProb, long seed) {
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) {
            throw new IllegalArgumentException("dropout mask: unsupported dtype " + dtype + " (float32 or float64 only), shape " + shape);
        }
        if (!(keepProb > 0 && keepProb <= 1)) {
            throw new IllegalArgumentException("dropout mask: keepProb must be in (0, 1], got " + keepProb + " (shape " + shape + ")");
        }
        Tensor out = Tensor.empty(dtype, shape);
        int n = shape.numel();
        double scale = 1.0 / keepProb;
        if (dtype == DType.FLOAT32) {
            float[] m = out.floatData();
            int off = out.offset();
            float kept = (float) scale;
            Parallel.forRange(n, GRAIN, (s, e) -> {
                SeededRandom r = streamAt(seed, s);
                for (int i = s; i < e; i++) m[off + i] = r.nextDouble() < keepProb ? kept : 0f;
            });
        } else {
            double[] m = out.doubleData();
            int off = out.offset();
            Parallel.forRange(n, GRAIN, (s, e) -> {
                SeededRandom r = streamAt(seed, s);
                for (int i = s; i < e; i++) m[off + i] = r.nextDouble() < keepProb ? scale : 0.0;
            });
        }
        return out;
    }

    /** A generator positioned at draw {@code index} of the stream new SeededRandom(seed) gives. */
    private static SeededRandom streamAt(long seed, int index) {
        SeededRandom r = new SeededRandom(seed);
        r.setState(seed + index * GOLDEN_GAMMA);
        return r;
    }
}
