package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Activation;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Graph;
import org.slim4j.layers.Layers;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.Mobilenet.ConvDefs;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** The MobileNet library and mobilenet_v2: what TF-Slim's mobilenet_v2_test asserts, and the real models' variables and sizes. */
class MobilenetV2Test {
    /** (stride, output depth, expansion) of layers 2..18. */
    private static final int[][] BLOCKS = {{1, 16, 1}, {2, 24, 6}, {1, 24, 6}, {2, 32, 6}, {1, 32, 6}, {1, 32, 6}, {2, 64, 6}, {1, 64, 6},
        {1, 64, 6}, {1, 64, 6}, {1, 96, 6}, {1, 96, 6}, {1, 96, 6}, {2, 160, 6}, {1, 160, 6}, {1, 160, 6}, {1, 320, 6}};

    private long liveBefore;

    @BeforeEach
    void rememberMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noMemoryLeft() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "bytes left allocated");
    }

    /** The output depths of the (pointwise) Conv2D ops: every conv2d weights variable's last dimension. */
    private static Set<Integer> convDepths(ShapeBuild b) {
        Set<Integer> s = new TreeSet<>();
        b.variables().forEach((k, v) -> {
            if (k.endsWith("/weights")) s.add(v[3]);
        });
        return s;
    }

    private static long convCount(ShapeBuild b) {
        return b.variables().keySet().stream().filter(k -> k.endsWith("/weights")).count();
    }

    @Test
    void makeDivisibleRoundsAsTf() {
        assertEquals(16, Mobilenet.makeDivisible(16, 8, null));
        assertEquals(48, Mobilenet.makeDivisible(32 * 1.4, 8, null));
        assertEquals(16, Mobilenet.makeDivisible(32 * 0.35, 8, null), "8 would lose more than 10% of 11.2");
        assertEquals(8, Mobilenet.makeDivisible(3, 8, null), "at least the divisor");
        assertEquals(32, Mobilenet.makeDivisible(3, 8, 32), "at least min_value");
        assertEquals(1792, Mobilenet.makeDivisible(1280 * 1.4, 8, null));
        assertEquals(1280, Mobilenet.makeDivisible(1280 / 0.35 * 0.35, 8, 8));
        assertArrayEquals(new int[] {48, 48}, Mobilenet.splitDivisible(96, 2, 8));
        assertArrayEquals(new int[] {16, 8, 16, 8}, Mobilenet.splitDivisible(48, 4, 8));
    }

    @Test
    void creationAsMobilenetV2Test() {
        // testCreation: all layers but the first two and the last have two Conv2D ops, plus the logits
        ShapeBuild b = NetTesting.shapeOnly(ArgScope.empty(), x -> Mobilenet.mobilenet(x, 1001, Mobilenet.CONV_DEFS.is(MobilenetV2.V2_DEF)),
            10, 224, 224, 16);
        assertEquals(19 * 2 - 2, convCount(b));
        for (int i = 2; i < 17; i++) assertTrue(b.endPoints().containsKey("layer_" + i + "/depthwise_output"), "layer_" + i);
        assertTrue(b.variables().containsKey("Mobilenet/expanded_conv_16/project/weights"), "the library's default scope");
        // testCreationNoClasses: the pooled features are returned
        VariableStore store = VariableStore.shapeOnly();
        try (Graph g = Graph.open(store)) {
            NetOutput out = Mobilenet.mobilenet(MetaDevice.placeholder(DType.FLOAT32, 10, 224, 224, 16), 0, Mobilenet.CONV_DEFS.is(MobilenetV2.V2_DEF));
            assertSame(out.endPoints().get("global_pool"), out.logits());
            assertArrayEquals(new int[] {10, 1, 1, 1280}, out.logits().value().dims());
        } finally {
            store.close();
        }
        // testWithSplits: split_expansion=2 splits every expansion in two
        ConvDefs split = MobilenetV2.V2_DEF.withOverrides(ArgScope.of(Mobilenet.EXPANDED_CONV).set(Mobilenet.SPLIT_EXPANSION.is(2)).build());
        b = NetTesting.shapeOnly(ArgScope.empty(), x -> Mobilenet.mobilenet(x, 1001, Mobilenet.CONV_DEFS.is(split)), 10, 224, 224, 16);
        assertEquals(19 * 3 - 5, convCount(b));
        assertArrayEquals(new int[] {1, 1, 8, 48}, b.variables().get("Mobilenet/expanded_conv_1/expand_part_0/weights"));
        assertArrayEquals(new int[] {10, 112, 112, 48}, b.endPoints().get("layer_3/expand_part_1_output"));
        assertArrayEquals(new int[] {10, 112, 112, 96}, b.endPoints().get("layer_3/expansion_output"));
    }

    @Test
    void imageSizesAndOutputStrides() {
        // testImageSizes
        int[][] sizes = {{224, 7}, {192, 6}, {160, 5}, {128, 4}, {96, 3}};
        for (int[] s : sizes) {
            ShapeBuild b = NetTesting.shapeOnly(ArgScope.empty(), x -> MobilenetV2.mobilenet(x, 1001), 10, s[0], s[0], 3);
            assertArrayEquals(new int[] {10, s[1], s[1], 320}, b.endPoints().get("layer_18/output"), "input " + s[0]);
        }
        // testWithOutputStride8/16 (and with explicit padding)
        for (int os : new int[] {8, 16}) {
            for (boolean explicit : new boolean[] {false, true}) {
                ShapeBuild b = NetTesting.shapeOnly(ArgScope.empty(), x -> Mobilenet.mobilenetBase(x, MobilenetV2.V2_DEF, Mobilenet.OUTPUT_STRIDE.is(os),
                    Mobilenet.USE_EXPLICIT_PADDING.is(explicit), Arg.scope("MobilenetV2")), 10, 224, 224, 16);
                int side = 224 / os;
                assertArrayEquals(new int[] {10, side, side, 1280}, b.logits(), "output stride " + os + ", explicit padding " + explicit);
                assertTrue(b.variables().containsKey("MobilenetV2/Conv_1/weights"));
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NetTesting.shapeOnly(ArgScope.empty(),
            x -> Mobilenet.mobilenetBase(x, MobilenetV2.V2_DEF, Mobilenet.OUTPUT_STRIDE.is(3)), 1, 64, 64, 3));
        assertEquals("Output stride must be None, 1 or a multiple of 2.", e.getMessage());
        // the factory takes output_stride too
        ShapeBuild b = ShapeBuild.of(Nets.get("mobilenet_v2"), 1, 224, 224, 10, false, NetArg.OUTPUT_STRIDE.is(16));
        assertArrayEquals(new int[] {1, 14, 14, 1280}, b.endPoints().get("layer_19"));
        assertArrayEquals(new int[] {1, 10}, b.logits());
        // final_endpoint stops early
        b = ShapeBuild.of(Nets.get("mobilenet_v2"), 1, 224, 224, 0, false, Mobilenet.FINAL_ENDPOINT.is("layer_5"), Mobilenet.BASE_ONLY.is(true));
        assertArrayEquals(new int[] {1, 28, 28, 32}, b.logits());
        assertFalse(b.endPoints().containsKey("layer_6"));
    }

    @Test
    void divisibleByMinDepthAndFinegrainAsMobilenetV2Test() {
        // testDivisibleBy
        ShapeBuild b = NetTesting.shapeOnly(ArgScope.empty(), x -> MobilenetV2.mobilenet(x, 1001, Mobilenet.DIVISIBLE_BY.is(16),
            NetArg.MIN_DEPTH.is(32)), 10, 224, 224, 16);
        assertEquals(new TreeSet<>(List.of(32, 64, 96, 160, 192, 320, 384, 576, 960, 1280, 1001)), convDepths(b));
        // testDivisibleByWithArgScope
        ArgScope minDepth = ArgScope.of(Mobilenet.DEPTH_MULTIPLIER).set(NetArg.MIN_DEPTH.is(32)).build();
        b = NetTesting.shapeOnly(minDepth, x -> MobilenetV2.mobilenet(x, 1001, NetArg.DEPTH_MULTIPLIER.is(0.1)), 10, 224, 224, 2);
        assertEquals(new TreeSet<>(List.of(32, 192, 128, 1001)), convDepths(b));
        // testFineGrained: all convolutions 8 -> 48, except the last one
        b = NetTesting.shapeOnly(ArgScope.empty(), x -> MobilenetV2.mobilenet(x, 1001, NetArg.DEPTH_MULTIPLIER.is(0.01),
            MobilenetV2.FINEGRAIN_CLASSIFICATION_MODE.is(true)), 10, 224, 224, 2);
        assertEquals(new TreeSet<>(List.of(8, 48, 1001, 1280)), convDepths(b));
        // testMobilenetBase
        b = NetTesting.shapeOnly(minDepth, x -> MobilenetV2.mobilenetBase(x, NetArg.DEPTH_MULTIPLIER.is(0.1)), 10, 224, 224, 16);
        assertArrayEquals(new int[] {10, 7, 7, 128}, b.logits());
        assertFalse(b.endPoints().containsKey("global_pool"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NetTesting.shapeOnly(ArgScope.empty(),
            x -> MobilenetV2.mobilenet(x, 10, Mobilenet.MULTIPLIER.is(0.5)), 1, 64, 64, 3));
        assertEquals("mobilenetv2 doesn't support generic multiplier parameter use \"depth_multiplier\" instead.", e.getMessage());
    }

    /** The variables of mobilenet_v2 at a multiplier, from the layer table (make_divisible rounding). */
    private static NetTesting.Vars expectedVariables(double m, boolean finegrain, int numClasses) {
        NetTesting.Vars v = new NetTesting.Vars();
        int first = Mobilenet.makeDivisible(32 * m, 8, 8);
        v.convBn("MobilenetV2/Conv", 3, 3, first);
        int in = first;
        for (int i = 0; i < BLOCKS.length; i++) {
            String p = "MobilenetV2/expanded_conv" + (i == 0 ? "" : "_" + i);
            int out = Mobilenet.makeDivisible(BLOCKS[i][1] * m, 8, 8);
            int inner = BLOCKS[i][2] == 1 ? in : Mobilenet.makeDivisible(in * 6, 8, null);
            if (inner > in) v.convBn(p + "/expand", 1, in, inner);
            v.add(p + "/depthwise/depthwise_weights", true, 3, 3, inner, 1);
            v.batchNorm(p + "/depthwise/BatchNorm", inner, true);
            v.convBn(p + "/project", 1, inner, out);
            in = out;
        }
        int last = finegrain && m < 1 ? 1280 : Mobilenet.makeDivisible(1280 * m, 8, 8);
        v.convBn("MobilenetV2/Conv_1", 1, in, last);
        return v.convBiases("MobilenetV2/Logits/Conv2d_1c_1x1", 1, last, numClasses);
    }

    @Test
    void variablesEndPointsAndSizesOfTheFactoryNetworks() {
        ShapeBuild b = ShapeBuild.of(Nets.get("mobilenet_v2"), 2, 1001);
        expectedVariables(1.0, false, 1001).assertMatches(b);
        assertArrayEquals(new int[] {3, 3, 32, 1}, b.variables().get("MobilenetV2/expanded_conv/depthwise/depthwise_weights"));
        assertArrayEquals(new int[] {1, 1, 16, 96}, b.variables().get("MobilenetV2/expanded_conv_1/expand/weights"));
        assertFalse(b.variables().containsKey("MobilenetV2/expanded_conv/expand/weights"), "expansion 1 has no expand conv");
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= 19; i++) names.add("layer_" + i);
        for (int i = 2; i <= 18; i++) {
            if (i > 2) names.add("layer_" + i + "/expansion_output");
            names.add("layer_" + i + "/depthwise_output");
            names.add("layer_" + i + "/output");
        }
        names.addAll(List.of("global_pool", "Logits", "Predictions"));
        assertEquals(names, new ArrayList<>(b.endPoints().keySet()));
        Map<String, int[]> e = b.endPoints();
        assertArrayEquals(new int[] {2, 112, 112, 32}, e.get("layer_1"));
        assertArrayEquals(new int[] {2, 112, 112, 16}, e.get("layer_2"));
        assertArrayEquals(new int[] {2, 112, 112, 96}, e.get("layer_3/expansion_output"));
        assertArrayEquals(new int[] {2, 56, 56, 96}, e.get("layer_3/depthwise_output"));
        assertArrayEquals(new int[] {2, 56, 56, 24}, e.get("layer_3/output"));
        assertArrayEquals(new int[] {2, 7, 7, 320}, e.get("layer_18"));
        assertArrayEquals(new int[] {2, 7, 7, 1280}, e.get("layer_19"));
        assertArrayEquals(new int[] {2, 1, 1, 1280}, e.get("global_pool"));
        assertArrayEquals(new int[] {2, 1001}, e.get("Logits"));
        assertArrayEquals(new int[] {2, 1001}, e.get("Predictions"));
        assertEquals(1001, Nets.get("mobilenet_v2").defaultNumClasses());

        // sizes: Keras' MobileNetV2 (the same layers) at 1000 classes; multiply-adds of mobilenet/README.md (300 M, 582 M, 59 M)
        ShapeBuild k = ShapeBuild.of(Nets.get("mobilenet_v2"), 1, 224, 224, 1000, false);
        assertEquals(3_504_872L, k.trainable());
        assertEquals(3_538_984L, k.all());
        ShapeBuild one = ShapeBuild.of(Nets.get("mobilenet_v2"), 1, 224, 224, 1001, false);
        assertEquals(3_506_153L, one.trainable());
        assertEquals(300_775_552L, one.macs());
        ShapeBuild wide = ShapeBuild.of(Nets.get("mobilenet_v2_140"), 1, 224, 224, 1001, false);
        expectedVariables(1.4, false, 1001).assertMatches(wide);
        assertEquals(582_197_616L, wide.macs());
        assertArrayEquals(new int[] {1, 7, 7, 1792}, wide.endPoints().get("layer_19"));
        assertEquals(6_156_712L, ShapeBuild.of(Nets.get("mobilenet_v2_140"), 1, 224, 224, 1000, false).all(), "Keras' 1.4 model");
        ShapeBuild narrow = ShapeBuild.of(Nets.get("mobilenet_v2_035"), 1, 224, 224, 1001, false);
        expectedVariables(0.35, true, 1001).assertMatches(narrow);
        assertEquals(1_678_409L, narrow.trainable());
        assertEquals(59_287_088L, narrow.macs());
        assertArrayEquals(new int[] {1, 112, 112, 16}, narrow.endPoints().get("layer_1"));
        assertArrayEquals(new int[] {1, 7, 7, 1280}, narrow.endPoints().get("layer_19"), "finegrain mode keeps 1280");
        // without finegrain mode the last layer shrinks too
        ShapeBuild coarse = ShapeBuild.of(Nets.get("mobilenet_v2_035"), 1, 224, 224, 1001, false, MobilenetV2.FINEGRAIN_CLASSIFICATION_MODE.is(false));
        assertArrayEquals(new int[] {1, 7, 7, 448}, coarse.endPoints().get("layer_19"));
    }

    @Test
    void trainingScopeAndOptions() {
        ArgScope sc = MobilenetV2.trainingScope(0.00004);
        assertEquals(0.8, sc.defaultsFor(Layers.DROPOUT).get(Arg.KEEP_PROB, null));
        assertEquals(0.997, sc.defaultsFor(Layers.BATCH_NORM).get(Arg.DECAY, null));
        assertEquals(Boolean.TRUE, sc.defaultsFor(Layers.BATCH_NORM).get(Arg.IS_TRAINING, null));
        assertTrue(sc.defaultsFor(Layers.CONV2D).has(Arg.WEIGHTS_REGULARIZER));
        assertTrue(sc.defaultsFor(Layers.SEPARABLE_CONV2D).has(Arg.WEIGHTS_REGULARIZER));
        assertEquals(null, sc.defaultsFor(Layers.SEPARABLE_CONV2D).get(Arg.WEIGHTS_REGULARIZER, null), "depthwise weights are not regularised");
        // testBatchNormScopeDoesNotHaveIsTrainingWhenItsSetToNone / DoesHasIsTrainingWhenItsNotNone
        assertFalse(MobilenetV2.trainingScope(null, 0.00004, 0.09, 0.8, 0.997).defaultsFor(Layers.BATCH_NORM).has(Arg.IS_TRAINING));
        assertEquals(Boolean.FALSE, MobilenetV2.trainingScope(false, 0.00004, 0.09, 0.8, 0.997).defaultsFor(Layers.BATCH_NORM).get(Arg.IS_TRAINING, null));
        // activation_fn replaces relu6; scope renames
        ShapeBuild b = ShapeBuild.of(Nets.get("mobilenet_v2"), 1, 96, 96, 10, false, Arg.activationFn(Activation.RELU),
            NetArg.SCOPE.is("MyNet"));
        assertTrue(b.variables().containsKey("MyNet/expanded_conv_16/project/BatchNorm/gamma"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ShapeBuild.of(Nets.get("mobilenet_v2"), 1, 96, 96, 10, false, NetArg.GLOBAL_POOL.is(true)));
        assertEquals("mobilenet_v2() got an unexpected keyword argument 'global_pool'", e.getMessage());
    }

    @Test
    void residualAddsTheBlockInput() {
        // With the same weights, layer_4 (24 -> 24, stride 1) with the residual minus its input is layer_4 without it
        // (training mode: batch statistics keep the activations at unit scale).
        ConvDefs noResidual = MobilenetV2.V2_DEF.withOverrides(ArgScope.of(Mobilenet.EXPANDED_CONV).set(Mobilenet.RESIDUAL.is(false)).build());
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(DType.FLOAT64, 13)) {
            Var images = Var.constant(Tensor.randomUniform(1, DType.FLOAT64, Shape.of(1, 48, 48, 3), -1, 1));
            NetOutput with;
            NetOutput without;
            try (Graph g = Graph.open(store)) {
                with = MobilenetV2.mobilenet(images, 10, Mobilenet.FINAL_ENDPOINT.is("layer_5"), Mobilenet.BASE_ONLY.is(true), Arg.isTraining(true));
            }
            try (Graph g = Graph.open(store)) {
                without = MobilenetV2.mobilenet(images, 10, Mobilenet.FINAL_ENDPOINT.is("layer_5"), Mobilenet.BASE_ONLY.is(true),
                    MobilenetV2.CONV_DEFS.is(noResidual), Arg.isTraining(true));
            }
            double[] in = with.endPoints().get("layer_3").value().toDoubleArray();
            double[] out = with.endPoints().get("layer_4").value().toDoubleArray();
            double[] plain = without.endPoints().get("layer_4").value().toDoubleArray();
            double[] diff = new double[out.length];
            for (int i = 0; i < out.length; i++) diff[i] = out[i] - in[i];
            assertTrue(Close.maxAbs(plain) > 1e-3);
            Close.assertClose(plain, diff, 1e-12, "residual");
            // layer_3 changes resolution and depth: no residual, same values
            Close.assertClose(without.endPoints().get("layer_3").value(), with.endPoints().get("layer_3").value(), 0, "layer_3");
        }
    }

    @Test
    void forwardInBothModesAtReducedSize() {
        NetTesting.forwardInBothModes(Nets.get("mobilenet_v2"), 10, 2, 96);
        NetTesting.forwardInBothModes(Nets.get("mobilenet_v2_035"), 10, 2, 96);
    }

    @Test
    @Tag("slow")
    void forwardAtFullSize() {
        for (String name : List.of("mobilenet_v2", "mobilenet_v2_140", "mobilenet_v2_035")) NetTesting.forwardInBothModes(Nets.get(name), 1001, 1, 224);
    }
}
