package org.slim4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.slim4j.layers.Arg.center;
import static org.slim4j.layers.Arg.decay;
import static org.slim4j.layers.Arg.epsilon;
import static org.slim4j.layers.Arg.fused;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.scale;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/** slim.batch_norm: normalisation, moving statistics, variables and options. */
class BatchNormTest {
    private long liveBefore;

    @BeforeEach
    void rememberMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noMemoryLeft() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "bytes left allocated");
    }

    /** Per-channel mean and biased variance of an [n, c] (flattened) array. */
    private static double[][] moments(double[] x, int c) {
        int n = x.length / c;
        double[] mean = new double[c];
        double[] var = new double[c];
        for (int i = 0; i < x.length; i++) mean[i % c] += x[i] / n;
        for (int i = 0; i < x.length; i++) var[i % c] += (x[i] - mean[i % c]) * (x[i] - mean[i % c]) / n;
        return new double[][] {mean, var};
    }

    @Test
    void trainingNormalisesAndUpdatesMovingStatisticsWithBesselCorrection() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(1)) {
            Tensor xt = Tensor.randomUniform(3, DType.FLOAT32, Shape.of(2, 3, 5, 4), -2, 6);
            double[] x = xt.toDoubleArray();
            double[][] m = moments(x, 4);
            int n = 2 * 3 * 5;
            double d = 0.9;
            Var y;
            try (Graph g = Graph.open(store)) {
                y = Layers.batchNorm(Var.constant(xt), "bn", decay(d), epsilon(1e-3));
            }
            double[] mm = store.get("bn/moving_mean").value().toDoubleArray();
            double[] mv = store.get("bn/moving_variance").value().toDoubleArray();
            for (int c = 0; c < 4; c++) {
                // moving -= (1 - decay) * (moving - batch), from 0 and 1
                assertEquals((1 - d) * m[0][c], mm[c], 1e-5);
                assertEquals(1 - (1 - d) * (1 - m[1][c] * n / (n - 1.0)), mv[c], 1e-5, "moving variance uses the unbiased batch variance");
            }
            double[] yv = y.value().toDoubleArray();
            double[][] ym = moments(yv, 4);
            for (int c = 0; c < 4; c++) {
                assertEquals(0, ym[0][c], 1e-5);
                assertEquals(m[1][c] / (m[1][c] + 1e-3), ym[1][c], 1e-4, "normalised with the biased batch variance");
            }
            // a second step moves the averages further
            try (Graph g = Graph.open(store)) {
                Layers.batchNorm(Var.constant(xt), "bn", decay(d), epsilon(1e-3));
            }
            double[] mm2 = store.get("bn/moving_mean").value().toDoubleArray();
            for (int c = 0; c < 4; c++) assertEquals(mm[c] - (1 - d) * (mm[c] - m[0][c]), mm2[c], 1e-5);
        }
    }

    @Test
    void unfusedUsesTheBiasedVarianceForTheMovingAverage() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(1); Graph g = Graph.open(store)) {
            Tensor xt = Tensor.randomUniform(4, DType.FLOAT32, Shape.of(6, 3), -1, 1);
            double[][] m = moments(xt.toDoubleArray(), 3);
            Layers.batchNorm(Var.constant(xt), "bn", decay(0.5), fused(false));
            double[] mv = store.get("bn/moving_variance").value().toDoubleArray();
            for (int c = 0; c < 3; c++) assertEquals(0.5 + 0.5 * m[1][c], mv[c], 1e-6);
        }
    }

    @Test
    void inferenceUsesTheMovingStatistics() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(1); Graph g = Graph.open(store)) {
            Tensor xt = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(2, 2, 2, 3), -1, 1);
            Map<String, Initializer> inits = Map.of("moving_mean", Initializers.constant(0.5), "moving_variance", Initializers.constant(4.0),
                "gamma", Initializers.constant(3.0), "beta", Initializers.constant(-1.0));
            Var y = Layers.batchNorm(Var.constant(xt), "bn", isTraining(false), scale(true), epsilon(0.01), Arg.paramInitializers(inits));
            double[] x = xt.toDoubleArray();
            double[] yv = y.value().toDoubleArray();
            for (int i = 0; i < x.length; i++) assertEquals(3 * (x[i] - 0.5) / Math.sqrt(4.01) - 1, yv[i], 1e-5);
            // inference leaves the statistics alone
            assertArrayEquals(new double[] {0.5, 0.5, 0.5}, store.get("bn/moving_mean").value().toDoubleArray(), 0.0);
        }
    }

    @Test
    void centerAndScaleChooseTheVariables() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store)) {
            Var x = MetaDevice.placeholder(DType.FLOAT32, 2, 4, 4, 8);
            Layers.batchNorm(x, "default");
            Layers.batchNorm(x, "both", scale(true));
            Layers.batchNorm(x, "none", center(false));
            assertNotNull(store.get("default/beta"));
            assertNull(store.get("default/gamma"), "slim's batch_norm has scale=False by default");
            assertNotNull(store.get("both/gamma"));
            assertNull(store.get("none/beta"));
            assertArrayEquals(new int[] {8}, store.get("both/moving_variance").shape().dims());
            assertEquals(java.util.List.of("default/beta", "default/moving_mean", "default/moving_variance", "both/beta", "both/gamma",
                "both/moving_mean", "both/moving_variance", "none/moving_mean", "none/moving_variance"),
                new java.util.ArrayList<>(store.asMap().keySet()));
        }
    }

    @Test
    void fusedEpsilonHasCudnnFloor() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(DType.FLOAT64, 1); Graph g = Graph.open(store)) {
            Tensor xt = Tensor.of(new double[] {0, 1e-3, 2e-3, 3e-3}, 4, 1);
            double var = 1.25e-6;
            double y3 = Layers.batchNorm(Var.constant(xt), "a", epsilon(1e-7)).value().toDoubleArray()[3];
            double unfused = Layers.batchNorm(Var.constant(xt), "b", epsilon(1e-7), fused(false)).value().toDoubleArray()[3];
            assertEquals(1.5e-3 / Math.sqrt(var + 1.001e-5), y3, 1e-7); // epsilon travels as float32
            assertEquals(1.5e-3 / Math.sqrt(var + 1e-7), unfused, 1e-6);
        }
    }

    @Test
    void gradientsReachBetaAndGamma() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(1)) {
            Var y;
            try (Graph g = Graph.open(store)) {
                y = Layers.batchNorm(Var.constant(Tensor.randomUniform(5, DType.FLOAT32, Shape.of(4, 3), -1, 1)), "bn", scale(true));
            }
            ReduceOps.sum(y).backward();
            // d(sum y)/d beta = N per channel; d/d gamma = sum of normalised x = 0
            assertArrayEquals(new double[] {4, 4, 4}, store.get("bn/beta").var().grad().toDoubleArray(), 1e-5);
            for (double v : store.get("bn/gamma").var().grad().toDoubleArray()) assertEquals(0, v, 1e-5);
            assertFalse(store.get("bn/moving_mean").var().requiresGrad());
            assertTrue(store.get("bn/gamma").trainable());
        }
    }
}
