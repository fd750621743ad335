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

/** inception_v1 as TF-Slim's inception_v1_test asserts it, from shape-only builds, plus a real forward pass. */
class InceptionV1Test {
    private static final List<String> END_POINTS = List.of("Conv2d_1a_7x7", "MaxPool_2a_3x3", "Conv2d_2b_1x1", "Conv2d_2c_3x3",
        "MaxPool_3a_3x3", "Mixed_3b", "Mixed_3c", "MaxPool_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f",
        "MaxPool_5a_2x2", "Mixed_5b", "Mixed_5c");

    /** GoogLeNet's modules: {b0, b1 reduce, b1, b2 reduce, b2, pool projection} (Szegedy et al., table 1). */
    private static final Object[][] MODULES = {
        {"Mixed_3b", new int[] {64, 96, 128, 16, 32, 32}},
        {"Mixed_3c", new int[] {128, 128, 192, 32, 96, 64}},
        {"Mixed_4b", new int[] {192, 96, 208, 16, 48, 64}},
        {"Mixed_4c", new int[] {160, 112, 224, 24, 64, 64}},
        {"Mixed_4d", new int[] {128, 128, 256, 24, 64, 64}},
        {"Mixed_4e", new int[] {112, 144, 288, 32, 64, 64}},
        {"Mixed_4f", new int[] {256, 160, 320, 32, 128, 128}},
        {"Mixed_5b", new int[] {256, 160, 320, 32, 128, 128}},
        {"Mixed_5c", new int[] {384, 192, 384, 48, 128, 128}},
    };

    /** The base's variables from the module table, in TF-Slim's names (Mixed_5b's Branch_2 quirk included). */
    private static ExpectedVariables baseVariables(String scope, boolean rootBlock, int inChannels) {
        ExpectedVariables e = new ExpectedVariables(scope + "/");
        int in = inChannels;
        if (rootBlock) {
            e.conv("Conv2d_1a_7x7", 7, 3, 64).conv("Conv2d_2b_1x1", 1, 64, 64).conv("Conv2d_2c_3x3", 3, 64, 192);
            in = 192;
        }
        for (Object[] m : MODULES) {
            String name = (String) m[0];
            int[] c = (int[]) m[1];
            e.conv(name + "/Branch_0/Conv2d_0a_1x1", 1, in, c[0]);
            e.conv(name + "/Branch_1/Conv2d_0a_1x1", 1, in, c[1]).conv(name + "/Branch_1/Conv2d_0b_3x3", 3, c[1], c[2]);
            e.conv(name + "/Branch_2/Conv2d_0a_1x1", 1, in, c[3])
                .conv(name + "/Branch_2/" + (name.equals("Mixed_5b") ? "Conv2d_0a_3x3" : "Conv2d_0b_3x3"), 3, c[3], c[4]);
            e.conv(name + "/Branch_3/Conv2d_0b_1x1", 1, in, c[5]);
            in = c[0] + c[2] + c[4] + c[5];
        }
        return e;
    }

    @Test
    void baseEndPointsVariablesAndParameterCountAsInceptionV1Test() {
        ShapeBuild b = InceptionTesting.base(InceptionV1::inceptionV1Base, InceptionUtils.inceptionArgScope(), 5, 224, 224, 3);
        assertEquals(END_POINTS, new ArrayList<>(b.endPoints().keySet()));
        int[][] shapes = {{5, 112, 112, 64}, {5, 56, 56, 64}, {5, 56, 56, 64}, {5, 56, 56, 192}, {5, 28, 28, 192}, {5, 28, 28, 256},
            {5, 28, 28, 480}, {5, 14, 14, 480}, {5, 14, 14, 512}, {5, 14, 14, 512}, {5, 14, 14, 512}, {5, 14, 14, 528}, {5, 14, 14, 832},
            {5, 7, 7, 832}, {5, 7, 7, 832}, {5, 7, 7, 1024}};
        for (int i = 0; i < shapes.length; i++) assertArrayEquals(shapes[i], b.endPoints().get(END_POINTS.get(i)), END_POINTS.get(i));
        assertArrayEquals(new int[] {5, 7, 7, 1024}, b.logits());
        ExpectedVariables e = baseVariables("InceptionV1", true, 3);
        e.assertMatches(b.variables(), "inception_v1_base");
        // testModelHasExpectedNumberOfParameters: model variables incl. the moving statistics
        assertEquals(5_607_184L, e.all());
        assertEquals(5_607_184L, b.all());
        assertEquals(e.trainable(), b.trainable());
        assertEquals(b.all() - 2 * e.bnChannels(), b.trainable());
    }

    @Test
    void classificationNetworkAndParameterCounts() {
        ShapeBuild b = ShapeBuild.of(Nets.get("inception_v1"), 5, 1000);
        List<String> names = new ArrayList<>(END_POINTS);
        names.addAll(List.of("AvgPool_0a_7x7", "Logits", "Predictions"));
        assertEquals(names, new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {5, 1, 1, 1024}, b.endPoints().get("AvgPool_0a_7x7"));
        assertArrayEquals(new int[] {5, 1000}, b.logits());
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("Predictions"));
        for (int classes : new int[] {1000, 1001}) {
            ExpectedVariables e = baseVariables("InceptionV1", true, 3).convWithBiases("Logits/Conv2d_0c_1x1", 1, 1, 1024, classes);
            ShapeBuild full = ShapeBuild.of(Nets.get("inception_v1"), 1, 224, 224, classes, true);
            e.assertMatches(full.variables(), "inception_v1 " + classes);
            assertEquals(e.trainable(), full.trainable());
            assertEquals(e.all(), full.all());
        }
        assertEquals(6_618_649L, ShapeBuild.of(Nets.get("inception_v1"), 1, 1001).trainable(), "5,592,624 in the base + 1024x1001 + 1001");
        assertEquals(1000, Nets.get("inception_v1").defaultNumClasses());
        assertEquals(224, Nets.get("inception_v1").defaultImageSize());
    }

    @Test
    void options() {
        NetworkFn fn = Nets.get("inception_v1");
        // testBuildPreLogitsNetwork: no classes → the pooled features, no dropout, no logits
        ShapeBuild none = ShapeBuild.of(fn, 5, 224, 224, 0, true);
        assertArrayEquals(new int[] {5, 1, 1, 1024}, none.logits());
        assertFalse(none.endPoints().containsKey("Logits"));
        assertFalse(none.endPoints().containsKey("Predictions"));
        assertFalse(none.variables().containsKey("InceptionV1/Logits/Conv2d_0c_1x1/weights"));
        // testLogitsNotSqueezed
        assertArrayEquals(new int[] {1, 1, 1, 25}, ShapeBuild.of(fn, 1, 224, 224, 25, false, NetArg.SPATIAL_SQUEEZE.is(false)).logits());
        // testGlobalPoolUnknownImageShape: 300x400 → Mixed_5c 10x13, pooled to 1x1
        ShapeBuild g = ShapeBuild.of(fn, 2, 300, 400, 1000, false, NetArg.GLOBAL_POOL.is(true));
        assertArrayEquals(new int[] {2, 10, 13, 1024}, g.endPoints().get("Mixed_5c"));
        assertArrayEquals(new int[] {2, 1, 1, 1024}, g.endPoints().get("global_pool"));
        assertArrayEquals(new int[] {2, 1000}, g.logits());
        // without global pool the fixed 7x7 stride-1 window leaves a 4x7 map that cannot be squeezed
        assertArrayEquals(new int[] {2, 4, 7, 1000}, ShapeBuild.of(fn, 2, 300, 400, 1000, false, NetArg.SPATIAL_SQUEEZE.is(false)).logits());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 2, 300, 400, 1000, false));
        assertTrue(e.getMessage().startsWith("squeeze"), e.getMessage());
        // scope option
        assertTrue(ShapeBuild.of(fn, 1, 224, 224, 3, false, NetArg.SCOPE.is("GoogLeNet")).variables()
            .containsKey("GoogLeNet/Mixed_5b/Branch_2/Conv2d_0a_3x3/weights"));
        assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 1, 224, 224, 3, false, NetArg.CREATE_AUX_LOGITS.is(false)));
    }

    @Test
    void baseVariants() {
        // testHalfSizeImages
        ShapeBuild half = InceptionTesting.base(InceptionV1::inceptionV1Base, InceptionUtils.inceptionArgScope(), 5, 112, 112, 3);
        assertArrayEquals(new int[] {5, 4, 4, 1024}, half.logits());
        // testBuildOnlyUptoFinalEndpoint
        for (int i = 0; i < END_POINTS.size(); i++) {
            String last = END_POINTS.get(i);
            ShapeBuild b = InceptionTesting.base(x -> InceptionV1.inceptionV1Base(x, last, true, null), ArgScope.empty(), 5, 224, 224, 3);
            assertEquals(END_POINTS.subList(0, i + 1), new ArrayList<>(b.endPoints().keySet()), last);
            assertArrayEquals(b.endPoints().get(last), b.logits());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> InceptionTesting.base(x -> InceptionV1.inceptionV1Base(x, "Mixed_6a", true, null), ArgScope.empty(), 1, 224, 224, 3));
        assertTrue(e.getMessage().startsWith("Unknown final endpoint Mixed_6a"), e.getMessage());
        // without the root block: 28x28x192 in, the modules only
        ShapeBuild noRoot = InceptionTesting.base(x -> InceptionV1.inceptionV1Base(x, "Mixed_5c", false, null),
            InceptionUtils.inceptionArgScope(), 5, 28, 28, 192);
        assertEquals(END_POINTS.subList(5, END_POINTS.size()), new ArrayList<>(noRoot.endPoints().keySet()));
        assertArrayEquals(new int[] {5, 7, 7, 1024}, noRoot.logits());
        baseVariables("InceptionV1", false, 192).assertMatches(noRoot.variables(), "no root block");
        assertThrows(IllegalArgumentException.class,
            () -> InceptionTesting.base(x -> InceptionV1.inceptionV1Base(x, "Conv2d_1a_7x7", false, null), ArgScope.empty(), 5, 28, 28, 192));
    }

    @Test
    void inceptionArgScopeOptions() {
        // inception_arg_scope(use_batch_norm=False): convs get biases instead
        ShapeBuild noBn = InceptionTesting.base(InceptionV1::inceptionV1Base,
            InceptionUtils.inceptionArgScope(0.00004, false, 0.9997, 0.001, Activation.RELU, false), 1, 224, 224, 3);
        assertArrayEquals(new int[] {64}, noBn.variables().get("InceptionV1/Conv2d_1a_7x7/biases"));
        assertTrue(noBn.variables().keySet().stream().noneMatch(n -> n.contains("BatchNorm")));
        // batch_norm_scale=True: every batch norm has a gamma
        ShapeBuild scaled = InceptionTesting.base(InceptionV1::inceptionV1Base,
            InceptionUtils.inceptionArgScope(0.00004, true, 0.9997, 0.001, Activation.RELU, true), 1, 224, 224, 3);
        long means = scaled.variables().keySet().stream().filter(n -> n.endsWith("/moving_mean")).count();
        assertEquals(57, means);
        for (String n : scaled.variables().keySet()) {
            if (n.endsWith("/moving_mean")) assertTrue(scaled.variables().containsKey(n.replace("moving_mean", "gamma")), n);
        }
        // default: no gamma anywhere
        ShapeBuild plain = ShapeBuild.of(Nets.get("inception_v1"), 1, 1000);
        assertTrue(plain.variables().keySet().stream().noneMatch(n -> n.endsWith("/gamma")));
    }

    @Test
    void forwardInTrainingAndInferenceMode() {
        // the fixed 7x7 head needs >= 193 pixels; global pooling lets a small image through the whole net
        InceptionTesting.forwardInBothModes(Nets.get("inception_v1"), 10, 1, 96, false, NetArg.GLOBAL_POOL.is(true));
    }

    @Test
    @Tag("slow")
    void forwardAtDefaultSizeInBothModes() {
        InceptionTesting.forwardInBothModes(Nets.get("inception_v1"), 1000, 1, 224, false);
    }
}
