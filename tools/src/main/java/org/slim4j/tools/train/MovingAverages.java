package org.slim4j.tools.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.layers.Variable;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * TF's {@code tf.train.ExponentialMovingAverage(decay, num_updates=global_step)} applied to the
 * model variables, as train_image_classifier does with {@code --moving_average_decay}: one shadow per
 * variable, saved as {@code <var>/ExponentialMovingAverage}, updated after every step with
 * {@code shadow -= (1 - d) * (shadow - var)}, {@code d = min(decay, (1 + step) / (10 + step))}.
 *
 * <p>Shadows start from the variables' values when training starts (after a fine-tuning restore);
 * TF starts them from the initializers' values, which the (1+step)/(10+step) ramp forgets within the
 * first steps anyway.
 */
final class MovingAverages implements AutoCloseable {
    static final String SUFFIX = CheckpointRestorer.MOVING_AVERAGE_SUFFIX;

    private final double decay;
    private final Map<String, Tensor> variables = new LinkedHashMap<>();
    private final Map<String, Tensor> shadows = new LinkedHashMap<>();

    MovingAverages(double decay, List<Variable> modelVariables) {
        if (!(decay > 0 && decay < 1)) throw new IllegalArgumentException("moving_average_decay must be in (0, 1), got " + decay);
        this.decay = decay;
        for (Variable v : modelVariables) {
            variables.put(v.name(), v.value());
            shadows.put(v.name() + SUFFIX, TensorScope.escape(v.value().copy()));
        }
    }

    /** The checkpoint name of {@code variable}'s shadow. */
    static String shadowName(String variable) {
        return variable + SUFFIX;
    }

    /**
     * TF's decay with num_updates, computed in float32 as TF does:
     * {@code min(decay, (1 + step) / (10 + step))}.
     */
    static double effectiveDecay(double decay, long step) {
        float n = step;
        return Math.min((float) decay, (1f + n) / (10f + n));
    }

    /** Moves every shadow towards its variable; {@code step} is the global step of the update. */
    void update(long step) {
        double d = effectiveDecay(decay, step);
        for (Map.Entry<String, Tensor> e : variables.entrySet()) {
            Tensor shadow = shadows.get(shadowName(e.getKey()));
            Backends.kernels(shadow, OptimizerKernels.class).applyMovingAverage(shadow, e.getValue(), d);
        }
    }

    /** Shadow name → live shadow tensor (copying into it restores). */
    Map<String, Tensor> shadows() {
        return Collections.unmodifiableMap(shadows);
    }

    @Override
    public void close() {
        shadows.values().forEach(Tensor::close);
        shadows.clear();
        variables.clear();
    }
}
