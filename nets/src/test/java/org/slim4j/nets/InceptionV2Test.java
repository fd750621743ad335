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
import org.slim4j.layers.ArgScope;

/** inception_v2 as TF-Slim's inception_v2_test asserts it, from shape-only builds, plus a real forward pass. */
class InceptionV2Test {
    private static final List<String> END_POINTS = List.of("Conv2d_1a_7x7", "MaxPool_2a_3x3", "Conv2d_2b_1x1", "Conv2d_2c_3x3",
        "MaxPool_3a_3x3", "Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_5a", "Mixed_5b",
        "Mixed_5c");

    /** BN-Inception's modules {b0, b1 reduce, b1, b2 reduce, b2 (twice), pool projection}; reductions {b0 reduce, b0, b1 reduce, b1}. */
    private static final Object[][] MODULES = {
        {"Mixed_3b", new int[] {64, 64, 64, 64, 96, 32}},
        {"Mixed_3c", new int[] {64, 64, 96, 64, 96, 64}},
        {"Mixed_4a", new int[] {128, 160, 64, 96}},
        {"Mixed_4b", new int[] {224, 64, 96, 96, 128, 128}},
        {"Mixed_4c", new int[] {192, 96, 128, 96, 128, 128}},
        {"Mixed_4d", new int[] {160, 128, 160, 128, 160, 96}},
        {"Mixed_4e", new int[] {96, 128, 192, 160, 192, 96}},
        {"Mixed_5a", new int[] {128, 192, 192, 256}},
        {"Mixed_5b", new int[] {352, 192, 320, 160, 224, 128}},
        {"Mixed_5c", new int[] {352, 192, 320, 192, 224, 128}},
    };

    private static ExpectedVariables baseVariables(String scope, boolean separable) {
        ExpectedVariables e = new ExpectedVariables(scope + "/");
        if (separable) {
            // separable_conv2d is outside inception_arg_scope: no batch norm, biases instead
            e.add("Conv2d_1a_7x7/depthwise_weights", true, 7, 7, 3, 8).add("Conv2d_1a_7x7/pointwise_weights", true, 1, 1, 24, 64)
                .add("Conv2d_1a_7x7/biases", true, 64);
        } else {
            e.conv("Conv2d_1a_7x7", 7, 3, 64);
        }
        e.conv("Conv2d_2b_1x1", 1, 64, 64).conv("Conv2d_2c_3x3", 3, 64, 192);
        int in = 192;
        for (Object[] m : MODULES) {
            String n = (String) m[0];
            int[] c = (int[]) m[1];
            if (c.length == 4) {
                e.conv(n + "/Branch_0/Conv2d_0a_1x1", 1, in, c[0]).conv(n + "/Branch_0/Conv2d_1a_3x3", 3, c[0], c[1]);
                e.conv(n + "/Branch_1/Conv2d_0a_1x1", 1, in, c[2]).conv(n + "/Branch_1/Conv2d_0b_3x3", 3, c[2], c[3])
                    .conv(n + "/Branch_1/Conv2d_1a_3x3", 3, c[3], c[3]);
                in = c[1] + c[3] + in;
            } else {
                e.conv(n + "/Branch_0/Conv2d_0a_1x1", 1, in, c[0]);
                e.conv(n + "/Branch_1/Conv2d_0a_1x1", 1, in, c[1]).conv(n + "/Branch_1/Conv2d_0b_3x3", 3, c[1], c[2]);
                e.conv(n + "/Branch_2/Conv2d_0a_1x1", 1, in, c[3]).conv(n + "/Branch_2/Conv2d_0b_3x3", 3, c[3], c[4])
                    .conv(n + "/Branch_2/Conv2d_0c_3x3", 3, c[4], c[4]);
                e.conv(n + "/Branch_3/Conv2d_0b_1x1", 1, in, c[5]);
                in = c[0] + c[2] + c[4] + c[5];
            }
        }
        return e;
    }

    @Test
    void baseEndPointsVariablesAndParameterCountAsInceptionV2Test() {
        ShapeBuild b = InceptionTesting.base(InceptionV2::inceptionV2Base, InceptionUtils.inceptionArgScope(), 5, 224, 224, 3);
        assertEquals(END_POINTS, new ArrayList<>(b.endPoints().keySet()));
        int[][] shapes = {{5, 112, 112, 64}, {5, 56, 56, 64}, {5, 56, 56, 64}, {5, 56, 56, 192}, {5, 28, 28, 192}, {5, 28, 28, 256},
            {5, 28, 28, 320}, {5, 14, 14, 576}, {5, 14, 14, 576}, {5, 14, 14, 576}, {5, 14, 14, 576}, {5, 14, 14, 576}, {5, 7, 7, 1024},
            {5, 7, 7, 1024}, {5, 7, 7, 1024}};
        for (int i = 0; i < shapes.length; i++) assertArrayEquals(shapes[i], b.endPoints().get(END_POINTS.get(i)), END_POINTS.get(i));
        ExpectedVariables e = baseVariables("InceptionV2", true);
        e.assertMatches(b.variables(), "inception_v2_base");
        // testModelHasExpectedNumberOfParameters (10,173,240 if the separable conv had batch norm)
        assertEquals(10_173_112L, e.all());
        assertEquals(10_173_112L, b.all());
        assertEquals(e.trainable(), b.trainable());
    }

    @Test
    void classificationNetworkAndParameterCounts() {
        ShapeBuild b = ShapeBuild.of(Nets.get("inception_v2"), 5, 1000);
        List<String> names = new ArrayList<>(END_POINTS);
        names.addAll(List.of("AvgPool_1a", "PreLogits", "Logits", "Predictions"));
        assertEquals(names, new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {5, 1, 1, 1024}, b.endPoints().get("PreLogits"));
        assertArrayEquals(new int[] {5, 1000}, b.logits());
        for (int classes : new int[] {1000, 1001}) {
            ExpectedVariables e = baseVariables("InceptionV2", true).convWithBiases("Logits/Conv2d_1c_1x1", 1, 1, 1024, classes);
            ShapeBuild full = ShapeBuild.of(Nets.get("inception_v2"), 1, 224, 224, classes, true);
            e.assertMatches(full.variables(), "inception_v2 " + classes);
            assertEquals(e.trainable(), full.trainable());
            assertEquals(e.all(), full.all());
        }
        assertEquals(11_179_361L, ShapeBuild.of(Nets.get("inception_v2"), 1, 1001).trainable());
    }

    @Test
    void depthMultiplierAndMinDepth() {
        NetworkFn fn = Nets.get("inception_v2");
        ShapeBuild plain = ShapeBuild.of(fn, 5, 224, 224, 1000, true);
        for (double m : new double[] {0.5, 2.0}) {
            ShapeBuild scaled = ShapeBuild.of(fn, 5, 224, 224, 1000, true, NetArg.DEPTH_MULTIPLIER.is(m), NetArg.SCOPE.is("depth_multiplied_net"));
            for (String k : plain.endPoints().keySet()) {
                if (k.startsWith("Mixed") || k.startsWith("Conv")) {
                    assertEquals(m * InceptionTesting.depth(plain, k), InceptionTesting.depth(scaled, k), k + " x" + m);
                }
            }
            assertTrue(scaled.variables().keySet().stream().allMatch(n -> n.startsWith("depth_multiplied_net/")));
        }
        // the depthwise multiplier of the first layer is min(int(depth(64) / 3), 8)
        ShapeBuild quarter = ShapeBuild.of(fn, 1, 224, 224, 10, true, NetArg.DEPTH_MULTIPLIER.is(0.25));
        assertArrayEquals(new int[] {7, 7, 3, 5}, quarter.variables().get("InceptionV2/Conv2d_1a_7x7/depthwise_weights"));
        assertArrayEquals(new int[] {1, 1, 15, 16}, quarter.variables().get("InceptionV2/Conv2d_1a_7x7/pointwise_weights"));
        // min_depth bounds every layer from below
        ShapeBuild thin = ShapeBuild.of(fn, 1, 224, 224, 10, true, NetArg.DEPTH_MULTIPLIER.is(0.1), NetArg.MIN_DEPTH.is(8));
        assertEquals(8, InceptionTesting.depth(thin, "Conv2d_1a_7x7"));
        assertEquals(8 + 9 + 9 + 8, InceptionTesting.depth(thin, "Mixed_3c"), "max(int(64 * 0.1), 8) + int(96 * 0.1) + int(96 * 0.1) + 8");
        for (double bad : new double[] {-0.1, 0.0}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ShapeBuild.of(fn, 1, 224, 224, 10, true, NetArg.DEPTH_MULTIPLIER.is(bad)));
            assertTrue(e.getMessage().startsWith("depth_multiplier is not greater than zero"), e.getMessage());
        }
    }

    @Test
    void options() {
        NetworkFn fn = Nets.get("inception_v2");
        ShapeBuild none = ShapeBuild.of(fn, 5, 224, 224, 0, true);
        assertArrayEquals(new int[] {5, 1, 1, 1024}, none.logits());
        assertFalse(none.endPoints().containsKey("PreLogits"));
        assertFalse(none.endPoints().containsKey("Logits"));
        assertArrayEquals(new int[] {1, 1, 1, 25}, ShapeBuild.of(fn, 1, 224, 224, 25, false, NetArg.SPATIAL_SQUEEZE.is(false)).logits());
        // testHalfSizeImages: the pool shrinks to the 4x4 map
        ShapeBuild half = ShapeBuild.of(fn, 5, 112, 112, 1000, false);
        assertArrayEquals(new int[] {5, 4, 4, 1024}, half.endPoints().get("Mixed_5c"));
        assertArrayEquals(new int[] {5, 1000}, half.logits());
        // testGlobalPoolUnknownImageShape
        ShapeBuild g = ShapeBuild.of(fn, 1, 250, 300, 1000, false, NetArg.GLOBAL_POOL.is(true));
        assertArrayEquals(new int[] {1, 8, 10, 1024}, g.endPoints().get("Mixed_5c"));
        assertArrayEquals(new int[] {1, 1, 1, 1024}, g.endPoints().get("global_pool"));
        assertArrayEquals(new int[] {1, 1000}, g.logits());
        // a fixed 7x7 window (slim's default stride 2) on the 8x10 map
        assertArrayEquals(new int[] {1, 1, 2, 1000}, ShapeBuild.of(fn, 1, 250, 300, 1000, false, NetArg.SPATIAL_SQUEEZE.is(false)).logits());
    }

    @Test
    void baseVariants() {
        ShapeBuild sep = InceptionTesting.base(InceptionV2::inceptionV2Base, InceptionUtils.inceptionArgScope(), 5, 224, 224, 3);
        // testBuildEndPointsWithUseSeparableConvolutionFalse: same shapes, a plain conv with batch norm
        ShapeBuild plain = InceptionTesting.base(x -> InceptionV2.inceptionV2Base(x, "Mixed_5c", 16, 1.0, false, true, null),
            InceptionUtils.inceptionArgScope(), 5, 224, 224, 3);
        sep.endPoints().forEach((k, v) -> assertArrayEquals(v, plain.endPoints().get(k), k));
        baseVariables("InceptionV2", false).assertMatches(plain.variables(), "use_separable_conv=False");
        // testBuildBaseNetworkWithoutRootBlock
        ShapeBuild noRoot = InceptionTesting.base(x -> InceptionV2.inceptionV2Base(x, "Mixed_5c", 16, 1.0, true, false, null),
            InceptionUtils.inceptionArgScope(), 5, 28, 28, 192);
        assertEquals(END_POINTS.subList(5, END_POINTS.size()), new ArrayList<>(noRoot.endPoints().keySet()));
        for (String k : noRoot.endPoints().keySet()) assertArrayEquals(sep.endPoints().get(k), noRoot.endPoints().get(k), k);
        // testBuildOnlyUptoFinalEndpoint
        for (int i = 0; i < END_POINTS.size(); i++) {
            String last = END_POINTS.get(i);
            ShapeBuild b = InceptionTesting.base(x -> InceptionV2.inceptionV2Base(x, last, 16, 1.0, true, true, null), ArgScope.empty(), 5, 224, 224, 3);
            assertEquals(END_POINTS.subList(0, i + 1), new ArrayList<>(b.endPoints().keySet()), last);
        }
        assertThrows(IllegalArgumentException.class,
            () -> InceptionTesting.base(x -> InceptionV2.inceptionV2Base(x, "Mixed_6a", 16, 1.0, true, true, null), ArgScope.empty(), 1, 224, 224, 3));
    }

    @Test
    void forwardInTrainingAndInferenceMode() {
        InceptionTesting.forwardInBothModes(Nets.get("inception_v2"), 10, 1, 64, false);
    }

    @Test
    @Tag("slow")
    void forwardAtDefaultSizeInBothModes() {
        InceptionTesting.forwardInBothModes(Nets.get("inception_v2"), 1000, 1, 224, false);
    }
}
