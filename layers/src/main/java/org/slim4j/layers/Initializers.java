package org.slim4j.layers;

import java.util.function.DoubleSupplier;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TensorFlow's initialisers, with TF 1.x {@code tf.contrib.layers} definitions:
 * <ul>
 * <li>{@link #truncatedNormal}: normal samples beyond two standard deviations are drawn again;</li>
 * <li>{@link #varianceScaling}(factor, mode, uniform): n = fan_in, fan_out or their mean, where for
 *     a shape [..., in, out] fan_in = in·prod(leading dims) and fan_out = out·prod(leading dims)
 *     (conv [kh, kw, in, out]: kh·kw·in and kh·kw·out); uniform in ±√(3·factor/n), otherwise
 *     truncated normal with σ = √(1.3·factor/n);</li>
 * <li>{@link #xavier}(uniform) = glorot = varianceScaling(1.0, FAN_AVG, uniform);</li>
 * <li>{@link #zeros}, {@link #ones}, {@link #constant}, {@link #randomUniform}, {@link #randomNormal}.</li>
 * </ul>
 */
public final class Initializers {
    private Initializers() {
    }

    /** variance_scaling_initializer's mode. */
    public enum Mode {
        FAN_IN, FAN_OUT, FAN_AVG
    }

    /** tf.zeros_initializer(). */
    public static Initializer zeros() {
        return constant(0.0);
    }

    /** tf.ones_initializer(). */
    public static Initializer ones() {
        return constant(1.0);
    }

    /** tf.constant_initializer(value). */
    public static Initializer constant(double value) {
        return (shape, dtype, random) -> generate(shape, dtype, () -> value);
    }

    /** tf.truncated_normal_initializer(mean, stddev). */
    public static Initializer truncatedNormal(double mean, double stddev) {
        checkStddev(stddev);
        return (shape, dtype, random) -> generate(shape, dtype, () -> mean + stddev * truncatedGaussian(random));
    }

    /** tf.truncated_normal_initializer(0, stddev): TF-Slim's {@code trunc_normal(stddev)}. */
    public static Initializer truncatedNormal(double stddev) {
        return truncatedNormal(0.0, stddev);
    }

    /** tf.random_normal_initializer(mean, stddev). */
    public static Initializer randomNormal(double mean, double stddev) {
        checkStddev(stddev);
        return (shape, dtype, random) -> generate(shape, dtype, () -> mean + stddev * random.nextGaussian());
    }

    /** tf.random_uniform_initializer(minval, maxval): uniform in [minval, maxval). */
    public static Initializer randomUniform(double minval, double maxval) {
        if (!(maxval >= minval)) throw new IllegalArgumentException("random_uniform_initializer: maxval " + maxval + " < minval " + minval);
        return (shape, dtype, random) -> generate(shape, dtype, () -> minval + (maxval - minval) * random.nextDouble());
    }

    /** tf.contrib.layers.variance_scaling_initializer(factor, mode, uniform). */
    public static Initializer varianceScaling(double factor, Mode mode, boolean uniform) {
        if (!(factor >= 0)) throw new IllegalArgumentException("variance_scaling_initializer: factor must be >= 0, got " + factor);
        return (shape, dtype, random) -> {
            double n = fans(shape, mode);
            if (uniform) {
                double limit = Math.sqrt(3.0 * factor / n);
                return generate(shape, dtype, () -> -limit + 2 * limit * random.nextDouble());
            }
            double stddev = Math.sqrt(1.3 * factor / n);
            return generate(shape, dtype, () -> stddev * truncatedGaussian(random));
        };
    }

    /** variance_scaling_initializer() with TF's defaults: factor 2.0, FAN_IN, truncated normal (He). */
    public static Initializer varianceScaling() {
        return varianceScaling(2.0, Mode.FAN_IN, false);
    }

    /** tf.contrib.layers.xavier_initializer(uniform): the default weights initializer of slim layers. */
    public static Initializer xavier(boolean uniform) {
        return varianceScaling(1.0, Mode.FAN_AVG, uniform);
    }

    /** xavier_initializer() (uniform). */
    public static Initializer xavier() {
        return xavier(true);
    }

    /** Glorot uniform = xavier(true). */
    public static Initializer glorotUniform() {
        return xavier(true);
    }

    /** Glorot normal = xavier(false) (truncated normal, σ = √(1.3/fan_avg)). */
    public static Initializer glorotNormal() {
        return xavier(false);
    }

    /** The n of variance scaling for {@code shape}, as tf.contrib.layers computes it. */
    public static double fans(Shape shape, Mode mode) {
        int r = shape.rank();
        double fanIn;
        double fanOut;
        if (r == 0) {
            fanIn = 1;
            fanOut = 1;
        } else {
            fanIn = r > 1 ? shape.dim(r - 2) : shape.dim(r - 1);
            fanOut = shape.dim(r - 1);
            for (int i = 0; i < r - 2; i++) {
                fanIn *= shape.dim(i);
                fanOut *= shape.dim(i);
            }
        }
        return switch (mode) {
            case FAN_IN -> fanIn;
            case FAN_OUT -> fanOut;
            case FAN_AVG -> (fanIn + fanOut) / 2.0;
        };
    }

    /** A standard normal sample redrawn until it lies within two standard deviations. */
    static double truncatedGaussian(SeededRandom random) {
        double g;
        do {
            g = random.nextGaussian();
        } while (Math.abs(g) > 2.0);
        return g;
    }

    /** Fills a new CPU tensor element by element, straight into its array (variables can be 100M elements). */
    static Tensor generate(Shape shape, DType dtype, DoubleSupplier values) {
        Tensor t = Tensor.zeros(dtype, shape);
        int n = shape.numel();
        switch (dtype) {
            case FLOAT32 -> {
                float[] a = t.floatData();
                int off = t.offset();
                for (int i = 0; i < n; i++) a[off + i] = (float) values.getAsDouble();
            }
            case FLOAT64 -> {
                double[] a = t.doubleData();
                int off = t.offset();
                for (int i = 0; i < n; i++) a[off + i] = values.getAsDouble();
            }
            default -> {
                t.close();
                throw new IllegalArgumentException("initializers make float32 or float64 variables, not " + dtype);
            }
        }
        return t;
    }

    private static void checkStddev(double stddev) {
        if (!(stddev >= 0)) throw new IllegalArgumentException("stddev must be >= 0, got " + stddev);
    }
}
