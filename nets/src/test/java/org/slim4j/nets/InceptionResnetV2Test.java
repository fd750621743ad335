package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.layers.Activation;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Arg;
import org.slim4j.layers.Layers;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/** inception_resnet_v2 as TF-Slim's inception_resnet_v2_test asserts it, from shape-only builds, plus real forward passes. */
class InceptionResnetV2Test {
    private static final List<String> END_POINTS = List.of("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_3a_3x3",
        "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_5a_3x3", "Mixed_5b", "Mixed_6a", "PreAuxLogits", "Mixed_7a", "Conv2d_7b_1x1");

    private static void block35(ExpectedVariables e, String s) {
        e.conv(s + "/Branch_0/Conv2d_1x1", 1, 320, 32);
        e.conv(s + "/Branch_1/Conv2d_0a_1x1", 1, 320, 32).conv(s + "/Branch_1/Conv2d_0b_3x3", 3, 32, 32);
        e.conv(s + "/Branch_2/Conv2d_0a_1x1", 1, 320, 32).conv(s + "/Branch_2/Conv2d_0b_3x3", 3, 32, 48).conv(s + "/Branch_2/Conv2d_0c_3x3", 3, 48, 64);
        e.convWithBiases(s + "/Conv2d_1x1", 1, 1, 32 + 32 + 64, 320);
    }

    private static void block17(ExpectedVariables e, String s) {
        e.conv(s + "/Branch_0/Conv2d_1x1", 1, 1088, 192);
        e.conv(s + "/Branch_1/Conv2d_0a_1x1", 1, 1088, 128).conv(s + "/Branch_1/Conv2d_0b_1x7", 1, 7, 128, 160)
            .conv(s + "/Branch_1/Conv2d_0c_7x1", 7, 1, 160, 192);
        e.convWithBiases(s + "/Conv2d_1x1", 1, 1, 192 + 192, 1088);
    }

    private static void block8(ExpectedVariables e, String s) {
        e.conv(s + "/Branch_0/Conv2d_1x1", 1, 2080, 192);
        e.conv(s + "/Branch_1/Conv2d_0a_1x1", 1, 2080, 192).conv(s + "/Branch_1/Conv2d_0b_1x3", 1, 3, 192, 224)
            .conv(s + "/Branch_1/Conv2d_0c_3x1", 3, 1, 224, 256);
        e.convWithBiases(s + "/Conv2d_1x1", 1, 1, 192 + 256, 2080);
    }

    /** The base's variables with TF-Slim's names: slim.repeat scopes Repeat/block35_i, Repeat_1/block17_i, Repeat_2/block8_i, then Block8. */
    static ExpectedVariables baseVariables() {
        ExpectedVariables e = new ExpectedVariables("InceptionResnetV2/");
        e.conv("Conv2d_1a_3x3", 3, 3, 32).conv("Conv2d_2a_3x3", 3, 32, 32).conv("Conv2d_2b_3x3", 3, 32, 64)
            .conv("Conv2d_3b_1x1", 1, 64, 80).conv("Conv2d_4a_3x3", 3, 80, 192);
        e.conv("Mixed_5b/Branch_0/Conv2d_1x1", 1, 192, 96);
        e.conv("Mixed_5b/Branch_1/Conv2d_0a_1x1", 1, 192, 48).conv("Mixed_5b/Branch_1/Conv2d_0b_5x5", 5, 48, 64);
        e.conv("Mixed_5b/Branch_2/Conv2d_0a_1x1", 1, 192, 64).conv("Mixed_5b/Branch_2/Conv2d_0b_3x3", 3, 64, 96)
            .conv("Mixed_5b/Branch_2/Conv2d_0c_3x3", 3, 96, 96);
        e.conv("Mixed_5b/Branch_3/Conv2d_0b_1x1", 1, 192, 64);
        for (int i = 1; i <= 10; i++) block35(e, "Repeat/block35_" + i);
        e.conv("Mixed_6a/Branch_0/Conv2d_1a_3x3", 3, 320, 384);
        e.conv("Mixed_6a/Branch_1/Conv2d_0a_1x1", 1, 320, 256).conv("Mixed_6a/Branch_1/Conv2d_0b_3x3", 3, 256, 256)
            .conv("Mixed_6a/Branch_1/Conv2d_1a_3x3", 3, 256, 384);
        for (int i = 1; i <= 20; i++) block17(e, "Repeat_1/block17_" + i);
        e.conv("Mixed_7a/Branch_0/Conv2d_0a_1x1", 1, 1088, 256).conv("Mixed_7a/Branch_0/Conv2d_1a_3x3", 3, 256, 384);
        e.conv("Mixed_7a/Branch_1/Conv2d_0a_1x1", 1, 1088, 256).conv("Mixed_7a/Branch_1/Conv2d_1a_3x3", 3, 256, 288);
        e.conv("Mixed_7a/Branch_2/Conv2d_0a_1x1", 1, 1088, 256).conv("Mixed_7a/Branch_2/Conv2d_0b_3x3", 3, 256, 288)
            .conv("Mixed_7a/Branch_2/Conv2d_1a_3x3", 3, 288, 320);
        for (int i = 1; i <= 9; i++) block8(e, "Repeat_2/block8_" + i);
        block8(e, "Block8");
        return e.conv("Conv2d_7b_1x1", 1, 2080, 1536);
    }

    static ExpectedVariables fullVariables(int classes, boolean aux) {
        ExpectedVariables e = baseVariables();
        if (aux) e.conv("AuxLogits/Conv2d_1b_1x1", 1, 1088, 128).conv("AuxLogits/Conv2d_2a_5x5", 5, 128, 768).fc("AuxLogits/Logits", 768, classes);
        return e.fc("Logits/Logits", 1536, classes);
    }

    @Test
    void baseEndPointsAndVariables() {
        ShapeBuild b = InceptionTesting.base(InceptionResnetV2::inceptionResnetV2Base, InceptionUtils.inceptionResnetV2ArgScope(0.00004), 5, 299, 299, 3);
        assertEquals(END_POINTS, new ArrayList<>(b.endPoints().keySet()));
        int[][] shapes = {{5, 149, 149, 32}, {5, 147, 147, 32}, {5, 147, 147, 64}, {5, 73, 73, 64}, {5, 73, 73, 80}, {5, 71, 71, 192},
            {5, 35, 35, 192}, {5, 35, 35, 320}, {5, 17, 17, 1088}, {5, 17, 17, 1088}, {5, 8, 8, 2080}, {5, 8, 8, 1536}};
        for (int i = 0; i < shapes.length; i++) assertArrayEquals(shapes[i], b.endPoints().get(END_POINTS.get(i)), END_POINTS.get(i));
        ExpectedVariables e = baseVariables();
        e.assertMatches(b.variables(), "inception_resnet_v2_base");
        assertEquals(e.all(), b.all());
        assertEquals(e.trainable(), b.trainable());
        assertTrue(b.variables().containsKey("InceptionResnetV2/Repeat_1/block17_20/Branch_1/Conv2d_0c_7x1/weights"));
        assertTrue(b.variables().containsKey("InceptionResnetV2/Block8/Conv2d_1x1/biases"));
    }

    @Test
    void classificationNetworkEndPointsAndParameterCounts() {
        ShapeBuild b = ShapeBuild.of(Nets.get("inception_resnet_v2"), 5, 1000);
        List<String> names = new ArrayList<>(END_POINTS);
        names.addAll(List.of("AuxLogits", "global_pool", "PreLogitsFlatten", "Logits", "Predictions"));
        assertEquals(names, new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("AuxLogits"));
        assertArrayEquals(new int[] {5, 1, 1, 1536}, b.endPoints().get("global_pool"));
        assertArrayEquals(new int[] {5, 1536}, b.endPoints().get("PreLogitsFlatten"));
        assertArrayEquals(new int[] {5, 1000}, b.logits());
        for (int classes : new int[] {1000, 1001}) {
            for (boolean aux : new boolean[] {true, false}) {
                ShapeBuild full = ShapeBuild.of(Nets.get("inception_resnet_v2"), 1, 299, 299, classes, true, NetArg.CREATE_AUX_LOGITS.is(aux));
                ExpectedVariables e = fullVariables(classes, aux);
                e.assertMatches(full.variables(), "inception_resnet_v2 " + classes + " aux " + aux);
                assertEquals(e.trainable(), full.trainable());
                assertEquals(e.all(), full.all());
            }
        }
        // Keras' InceptionResNetV2 (this network without aux logits, 1000 classes): 55,873,736 parameters, 55,813,192 trainable
        ShapeBuild keras = ShapeBuild.of(Nets.get("inception_resnet_v2"), 1, 299, 299, 1000, true, NetArg.CREATE_AUX_LOGITS.is(false));
        assertEquals(55_873_736L, keras.all());
        assertEquals(55_813_192L, keras.trainable());
        // the released checkpoint: 1001 classes with the aux head (1x1 1088→128, 5x5 128→768 with batch norm, fc 768→1001)
        ShapeBuild released = ShapeBuild.of(Nets.get("inception_resnet_v2"), 1, 1001);
        assertEquals(55_814_729L + 139_264 + 128 + 2_457_600 + 768 + 768 * 1001 + 1001, released.trainable());
        assertEquals(59_182_258L, released.trainable());
        assertEquals(59_244_594L, released.all());
        assertEquals(1001, Nets.get("inception_resnet_v2").defaultNumClasses());
    }

    @Test
    void baseVariantsAsInceptionResnetV2Test() {
        ArgScope sc = InceptionUtils.inceptionResnetV2ArgScope(0.00004);
        List<String> upToPreAux = END_POINTS.subList(0, 10);
        // testBuildAndCheckAllEndPointsUptoPreAuxLogitsWithAlignedFeatureMaps
        ShapeBuild aligned = InceptionTesting.base(x -> InceptionResnetV2.inceptionResnetV2Base(x, "PreAuxLogits", 16, true, null, Activation.RELU),
            sc, 5, 299, 299, 3);
        assertEquals(upToPreAux, new ArrayList<>(aligned.endPoints().keySet()));
        int[] sides = {150, 150, 150, 75, 75, 75, 38, 38, 19, 19};
        for (int i = 0; i < sides.length; i++) {
            int[] d = aligned.endPoints().get(upToPreAux.get(i));
            assertEquals(sides[i], d[1], upToPreAux.get(i));
            assertEquals(sides[i], d[2], upToPreAux.get(i));
        }
        // testBuildAndCheckAllEndPointsUptoPreAuxLogitsWithOutputStrideEight: Mixed_6a keeps 33x33, block17 goes atrous
        ShapeBuild os8 = InceptionTesting.base(x -> InceptionResnetV2.inceptionResnetV2Base(x, "PreAuxLogits", 8, false, null, Activation.RELU),
            sc, 5, 299, 299, 3);
        assertArrayEquals(new int[] {5, 35, 35, 320}, os8.endPoints().get("Mixed_5b"));
        assertArrayEquals(new int[] {5, 33, 33, 1088}, os8.endPoints().get("Mixed_6a"));
        assertArrayEquals(new int[] {5, 33, 33, 1088}, os8.endPoints().get("PreAuxLogits"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> InceptionTesting.base(x -> InceptionResnetV2.inceptionResnetV2Base(x, "Conv2d_7b_1x1", 8, false, null, Activation.RELU),
                sc, 1, 299, 299, 3));
        assertTrue(e.getMessage().startsWith("output_stride==8 is only supported up to the PreAuxlogits end_point"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> InceptionTesting.base(x -> InceptionResnetV2.inceptionResnetV2Base(x, "PreAuxLogits", 32, false, null, Activation.RELU),
                sc, 1, 299, 299, 3));
        assertTrue(e.getMessage().startsWith("output_stride must be 8 or 16"), e.getMessage());
        // testBuildOnlyUptoFinalEndpoint
        for (int i = 0; i < END_POINTS.size(); i++) {
            String last = END_POINTS.get(i);
            ShapeBuild b = InceptionTesting.base(x -> InceptionResnetV2.inceptionResnetV2Base(x, last, 16, false, null, Activation.RELU),
                ArgScope.empty(), 5, 299, 299, 3);
            assertEquals(END_POINTS.subList(0, i + 1), new ArrayList<>(b.endPoints().keySet()), last);
        }
    }

    @Test
    void options() {
        NetworkFn fn = Nets.get("inception_resnet_v2");
        ShapeBuild noAux = ShapeBuild.of(fn, 5, 299, 299, 1000, true, NetArg.CREATE_AUX_LOGITS.is(false));
        assertFalse(noAux.endPoints().containsKey("AuxLogits"));
        assertTrue(noAux.variables().keySet().stream().noneMatch(n -> n.contains("AuxLogits")));
        // testBuildNoClasses
        ShapeBuild none = ShapeBuild.of(fn, 5, 299, 299, 0, true);
        assertArrayEquals(new int[] {5, 1, 1, 1536}, none.logits());
        for (String k : List.of("AuxLogits", "PreLogitsFlatten", "Logits", "Predictions")) assertFalse(none.endPoints().containsKey(k), k);
        // testHalfSizeImages
        ShapeBuild half = ShapeBuild.of(fn, 5, 150, 150, 1000, false);
        assertArrayEquals(new int[] {5, 3, 3, 1536}, half.endPoints().get("Conv2d_7b_1x1"));
        assertArrayEquals(new int[] {5, 1000}, half.logits());
        assertArrayEquals(new int[] {1, 1, 128, 768}, half.variables().get("InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights"));
        // testGlobalPool: 330x400 → 8x11, pooled whole
        ShapeBuild big = ShapeBuild.of(fn, 1, 330, 400, 1000, false);
        assertArrayEquals(new int[] {1, 8, 11, 1536}, big.endPoints().get("Conv2d_7b_1x1"));
        assertArrayEquals(new int[] {1, 1000}, big.logits());
        // activation_fn is a network option; output_stride is not (only the base takes it)
        assertArrayEquals(new int[] {1, 10}, ShapeBuild.of(fn, 1, 299, 299, 10, false, InceptionResnetV2.ACTIVATION_FN.is(Activation.RELU6)).logits());
        assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 1, 299, 299, 10, false, NetArg.OUTPUT_STRIDE.is(8)));
    }

    @Test
    void argScopeRegularisesBiasesToo() {
        ArgScope sc = InceptionResnetV2.inceptionResnetV2ArgScope(0.00004);
        assertTrue(sc.defaultsFor(Layers.CONV2D).has(Arg.BIASES_REGULARIZER));
        assertTrue(sc.defaultsFor(Layers.FULLY_CONNECTED).has(Arg.BIASES_REGULARIZER));
        assertFalse(sc.defaultsFor(Layers.FULLY_CONNECTED).has(Arg.NORMALIZER_FN));
        assertFalse(InceptionUtils.inceptionArgScope().defaultsFor(Layers.CONV2D).has(Arg.BIASES_REGULARIZER));
    }

    @Test
    void forwardInTrainingAndInferenceMode() {
        InceptionTesting.forwardInBothModes(Nets.get("inception_resnet_v2"), 10, 1, 107, true);
    }

    /**
     * With relu6 the residual blocks clip their scaled branch and end in relu6: PreAuxLogits lies in
     * [0, 6] (with relu the same input goes beyond 6).
     */
    @Test
    void relu6BlocksStayInRange() {
        long live = CpuDevice.INSTANCE.liveBytes();
        for (Activation act : List.of(Activation.RELU6, Activation.RELU)) {
            try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("inception_resnet_v2"), 10, 0.0, 3,
                NetArg.CREATE_AUX_LOGITS.is(false), InceptionResnetV2.ACTIVATION_FN.is(act))) {
                Tensor images = Tensor.randomUniform(9, -40, 40, 1, 75, 75, 3);
                NetOutput out = net.apply(images, false);
                assertArrayEquals(new int[] {1, 10}, out.logits().value().dims());
                double max = Double.NEGATIVE_INFINITY;
                double min = Double.POSITIVE_INFINITY;
                for (double v : out.endPoints().get("PreAuxLogits").value().toDoubleArray()) {
                    max = Math.max(max, v);
                    min = Math.min(min, v);
                }
                assertTrue(min >= 0, "min " + min);
                if (act == Activation.RELU6) {
                    assertTrue(max <= 6, "relu6 range: [" + min + ", " + max + "]");
                } else {
                    assertTrue(max > 6, "relu goes beyond 6: max " + max);
                }
            }
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes());
    }

    @Test
    @Tag("slow")
    void forwardAtDefaultSizeInBothModes() {
        InceptionTesting.forwardInBothModes(Nets.get("inception_resnet_v2"), 1001, 1, 299, true);
    }
}
