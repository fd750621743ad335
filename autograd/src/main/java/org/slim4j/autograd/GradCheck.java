package org.slim4j.autograd;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * Finite-difference gradient check in float64. For a function f of float64 leaves it compares the
 * autograd gradient of sum(f(x) * w), with a fixed random w, against central differences
 * (f(x + eps) - f(x - eps)) / 2eps for every input element.
 */
public final class GradCheck {
    private GradCheck() {
    }

    /** The worst disagreement found; error is |analytic - numeric| / max(1, |numeric|). */
    public record Report(double maxError, int worstInput, int worstIndex, double analytic, double numeric) {
        @Override
        public String toString() {
            return String.format("max error %.3g at input %d element %d (analytic %.9g, numeric %.9g)",
                maxError, worstInput, worstIndex, analytic, numeric);
        }
    }

    public static Report check(Function<List<Var>, Var> f, List<Tensor> inputs, double eps, long seed) {
        try (TensorScope scope = TensorScope.open()) {
            List<Var> leaves = new ArrayList<>();
            for (Tensor t : inputs) {
                if (t.dtype() != DType.FLOAT64) throw new IllegalArgumentException("gradient checks run in float64, got " + t.dtype());
                leaves.add(Var.param(t.copy(), "x" + leaves.size()));
            }
            Var out = f.apply(leaves);
            Tensor w = Tensor.randomUniform(seed, DType.FLOAT64, out.value().shape(), -1, 1);
            out.backward(w);
            double[] wv = w.toDoubleArray();

            Report worst = new Report(0, -1, -1, 0, 0);
            for (int i = 0; i < leaves.size(); i++) {
                Tensor x = leaves.get(i).value();
                Tensor g = leaves.get(i).grad();
                double[] analytic = g == null ? new double[x.numel()] : g.toDoubleArray();
                leaves.get(i).zeroGrad();
                double[] data = x.doubleData();
                for (int j = 0; j < x.numel(); j++) {
                    int p = x.offset() + j;
                    double orig = data[p];
                    data[p] = orig + eps;
                    double plus = weightedSum(f, leaves, wv);
                    data[p] = orig - eps;
                    double minus = weightedSum(f, leaves, wv);
                    data[p] = orig;
                    double numeric = (plus - minus) / (2 * eps);
                    double err = Math.abs(analytic[j] - numeric) / Math.max(1, Math.abs(numeric));
                    if (err > worst.maxError() || Double.isNaN(err)) worst = new Report(err, i, j, analytic[j], numeric);
                }
            }
            return worst;
        }
    }

    private static double weightedSum(Function<List<Var>, Var> f, List<Var> leaves, double[] w) {
        try (TensorScope s = TensorScope.open(); GradMode.Guard g = GradMode.noGrad()) {
            double[] y = f.apply(leaves).value().toDoubleArray();
            double sum = 0;
            for (int i = 0; i < y.length; i++) sum += y[i] * w[i];
            return sum;
        }
    }
}
