package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.biasesInitializer;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.scale;
import static org.slim4j.layers.Layers.BATCH_NORM;
import static org.slim4j.layers.Layers.CONV2D;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Graph;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** nasnet_utils: reduction indices, factorized reduction, drop path and its schedule, operation parsing. */
class NasnetUtilsTest {
    private long liveBefore;

    @BeforeEach
    void rememberMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noMemoryLeft() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "bytes left allocated");
    }

    @Test
    void reductionLayersAreAtThirdsOfTheCells() {
        assertArrayEquals(new int[] {6, 12}, NasnetUtils.calcReductionLayers(18, 2));
        assertArrayEquals(new int[] {4, 8}, NasnetUtils.calcReductionLayers(12, 2));
        assertArrayEquals(new int[] {3, 6}, NasnetUtils.calcReductionLayers(9, 2));
        assertArrayEquals(new int[] {2, 5, 7}, NasnetUtils.calcReductionLayers(10, 3)); // int(2.5), int(5.0), int(7.5)
    }

    @Test
    void operationStringsParseAsInNasnetUtils() {
        assertArrayEquals(new int[] {2, 5}, NasnetUtils.operationToInfo("separable_5x5_2"));
        assertArrayEquals(new int[] {4, 3}, NasnetUtils.operationToInfo("separable_3x3_4"));
        assertArrayEquals(new int[] {1, 7}, NasnetUtils.operationToInfo("separable_7x7"));
        assertThrows(IllegalArgumentException.class, () -> NasnetUtils.operationToInfo("separable_3x5_2"));
    }

    /** path 1 samples even positions, path 2 the odd ones (zero beyond the edge), each through its own 1x1 conv. */
    @Test
    void factorizedReductionSamplesBothPixelGridsAndSplitsOddFilterCounts() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(DType.FLOAT64, 11); Graph g = Graph.open(store)) {
            Tensor x = Tensor.randomUniform(3, DType.FLOAT64, Shape.of(2, 5, 5, 3), -1, 1);
            Var y;
            try (var a = ArgScope.of(CONV2D).set(activationFn(null), biasesInitializer(null))
                    .nest(ArgScope.of(BATCH_NORM).set(isTraining(false), scale(true))).open()) {
                y = NasnetUtils.factorizedReduction(Var.constant(x), 5, 2);
            }
            List<String> names = new ArrayList<>();
            for (Variable v : store.variables()) names.add(v.name() + " " + v.shape());
            assertEquals(List.of("path1_conv/weights [1, 1, 3, 2]", "path2_conv/weights [1, 1, 3, 3]", "final_path_bn/beta [5]",
                "final_path_bn/gamma [5]", "final_path_bn/moving_mean [5]", "final_path_bn/moving_variance [5]"), names);
            assertArrayEquals(new int[] {2, 3, 3, 5}, y.value().dims());
            double[] xv = x.toDoubleArray();
            double[] w1 = store.get("path1_conv/weights").value().toDoubleArray();
            double[] w2 = store.get("path2_conv/weights").value().toDoubleArray();
            double bn = 1 / Math.sqrt(1 + 0.001); // inference with the initial moving statistics
            double[] expected = new double[2 * 3 * 3 * 5];
            for (int n = 0; n < 2; n++) {
                for (int i = 0; i < 3; i++) {
                    for (int j = 0; j < 3; j++) {
                        for (int o = 0; o < 5; o++) {
                            double s = 0;
                            boolean first = o < 2;
                            int r = first ? 2 * i : 2 * i + 1;
                            int c = first ? 2 * j : 2 * j + 1;
                            if (r < 5 && c < 5) {
                                for (int ch = 0; ch < 3; ch++) {
                                    double w = first ? w1[ch * 2 + o] : w2[ch * 3 + (o - 2)];
                                    s += xv[((n * 5 + r) * 5 + c) * 3 + ch] * w;
                                }
                            }
                            expected[((n * 3 + i) * 3 + j) * 5 + o] = s * bn;
                        }
                    }
                }
            }
            // (batch norm takes epsilon as a float)
            Close.assertClose(Tensor.of(expected, 2, 3, 3, 5), y.value(), 1e-9, "factorized_reduction");
        }
    }

    @Test
    void factorizedReductionWithStrideOneIsA1x1ConvAndBatchNorm() {
        VariableStore store = VariableStore.shapeOnly();
        try (Graph g = Graph.open(store)) {
            Var y = NasnetUtils.factorizedReduction(MetaDevice.placeholder(DType.FLOAT32, 1, 7, 7, 96), 32, 1);
            assertArrayEquals(new int[] {1, 7, 7, 32}, y.value().dims());
            assertEquals(List.of("path_conv/weights", "path_conv/biases", "path_bn/beta", "path_bn/moving_mean", "path_bn/moving_variance"),
                store.variables().stream().map(Variable::name).toList(), "no arg scope: slim's defaults (biases, no gamma)");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NasnetUtils.factorizedReduction(MetaDevice.placeholder(DType.FLOAT32, 7, 7, 96), 32, 2));
            assertEquals("factorized_reduction: input must be rank 4 (NHWC), got shape [7, 7, 96]", e.getMessage());
        } finally {
            store.close();
        }
    }

    @Test
    void dropPathKeepProbabilityGrowsWithDepthAndTrainingProgress() {
        assertEquals(0.6, NasnetUtils.scheduledKeepProb(0.6, 19, 20, 937_500, 937_500), 1e-12, "last cell, fully ramped");
        assertEquals(0.8, NasnetUtils.scheduledKeepProb(0.6, 9, 20, 937_500, 937_500), 1e-12, "half way down");
        assertEquals(0.9, NasnetUtils.scheduledKeepProb(0.6, 9, 20, 468_750, 937_500), 1e-12, "half way through training");
        assertEquals(1.0, NasnetUtils.scheduledKeepProb(0.6, 9, 20, 0, 937_500), 1e-12, "a fresh global step keeps everything");
        assertEquals(0.8, NasnetUtils.scheduledKeepProb(0.6, 9, 20, 5_000_000, 937_500), 1e-12, "ratio capped at 1");
        assertEquals(1.0, NasnetUtils.scheduledKeepProb(1.0, 9, 20, 10, 937_500), "keep 1 disables it");
        assertThrows(IllegalArgumentException.class, () -> NasnetUtils.scheduledKeepProb(0.6, -1, 20, 10, 100));
    }

    @Test
    void dropPathKeepsOrDropsWholeExamplesReproducibly() {
        int n = 200;
        double keep = 0.6;
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(1)) {
            Var x = Var.param(Tensor.randomUniform(4, 1, 2, n, 2, 3, 4), "x");
            double[] xv = x.value().toDoubleArray();
            double[] first;
            try (Graph g = Graph.open(store, 99)) {
                Var y = NasnetUtils.dropPath(x, keep);
                first = y.value().toDoubleArray();
                Ops.reduceSum(y, new int[0], false).backward();
            }
            int kept = 0;
            double[] grad = x.grad().toDoubleArray();
            for (int e = 0; e < n; e++) {
                double scaleOf = first[e * 24] / xv[e * 24];
                assertTrue(Math.abs(scaleOf) < 1e-6 || Math.abs(scaleOf - 1 / keep) < 1e-5, "example " + e + " scaled by " + scaleOf);
                for (int i = 0; i < 24; i++) {
                    assertEquals(xv[e * 24 + i] * scaleOf, first[e * 24 + i], 1e-5, "one draw per example");
                    assertEquals(scaleOf, grad[e * 24 + i], 1e-5, "the gradient is masked the same way");
                }
                if (scaleOf > 0.5) kept++;
            }
            // 120 expected, sd 6.9
            assertTrue(kept > 90 && kept < 150, "kept " + kept + " of " + n);
            try (Graph g = Graph.open(store, 99)) {
                assertArrayEquals(first, NasnetUtils.dropPath(x, keep).value().toDoubleArray(), "same graph seed, same mask");
            }
            try (Graph g = Graph.open(store, 100)) {
                assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(NasnetUtils.dropPath(x, keep).value().toDoubleArray()),
                    "another pass, another mask");
            }
            try (Graph g = Graph.open(store, 99); var a = ArgScope.of(NasnetUtils.DROP_PATH).set(isTraining(false)).open()) {
                assertSame(x, NasnetUtils.dropPath(x, keep), "identity outside training");
            }
            try (Graph g = Graph.open(store, 99)) {
                assertSame(x, NasnetUtils.dropPath(x, 1.0), "keep 1 is the identity");
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NasnetUtils.dropPath(x, 0.0));
                assertEquals("drop_path: keep_prob must be in (0, 1], got 0.0", e.getMessage());
            }
            x.zeroGrad();
        }
    }

    @Test
    void cellsRejectMalformedDefinitionsAndUnknownOperations() {
        assertThrows(IllegalArgumentException.class, () -> new NasnetUtils.Cell(8, List.of("none"), new int[7], new int[10], 1, 4, 10, false));
        NasnetUtils.Cell bad = new NasnetUtils.Cell(8, List.of("conv_3x3", "none", "none", "none", "none", "none", "none", "none", "none", "none"),
            new int[] {1, 1, 0, 0, 0, 0, 0}, new int[10], 1.0, 4, 10, false);
        VariableStore store = VariableStore.shapeOnly();
        try (Graph g = Graph.open(store)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bad.apply(MetaDevice.placeholder(DType.FLOAT32, 1, 8, 8, 8), "cell_0", 1.0, 1, null, 0, null));
            assertEquals("Unimplemented operation conv_3x3", e.getMessage());
        } finally {
            store.close();
        }
    }
}
