package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.EndPoints;
import org.slim4j.layers.Graph;
import org.slim4j.layers.Layers;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.ResnetUtils.Block;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** resnet_utils and resnet_v1: what TF-Slim's resnet_utils_test and resnet_v1_test assert, plus the real models' sizes. */
class ResnetV1Test {
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

    /** resnet_v1_test's _resnet_small: a shallow and thin ResNet v1 for fast tests. */
    private static NetOutput small(Var inputs, int numClasses, boolean training, boolean globalPool, Integer outputStride, boolean includeRoot,
                                   boolean squeeze, String scope) {
        List<Block> blocks = List.of(
            ResnetV1.resnetV1Block("block1", 1, 3, 2),
            ResnetV1.resnetV1Block("block2", 2, 3, 2),
            ResnetV1.resnetV1Block("block3", 4, 3, 2),
            ResnetV1.resnetV1Block("block4", 8, 2, 1));
        return ResnetV1.resnetV1(inputs, blocks, numClasses, training, globalPool, outputStride, includeRoot, squeeze, false, scope);
    }

    @Test
    void endPointNamesAsResnetV1Test() {
        ShapeBuild b = NetTesting.shapeOnly(SC, x -> small(x, 10, true, true, null, true, true, "resnet"), 2, 224, 224, 3);
        List<String> expected = new ArrayList<>(List.of("resnet/conv1"));
        for (int block = 1; block <= 4; block++) {
            for (int unit = 1; unit < (block < 4 ? 4 : 3); unit++) {
                String u = "resnet/block" + block + "/unit_" + unit + "/bottleneck_v1";
                if (unit == 1) expected.add(u + "/shortcut");
                for (int conv = 1; conv <= 3; conv++) expected.add(u + "/conv" + conv);
                expected.add(u);
            }
            expected.add("resnet/block" + block);
        }
        expected.addAll(List.of("global_pool", "resnet/logits", "resnet/spatial_squeeze", "predictions"));
        assertEquals(expected, new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {2, 10}, b.logits());
        assertArrayEquals(new int[] {2, 10}, b.endPoints().get("predictions"));
    }

    @Test
    void classificationAndFullyConvolutionalShapes() {
        // testClassificationEndPoints: no squeeze keeps [2, 1, 1, 10]
        ShapeBuild b = NetTesting.shapeOnly(SC, x -> small(x, 10, true, true, null, true, false, "resnet"), 2, 224, 224, 3);
        assertArrayEquals(new int[] {2, 1, 1, 10}, b.logits());
        assertArrayEquals(new int[] {2, 1, 1, 10}, b.endPoints().get("resnet/logits"));
        assertArrayEquals(new int[] {2, 1, 1, 10}, b.endPoints().get("predictions"));
        assertFalse(b.endPoints().containsKey("resnet/spatial_squeeze"));
        // testClassificationShapes
        assertBlocks(b, "resnet", new int[][] {{2, 28, 28, 4}, {2, 14, 14, 8}, {2, 7, 7, 16}, {2, 7, 7, 32}});
        // testFullyConvolutionalEndpointShapes: 321 = 32k + 1
        b = NetTesting.shapeOnly(SC, x -> small(x, 10, true, false, null, true, false, "resnet"), 2, 321, 321, 3);
        assertBlocks(b, "resnet", new int[][] {{2, 41, 41, 4}, {2, 21, 21, 8}, {2, 11, 11, 16}, {2, 11, 11, 32}});
        assertArrayEquals(new int[] {2, 11, 11, 10}, b.logits());
        // testRootlessFullyConvolutionalEndpointShapes
        b = NetTesting.shapeOnly(SC, x -> small(x, 10, true, false, null, false, false, "resnet"), 2, 128, 128, 3);
        assertBlocks(b, "resnet", new int[][] {{2, 64, 64, 4}, {2, 32, 32, 8}, {2, 16, 16, 16}, {2, 16, 16, 32}});
        assertFalse(b.endPoints().containsKey("resnet/conv1"));
        // testAtrousFullyConvolutionalEndpointShapes
        b = NetTesting.shapeOnly(SC, x -> small(x, 10, true, false, 8, true, false, "resnet"), 2, 321, 321, 3);
        assertBlocks(b, "resnet", new int[][] {{2, 41, 41, 4}, {2, 41, 41, 8}, {2, 41, 41, 16}, {2, 41, 41, 32}});
    }

    private static void assertBlocks(ShapeBuild b, String scope, int[][] shapes) {
        for (int i = 0; i < 4; i++) assertArrayEquals(shapes[i], b.endPoints().get(scope + "/block" + (i + 1)), "block" + (i + 1));
    }

    /** The variables of resnet_v1_&lt;layers&gt; written down from the architecture. */
    static NetTesting.Vars expectedVariables(String scope, int[] units, int numClasses) {
        NetTesting.Vars v = new NetTesting.Vars();
        v.convBn(scope + "/conv1", 7, 3, 64);
        int in = 64;
        int[] base = {64, 128, 256, 512};
        for (int b = 0; b < 4; b++) {
            int d = base[b];
            for (int u = 1; u <= units[b]; u++) {
                String p = scope + "/block" + (b + 1) + "/unit_" + u + "/bottleneck_v1";
                if (u == 1) v.convBn(p + "/shortcut", 1, in, 4 * d);
                v.convBn(p + "/conv1", 1, in, d);
                v.convBn(p + "/conv2", 3, d, d);
                v.convBn(p + "/conv3", 1, d, 4 * d);
                in = 4 * d;
            }
        }
        if (numClasses > 0) v.convBiases(scope + "/logits", 1, 2048, numClasses);
        return v;
    }

    @Test
    void resnetV1_50HasTfSlimVariablesEndPointsAndSize() {
        ShapeBuild b = ShapeBuild.of(Nets.get("resnet_v1_50"), 1, 1000);
        expectedVariables("resnet_v1_50", new int[] {3, 4, 6, 3}, 1000).assertMatches(b);
        assertTrue(b.variables().containsKey("resnet_v1_50/block1/unit_1/bottleneck_v1/shortcut/BatchNorm/moving_variance"));
        Map<String, int[]> e = b.endPoints();
        assertArrayEquals(new int[] {1, 112, 112, 64}, e.get("resnet_v1_50/conv1"));
        assertArrayEquals(new int[] {1, 28, 28, 256}, e.get("resnet_v1_50/block1"));
        assertArrayEquals(new int[] {1, 14, 14, 512}, e.get("resnet_v1_50/block2"));
        assertArrayEquals(new int[] {1, 7, 7, 1024}, e.get("resnet_v1_50/block3"));
        assertArrayEquals(new int[] {1, 7, 7, 2048}, e.get("resnet_v1_50/block4"));
        // the stride is in the last unit of a block: unit_2 of block1 is still at 56x56
        assertArrayEquals(new int[] {1, 56, 56, 256}, e.get("resnet_v1_50/block1/unit_2/bottleneck_v1"));
        assertArrayEquals(new int[] {1, 28, 28, 64}, e.get("resnet_v1_50/block1/unit_3/bottleneck_v1/conv2"));
        assertArrayEquals(new int[] {1, 1, 1, 2048}, e.get("global_pool"));
        assertArrayEquals(new int[] {1, 1, 1, 1000}, e.get("resnet_v1_50/logits"));
        assertArrayEquals(new int[] {1, 1000}, e.get("resnet_v1_50/spatial_squeeze"));
        assertArrayEquals(new int[] {1, 1000}, e.get("predictions"));
        assertFalse(e.containsKey("resnet_v1_50/pool1"), "max_pool2d is not in the outputs collection");
        assertEquals(16 * 4 + 4 + 4 + 1 + 4, e.size());
    }

    @Test
    void parameterCountsAreThoseOfTheRealModels() {
        // torchvision's resnet50/101/152 (the same layers) and ResNet-200: 25.6M, 44.5M, 60.2M, 64.7M
        long[] trainable = {25_557_032L, 44_549_160L, 60_192_808L, 64_673_832L};
        int[] layers = {50, 101, 152, 200};
        for (int i = 0; i < 4; i++) {
            String name = "resnet_v1_" + layers[i];
            NetTesting.Vars v = expectedVariables(name, ResnetV1.units(layers[i]), 1000);
            assertEquals(trainable[i], v.trainable, name + " from the architecture");
            ShapeBuild b = ShapeBuild.of(Nets.get(name), 1, 224, 224, 1000, false);
            v.assertMatches(b);
            assertEquals(1000, Nets.get(name).defaultNumClasses());
        }
        assertEquals(25_610_152L, ShapeBuild.of(Nets.get("resnet_v1_50"), 1, 224, 224, 1000, false).all(), "with the moving statistics");
    }

    @Test
    void optionsOfTheFactoryNetwork() {
        NetworkFn fn = Nets.get("resnet_v1_50");
        // num_classes None: the pooled features
        ShapeBuild b = ShapeBuild.of(fn, 2, 224, 224, 0, false);
        assertArrayEquals(new int[] {2, 1, 1, 2048}, b.logits());
        assertFalse(b.variables().containsKey("resnet_v1_50/logits/weights"));
        assertFalse(b.endPoints().containsKey("predictions"));
        // no global pool: a dense 7x7 map of logits
        b = ShapeBuild.of(fn, 1, 224, 224, 5, false, NetArg.GLOBAL_POOL.is(false), NetArg.SPATIAL_SQUEEZE.is(false));
        assertArrayEquals(new int[] {1, 7, 7, 5}, b.logits());
        assertFalse(b.endPoints().containsKey("global_pool"));
        // output stride 16 and 8 (dense prediction at 321 = 32k + 1)
        b = ShapeBuild.of(fn, 1, 224, 224, 5, false, NetArg.OUTPUT_STRIDE.is(16));
        assertArrayEquals(new int[] {1, 14, 14, 1024}, b.endPoints().get("resnet_v1_50/block3"));
        assertArrayEquals(new int[] {1, 14, 14, 2048}, b.endPoints().get("resnet_v1_50/block4"));
        b = ShapeBuild.of(fn, 1, 321, 321, 5, false, NetArg.OUTPUT_STRIDE.is(8), NetArg.GLOBAL_POOL.is(false), NetArg.SPATIAL_SQUEEZE.is(false));
        assertArrayEquals(new int[] {1, 41, 41, 2048}, b.endPoints().get("resnet_v1_50/block4"));
        assertArrayEquals(new int[] {1, 41, 41, 5}, b.logits());
        // the atrous layers have the same variables as the strided ones
        assertEquals(ShapeBuild.of(fn, 1, 224, 224, 5, false).trainable(), b.trainable());
        // store_non_strided_activations records blocks 1-3 before their stride
        b = ShapeBuild.of(fn, 1, 224, 224, 5, false, ResnetV1.STORE_NON_STRIDED_ACTIVATIONS.is(true));
        assertArrayEquals(new int[] {1, 56, 56, 256}, b.endPoints().get("resnet_v1_50/block1"));
        assertArrayEquals(new int[] {1, 14, 14, 1024}, b.endPoints().get("resnet_v1_50/block3"));
        assertArrayEquals(new int[] {1, 5}, b.logits());
        // scope
        b = ShapeBuild.of(fn, 1, 224, 224, 5, false, NetArg.SCOPE.is("r50"));
        assertTrue(b.variables().containsKey("r50/block4/unit_3/bottleneck_v1/conv3/BatchNorm/gamma"));
    }

    @Test
    void badOutputStridesAreRejected() {
        NetworkFn fn = Nets.get("resnet_v1_101");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ShapeBuild.of(fn, 1, 224, 224, 5, false, NetArg.OUTPUT_STRIDE.is(6)));
        assertEquals("The output_stride needs to be a multiple of 4.", e.getMessage());
        for (int os : new int[] {12, 64}) {
            e = assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 1, 224, 224, 5, false, NetArg.OUTPUT_STRIDE.is(os)));
            assertEquals("The target output_stride cannot be reached.", e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 1, 224, 224, 5, false, NetArg.DROPOUT_KEEP_PROB.is(0.5)));
        assertEquals("resnet_v1_101() got an unexpected keyword argument 'dropout_keep_prob'", e.getMessage());
    }

    @Test
    void depthMultiplierAndMinBaseDepth() {
        for (int layers : new int[] {50, 101, 152, 200}) {
            NetworkFn fn = Nets.get("resnet_v1_" + layers);
            // testDepthMultiplier
            ShapeBuild base = ShapeBuild.of(fn, 2, 224, 224, 10, true, NetArg.SCOPE.is("base"), ResnetV1.MIN_BASE_DEPTH.is(1));
            ShapeBuild thin = ShapeBuild.of(fn, 2, 224, 224, 10, true, NetArg.SCOPE.is("test"), ResnetV1.MIN_BASE_DEPTH.is(1),
                NetArg.DEPTH_MULTIPLIER.is(0.25));
            // testMinBaseDepth: depth_multiplier 0 leaves min_base_depth
            ShapeBuild min = ShapeBuild.of(fn, 2, 224, 224, 10, true, NetArg.SCOPE.is("min"), ResnetV1.MIN_BASE_DEPTH.is(5),
                NetArg.DEPTH_MULTIPLIER.is(0.0));
            for (int blk = 1; blk <= 4; blk++) {
                int[] b = base.endPoints().get("base/block" + blk);
                int[] t = thin.endPoints().get("test/block" + blk);
                assertArrayEquals(new int[] {b[0], b[1], b[2]}, new int[] {t[0], t[1], t[2]});
                assertEquals((int) (0.25 * b[3]), t[3], "block" + blk);
                assertEquals(20, min.endPoints().get("min/block" + blk)[3]);
            }
        }
    }

    @Test
    void conv2dSameMatchesTfOnEvenAndOddInputs() {
        // resnet_utils_test.testConv2DSameEven / testConv2DSameOdd: x(i, j) = i + j, w(i, j) = i + j
        double[][] y1Even = {{14, 28, 43, 26}, {28, 48, 66, 37}, {43, 66, 84, 46}, {26, 37, 46, 22}};
        double[][] y2Even = {{14, 43}, {43, 84}};
        double[][] y4Even = {{48, 37}, {37, 22}};
        double[][] y1Odd = {{14, 28, 43, 58, 34}, {28, 48, 66, 84, 46}, {43, 66, 84, 102, 55}, {58, 84, 102, 120, 64}, {34, 46, 55, 64, 30}};
        double[][] y2Odd = {{14, 43, 34}, {43, 84, 55}, {34, 55, 30}};
        checkConv2dSame(4, y1Even, y2Even, y4Even);
        checkConv2dSame(5, y1Odd, y2Odd, y2Odd);
    }

    private static void checkConv2dSame(int n, double[][] y1, double[][] y2, double[][] y4) {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(DType.FLOAT32, 1)) {
            Var x = Var.constant(NetTesting.testInput(DType.FLOAT32, 1, n, n, 1));
            try (Graph g = Graph.open(store)) {
                Layers.conv2d(x, 1, 3, "Conv", Arg.stride(1));
            }
            float[] w = store.get("Conv/weights").value().floatData();
            int off = store.get("Conv/weights").value().offset();
            for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) w[off + i * 3 + j] = i + j;
            double[] a;
            double[] b;
            double[] c;
            double[] d;
            try (Graph g = Graph.open(store)) {
                Var y = Layers.conv2d(x, 1, 3, "Conv", Arg.stride(1));
                a = y.value().toDoubleArray();
                b = ResnetUtils.subsample(y, 2, null).value().toDoubleArray();
            }
            try (Graph g = Graph.open(store)) {
                c = ResnetUtils.conv2dSame(x, 1, 3, 2, 1, "Conv").value().toDoubleArray();
            }
            try (Graph g = Graph.open(store)) {
                d = Layers.conv2d(x, 1, 3, "Conv", Arg.stride(2)).value().toDoubleArray();
            }
            Close.assertClose(flat(y1), a, 0, "y1 (SAME, stride 1)");
            Close.assertClose(flat(y2), b, 0, "y2 = subsample(y1, 2)");
            Close.assertClose(flat(y2), c, 0, "y3 = conv2d_same(stride 2) == y2");
            Close.assertClose(flat(y4), d, 0, "y4 = SAME with stride 2");
        }
    }

    private static double[] flat(double[][] m) {
        return java.util.Arrays.stream(m).flatMapToDouble(java.util.Arrays::stream).toArray();
    }

    @Test
    void atrousOutputsAreSubsampledDenseOutputs() {
        // resnet_v1_test.testAtrousFullyConvolutionalValues, in float64
        for (Integer outputStride : new Integer[] {4, 8, 16, 32, null}) {
            try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(DType.FLOAT64, 3)) {
                Var inputs = Var.constant(NetTesting.testInput(DType.FLOAT64, 2, 81, 81, 3));
                double[] output;
                double[] expected;
                int factor = outputStride == null ? 1 : 32 / outputStride;
                try (Graph g = Graph.open(store); var s = SC.open()) {
                    Var out = small(inputs, 0, false, false, outputStride, true, true, null).logits();
                    output = ResnetUtils.subsample(out, factor, null).value().toDoubleArray();
                }
                try (Graph g = Graph.open(store); var s = SC.open()) {
                    Var exp = small(inputs, 0, false, false, null, true, true, null).logits();
                    assertArrayEquals(new int[] {2, 3, 3, 32}, exp.value().dims());
                    expected = exp.value().toDoubleArray();
                }
                assertTrue(Close.maxAbs(expected) > 1e-3, "non-trivial activations");
                Close.assertClose(expected, output, 1e-10, "output_stride " + outputStride);
            }
        }
    }

    @Test
    void stridingTheLastUnitEqualsSubsamplingTheBlockEnd() {
        // resnet_utils_test.testStridingLastUnitVsSubsampleBlockEnd, in float64
        List<Block> blocks = List.of(
            ResnetV1.resnetV1Block("block1", 1, 2, 2),
            ResnetV1.resnetV1Block("block2", 2, 2, 2),
            ResnetV1.resnetV1Block("block3", 4, 2, 2),
            ResnetV1.resnetV1Block("block4", 8, 2, 1));
        ArgScope inference = SC.nest(ArgScope.of(Layers.BATCH_NORM).set(Arg.isTraining(false)));
        for (Integer outputStride : new Integer[] {1, 2, 4, 8, null}) {
            try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(DType.FLOAT64, 5)) {
                Var inputs = Var.constant(NetTesting.testInput(DType.FLOAT64, 1, 30, 31, 3));
                EndPoints outputPoints = new EndPoints();
                EndPoints expectedPoints = new EndPoints();
                double[] output;
                double[] expected;
                try (Graph g = Graph.open(store); var s = inference.open()) {
                    output = ResnetUtils.stackBlocksDense(inputs, blocks, outputStride, false, Arg.outputsCollections(outputPoints)).value()
                        .toDoubleArray();
                }
                try (Graph g = Graph.open(store); var s = inference.open()) {
                    expected = ResnetUtils.stackBlocksDense(inputs, blocks, outputStride, true, Arg.outputsCollections(expectedPoints)).value()
                        .toDoubleArray();
                    assertTrue(Close.maxAbs(expected) > 1e-3, "non-trivial activations");
                    Close.assertClose(expected, output, 1e-10, "final output, output_stride " + outputStride);
                    for (int i = 0; i < 3; i++) {
                        String name = "block" + (i + 1);
                        Var exp = expectedPoints.get(name);
                        boolean atrous = outputStride != null && (1 << i) >= outputStride;
                        if (!atrous) exp = ResnetUtils.subsample(exp, 2, null);
                        Close.assertClose(exp.value(), outputPoints.get(name).value(), 1e-10, name + ", output_stride " + outputStride);
                    }
                }
            }
        }
    }

    @Test
    void boundedActivationsClipTheUnits() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(DType.FLOAT64, 9)) {
            Var inputs = Var.constant(NetTesting.testInput(DType.FLOAT64, 1, 33, 33, 3));
            ArgScope bounded = SC.nest(ArgScope.of(ResnetV1.BOTTLENECK).set(ResnetV1.USE_BOUNDED_ACTIVATIONS.is(true)));
            try (Graph g = Graph.open(store); var s = bounded.open()) {
                NetOutput out = small(inputs, 0, false, false, null, true, true, "bounded");
                double max = Close.maxAbs(out.endPoints().get("bounded/block4").value().toDoubleArray());
                assertTrue(max > 1 && max <= 6, "relu6 bounds the unit outputs, max " + max);
            }
            try (Graph g = Graph.open(store); var s = SC.open()) {
                NetOutput out = small(inputs, 0, false, false, null, true, true, "bounded");
                assertTrue(Close.maxAbs(out.endPoints().get("bounded/block4").value().toDoubleArray()) > 6, "relu is unbounded");
            }
        }
    }

    @Test
    void resnetV1_50ForwardAtReducedSizeInBothModes() {
        NetTesting.forwardInBothModes(Nets.get("resnet_v1_50"), 10, 2, 64);
    }

    @Test
    @Tag("slow")
    void deeperResnetsForwardAtReducedSizeInBothModes() {
        for (String name : List.of("resnet_v1_101", "resnet_v1_152", "resnet_v1_200")) NetTesting.forwardInBothModes(Nets.get(name), 10, 1, 64);
    }

    @Test
    @Tag("slow")
    void resnetV1_50ForwardAtFullSize() {
        NetTesting.forwardInBothModes(Nets.get("resnet_v1_50"), 1000, 1, 224);
    }
}
