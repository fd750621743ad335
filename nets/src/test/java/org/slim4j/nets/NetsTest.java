package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Graph;
import org.slim4j.layers.Layers;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.DType;

/** The nets factory: names, default sizes, options, arg scopes, and the model summary. */
class NetsTest {
    @Test
    void factoryKnowsTheNetworksAndTheirDefaultSizes() {
        Map<String, Integer> sizes = Map.of("alexnet_v2", 224, "cifarnet", 32, "overfeat", 231, "vgg_a", 224, "vgg_16", 224, "vgg_19", 224, "lenet", 28);
        assertTrue(Nets.names().containsAll(sizes.keySet()), Nets.names().toString());
        sizes.forEach((name, size) -> {
            assertEquals(name, Nets.get(name).name());
            assertEquals(size, Nets.get(name).defaultImageSize(), name);
        });
        assertEquals(1, Nets.get("lenet").defaultImageChannels());
        assertEquals(10, Nets.get("cifarnet").defaultNumClasses());
        assertEquals(1000, Nets.get("vgg_16").defaultNumClasses());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Nets.get("vgg_17"));
        assertTrue(e.getMessage().startsWith("Name of network unknown vgg_17"), e.getMessage());
    }

    @Test
    void everyNetworkBuildsWithAThousandClassesAsNetsFactoryTestDoes() {
        for (String name : Nets.names()) {
            NetworkFn fn = Nets.get(name);
            ShapeBuild b = ShapeBuild.of(fn, 5, fn.defaultImageSize(), fn.defaultImageSize(), 1000, false);
            assertArrayEquals(new int[] {5, 1000}, b.logits(), name);
        }
    }

    @Test
    void getNetworkFnBuildsUnderTheFamilyArgScope() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store)) {
            var fn = Nets.networkFn("vgg_16", 7, 0.0005, true);
            NetOutput out = fn.apply(MetaDevice.placeholder(DType.FLOAT32, 2, 224, 224, 3));
            assertArrayEquals(new int[] {2, 7}, out.logits().value().dims());
            assertTrue(ArgScope.current().kinds().isEmpty(), "the arg scope is closed again");
        }
        // arg scope functions are small values: vgg's sets relu, L2 and SAME on conv2d
        ArgScope sc = Vgg.vggArgScope(0.0005);
        assertEquals(org.slim4j.kernels.Padding.SAME, sc.defaultsFor(Layers.CONV2D).get(Arg.PADDING, null));
        assertTrue(sc.defaultsFor(Layers.FULLY_CONNECTED).has(Arg.WEIGHTS_REGULARIZER));
        assertTrue(!sc.defaultsFor(Layers.FULLY_CONNECTED).has(Arg.PADDING));
    }

    @Test
    void unknownOptionsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ShapeBuild.of(Nets.get("lenet"), 1, 28, 28, 10, false, NetArg.GLOBAL_POOL.is(true)));
        assertEquals("lenet() got an unexpected keyword argument 'global_pool'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(Nets.get("vgg_16"), 1, 224, 224, -1, false));
    }

    @Test
    void modelSummaryListsEndPointsVariablesAndTotals() {
        ModelSummary s = ModelSummary.of(Nets.get("lenet"), 10);
        assertEquals(28, s.imageSize());
        assertEquals(9, s.endPoints().size());
        assertEquals(8, s.variables().size());
        assertEquals(3_274_634L, s.trainableParameters());
        assertEquals(3_274_634L, s.allParameters());
        // conv1 28*28*32*25, conv2 14*14*64*800, fc3 3136*1024, fc4 1024*10
        assertEquals(28L * 28 * 32 * 25 + 14L * 14 * 64 * 800 + 3136L * 1024 + 1024L * 10, s.multiplyAdds());
        String text = s.format();
        List<String> lines = text.lines().toList();
        assertTrue(lines.contains("Trainable parameters: 3274634"), text);
        assertTrue(lines.contains("All parameters: 3274634"), text);
        assertTrue(lines.contains("Multiply-adds: " + s.multiplyAdds()), text);
        assertTrue(lines.stream().anyMatch(l -> l.matches("LeNet/fc3/weights\\s+\\[3136, 1024\\]\\s+3211264")), text);
        assertTrue(lines.stream().anyMatch(l -> l.matches("pool2\\s+\\[1, 7, 7, 64\\]")), text);
        ModelSummary c = ModelSummary.of(Nets.get("cifarnet"), 5, 64, 3);
        assertEquals(new ModelSummary.Entry("pool2", org.slim4j.tensor.Shape.of(1, 16, 16, 64)), c.endPoints().get(3));
    }
}
