package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/** overfeat as TF-Slim's overfeat_test asserts it. */
class OverFeatTest {
    private static final List<String> LAYERS = List.of("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8");

    @Test
    void endPointsVariablesAndParameterCount() {
        ShapeBuild b = ShapeBuild.of(Nets.get("overfeat"), 5, 1000);
        List<String> expected = new ArrayList<>();
        for (String l : LAYERS) expected.add("overfeat/" + l);
        assertEquals(expected, new ArrayList<>(b.endPoints().keySet()));
        int[][] shapes = {{5, 56, 56, 64}, {5, 28, 28, 64}, {5, 24, 24, 256}, {5, 12, 12, 256}, {5, 12, 12, 512}, {5, 12, 12, 1024},
            {5, 12, 12, 1024}, {5, 6, 6, 1024}, {5, 1, 1, 3072}, {5, 1, 1, 4096}, {5, 1000}};
        for (int i = 0; i < shapes.length; i++) assertArrayEquals(shapes[i], b.endPoints().get(expected.get(i)), expected.get(i));
        int[][] layers = {{11, 11, 3, 64}, {5, 5, 64, 256}, {3, 3, 256, 512}, {3, 3, 512, 1024}, {3, 3, 1024, 1024},
            {6, 6, 1024, 3072}, {1, 1, 3072, 4096}, {1, 1, 4096, 1000}};
        List<String> vars = new ArrayList<>();
        for (String l : LAYERS) {
            if (l.startsWith("pool")) continue;
            vars.add("overfeat/" + l + "/weights");
            vars.add("overfeat/" + l + "/biases");
        }
        assertEquals(vars, new ArrayList<>(b.variables().keySet()));
        for (int i = 0; i < layers.length; i++) assertArrayEquals(layers[i], b.variables().get(vars.get(2 * i)), vars.get(2 * i));
        assertEquals(145_704_424L, ShapeBuild.weightsAndBiases(layers));
        assertEquals(ShapeBuild.weightsAndBiases(layers), b.trainable());
    }

    @Test
    void variantsOfTheTest() {
        assertArrayEquals(new int[] {1, 2, 2, 10}, ShapeBuild.of(Nets.get("overfeat"), 1, 281, 281, 10, false, NetArg.SPATIAL_SQUEEZE.is(false)).logits());
        assertArrayEquals(new int[] {1, 1, 1, 10},
            ShapeBuild.of(Nets.get("overfeat"), 1, 281, 281, 10, false, NetArg.SPATIAL_SQUEEZE.is(false), NetArg.GLOBAL_POOL.is(true)).logits());
        assertArrayEquals(new int[] {5, 1, 1, 4096}, ShapeBuild.of(Nets.get("overfeat"), 5, 231, 231, 0, true).logits());
    }

    @Test
    @Tag("slow")
    void forwardAtFullSize() {
        long live = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("overfeat"), 1000, 0.0005, 1)) {
            Tensor images = Tensor.randomUniform(2, -1, 1, 1, 231, 231, 3);
            assertArrayEquals(new int[] {1, 1000}, net.apply(images, false).logits().value().dims());
            assertArrayEquals(new int[] {1, 1000}, net.apply(images, true).logits().value().dims());
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes());
    }
}
