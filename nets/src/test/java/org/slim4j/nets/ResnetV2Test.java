package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Graph;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.ResnetUtils.Block;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** resnet_v2: what TF-Slim's resnet_v2_test asserts, plus the real models' variables and sizes. */
class ResnetV2Test {
    private static final ArgScope SC = ResnetUtils.resnetArgScope(0.0001);
    private long liveBefore;

    @BeforeEach
    void rememberMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noMemoryLeft() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "bytes left allocated");
    }

    /** resnet_v2_test's _resnet_small. */
    private static NetOutput small(Var inputs, int numClasses, boolean training, boolean globalPool, Integer outputStride, boolean includeRoot,
                                   boolean squeeze, String scope) {
        List<Block> blocks = List.of(
            ResnetV2.resnetV2Block("block1", 1, 3, 2),
            ResnetV2.resnetV2Block("block2", 2, 3, 2),
            ResnetV2.resnetV2Block("block3", 4, 3, 2),
            ResnetV2.resnetV2Block("block4", 8, 2, 1));
        return ResnetV2.resnetV2(inputs, blocks, numClasses, training, globalPool, outputStride, includeRoot, squeeze, scope);
    }

    @Test
    void endPointNamesAndShapesAsResnetV2Test() {
        ShapeBuild b = NetTesting.shapeOnly(SC, x -> small(x, 10, true, true, null, true, true, "resnet"), 2, 224, 224, 3);
        List<String> expected = new ArrayList<>(List.of("resnet/conv1"));
        for (int block = 1; block <= 4; block++) {
            for (int unit = 1; unit < (block < 4 ? 4 : 3); unit++) {
                String u = "resnet/block" + block + "/unit_" + unit + "/bottleneck_v2";
                if (unit == 1) expected.add(u + "/shortcut");
                for (int conv = 1; conv <= 3; conv++) expected.add(u + "/conv" + conv);
                expected.add(u);
            }
            expected.add("resnet/block" + block);
        }
        expected.addAll(List.of("global_pool", "resnet/logits", "resnet/spatial_squeeze", "predictions"));
        assertEquals(expected, new ArrayList<>(b.endPoints().keySet()), "preact and postnorm are not end points");
        for (int i = 0; i < 4; i++) {
            int[][] shapes = {{2, 28, 28, 4}, {2, 14, 14, 8}, {2, 7, 7, 16}, {2, 7, 7, 32}};
            assertArrayEquals(shapes[i], b.endPoints().get("resnet/block" + (i + 1)));
        }
        b = NetTesting.shapeOnly(SC, x -> small(x, 10, true, false, 8, true, false, "resnet"), 2, 321, 321, 3);
        for (int i = 1; i <= 4; i++) assertArrayEquals(new int[] {2, 41, 41, 4 << (i - 1)}, b.endPoints().get("resnet/block" + i));
        b = NetTesting.shapeOnly(SC, x -> small(x, 10, true, false, null, false, false, "resnet"), 2, 128, 128, 3);
        assertArrayEquals(new int[] {2, 16, 16, 32}, b.endPoints().get("resnet/block4"));
        assertArrayEquals(new int[] {2, 16, 16, 10}, b.logits());
    }

    /** The variables of resnet_v2_&lt;layers&gt; written down from the architecture. */
    static NetTesting.Vars expectedVariables(String scope, int[] units, int numClasses) {
        NetTesting.Vars v = new NetTesting.Vars();
        v.convBiases(scope + "/conv1", 7, 3, 64);
        int in = 64;
        int[] base = {64, 128, 256, 512};
        for (int b = 0; b < 4; b++) {
            int d = base[b];
            for (int u = 1; u <= units[b]; u++) {
                String p = scope + "/block" + (b + 1) + "/unit_" + u + "/bottleneck_v2";
                v.batchNorm(p + "/preact", in, true);
                if (u == 1) v.convBiases(p + "/shortcut", 1, in, 4 * d);
                v.convBn(p + "/conv1", 1, in, d);
                v.convBn(p + "/conv2", 3, d, d);
                v.convBiases(p + "/conv3", 1, d, 4 * d);
                in = 4 * d;
            }
        }
        v.batchNorm(scope + "/postnorm", 2048, true);
        if (numClasses > 0) v.convBiases(scope + "/logits", 1, 2048, numClasses);
        return v;
    }

    @Test
    void resnetV2_50HasTfSlimVariablesEndPointsAndSize() {
        ShapeBuild b = ShapeBuild.of(Nets.get("resnet_v2_50"), 1, 1001);
        expectedVariables("resnet_v2_50", new int[] {3, 4, 6, 3}, 1001).assertMatches(b);
        assertTrue(b.variables().containsKey("resnet_v2_50/block1/unit_1/bottleneck_v2/preact/gamma"));
        assertTrue(b.variables().containsKey("resnet_v2_50/postnorm/moving_variance"));
        Map<String, int[]> e = b.endPoints();
        assertArrayEquals(new int[] {1, 112, 112, 64}, e.get("resnet_v2_50/conv1"));
        assertArrayEquals(new int[] {1, 28, 28, 256}, e.get("resnet_v2_50/block1"));
        assertArrayEquals(new int[] {1, 7, 7, 2048}, e.get("resnet_v2_50/block4"));
        assertArrayEquals(new int[] {1, 1, 1, 2048}, e.get("global_pool"));
        assertArrayEquals(new int[] {1, 1001}, e.get("predictions"));
        assertEquals(1001, Nets.get("resnet_v2_50").defaultNumClasses());
    }

    @Test
    void parameterCountsAreThoseOfTheRealModels() {
        // Keras' ResNet50V2/101V2/152V2 (the same layers, 1000 classes): trainable and total
        long[] trainable = {25_568_360L, 44_577_896L, 60_236_904L, 64_726_120L};
        long[] all = {25_613_800L, 44_675_560L, 60_380_648L, 64_894_440L};
        int[] layers = {50, 101, 152, 200};
        for (int i = 0; i < 4; i++) {
            String name = "resnet_v2_" + layers[i];
            NetTesting.Vars v = expectedVariables(name, ResnetV1.units(layers[i]), 1000);
            assertEquals(trainable[i], v.trainable, name + " from the architecture");
            assertEquals(all[i], v.all, name + " from the architecture");
            v.assertMatches(ShapeBuild.of(Nets.get(name), 1, 224, 224, 1000, false));
        }
    }

    @Test
    void atrousOutputsAreSubsampledDenseOutputs() {
        // resnet_v2_test.testAtrousFullyConvolutionalValues, in float64
        for (Integer outputStride : new Integer[] {4, 8, 16, 32, null}) {
            try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(DType.FLOAT64, 4)) {
                Var inputs = Var.constant(NetTesting.testInput(DType.FLOAT64, 2, 81, 81, 3));
                double[] output;
                double[] expected;
                int factor = outputStride == null ? 1 : 32 / outputStride;
                try (Graph g = Graph.open(store); var s = SC.open()) {
                    Var out = small(inputs, 0, false, false, outputStride, true, true, null).logits();
                    output = ResnetUtils.subsample(out, factor, null).value().toDoubleArray();
                }
                try (Graph g = Graph.open(store); var s = SC.open()) {
                    expected = small(inputs, 0, false, false, null, true, true, null).logits().value().toDoubleArray();
                }
                assertTrue(Close.maxAbs(expected) > 1e-3, "non-trivial activations");
                Close.assertClose(expected, output, 1e-10, "output_stride " + outputStride);
            }
        }
    }

    @Test
    void optionsOfTheFactoryNetwork() {
        NetworkFn fn = Nets.get("resnet_v2_101");
        ShapeBuild b = ShapeBuild.of(fn, 2, 224, 224, 0, false);
        assertArrayEquals(new int[] {2, 1, 1, 2048}, b.logits());
        assertFalse(b.variables().containsKey("resnet_v2_101/logits/biases"));
        b = ShapeBuild.of(fn, 1, 321, 321, 21, false, NetArg.OUTPUT_STRIDE.is(16), NetArg.GLOBAL_POOL.is(false), NetArg.SPATIAL_SQUEEZE.is(false));
        assertArrayEquals(new int[] {1, 21, 21, 21}, b.logits());
        assertArrayEquals(new int[] {1, 21, 21, 1024}, b.endPoints().get("resnet_v2_101/block3"));
    }

    @Test
    void resnetV2_50ForwardAtReducedSizeInBothModes() {
        NetTesting.forwardInBothModes(Nets.get("resnet_v2_50"), 10, 2, 64);
    }

    @Test
    @Tag("slow")
    void deeperResnetsForwardAtReducedSizeInBothModes() {
        for (String name : List.of("resnet_v2_101", "resnet_v2_152", "resnet_v2_200")) NetTesting.forwardInBothModes(Nets.get(name), 10, 1, 64);
    }

    @Test
    @Tag("slow")
    void resnetV2_50ForwardAtFullSize() {
        NetTesting.forwardInBothModes(Nets.get("resnet_v2_50"), 1001, 1, 224);
    }
}
