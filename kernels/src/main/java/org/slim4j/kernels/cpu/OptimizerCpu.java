package org.slim4j.kernels.cpu;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TensorFlow's optimizer update rules as single fused passes over float32 or float64 arrays,
 * split over the cores. Each element's update reads and writes only that element, so chunks are
 * independent and the result does not depend on the thread count. Arithmetic is done in double
 * for float32 too (as cheap here as float, and closer to TF's float64 hyper-parameters), except in
 * plain momentum, the update of nearly every training run, which has a vectorised float32 pass.
 */
public final class OptimizerCpu implements OptimizerKernels {
    private static final int GRAIN = 16384;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();

    /** The per-element rule: reads element i of every array, writes var and slots back. */
    @FunctionalInterface
    private interface Rule {
        void apply(Arrays a, int i);
    }

    /** Uniform element access over float32 / float64 storage of var, grad and up to two slots. */
    private static final class Arrays {
        final Tensor[] t;
        final float[][] f;
        final double[][] d;
        final int[] off;

        Arrays(Tensor... tensors) {
            t = tensors;
            f = new float[tensors.length][];
            d = new double[tensors.length][];
            off = new int[tensors.length];
            for (int k = 0; k < tensors.length; k++) {
                if (tensors[k].dtype() == DType.FLOAT32) f[k] = tensors[k].floatData();
                else d[k] = tensors[k].doubleData();
                off[k] = tensors[k].offset();
            }
        }

        double get(int k, int i) {
            return f[k] != null ? f[k][off[k] + i] : d[k][off[k] + i];
        }

        void set(int k, int i, double v) {
            if (f[k] != null) f[k][off[k] + i] = (float) v;
            else d[k][off[k] + i] = v;
        }
    }

    private static void run(String op, Rule rule, Tensor... tensors) {
        check(op, tensors);
        Arrays a = new Arrays(tensors);
        Parallel.forRange(tensors[0].numel(), GRAIN, (start, end) -> {
            for (int i = start; i < end; i++) rule.apply(a, i);
        });
    }

    /** The variable (tensors[0]) is float32 or float64, and every other tensor has its dtype and shape. */
    private static void check(String op, Tensor... tensors) {
        Tensor var = tensors[0];
        if (var.dtype() != DType.FLOAT32 && var.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": variables must be float32 or float64, got " + var.dtype());
        }
        for (int k = 1; k < tensors.length; k++) {
            Tensor t = tensors[k];
            if (t.dtype() != var.dtype() || !t.shape().equals(var.shape())) {
                throw new IllegalArgumentException(op + ": argument " + k + " is " + t.dtype() + t.shape()
                    + " but the variable is " + var.dtype() + var.shape());
            }
        }
    }

    @Override
    public Tensor unscaleGradients(List<Tensor> grads, double invScale) {
        if (grads.isEmpty()) throw new IllegalArgumentException("unscaleGradients: no gradients");
        DType dtype = grads.get(0).dtype();
        boolean nonFinite = false;
        for (int k = 0; k < grads.size(); k++) {
            Tensor g = grads.get(k);
            if (g.dtype() != dtype || (dtype != DType.FLOAT32 && dtype != DType.FLOAT64)) {
                throw new IllegalArgumentException("unscaleGradients: gradient " + k + " is " + g.dtype() + g.shape()
                    + "; all must be float32, or all float64");
            }
            int n = g.numel(), off = g.offset();
            if (dtype == DType.FLOAT32) {
                float[] a = g.floatData();
                float s = (float) invScale;
                for (int i = off; i < off + n; i++) {
                    float v = a[i] * s;
                    nonFinite |= !Float.isFinite(a[i]) || !Float.isFinite(v);
                    a[i] = v;
                }
            } else {
                double[] a = g.doubleData();
                for (int i = off; i < off + n; i++) {
                    double v = a[i] * invScale;
                    nonFinite |= !Double.isFinite(a[i]) || !Double.isFinite(v);
                    a[i] = v;
                }
            }
        }
        return Tensor.fromDoubles(dtype, Shape.scalar(), new double[] {nonFinite ? 1 : 0});
    }

    @Override
    public void applyGradientDescent(Tensor var, Tensor grad, double lr) {
        run("applyGradientDescent", (a, i) -> a.set(0, i, a.get(0, i) - lr * a.get(1, i)), var, grad);
    }

    @Override
    public void applyMomentum(Tensor var, Tensor accum, Tensor grad, double lr, double momentum, boolean nesterov, double weightDecay) {
        if (var.dtype() == DType.FLOAT32 && !nesterov) {
            check("applyMomentum", var, accum, grad);  // run() checks on the other path
            momentumFloat(var, accum, grad, (float) lr, (float) momentum, (float) weightDecay);
            return;
        }
        run("applyMomentum", (a, i) -> {
            double w = a.get(0, i);
            double g = weightDecay == 0 ? a.get(2, i) : a.get(2, i) + weightDecay * w;
            double acc = momentum * a.get(1, i) + g;
            a.set(1, i, acc);
            a.set(0, i, w - (nesterov ? lr * (g + momentum * acc) : lr * acc));
        }, var, accum, grad);
    }

    /**
     * The float32 momentum update, vectorised, in float arithmetic as TF's ApplyMomentum kernel does
     * it (hyper-parameters cast to float; the decay term rounded on its own, as TF's separate l2 gradient
     * and AddN are). The training step's largest pass over the weights: one read of var, accum and grad,
     * one write of var and accum.
     */
    private static void momentumFloat(Tensor var, Tensor accum, Tensor grad, float lr, float momentum, float decay) {
        float[] w = var.floatData(), acc = accum.floatData(), g = grad.floatData();
        int wo = var.offset(), ao = accum.offset(), go = grad.offset();
        Parallel.forRange(var.numel(), GRAIN, (start, end) -> {
            int i = start;
            for (; i <= end - VL; i += VL) {
                FloatVector wv = FloatVector.fromArray(S, w, wo + i);
                FloatVector gv = FloatVector.fromArray(S, g, go + i);
                if (decay != 0f) gv = gv.add(wv.mul(decay));
                FloatVector av = FloatVector.fromArray(S, acc, ao + i).mul(momentum).add(gv);
                av.intoArray(acc, ao + i);
                wv.sub(av.mul(lr)).intoArray(w, wo + i);
            }
            for (; i < end; i++) {
                float gi = decay != 0f ? g[go + i] + w[wo + i] * decay : g[go + i];
                float ai = acc[ao + i] * momentum + gi;
                acc[ao + i] = ai;
                w[wo + i] -= ai * lr;
            }
        });
    }

    @Override
    public void applyAdam(Tensor var, Tensor m, Tensor v, Tensor grad, double lr, double beta1, double beta2,
                          double beta1Power, double beta2Power, double epsilon) {
        double alpha = lr * Math.sqrt(1 - beta2Power) / (1 - beta1Power);
        run("applyAdam", (a, i) -> {
            double g = a.get(3, i);
            double mi = a.get(1, i) + (g - a.get(1, i)) * (1 - beta1);
            double vi = a.get(2, i) + (g * g - a.get(2, i)) * (1 - beta2);
            a.set(1, i, mi);
            a.set(2, i, vi);
            a.set(0, i, a.get(0, i) - alpha * mi / (Math.sqrt(vi) + epsilon));
        }, var, m, v, grad);
    }

    @Override
    public void applyAdagrad(Tensor var, Tensor accum, Tensor grad, double lr) {
        run("applyAdagrad", (a, i) -> {
            double g = a.get(2, i);
            double acc = a.get(1, i) + g * g;
            a.set(1, i, acc);
            a.set(0, i, a.get(0, i) - lr * g / Math.sqrt(acc));
        }, var, accum, grad);
    }

    @Override
    public void applyAdadelta(Tensor var, Tensor accum, Tensor accumUpdate, Tensor grad, double lr, double rho, double epsilon) {
        run("applyAdadelta", (a, i) -> {
            double g = a.get(3, i);
            double acc = rho * a.get(1, i) + (1 - rho) * g * g;
            double update = Math.sqrt(a.get(2, i) + epsilon) / Math.sqrt(acc + epsilon) * g;
            a.set(1, i, acc);
            a.set(2, i, rho * a.get(2, i) + (1 - rho) * update * update);
            a.set(0, i, a.get(0, i) - lr * update);
        }, var, accum, accumUpdate, grad);
    }

    @Override
    public void applyRmsProp(Tensor var, Tensor ms, Tensor mom, Tensor grad, double lr, double decay, double momentum, double epsilon) {
        run("applyRmsProp", (a, i) -> {
            double g = a.get(3, i);
            double msi = a.get(1, i) + (g * g - a.get(1, i)) * (1 - decay);
            double momi = momentum * a.get(2, i) + lr * g / Math.sqrt(msi + epsilon);
            a.set(1, i, msi);
            a.set(2, i, momi);
            a.set(0, i, a.get(0, i) - momi);
        }, var, ms, mom, grad);
    }

    @Override
    public void applyFtrl(Tensor var, Tensor accum, Tensor linear, Tensor grad, double lr, double l1, double l2, double lrPower) {
        run("applyFtrl", (a, i) -> {
            double g = a.get(3, i);
            double acc = a.get(1, i);
            double accNew = acc + g * g;
            double powNew = Math.pow(accNew, -lrPower);
            double powOld = Math.pow(acc, -lrPower);
            double lin = a.get(2, i) + g - (powNew - powOld) / lr * a.get(0, i);
            double quadratic = powNew / lr + 2 * l2;
            a.set(0, i, Math.abs(lin) > l1 ? (Math.signum(lin) * l1 - lin) / quadratic : 0.0);
            a.set(1, i, accNew);
            a.set(2, i, lin);
        }, var, accum, linear, grad);
    }

    @Override
    public void applyMovingAverage(Tensor shadow, Tensor var, double decay) {
        run("applyMovingAverage", (a, i) -> a.set(0, i, a.get(0, i) - (1 - decay) * (a.get(0, i) - a.get(1, i))), shadow, var);
    }
}
