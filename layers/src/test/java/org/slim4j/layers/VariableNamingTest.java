package org.slim4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.slim4j.layers.Arg.biasesInitializer;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.normalizerParams;
import static org.slim4j.layers.Arg.outputsCollections;
import static org.slim4j.layers.Arg.scale;
import static org.slim4j.layers.Layers.CONV2D;
import static org.slim4j.layers.Layers.MAX_POOL2D;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.fullyConnected;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.tensor.DType;

/** Variable and scope names exactly as TF-Slim makes them (shape-only builds: names need no values). */
class VariableNamingTest {
    private static List<String> names(VariableStore store) {
        return new ArrayList<>(store.asMap().keySet());
    }

    private static Var input(int... dims) {
        return MetaDevice.placeholder(DType.FLOAT32, dims);
    }

    @Test
    void defaultLayerNamesAreUniquified() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store)) {
            Var x = input(1, 8, 8, 3);
            Var y = conv2d(x, 4, 3);
            y = conv2d(y, 4, 3);
            try (VariableScope s = VariableScope.open("block")) {
                conv2d(y, 2, 1);
            }
            Var f = Ops.flatten(y);
            f = fullyConnected(f, 5);
            fullyConnected(f, 5);
            Layers.batchNorm(f);
            Layers.separableConv2d(y, 3, 3, null);
            assertEquals(List.of("Conv/weights", "Conv/biases", "Conv_1/weights", "Conv_1/biases", "block/Conv/weights", "block/Conv/biases",
                "fully_connected/weights", "fully_connected/biases", "fully_connected_1/weights", "fully_connected_1/biases",
                "BatchNorm/beta", "BatchNorm/moving_mean", "BatchNorm/moving_variance",
                "SeparableConv2d/depthwise_weights", "SeparableConv2d/pointwise_weights", "SeparableConv2d/biases"), names(store));
        }
    }

    @Test
    void normalizerReplacesBiasesAndNestsItsScope() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store);
             VariableScope top = VariableScope.open("InceptionV3")) {
            Var x = input(1, 8, 8, 3);
            try (var s = ArgScope.of(CONV2D).set(normalizerFn(Normalizer.BATCH_NORM), normalizerParams(scale(true))).open()) {
                conv2d(x, 32, 3, "Conv2d_1a_3x3");
            }
            conv2d(x, 8, 1, "no_bias", biasesInitializer(null));
            assertEquals(List.of("InceptionV3/Conv2d_1a_3x3/weights", "InceptionV3/Conv2d_1a_3x3/BatchNorm/beta",
                "InceptionV3/Conv2d_1a_3x3/BatchNorm/gamma", "InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean",
                "InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_variance", "InceptionV3/no_bias/weights"), names(store));
            assertTrue(store.get("InceptionV3/Conv2d_1a_3x3/BatchNorm/beta").trainable());
            assertFalse(store.get("InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean").trainable());
            assertTrue(store.get("InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_variance").modelVariable());
            assertEquals(4, store.trainableVariables().size());
            assertEquals(6, store.modelVariables().size());
        }
    }

    @Test
    void repeatAndStackNameTheirScopes() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store); VariableScope top = VariableScope.open("vgg_16")) {
            Var x = input(1, 8, 8, 3);
            Var y = Layers.repeat(x, 2, (in, s) -> conv2d(in, 4, 3, s), "conv1");
            // anonymous repeats: Repeat, Repeat_1; inner scopes from the layer's name
            y = Layers.repeat(y, 1, Layers.LayerFn.named("block35", (in, s) -> conv2d(in, 4, 1, s)));
            y = Layers.repeat(y, 1, Layers.LayerFn.named("block35", (in, s) -> conv2d(in, 4, 1, s)));
            y = Layers.repeat(y, 1, (in, s) -> conv2d(in, 4, 1, s));
            y = Layers.stack(y, (in, n, s) -> conv2d(in, n, 3, s), List.of(8, 16), "convs");
            Layers.stack(y, Layers.StackFn.<Integer>named("fc", (in, n, s) -> conv2d(in, n, 1, s)), List.of(2));
            List<String> w = new ArrayList<>();
            for (String n : names(store)) if (n.endsWith("/weights")) w.add(n);
            assertEquals(List.of("vgg_16/conv1/conv1_1/weights", "vgg_16/conv1/conv1_2/weights",
                "vgg_16/Repeat/block35_1/weights", "vgg_16/Repeat_1/block35_1/weights", "vgg_16/Repeat_2/repeat_1/weights",
                "vgg_16/convs/convs_1/weights", "vgg_16/convs/convs_2/weights", "vgg_16/Stack/fc_1/weights"), w);
            assertArrayEquals(new int[] {3, 3, 8, 16}, store.get("vgg_16/convs/convs_2/weights").shape().dims());
        }
    }

    @Test
    void childCountsAreForgottenWhenTheParentCloses() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store)) {
            Var x = input(1, 4, 4, 2);
            try (VariableScope a = VariableScope.open(null, "Branch")) {
                assertEquals("Branch", a.name());
                conv2d(x, 2, 1);
                try (VariableScope inner = VariableScope.open(null, "Conv")) {
                    assertEquals("Branch/Conv_1", inner.name(), "a default name skips names already used in the parent");
                }
            }
            try (VariableScope b = VariableScope.open(null, "Branch")) {
                assertEquals("Branch_1", b.name());
                conv2d(x, 2, 1);
                assertTrue(store.contains("Branch_1/Conv/weights"));
            }
            // an explicitly named scope counts too, so the next default skips it
            try (VariableScope c = VariableScope.open("Pool")) {
                assertEquals("Pool", c.name());
            }
            try (VariableScope d = VariableScope.open(null, "Pool")) {
                assertEquals("Pool_1", d.name());
            }
        }
    }

    @Test
    void layerOutputsAreCollectedUnderTheirScopeNames() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store); VariableScope top = VariableScope.open("alexnet_v2")) {
            EndPoints ep = new EndPoints();
            try (var s = ArgScope.of(CONV2D, MAX_POOL2D).set(outputsCollections(ep)).open()) {
                Var y = conv2d(input(1, 8, 8, 3), 4, 3, "conv1");
                y = Layers.maxPool2d(y, 2, "pool1");
                y = Layers.maxPool2d(y, 2, null);
                Layers.dropout(y, 0.5, "dropout1");
            }
            assertEquals(List.of("alexnet_v2/conv1", "alexnet_v2/pool1", "alexnet_v2/MaxPool2D"), new ArrayList<>(ep.names()));
            assertArrayEquals(new int[] {1, 2, 2, 4}, ep.get("alexnet_v2/MaxPool2D").value().dims());
        }
    }

    @Test
    void aVariableRequestedTwiceInOneGraphIsAnErrorUnlessReused() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store)) {
            Var x = input(1, 4, 4, 2);
            conv2d(x, 2, 1, "conv");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conv2d(x, 2, 1, "conv"));
            assertTrue(e.getMessage().startsWith("Variable conv/weights already exists, disallowed"), e.getMessage());
            try (VariableScope r = VariableScope.open(null, "Conv", true)) {
                e = assertThrows(IllegalArgumentException.class, () -> conv2d(x, 2, 1, "missing"));
                assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
            }
        }
    }

    @Test
    void explicitReuseSharesVariablesInOneGraph() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store)) {
            Var x = input(1, 4, 4, 2);
            try (VariableScope s = VariableScope.open("tower")) {
                conv2d(x, 2, 1, "conv");
            }
            try (VariableScope s = VariableScope.open("tower", null, true)) {
                conv2d(x, 2, 1, "conv");
            }
            assertEquals(2, store.variables().size());
        }
    }

    @Test
    void laterGraphsReuseTheStoresVariablesAndCheckShapes() {
        try (VariableStore store = new VariableStore(7)) {
            Variable first;
            try (Graph g = Graph.open(store)) {
                conv2d(Var.constant(org.slim4j.tensor.Tensor.zeros(1, 4, 4, 2)), 3, 1, "conv");
                first = store.get("conv/weights");
            }
            try (Graph g = Graph.open(store)) {
                conv2d(Var.constant(org.slim4j.tensor.Tensor.zeros(1, 4, 4, 2)), 3, 1, "conv");
                assertSame(first, store.get("conv/weights"));
                assertEquals(2, store.variables().size());
            }
            try (Graph g = Graph.open(store)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> conv2d(Var.constant(org.slim4j.tensor.Tensor.zeros(1, 4, 4, 5)), 3, 1, "conv"));
                assertEquals("Trying to share variable conv/weights, but specified shape [1, 1, 5, 3] and found shape [1, 1, 2, 3].", e.getMessage());
            }
        }
    }

    @Test
    void layersNeedAnOpenGraph() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> conv2d(input(1, 4, 4, 2), 2, 1, "c"));
        assertTrue(e.getMessage().contains("Graph.open"), e.getMessage());
        assertNotNull(e);
    }
}
