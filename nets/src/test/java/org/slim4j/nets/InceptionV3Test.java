package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.layers.ArgScope;
import org.slim4j.tensor.testing.GoldenData;

/** inception_v3 as TF-Slim's inception_v3_test asserts it, from shape-only builds, plus a real forward pass. */
class InceptionV3Test {
    private static final List<String> END_POINTS = List.of("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_3a_3x3",
        "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_5a_3x3", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
        "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c");

    /** The base's variables, module by module from the paper's figures 5-7 with TF-Slim's scope names (quirks included). */
    static ExpectedVariables baseVariables(String scope) {
        ExpectedVariables e = new ExpectedVariables(scope + "/");
        e.conv("Conv2d_1a_3x3", 3, 3, 32).conv("Conv2d_2a_3x3", 3, 32, 32).conv("Conv2d_2b_3x3", 3, 32, 64)
            .conv("Conv2d_3b_1x1", 1, 64, 80).conv("Conv2d_4a_3x3", 3, 80, 192);
        int in = 192;
        String[][] names35 = {{"Mixed_5b", "Conv2d_0a_1x1", "Conv2d_0b_5x5"}, {"Mixed_5c", "Conv2d_0b_1x1", "Conv_1_0c_5x5"},
            {"Mixed_5d", "Conv2d_0a_1x1", "Conv2d_0b_5x5"}};
        int[] pool35 = {32, 64, 64};
        for (int i = 0; i < 3; i++) {
            String m = names35[i][0];
            e.conv(m + "/Branch_0/Conv2d_0a_1x1", 1, in, 64);
            e.conv(m + "/Branch_1/" + names35[i][1], 1, in, 48).conv(m + "/Branch_1/" + names35[i][2], 5, 48, 64);
            e.conv(m + "/Branch_2/Conv2d_0a_1x1", 1, in, 64).conv(m + "/Branch_2/Conv2d_0b_3x3", 3, 64, 96).conv(m + "/Branch_2/Conv2d_0c_3x3", 3, 96, 96);
            e.conv(m + "/Branch_3/Conv2d_0b_1x1", 1, in, pool35[i]);
            in = 64 + 64 + 96 + pool35[i];
        }
        e.conv("Mixed_6a/Branch_0/Conv2d_1a_1x1", 3, in, 384);
        e.conv("Mixed_6a/Branch_1/Conv2d_0a_1x1", 1, in, 64).conv("Mixed_6a/Branch_1/Conv2d_0b_3x3", 3, 64, 96)
            .conv("Mixed_6a/Branch_1/Conv2d_1a_1x1", 3, 96, 96);
        in = 384 + 96 + in;
        String[] names17 = {"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"};
        int[] widths = {128, 160, 160, 192};
        for (int i = 0; i < 4; i++) {
            String m = names17[i];
            int w = widths[i];
            e.conv(m + "/Branch_0/Conv2d_0a_1x1", 1, in, 192);
            e.conv(m + "/Branch_1/Conv2d_0a_1x1", 1, in, w).conv(m + "/Branch_1/Conv2d_0b_1x7", 1, 7, w, w)
                .conv(m + "/Branch_1/Conv2d_0c_7x1", 7, 1, w, 192);
            e.conv(m + "/Branch_2/Conv2d_0a_1x1", 1, in, w).conv(m + "/Branch_2/Conv2d_0b_7x1", 7, 1, w, w)
                .conv(m + "/Branch_2/Conv2d_0c_1x7", 1, 7, w, w).conv(m + "/Branch_2/Conv2d_0d_7x1", 7, 1, w, w)
                .conv(m + "/Branch_2/Conv2d_0e_1x7", 1, 7, w, 192);
            e.conv(m + "/Branch_3/Conv2d_0b_1x1", 1, in, 192);
            in = 4 * 192;
        }
        e.conv("Mixed_7a/Branch_0/Conv2d_0a_1x1", 1, in, 192).conv("Mixed_7a/Branch_0/Conv2d_1a_3x3", 3, 192, 320);
        e.conv("Mixed_7a/Branch_1/Conv2d_0a_1x1", 1, in, 192).conv("Mixed_7a/Branch_1/Conv2d_0b_1x7", 1, 7, 192, 192)
            .conv("Mixed_7a/Branch_1/Conv2d_0c_7x1", 7, 1, 192, 192).conv("Mixed_7a/Branch_1/Conv2d_1a_3x3", 3, 192, 192);
        in = 320 + 192 + in;
        for (String[] m : new String[][] {{"Mixed_7b", "Conv2d_0b_3x1"}, {"Mixed_7c", "Conv2d_0c_3x1"}}) {
            e.conv(m[0] + "/Branch_0/Conv2d_0a_1x1", 1, in, 320);
            e.conv(m[0] + "/Branch_1/Conv2d_0a_1x1", 1, in, 384).conv(m[0] + "/Branch_1/Conv2d_0b_1x3", 1, 3, 384, 384)
                .conv(m[0] + "/Branch_1/" + m[1], 3, 1, 384, 384);
            e.conv(m[0] + "/Branch_2/Conv2d_0a_1x1", 1, in, 448).conv(m[0] + "/Branch_2/Conv2d_0b_3x3", 3, 448, 384)
                .conv(m[0] + "/Branch_2/Conv2d_0c_1x3", 1, 3, 384, 384).conv(m[0] + "/Branch_2/Conv2d_0d_3x1", 3, 1, 384, 384);
            e.conv(m[0] + "/Branch_3/Conv2d_0b_1x1", 1, in, 192);
            in = 320 + 768 + 768 + 192;
        }
        return e;
    }

    static ExpectedVariables fullVariables(int classes, boolean aux) {
        ExpectedVariables e = baseVariables("InceptionV3");
        if (aux) {
            e.conv("AuxLogits/Conv2d_1b_1x1", 1, 768, 128).conv("AuxLogits/Conv2d_2a_5x5", 5, 128, 768)
                .convWithBiases("AuxLogits/Conv2d_2b_1x1", 1, 1, 768, classes);
        }
        return e.convWithBiases("Logits/Conv2d_1c_1x1", 1, 1, 2048, classes);
    }

    @Test
    void baseEndPointsVariablesAndParameterCountAsInceptionV3Test() {
        ShapeBuild b = InceptionTesting.base(InceptionV3::inceptionV3Base, InceptionUtils.inceptionArgScope(), 5, 299, 299, 3);
        assertEquals(END_POINTS, new ArrayList<>(b.endPoints().keySet()));
        int[][] shapes = {{5, 149, 149, 32}, {5, 147, 147, 32}, {5, 147, 147, 64}, {5, 73, 73, 64}, {5, 73, 73, 80}, {5, 71, 71, 192},
            {5, 35, 35, 192}, {5, 35, 35, 256}, {5, 35, 35, 288}, {5, 35, 35, 288}, {5, 17, 17, 768}, {5, 17, 17, 768}, {5, 17, 17, 768},
            {5, 17, 17, 768}, {5, 17, 17, 768}, {5, 8, 8, 1280}, {5, 8, 8, 2048}, {5, 8, 8, 2048}};
        for (int i = 0; i < shapes.length; i++) assertArrayEquals(shapes[i], b.endPoints().get(END_POINTS.get(i)), END_POINTS.get(i));
        ExpectedVariables e = baseVariables("InceptionV3");
        e.assertMatches(b.variables(), "inception_v3_base");
        assertEquals(21_802_784L, e.all(), "testModelHasExpectedNumberOfParameters");
        assertEquals(21_802_784L, b.all());
        assertEquals(e.trainable(), b.trainable());
    }

    @Test
    void classificationNetworkEndPointsAndParameterCounts() {
        ShapeBuild b = ShapeBuild.of(Nets.get("inception_v3"), 5, 1000);
        List<String> names = new ArrayList<>(END_POINTS);
        names.addAll(List.of("AuxLogits", "AvgPool_1a", "PreLogits", "Logits", "Predictions"));
        assertEquals(names, new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("AuxLogits"));
        assertArrayEquals(new int[] {5, 1, 1, 2048}, b.endPoints().get("PreLogits"));
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("Logits"));
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("Predictions"));
        for (int classes : new int[] {1000, 1001}) {
            for (boolean aux : new boolean[] {true, false}) {
                ShapeBuild full = ShapeBuild.of(Nets.get("inception_v3"), 1, 299, 299, classes, true, NetArg.CREATE_AUX_LOGITS.is(aux));
                ExpectedVariables e = fullVariables(classes, aux);
                e.assertMatches(full.variables(), "inception_v3 " + classes + " aux " + aux);
                assertEquals(e.trainable(), full.trainable());
                assertEquals(e.all(), full.all());
            }
        }
        // Keras' InceptionV3 (the same network without aux logits, 1000 classes): 23,851,784 parameters,
        // 23,817,352 of them trainable (the rest are the 17,216 channels' moving means and variances)
        ShapeBuild keras = ShapeBuild.of(Nets.get("inception_v3"), 1, 299, 299, 1000, true, NetArg.CREATE_AUX_LOGITS.is(false));
        assertEquals(23_851_784L, keras.all());
        assertEquals(23_817_352L, keras.trainable());
        // the released checkpoint (1001 classes, aux logits): + 128 + 768 BN channels, 1x1 768→128, 5x5 128→768, 1x1 768→1001 + biases
        ShapeBuild released = ShapeBuild.of(Nets.get("inception_v3"), 1, 1001);
        assertEquals(23_819_401L + 98_304 + 128 + 2_457_600 + 768 + 768 * 1001 + 1001, released.trainable());
        assertEquals(27_145_970L, released.trainable());
        assertEquals(27_182_194L, released.all());
        // Inception V3's well-known 5.72 G multiply-adds at 299x299
        assertEquals(5_718_902_112L, released.macs());
        // what model_summary prints
        ModelSummary s = ModelSummary.of(Nets.get("inception_v3"), 1001);
        assertEquals(299, s.imageSize());
        assertEquals(27_145_970L, s.trainableParameters());
        assertEquals(27_182_194L, s.allParameters());
        assertTrue(s.format().lines().anyMatch(l -> l.matches("InceptionV3/AuxLogits/Conv2d_2b_1x1/biases\\s+\\[1001\\]\\s+1001")), s.format());
        assertTrue(s.format().lines().anyMatch(l -> l.matches("AuxLogits\\s+\\[1, 1001\\]")), s.format());
    }

    /** The factory entries of the Inception family: TF-Slim's default image sizes and num_classes defaults. */
    @Test
    void factoryEntries() {
        String[] names = {"inception_v1", "inception_v2", "inception_v3", "inception_v4", "inception_resnet_v2"};
        int[] sizes = {224, 224, 299, 299, 299};
        int[] classes = {1000, 1000, 1000, 1001, 1001};
        for (int i = 0; i < names.length; i++) {
            NetworkFn fn = Nets.get(names[i]);
            assertEquals(names[i], fn.name());
            assertEquals(sizes[i], fn.defaultImageSize(), names[i]);
            assertEquals(classes[i], fn.defaultNumClasses(), names[i]);
            assertEquals(3, fn.defaultImageChannels(), names[i]);
        }
        // they follow each other in nets_factory's order, after vgg_19
        List<String> all = Nets.names();
        assertEquals(all.indexOf("vgg_19") + 1, all.indexOf("inception_v1"));
        assertEquals(List.of(names), all.subList(all.indexOf("inception_v1"), all.indexOf("inception_v1") + 5));
    }

    /** Every InceptionV3 variable of the golden TF-Slim-style checkpoint exists here with its shape (1001 classes). */
    @Test
    void namesOfTheGoldenCheckpointExist() throws IOException {
        String manifest = Files.readString(GoldenData.goldenDir().resolve("checkpoints/ckpt_single/manifest.json"));
        Matcher m = Pattern.compile("\"name\": \"(InceptionV3/[^\"]+)\", \"dtype\": \"float32\", \"shape\": \\[([^\\]]*)\\]").matcher(manifest);
        ShapeBuild b = ShapeBuild.of(Nets.get("inception_v3"), 1, 1001);
        int n = 0;
        while (m.find()) {
            int[] shape = Arrays.stream(m.group(2).split(",\\s*")).mapToInt(Integer::parseInt).toArray();
            assertArrayEquals(shape, b.variables().get(m.group(1)), m.group(1));
            n++;
        }
        assertEquals(6, n);
    }

    @Test
    void depthMultiplierAndMinDepth() {
        NetworkFn fn = Nets.get("inception_v3");
        ShapeBuild plain = ShapeBuild.of(fn, 5, 299, 299, 1000, true);
        for (double mult : new double[] {0.5, 2.0}) {
            ShapeBuild scaled = ShapeBuild.of(fn, 5, 299, 299, 1000, true, NetArg.DEPTH_MULTIPLIER.is(mult), NetArg.SCOPE.is("depth_multiplied_net"));
            for (String k : plain.endPoints().keySet()) {
                if (k.startsWith("Mixed") || k.startsWith("Conv")) {
                    assertEquals(mult * InceptionTesting.depth(plain, k), InceptionTesting.depth(scaled, k), k + " x" + mult);
                }
            }
            // the aux head is thinned too: depth(128), depth(768)
            assertArrayEquals(new int[] {5, 5, (int) (128 * mult), (int) (768 * mult)},
                scaled.variables().get("depth_multiplied_net/AuxLogits/Conv2d_2a_5x5/weights"));
        }
        ShapeBuild thin = ShapeBuild.of(fn, 1, 299, 299, 10, true, NetArg.DEPTH_MULTIPLIER.is(0.1));
        assertEquals(16, InceptionTesting.depth(thin, "Conv2d_1a_3x3"), "min_depth 16");
        assertEquals(19, InceptionTesting.depth(thin, "Conv2d_4a_3x3"), "int(192 * 0.1)");
        ShapeBuild thinner = ShapeBuild.of(fn, 1, 299, 299, 10, true, NetArg.DEPTH_MULTIPLIER.is(0.1), NetArg.MIN_DEPTH.is(4));
        assertEquals(4, InceptionTesting.depth(thinner, "Conv2d_1a_3x3"), "max(int(3.2), 4)");
        for (double bad : new double[] {-0.1, 0.0}) {
            assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 1, 299, 299, 10, true, NetArg.DEPTH_MULTIPLIER.is(bad)));
        }
    }

    @Test
    void options() {
        NetworkFn fn = Nets.get("inception_v3");
        // testBuildPreLogitsNetwork: no logits, no aux logits, no dropout
        ShapeBuild none = ShapeBuild.of(fn, 5, 299, 299, 0, true);
        assertArrayEquals(new int[] {5, 1, 1, 2048}, none.logits());
        for (String k : List.of("AuxLogits", "PreLogits", "Logits", "Predictions")) assertFalse(none.endPoints().containsKey(k), k);
        assertTrue(none.variables().keySet().stream().noneMatch(n -> n.contains("Logits")));
        // create_aux_logits=False
        ShapeBuild noAux = ShapeBuild.of(fn, 5, 299, 299, 1000, true, NetArg.CREATE_AUX_LOGITS.is(false));
        assertFalse(noAux.endPoints().containsKey("AuxLogits"));
        assertTrue(noAux.endPoints().containsKey("Logits"));
        // testLogitsNotSqueezed: the aux logits stay 4-D as well
        ShapeBuild ns = ShapeBuild.of(fn, 1, 299, 299, 25, false, NetArg.SPATIAL_SQUEEZE.is(false));
        assertArrayEquals(new int[] {1, 1, 1, 25}, ns.logits());
        assertArrayEquals(new int[] {1, 1, 1, 25}, ns.endPoints().get("AuxLogits"));
        // testHalfSizeImages: 150x150 → Mixed_7c 3x3; both heads shrink their kernels (Conv2d_2a_1x1 on a 1x1 map)
        ShapeBuild half = ShapeBuild.of(fn, 5, 150, 150, 1000, false);
        assertArrayEquals(new int[] {5, 3, 3, 2048}, half.endPoints().get("Mixed_7c"));
        assertArrayEquals(new int[] {5, 1000}, half.logits());
        assertArrayEquals(new int[] {1, 1, 128, 768}, half.variables().get("InceptionV3/AuxLogits/Conv2d_2a_1x1/weights"));
        assertFalse(half.variables().containsKey("InceptionV3/AuxLogits/Conv2d_2a_5x5/weights"));
        // testGlobalPoolUnknownImageShape: 400x600 → 11x17. TF's test feeds a placeholder of unknown size and never
        // evaluates the aux head, whose 5x5 VALID conv leaves a 3x7 map that cannot be squeezed; with static
        // shapes (here, or in TF with a sized input) that build fails, so the aux head is left out.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ShapeBuild.of(fn, 2, 400, 600, 1000, false, NetArg.GLOBAL_POOL.is(true)));
        assertTrue(e.getMessage().startsWith("squeeze: can not squeeze dim[1]"), e.getMessage());
        ShapeBuild g = ShapeBuild.of(fn, 2, 400, 600, 1000, false, NetArg.GLOBAL_POOL.is(true), NetArg.CREATE_AUX_LOGITS.is(false));
        assertArrayEquals(new int[] {2, 11, 17, 2048}, g.endPoints().get("Mixed_7c"));
        assertArrayEquals(new int[] {2, 1, 1, 2048}, g.endPoints().get("global_pool"));
        assertFalse(g.endPoints().containsKey("AvgPool_1a"));
        assertArrayEquals(new int[] {2, 1000}, g.logits());
        // the 330x400 variant of the spec
        assertArrayEquals(new int[] {1, 8, 11, 2048}, ShapeBuild.of(fn, 1, 330, 400, 10, false, NetArg.GLOBAL_POOL.is(true),
            NetArg.CREATE_AUX_LOGITS.is(false)).endPoints().get("Mixed_7c"));
        assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 1, 299, 299, 10, false, NetArg.OUTPUT_STRIDE.is(8)));
    }

    @Test
    void baseUpToEveryFinalEndpoint() {
        for (int i = 0; i < END_POINTS.size(); i++) {
            String last = END_POINTS.get(i);
            ShapeBuild b = InceptionTesting.base(x -> InceptionV3.inceptionV3Base(x, last, 16, 1.0, null), ArgScope.empty(), 5, 299, 299, 3);
            assertEquals(END_POINTS.subList(0, i + 1), new ArrayList<>(b.endPoints().keySet()), last);
            assertArrayEquals(b.endPoints().get(last), b.logits());
            assertTrue(b.variables().keySet().stream().allMatch(n -> n.startsWith("InceptionV3/")));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> InceptionTesting.base(x -> InceptionV3.inceptionV3Base(x, "Logits", 16, 1.0, null), ArgScope.empty(), 1, 299, 299, 3));
        assertTrue(e.getMessage().startsWith("Unknown final endpoint Logits"), e.getMessage());
    }

    @Test
    void forwardInTrainingAndInferenceMode() {
        // 107 is the smallest input whose Mixed_6e (5x5) still feeds the 5x5/3 aux pool
        InceptionTesting.forwardInBothModes(Nets.get("inception_v3"), 10, 1, 107, false);
    }

    @Test
    @Tag("slow")
    void forwardAtDefaultSizeInBothModes() {
        InceptionTesting.forwardInBothModes(Nets.get("inception_v3"), 1001, 1, 299, false);
    }
}
