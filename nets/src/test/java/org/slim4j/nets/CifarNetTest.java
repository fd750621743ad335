package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** CifarNet: structure, initialisers from its arg scope, both modes, and that it learns. */
class CifarNetTest {
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
        ShapeBuild b = ShapeBuild.of(Nets.get("cifarnet"), 2, 10);
        assertEquals(List.of("conv1", "pool1", "conv2", "pool2", "Flatten", "fc3", "fc4", "Logits", "Predictions"),
            new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {2, 32, 32, 64}, b.endPoints().get("conv1"));
        assertArrayEquals(new int[] {2, 16, 16, 64}, b.endPoints().get("conv2"));
        assertArrayEquals(new int[] {2, 8, 8, 64}, b.endPoints().get("pool2"));
        assertArrayEquals(new int[] {2, 4096}, b.endPoints().get("Flatten"));
        assertArrayEquals(new int[] {2, 192}, b.endPoints().get("fc4"));
        assertEquals(List.of("CifarNet/conv1/weights", "CifarNet/conv1/biases", "CifarNet/conv2/weights", "CifarNet/conv2/biases",
            "CifarNet/fc3/weights", "CifarNet/fc3/biases", "CifarNet/fc4/weights", "CifarNet/fc4/biases", "CifarNet/logits/weights",
            "CifarNet/logits/biases"), new ArrayList<>(b.variables().keySet()));
        int[][] layers = {{5, 5, 3, 64}, {5, 5, 64, 64}, {1, 1, 8 * 8 * 64, 384}, {1, 1, 384, 192}, {1, 1, 192, 10}};
        assertEquals(1_756_426L, ShapeBuild.weightsAndBiases(layers));
        assertEquals(1_756_426L, b.trainable());
        assertArrayEquals(new int[] {2, 192}, ShapeBuild.of(Nets.get("cifarnet"), 2, 0).logits());
    }

    @Test
    void argScopeInitialisersAndRegularisers() {
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("cifarnet"), 10, 0.004, 6)) {
            net.apply(Tensor.randomUniform(1, -1, 1, 1, 32, 32, 3), false);
            VariableStore v = net.variables();
            assertEquals(0.1, v.get("CifarNet/fc3/biases").value().toDoubleArray()[5], 1e-7, "fc biases constant 0.1");
            assertEquals(0.0, v.get("CifarNet/logits/biases").value().toDoubleArray()[5], "logits biases zeros");
            assertEquals(0.0, v.get("CifarNet/conv1/biases").value().toDoubleArray()[5], "conv biases default zeros");
            assertTrue(Close.maxAbs(v.get("CifarNet/conv1/weights").value().toDoubleArray()) <= 2 * 0.05 + 1e-7, "trunc_normal(0.05)");
            assertTrue(Close.maxAbs(v.get("CifarNet/logits/weights").value().toDoubleArray()) <= 2 / 192.0 + 1e-7, "trunc_normal(1/192)");
            assertEquals(List.of("CifarNet/fc3/weights/Regularizer", "CifarNet/fc4/weights/Regularizer"),
                v.regularizationLosses().stream().map(VariableStore.RegularizationLoss::name).toList(), "only fc3/fc4 are regularised");
        }
    }

    @Test
    void trainingStepsReduceTheLossOnAFixedBatch() {
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("cifarnet"), 10, 0.004, 7)) {
            Tensor images = Tensor.randomUniform(3, -1, 1, 8, 32, 32, 3);
            Tensor labels = Training.labels(5, 8, 10);
            NetOutput train = net.apply(images, true);
            assertArrayEquals(new int[] {8, 10}, train.logits().value().dims());
            double[] l = Training.run(net, images, labels, 8, 0.05);
            assertTrue(l[1] < 0.9 * l[0], "loss " + l[0] + " -> " + l[1]);
        }
    }
}
