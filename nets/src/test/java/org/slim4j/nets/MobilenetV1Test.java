package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.autograd.ops.SoftmaxOps;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Graph;
import org.slim4j.layers.Layers;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.Normalizer;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.MobilenetV1.ConvDef;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** mobilenet_v1 and its partials: what TF-Slim's mobilenet_v1_test asserts, the real models' sizes, and that it learns. */
class MobilenetV1Test {
    /** arg_scope([slim.conv2d, slim.separable_conv2d], normalizer_fn=slim.batch_norm), as the tests of the base use. */
    private static final ArgScope BN = ArgScope.of(Layers.CONV2D, Layers.SEPARABLE_CONV2D).set(Arg.normalizerFn(Normalizer.BATCH_NORM)).build();
    private static final int[] DEPTHS = {32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024};
    private static final int[] STRIDES = {2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};

    private long liveBefore;

    @BeforeEach
    void rememberMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noMemoryLeft() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "bytes left allocated");
    }

    private static List<String> allEndPoints() {
        List<String> names = new ArrayList<>(List.of("Conv2d_0"));
        for (int i = 1; i <= 13; i++) {
            names.add("Conv2d_" + i + "_depthwise");
            names.add("Conv2d_" + i + "_pointwise");
        }
        return names;
    }

    private static ShapeBuild base(int size) {
        return NetTesting.shapeOnly(BN, MobilenetV1::mobilenetV1Base, 5, size, size, 3);
    }

    @Test
    void classificationAndPreLogitsNetworks() {
        // testBuildClassificationNetwork
        ShapeBuild b = ShapeBuild.of(Nets.get("mobilenet_v1"), 5, 1000);
        assertArrayEquals(new int[] {5, 1000}, b.logits());
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("Logits"));
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("Predictions"));
        assertArrayEquals(new int[] {5, 1, 1, 1024}, b.endPoints().get("AvgPool_1a"));
        List<String> names = allEndPoints();
        names.addAll(List.of("AvgPool_1a", "Logits", "Predictions"));
        assertEquals(names, new ArrayList<>(b.endPoints().keySet()));
        // testBuildPreLogitsNetwork
        b = ShapeBuild.of(Nets.get("mobilenet_v1"), 5, 224, 224, 0, false);
        assertArrayEquals(new int[] {5, 1, 1, 1024}, b.logits());
        assertFalse(b.endPoints().containsKey("Logits"));
        assertFalse(b.endPoints().containsKey("Predictions"));
        // testLogitsNotSqueezed
        b = ShapeBuild.of(Nets.get("mobilenet_v1"), 1, 224, 224, 1, false, NetArg.SPATIAL_SQUEEZE.is(false));
        assertArrayEquals(new int[] {1, 1, 1, 1}, b.logits());
        // testGlobalPoolUnknownImageShape (at a fixed non-square size): the pool covers the whole 8x10 map
        b = ShapeBuild.of(Nets.get("mobilenet_v1"), 1, 250, 300, 1000, false, NetArg.GLOBAL_POOL.is(true));
        assertArrayEquals(new int[] {1, 8, 10, 1024}, b.endPoints().get("Conv2d_13_pointwise"));
        assertArrayEquals(new int[] {1, 1, 1, 1024}, b.endPoints().get("global_pool"));
        assertArrayEquals(new int[] {1, 1000}, b.logits());
        // without global pool the 7x7/2 VALID average pool of a 8x10 map gives 1x2
        b = ShapeBuild.of(Nets.get("mobilenet_v1"), 1, 250, 300, 3, false, NetArg.SPATIAL_SQUEEZE.is(false));
        assertArrayEquals(new int[] {1, 1, 2, 3}, b.logits());
        // small inputs reduce the kernel: 112 -> 4x4 map, 4x4 pool
        b = ShapeBuild.of(Nets.get("mobilenet_v1"), 5, 112, 112, 10, false);
        assertArrayEquals(new int[] {5, 4, 4, 1024}, b.endPoints().get("Conv2d_13_pointwise"));
        assertArrayEquals(new int[] {5, 1, 1, 1024}, b.endPoints().get("AvgPool_1a"));
    }

    @Test
    void baseEndPointsAndShapes() {
        // testBuildBaseNetwork and testBuildAndCheckAllEndPointsUptoConv2d_13 (with and without explicit padding)
        for (boolean explicit : new boolean[] {false, true}) {
            ShapeBuild b = NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_13_pointwise", 8, 1.0, null, null, explicit, null),
                5, 224, 224, 3);
            assertEquals(allEndPoints(), new ArrayList<>(b.endPoints().keySet()));
            assertArrayEquals(new int[] {5, 7, 7, 1024}, b.logits());
            assertEquals(expectedShapes(224, 1.0, null), shapes(b), "explicit padding " + explicit);
        }
        // testOutputStride16/8BuildAndCheckAllEndPointsUptoConv2d_13
        for (int os : new int[] {8, 16}) {
            for (boolean explicit : new boolean[] {false, true}) {
                ShapeBuild b = NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_13_pointwise", 8, 1.0, null, os, explicit, null),
                    5, 224, 224, 3);
                assertEquals(expectedShapes(224, 1.0, os), shapes(b), "output stride " + os);
            }
        }
        Map<String, List<Integer>> os16 = shapes(NetTesting.shapeOnly(BN,
            x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_13_pointwise", 8, 1.0, null, 16, false, null), 5, 224, 224, 3));
        assertEquals(List.of(5, 14, 14, 512), os16.get("Conv2d_12_depthwise"));
        assertEquals(List.of(5, 14, 14, 1024), os16.get("Conv2d_13_pointwise"));
        // testBuildAndCheckAllEndPointsApproximateFaceNet: 128x128, depth multiplier 0.75
        ShapeBuild face = NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_13_pointwise", 8, 0.75, null, null, false, null),
            5, 128, 128, 3);
        assertEquals(expectedShapes(128, 0.75, null), shapes(face));
        assertEquals(List.of(5, 64, 64, 24), shapes(face).get("Conv2d_0"));
        assertEquals(List.of(5, 4, 4, 768), shapes(face).get("Conv2d_13_pointwise"));
    }

    /** The end point shapes of the base, from the layer table (the stride stops growing at the output stride). */
    private static Map<String, List<Integer>> expectedShapes(int size, double multiplier, Integer outputStride) {
        Map<String, List<Integer>> m = new LinkedHashMap<>();
        int stride = 1;
        int in = 0;
        for (int i = 0; i < 14; i++) {
            if (outputStride == null || stride < outputStride) stride *= STRIDES[i];
            int s = (size + stride - 1) / stride;
            int d = Math.max((int) (DEPTHS[i] * multiplier), 8);
            if (i == 0) {
                m.put("Conv2d_0", List.of(5, s, s, d));
            } else {
                m.put("Conv2d_" + i + "_depthwise", List.of(5, s, s, in));
                m.put("Conv2d_" + i + "_pointwise", List.of(5, s, s, d));
            }
            in = d;
        }
        return m;
    }

    private static Map<String, List<Integer>> shapes(ShapeBuild b) {
        Map<String, List<Integer>> m = new LinkedHashMap<>();
        b.endPoints().forEach((k, v) -> m.put(k, java.util.Arrays.stream(v).boxed().toList()));
        return m;
    }

    @Test
    void buildsOnlyUpToTheFinalEndpoint() {
        List<String> names = allEndPoints();
        for (int i = 0; i < names.size(); i++) {
            String last = names.get(i);
            ShapeBuild b = NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, last, 8, 1.0, null, null, false, null), 5, 224, 224, 3);
            assertEquals(names.subList(0, i + 1), new ArrayList<>(b.endPoints().keySet()), last);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_14_pointwise", 8, 1.0, null, null, false, null), 1, 64, 64, 3));
        assertEquals("Unknown final endpoint Conv2d_14_pointwise", e.getMessage());
    }

    @Test
    void customConvDefs() {
        // testBuildCustomNetworkUsingConvDefs
        List<ConvDef> defs = List.of(ConvDef.conv(3, 2, 32), ConvDef.depthSepConv(3, 1, 64), ConvDef.depthSepConv(3, 2, 128),
            ConvDef.depthSepConv(3, 1, 512));
        ShapeBuild b = NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_3_pointwise", 8, 1.0, defs, null, false, null),
            5, 224, 224, 3);
        assertArrayEquals(new int[] {5, 56, 56, 512}, b.logits());
        assertEquals(allEndPoints().subList(0, 7), new ArrayList<>(b.endPoints().keySet()));
        // mobilenet_v1 runs its base up to Conv2d_13_pointwise: a shorter list is an error there, as in TF
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ShapeBuild.of(Nets.get("mobilenet_v1"), 2, 224, 224, 7, false, MobilenetV1.CONV_DEFS.is(defs)));
        assertEquals("Unknown final endpoint Conv2d_13_pointwise", e.getMessage());
        // a full-length list with other depths goes through the factory option
        List<ConvDef> wide = new ArrayList<>(MobilenetV1.MOBILENETV1_CONV_DEFS);
        wide.set(13, ConvDef.depthSepConv(3, 1, 2048));
        b = ShapeBuild.of(Nets.get("mobilenet_v1"), 2, 224, 224, 7, false, MobilenetV1.CONV_DEFS.is(wide));
        assertArrayEquals(new int[] {2, 7, 7, 2048}, b.endPoints().get("Conv2d_13_pointwise"));
        assertArrayEquals(new int[] {1, 1, 2048, 7}, b.variables().get("MobilenetV1/Logits/Conv2d_1c_1x1/weights"));
    }

    @Test
    void depthMultipliersScaleEveryLayer() {
        ShapeBuild ref = base(224);
        for (double m : new double[] {0.5, 2.0}) {
            ShapeBuild b = NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_13_pointwise", 8, m, null, null, false, null),
                2, 224, 224, 3);
            for (String name : allEndPoints()) {
                assertEquals((int) (NetTesting.depth(ref, name) * m), NetTesting.depth(b, name), name + " at " + m);
            }
        }
        for (double bad : new double[] {-0.1, 0.0}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ShapeBuild.of(Nets.get("mobilenet_v1"), 1, 224, 224, 10, false, NetArg.DEPTH_MULTIPLIER.is(bad)));
            assertEquals("depth_multiplier is not greater than zero.", e.getMessage());
        }
        // min_depth floors the thin layers: 0.1 * 32 = 3 -> 16
        ShapeBuild thin = ShapeBuild.of(Nets.get("mobilenet_v1"), 1, 224, 224, 10, false, NetArg.DEPTH_MULTIPLIER.is(0.1), NetArg.MIN_DEPTH.is(16));
        assertEquals(16, NetTesting.depth(thin, "Conv2d_0"));
        assertEquals(102, NetTesting.depth(thin, "Conv2d_13_pointwise"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_13_pointwise", 8, 1.0, null, 4, false, null), 1, 64, 64, 3));
        assertEquals("Only allowed output_stride values are 8, 16, 32.", e.getMessage());
    }

    @Test
    void parameterCountAndMultiplyAddsOfTheBase() {
        // testModelHasExpectedNumberOfParameters: conv weights + batch norm without scale (beta and moving stats)
        ShapeBuild b = base(224);
        assertEquals(3_217_920L, b.all());
        long bnChannels = 0;
        long convWeights = 0;
        for (Map.Entry<String, int[]> v : b.variables().entrySet()) {
            long n = 1;
            for (int d : v.getValue()) n *= d;
            if (v.getKey().endsWith("/BatchNorm/beta")) bnChannels += n;
            if (v.getKey().endsWith("weights")) convWeights += n;
        }
        assertEquals(3_185_088L, convWeights, "the docstring's parameter count");
        assertEquals(3_217_920L, convWeights + 3 * bnChannels);
        assertEquals(5 * 567_716_352L, b.macs(), "the docstring's multiply-adds, per image");
        // 0.75 at 128: 1,800,144 conv parameters and 106,002,432 multiply-adds
        ShapeBuild face = NetTesting.shapeOnly(BN, x -> MobilenetV1.mobilenetV1Base(x, "Conv2d_13_pointwise", 8, 0.75, null, null, false, null),
            1, 128, 128, 3);
        assertEquals(106_002_432L, face.macs());
        long faceWeights = face.variables().entrySet().stream().filter(v -> v.getKey().endsWith("weights"))
            .mapToLong(v -> java.util.Arrays.stream(v.getValue()).asLongStream().reduce(1, (x, y) -> x * y)).sum();
        assertEquals(1_800_144L, faceWeights);
    }

    /** The variables of mobilenet_v1 at a depth multiplier, from the layer table. */
    private static NetTesting.Vars expectedVariables(double multiplier, int numClasses) {
        NetTesting.Vars v = new NetTesting.Vars();
        int in = 3;
        for (int i = 0; i < 14; i++) {
            int d = Math.max((int) (DEPTHS[i] * multiplier), 8);
            if (i == 0) {
                v.convBn("MobilenetV1/Conv2d_0", 3, 3, d);
            } else {
                v.add("MobilenetV1/Conv2d_" + i + "_depthwise/depthwise_weights", true, 3, 3, in, 1);
                v.batchNorm("MobilenetV1/Conv2d_" + i + "_depthwise/BatchNorm", in, true);
                v.convBn("MobilenetV1/Conv2d_" + i + "_pointwise", 1, in, d);
            }
            in = d;
        }
        return v.convBiases("MobilenetV1/Logits/Conv2d_1c_1x1", 1, in, numClasses);
    }

    @Test
    void variablesAndSizesOfTheFactoryNetworks() {
        ShapeBuild b = ShapeBuild.of(Nets.get("mobilenet_v1"), 1, 224, 224, 1001, false);
        NetTesting.Vars v = expectedVariables(1.0, 1001);
        v.assertMatches(b);
        assertArrayEquals(new int[] {3, 3, 32, 1}, b.variables().get("MobilenetV1/Conv2d_1_depthwise/depthwise_weights"));
        assertEquals(4_233_001L, b.trainable());
        assertEquals(568_741_376L, b.macs(), "569 M multiply-adds with the logits (mobilenet_v1.md)");
        // Keras' MobileNet (the same layers) at 1000 classes: 4,231,976 trainable of 4,253,864
        ShapeBuild k = ShapeBuild.of(Nets.get("mobilenet_v1"), 1, 224, 224, 1000, false);
        assertEquals(4_231_976L, k.trainable());
        assertEquals(4_253_864L, k.all());
        // the partials: mobilenet_v1.md's 2.59 M, 1.34 M, 0.47 M parameters at 1001 classes
        String[] names = {"mobilenet_v1_075", "mobilenet_v1_050", "mobilenet_v1_025"};
        double[] multipliers = {0.75, 0.5, 0.25};
        long[] trainable = {2_586_329L, 1_332_105L, 470_329L};
        for (int i = 0; i < 3; i++) {
            ShapeBuild p = ShapeBuild.of(Nets.get(names[i]), 1, 224, 224, 1001, false);
            expectedVariables(multipliers[i], 1001).assertMatches(p);
            assertEquals(trainable[i], p.trainable(), names[i]);
            assertEquals(224, Nets.get(names[i]).defaultImageSize());
            assertEquals((int) (1024 * multipliers[i]), NetTesting.depth(p, "Conv2d_13_pointwise"));
        }
        assertEquals(1000, Nets.get("mobilenet_v1").defaultNumClasses());
    }

    @Test
    void argScopeRegularizesConvWeightsAndOptionallyDepthwise() {
        for (boolean depthwise : new boolean[] {false, true}) {
            ArgScope sc = MobilenetV1.mobilenetV1ArgScope(true, 0.00004, 0.09, depthwise, 0.9997, 0.001, Normalizer.BATCH_NORM);
            try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store); var s = sc.open()) {
                MobilenetV1.mobilenetV1(MetaDevice.placeholder(DType.FLOAT32, 1, 64, 64, 3), 10, 0.999, true, 8, 0.25, null,
                    PredictionFn.SOFTMAX, true, null, false);
                List<String> regularized = new ArrayList<>();
                for (Variable v : store.variables()) if (v.regularizer() != null) regularized.add(v.name());
                assertEquals(depthwise ? 28 : 15, regularized.size(), regularized.toString());
                assertTrue(regularized.contains("MobilenetV1/Logits/Conv2d_1c_1x1/weights"));
                assertEquals(depthwise, regularized.contains("MobilenetV1/Conv2d_5_depthwise/depthwise_weights"));
            }
        }
        ArgScope sc = MobilenetV1.mobilenetV1ArgScope(0.00004);
        assertEquals(Boolean.TRUE, sc.defaultsFor(Layers.BATCH_NORM).get(Arg.SCALE, null));
        assertEquals(0.9997, sc.defaultsFor(Layers.BATCH_NORM).get(Arg.DECAY, null));
        assertFalse(MobilenetV1.mobilenetV1ArgScope(null, 0.00004, 0.09, false, 0.9997, 0.001, Normalizer.BATCH_NORM)
            .defaultsFor(Layers.BATCH_NORM).has(Arg.IS_TRAINING), "testBatchNormScopeDoesNotHaveIsTrainingWhenItsSetToNone");
    }

    @Test
    void forwardInBothModes() {
        NetTesting.forwardInBothModes(Nets.get("mobilenet_v1"), 1001, 1, 224);
        NetTesting.forwardInBothModes(Nets.get("mobilenet_v1_025"), 10, 2, 128);
    }

    @Test
    void float32AgreesWithFloat64() {
        double[][] training = new double[2][];
        double[][] inference = new double[2][];
        DType[] types = {DType.FLOAT32, DType.FLOAT64};
        for (int i = 0; i < 2; i++) {
            try (TensorScope ts = TensorScope.open(); Network net = new Network(Nets.get("mobilenet_v1_050"), 10, 0.0, new VariableStore(types[i], 9),
                NetArg.DROPOUT_KEEP_PROB.is(1.0))) {
                Tensor images = Tensor.randomUniform(2, types[i], Shape.of(2, 64, 64, 3), -1, 1);
                training[i] = net.apply(images, true).logits().value().toDoubleArray();
                inference[i] = net.apply(images, false).logits().value().toDoubleArray();
            }
        }
        assertTrue(Close.maxAbs(inference[1]) > 1e-4 && Close.maxAbs(training[1]) > 1e-4);
        Close.assertClose(training[1], training[0], 1e-4, "mobilenet_v1_050 float32 vs float64, training mode");
        Close.assertClose(inference[1], inference[0], 1e-4, "mobilenet_v1_050 float32 vs float64, inference mode");
    }

    @Test
    void trainingStepsReduceTheLossOnAFixedBatch() {
        // A narrow mobilenet_v1 at a small size; the loss is that of the training-mode network (batch statistics),
        // which is what the steps minimise; dropout off so that it is a function of the weights.
        try (TensorScope ts = TensorScope.open();
             Network net = Network.create(Nets.get("mobilenet_v1_025"), 5, 0.00004, 21, NetArg.DROPOUT_KEEP_PROB.is(1.0))) {
            Tensor images = Tensor.randomUniform(3, -1, 1, 8, 64, 64, 3);
            Tensor labels = Tensor.of(new int[] {0, 3, 1, 4, 2, 2, 0, 3}, 8);
            double before = trainingLoss(net, images, labels);
            for (int i = 0; i < 8; i++) step(net, images, labels, 0.1);
            double after = trainingLoss(net, images, labels);
            assertTrue(after < 0.5 * before, "loss " + before + " -> " + after);
        }
    }

    private static double trainingLoss(Network net, Tensor images, Tensor labels) {
        try (TensorScope ts = TensorScope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Var logits = net.apply(images, true).logits();
            return ReduceOps.mean(SoftmaxOps.sparseSoftmaxCrossEntropy(logits, labels)).value().item();
        }
    }

    /** One plain gradient-descent step on softmax cross-entropy + the L2 regularisation losses. */
    private static void step(Network net, Tensor images, Tensor labels, double lr) {
        try (TensorScope ts = TensorScope.open()) {
            Var loss = ReduceOps.mean(SoftmaxOps.sparseSoftmaxCrossEntropy(net.apply(images, true).logits(), labels));
            Var reg = net.variables().regularizationLoss();
            if (reg != null) loss = ElementwiseOps.add(loss, reg);
            for (Var p : net.variables().trainableVars()) p.zeroGrad();
            loss.backward();
            for (Var p : net.variables().trainableVars()) {
                if (p.grad() != null) Backends.kernels(p.value(), ElementwiseKernels.class).addInPlace(p.value(), p.grad(), -lr);
            }
            for (Var p : net.variables().trainableVars()) p.zeroGrad();
        }
    }
}
