package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.OwnedTensors;

/**
 * The momentum update, whose float32 case has its own vectorised pass, against the float64 rule on
 * the same values; the weight-decay term against adding decay * var to the gradient beforehand.
 */
class OptimizerCpuTest extends OwnedTensors {
    private static final OptimizerKernels K = CpuBackend.INSTANCE.kernels(OptimizerKernels.class);

    private Tensor rand32(long seed, int n) {
        return own(Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(n), -1, 1));
    }

    private Tensor f64(Tensor t) {
        return own(t.cast(DType.FLOAT64));
    }

    /** Three steps of momentum on float32 (the vectorised pass) and float64 (the reference rule). */
    private void momentumMatchesFloat64(int n, boolean nesterov, double decay) {
        Tensor var = rand32(1, n), acc = rand32(2, n);
        Tensor var64 = f64(var), acc64 = f64(acc);
        for (int step = 0; step < 3; step++) {
            Tensor g = rand32(10 + step, n);
            K.applyMomentum(var, acc, g, 0.1, 0.9, nesterov, decay);
            K.applyMomentum(var64, acc64, f64(g), 0.1, 0.9, nesterov, decay);
        }
        String what = "n=" + n + (nesterov ? " nesterov" : "") + " decay=" + decay;
        Close.assertClose(var64, var, 1e-5, "variable, " + what);
        Close.assertClose(acc64, acc, 1e-5, "accumulator, " + what);
    }

    @Test
    void float32MomentumMatchesTheFloat64RuleOnEveryLengthAndWithDecay() {
        // 1 and 7: the scalar tail only; 8 and 16: whole vectors; 100003: several parallel chunks and a tail.
        for (int n : new int[] {1, 7, 8, 16, 100_003}) {
            momentumMatchesFloat64(n, false, 0);
            momentumMatchesFloat64(n, false, 4e-3);
            momentumMatchesFloat64(n, true, 4e-3);
        }
    }

    @Test
    void weightDecayEqualsAddingDecayTimesTheVariableToTheGradient() {
        int n = 1003;
        double decay = 0.05;
        Tensor var = f64(rand32(3, n)), acc = f64(rand32(4, n)), g = f64(rand32(5, n));
        Tensor var2 = own(var.copy()), acc2 = own(acc.copy()), g2 = own(g.copy());
        K.applyMomentum(var, acc, g, 0.1, 0.9, false, decay);
        CpuBackend.INSTANCE.kernels(org.slim4j.kernels.ElementwiseKernels.class).addInPlace(g2, var2, decay);
        K.applyMomentum(var2, acc2, g2, 0.1, 0.9, false, 0);
        Close.assertClose(var2, var, 1e-12, "variable");
        Close.assertClose(acc2, acc, 1e-12, "accumulator");
    }

    @Test
    void aZeroDecayLeavesAnInfiniteVariableWithoutNaN() {
        Tensor var = own(Tensor.of(new float[] {Float.POSITIVE_INFINITY, 1f}, 2));
        Tensor acc = own(Tensor.of(new float[] {0f, 0f}, 2));
        Tensor g = own(Tensor.of(new float[] {1f, 1f}, 2));
        K.applyMomentum(var, acc, g, 0.1, 0.9, false, 0);
        float[] v = var.toFloatArray();
        assertTrue(Float.isInfinite(v[0]), "inf - lr * accum stays inf");
        assertFalse(Float.isNaN(acc.toFloatArray()[0]), "0 * inf must not reach the accumulator");
        assertEquals(1f - 0.1f, v[1], 1e-7f);
    }

    @Test
    void mismatchedShapesNameTheArgument() {
        Tensor var = rand32(6, 8), acc = rand32(7, 9), g = rand32(8, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> K.applyMomentum(var, acc, g, 0.1, 0.9, false, 0));
        assertEquals("applyMomentum: argument 1 is FLOAT32[9] but the variable is FLOAT32[8]", e.getMessage());
    }

    /** Loss scaling's unscale: float32 and float64 scaled in place, the flag for a NaN or an overflow, mixed dtypes refused. */
    @Test
    void unscaleGradientsScalesInPlaceAndFlagsNonFiniteValues() {
        Tensor a = rand32(20, 5), b = rand32(21, 3);
        float[] a0 = a.toFloatArray();
        Tensor flag = own(K.unscaleGradients(java.util.List.of(a, b), 0.25));
        assertEquals(0.0, flag.item());
        assertEquals(DType.FLOAT32, flag.dtype());
        for (int i = 0; i < 5; i++) assertEquals(a0[i] * 0.25f, a.toFloatArray()[i]);
        Tensor d = f64(rand32(22, 4));
        double d1 = d.toDoubleArray()[1];
        assertEquals(0.0, own(K.unscaleGradients(java.util.List.of(d), 0.5)).item());
        assertEquals(d1 * 0.5, d.toDoubleArray()[1]);
        Tensor nan = own(Tensor.of(new float[] {1f, Float.NaN}, 2));
        assertEquals(1.0, own(K.unscaleGradients(java.util.List.of(a, nan), 1)).item());
        Tensor big = own(Tensor.of(new float[] {3e38f}, 1));
        assertEquals(1.0, own(K.unscaleGradients(java.util.List.of(big), 2)).item(), "3e38 * 2 overflows");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> K.unscaleGradients(java.util.List.of(a, d), 1));
        assertTrue(e.getMessage().contains("gradient 1 is FLOAT64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> K.unscaleGradients(java.util.List.of(), 1));
    }
}
