package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** LeNet: structure, both modes, float32 vs float64, and that it learns. */
class LeNetTest {
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
    void structureMatchesTfSlim() {
        ShapeBuild b = ShapeBuild.of(Nets.get("lenet"), 2, 10);
        assertEquals(List.of("conv1", "pool1", "conv2", "pool2", "Flatten", "fc3", "dropout3", "Logits", "Predictions"),
            new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {2, 28, 28, 32}, b.endPoints().get("conv1"));
        assertArrayEquals(new int[] {2, 14, 14, 32}, b.endPoints().get("pool1"));
        assertArrayEquals(new int[] {2, 7, 7, 64}, b.endPoints().get("pool2"));
        assertArrayEquals(new int[] {2, 3136}, b.endPoints().get("Flatten"));
        assertArrayEquals(new int[] {2, 10}, b.endPoints().get("Predictions"));
        assertEquals(List.of("LeNet/conv1/weights", "LeNet/conv1/biases", "LeNet/conv2/weights", "LeNet/conv2/biases", "LeNet/fc3/weights",
            "LeNet/fc3/biases", "LeNet/fc4/weights", "LeNet/fc4/biases"), new ArrayList<>(b.variables().keySet()));
        int[][] layers = {{5, 5, 1, 32}, {5, 5, 32, 64}, {1, 1, 7 * 7 * 64, 1024}, {1, 1, 1024, 10}};
        assertEquals(3_274_634L, ShapeBuild.weightsAndBiases(layers));
        assertEquals(3_274_634L, b.trainable());
        assertArrayEquals(new int[] {3136, 1024}, b.variables().get("LeNet/fc3/weights"));
        ShapeBuild none = ShapeBuild.of(Nets.get("lenet"), 2, 0);
        assertArrayEquals(new int[] {2, 1024}, none.logits());
        assertFalse(none.variables().containsKey("LeNet/fc4/weights"));
    }

    @Test
    void inferenceIsDeterministicAndTrainingDropsOut() {
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("lenet"), 10, 0.0, 4)) {
            Tensor images = Tensor.randomUniform(1, -1, 1, 3, 28, 28, 1);
            NetOutput a = net.apply(images, false);
            List<Var> vars = List.copyOf(net.variables().asMap().values());
            NetOutput b = net.apply(images, false);
            assertEquals(vars, List.copyOf(net.variables().asMap().values()), "a second pass reuses the variables");
            Close.assertClose(a.logits().value(), b.logits().value(), 0, "inference");
            assertSame(a.endPoints().get("fc3"), a.endPoints().get("dropout3"), "dropout is the identity in inference");
            NetOutput t = net.apply(images, true);
            assertTrue(Close.maxAbsDiff(a.logits().value().toDoubleArray(), t.logits().value().toDoubleArray()) > 0);
            double[] p = a.endPoints().get("Predictions").value().toDoubleArray();
            for (int r = 0; r < 3; r++) {
                double s = 0;
                for (int c = 0; c < 10; c++) s += p[r * 10 + c];
                assertEquals(1, s, 1e-5);
            }
        }
    }

    @Test
    void variablesCanBeCreatedWithoutComputing() {
        try (TensorScope ts = TensorScope.open(); Network a = Network.create(Nets.get("lenet"), 10, 0.0, 8);
             Network b = Network.create(Nets.get("lenet"), 10, 0.0, 8)) {
            a.createVariables();
            assertEquals(8, a.variables().variables().size());
            assertEquals(3_274_634L, a.variables().trainableParameterCount());
            List<Var> before = List.copyOf(a.variables().asMap().values());
            Tensor images = Tensor.randomUniform(1, -1, 1, 2, 28, 28, 1);
            NetOutput out = a.apply(images, false);
            assertEquals(before, List.copyOf(a.variables().asMap().values()), "the real pass reuses them");
            // and they hold the same initial values as variables created by a real pass
            Close.assertClose(b.apply(images, false).logits().value(), out.logits().value(), 0, "same seed, same net");
        }
    }

    @Test
    void float32AgreesWithFloat64() {
        double[][] logits = new double[2][];
        DType[] types = {DType.FLOAT32, DType.FLOAT64};
        for (int i = 0; i < 2; i++) {
            try (TensorScope ts = TensorScope.open(); Network net = new Network(Nets.get("lenet"), 10, 0.0, new VariableStore(types[i], 9))) {
                Tensor images = Tensor.randomUniform(2, types[i], Shape.of(2, 28, 28, 1), -1, 1);
                logits[i] = net.apply(images, false).logits().value().toDoubleArray();
            }
        }
        Close.assertClose(logits[1], logits[0], 1e-5, "lenet float32 vs float64");
    }

    @Test
    void trainingStepsReduceTheLossOnAFixedBatch() {
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("lenet"), 10, 0.0001, 5)) {
            Tensor images = Tensor.randomUniform(3, -1, 1, 8, 28, 28, 1);
            Tensor labels = Training.labels(4, 8, 10);
            double[] l = Training.run(net, images, labels, 6, 0.0005);
            assertTrue(l[1] < 0.7 * l[0], "loss " + l[0] + " -> " + l[1]);
        }
    }
}
