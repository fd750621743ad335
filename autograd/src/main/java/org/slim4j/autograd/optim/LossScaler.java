package org.slim4j.autograd.optim;

import java.util.ArrayList;
import java.util.List;
import org.slim4j.autograd.Var;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/**
 * Dynamic loss scaling for fp16 mixed precision, with PyTorch GradScaler's defaults: the backward
 * pass starts from the loss times {@link #scale()} (2^16 at first; {@code loss.backward(scale())}),
 * so that small gradients survive fp16's range inside the tensor-core products; before the update the gradients are divided by the
 * scale and checked. If any is NaN or infinite the update is skipped and the scale halved; after
 * {@code growthInterval} (2000) good steps in a row it doubles. A scale forced below 1 means the
 * gradients overflow fp16 however the loss is scaled, and {@link #unscale} says so instead of
 * skipping updates forever.
 */
public final class LossScaler {
    public static final double INITIAL_SCALE = 65536;
    public static final int GROWTH_INTERVAL = 2000;

    private final int growthInterval;
    private double scale;
    private int goodSteps;
    private long skipped;

    public LossScaler() {
        this(INITIAL_SCALE, GROWTH_INTERVAL);
    }

    public LossScaler(double initialScale, int growthInterval) {
        checkScale(initialScale);
        if (growthInterval < 1) throw new IllegalArgumentException("loss-scale growth interval " + growthInterval + ": need >= 1");
        this.scale = initialScale;
        this.growthInterval = growthInterval;
    }

    /** The factor the loss is multiplied by in the backward pass. */
    public double scale() {
        return scale;
    }

    /** Good steps in a row since the scale last changed (the scale doubles when they reach the growth interval). */
    public int goodSteps() {
        return goodSteps;
    }

    /** Continues from a saved state (a resumed training run): the scale and the run of good steps. */
    public void restore(double savedScale, long savedGoodSteps) {
        checkScale(savedScale);
        if (savedGoodSteps < 0 || savedGoodSteps >= growthInterval) {
            throw new IllegalArgumentException("loss-scale good steps " + savedGoodSteps + ": need 0.." + (growthInterval - 1));
        }
        scale = savedScale;
        goodSteps = (int) savedGoodSteps;
    }

    private static void checkScale(double s) {
        if (!(s >= 1) || Double.isInfinite(s)) throw new IllegalArgumentException("loss scale " + s + ": need a finite scale >= 1");
    }

    /** Updates skipped so far because the gradients overflowed. */
    public long skippedSteps() {
        return skipped;
    }

    /**
     * Divides the gradients of {@code params} by the scale in place (one batched kernel call per
     * backend, one value read back) and adjusts the scale: returns true when they are all finite and
     * the update should be applied, false when it must be skipped (the scale was halved).
     *
     * @throws IllegalStateException when halving would take the scale below 1
     */
    public boolean unscale(List<Var> params) {
        List<Tensor> grads = new ArrayList<>();
        for (Var p : params) if (p.grad() != null) grads.add(p.grad());
        boolean finite = true;
        if (!grads.isEmpty()) {
            try (Tensor flag = Backends.kernels(grads.get(0), OptimizerKernels.class).unscaleGradients(grads, 1 / scale)) {
                finite = flag.item() == 0;
            }
        }
        if (finite) {
            if (++goodSteps >= growthInterval) {
                scale *= 2;
                goodSteps = 0;
            }
            return true;
        }
        goodSteps = 0;
        skipped++;
        if (scale / 2 < 1) {
            throw new IllegalStateException("fp16 gradients are NaN or infinite even at loss scale " + scale
                + ": values past fp16's range (65504) reach the products; use --precision=bf16 (float32's range) or tf32");
        }
        scale /= 2;
        return false;
    }
}
