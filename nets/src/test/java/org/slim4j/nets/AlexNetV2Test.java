package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** alexnet_v2 as TF-Slim's alexnet_test asserts it. */
class AlexNetV2Test {
    private static final List<String> LAYERS = List.of("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8");

    @Test
    void endPointsVariablesAndParameterCount() {
        ShapeBuild b = ShapeBuild.of(Nets.get("alexnet_v2"), 5, 1000);
        List<String> expected = new ArrayList<>();
        for (String l : LAYERS) expected.add("alexnet_v2/" + l);
        assertEquals(expected, new ArrayList<>(b.endPoints().keySet()));
        int[][] shapes = {{5, 54, 54, 64}, {5, 26, 26, 64}, {5, 26, 26, 192}, {5, 12, 12, 192}, {5, 12, 12, 384}, {5, 12, 12, 384},
            {5, 12, 12, 256}, {5, 5, 5, 256}, {5, 1, 1, 4096}, {5, 1, 1, 4096}, {5, 1000}};
        for (int i = 0; i < shapes.length; i++) assertArrayEquals(shapes[i], b.endPoints().get(expected.get(i)), expected.get(i));
        List<String> vars = new ArrayList<>();
        for (String l : LAYERS) {
            if (l.startsWith("pool")) continue;
            vars.add("alexnet_v2/" + l + "/weights");
            vars.add("alexnet_v2/" + l + "/biases");
        }
        assertEquals(vars, new ArrayList<>(b.variables().keySet()));
        int[][] layers = {{11, 11, 3, 64}, {5, 5, 64, 192}, {3, 3, 192, 384}, {3, 3, 384, 384}, {3, 3, 384, 256},
            {5, 5, 256, 4096}, {1, 1, 4096, 4096}, {1, 1, 4096, 1000}};
        for (int i = 0; i < layers.length; i++) assertArrayEquals(layers[i], b.variables().get(vars.get(2 * i)), vars.get(2 * i));
        assertEquals(50_303_912L, ShapeBuild.weightsAndBiases(layers));
        assertEquals(ShapeBuild.weightsAndBiases(layers), b.trainable());
    }

    @Test
    void variantsOfTheTest() {
        // 300x400 without squeeze: a 4x7 map of logits
        assertArrayEquals(new int[] {1, 4, 7, 10}, ShapeBuild.of(Nets.get("alexnet_v2"), 1, 300, 400, 10, false, NetArg.SPATIAL_SQUEEZE.is(false)).logits());
        ShapeBuild g = ShapeBuild.of(Nets.get("alexnet_v2"), 1, 256, 256, 10, false, NetArg.SPATIAL_SQUEEZE.is(false), NetArg.GLOBAL_POOL.is(true));
        assertArrayEquals(new int[] {1, 1, 1, 10}, g.logits());
        ShapeBuild none = ShapeBuild.of(Nets.get("alexnet_v2"), 5, 224, 224, 0, true);
        assertArrayEquals(new int[] {5, 1, 1, 4096}, none.logits());
        assertFalse(none.endPoints().containsKey("alexnet_v2/fc8"));
        assertTrue(none.endPoints().containsKey("alexnet_v2/fc7"));
    }

    @Test
    void forwardAtDefaultSizeInTrainingAndInference() {
        long live = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("alexnet_v2"), 10, 0.0005, 3)) {
            Tensor images = Tensor.randomUniform(5, -1, 1, 1, 224, 224, 3);
            NetOutput a = net.apply(images, false);
            NetOutput b = net.apply(images, false);
            assertArrayEquals(new int[] {1, 10}, a.logits().value().dims());
            assertArrayEquals(new int[] {1, 5, 5, 256}, a.endPoints().get("alexnet_v2/pool5").value().dims());
            Close.assertClose(a.logits().value(), b.logits().value(), 0, "inference is deterministic");
            NetOutput t = net.apply(images, true);
            assertArrayEquals(new int[] {1, 10}, t.logits().value().dims());
            double diff = Close.maxAbsDiff(a.logits().value().toDoubleArray(), t.logits().value().toDoubleArray());
            assertTrue(diff > 0, "dropout changes the training-mode logits");
            // fc6's biases start at 0.1 (alexnet's fc arg scope), fc8's at 0
            assertEquals(0.1, net.variables().get("alexnet_v2/fc6/biases").value().toDoubleArray()[0], 1e-7);
            assertEquals(0.0, net.variables().get("alexnet_v2/fc8/biases").value().toDoubleArray()[0]);
            assertEquals(8, net.variables().regularizationLosses().size(), "L2 on every weights tensor, none on biases");
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes());
    }
}
