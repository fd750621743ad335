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

/** inception_v4 as TF-Slim's inception_v4_test asserts it, from shape-only builds, plus a real forward pass. */
class InceptionV4Test {
    private static final List<String> END_POINTS = List.of("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Mixed_3a", "Mixed_4a",
        "Mixed_5a", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_5e", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_6f",
        "Mixed_6g", "Mixed_6h", "Mixed_7a", "Mixed_7b", "Mixed_7c", "Mixed_7d");

    /** The base's variables from the paper's figures 3-8 with TF-Slim's scope names. */
    static ExpectedVariables baseVariables() {
        ExpectedVariables e = new ExpectedVariables("InceptionV4/");
        e.conv("Conv2d_1a_3x3", 3, 3, 32).conv("Conv2d_2a_3x3", 3, 32, 32).conv("Conv2d_2b_3x3", 3, 32, 64);
        e.conv("Mixed_3a/Branch_1/Conv2d_0a_3x3", 3, 64, 96);
        e.conv("Mixed_4a/Branch_0/Conv2d_0a_1x1", 1, 160, 64).conv("Mixed_4a/Branch_0/Conv2d_1a_3x3", 3, 64, 96);
        e.conv("Mixed_4a/Branch_1/Conv2d_0a_1x1", 1, 160, 64).conv("Mixed_4a/Branch_1/Conv2d_0b_1x7", 1, 7, 64, 64)
            .conv("Mixed_4a/Branch_1/Conv2d_0c_7x1", 7, 1, 64, 64).conv("Mixed_4a/Branch_1/Conv2d_1a_3x3", 3, 64, 96);
        e.conv("Mixed_5a/Branch_0/Conv2d_1a_3x3", 3, 192, 192);
        for (char c = 'b'; c <= 'e'; c++) {
            String m = "Mixed_5" + c;
            e.conv(m + "/Branch_0/Conv2d_0a_1x1", 1, 384, 96);
            e.conv(m + "/Branch_1/Conv2d_0a_1x1", 1, 384, 64).conv(m + "/Branch_1/Conv2d_0b_3x3", 3, 64, 96);
            e.conv(m + "/Branch_2/Conv2d_0a_1x1", 1, 384, 64).conv(m + "/Branch_2/Conv2d_0b_3x3", 3, 64, 96).conv(m + "/Branch_2/Conv2d_0c_3x3", 3, 96, 96);
            e.conv(m + "/Branch_3/Conv2d_0b_1x1", 1, 384, 96);
        }
        e.conv("Mixed_6a/Branch_0/Conv2d_1a_3x3", 3, 384, 384);
        e.conv("Mixed_6a/Branch_1/Conv2d_0a_1x1", 1, 384, 192).conv("Mixed_6a/Branch_1/Conv2d_0b_3x3", 3, 192, 224)
            .conv("Mixed_6a/Branch_1/Conv2d_1a_3x3", 3, 224, 256);
        for (char c = 'b'; c <= 'h'; c++) {
            String m = "Mixed_6" + c;
            e.conv(m + "/Branch_0/Conv2d_0a_1x1", 1, 1024, 384);
            e.conv(m + "/Branch_1/Conv2d_0a_1x1", 1, 1024, 192).conv(m + "/Branch_1/Conv2d_0b_1x7", 1, 7, 192, 224)
                .conv(m + "/Branch_1/Conv2d_0c_7x1", 7, 1, 224, 256);
            e.conv(m + "/Branch_2/Conv2d_0a_1x1", 1, 1024, 192).conv(m + "/Branch_2/Conv2d_0b_7x1", 7, 1, 192, 192)
                .conv(m + "/Branch_2/Conv2d_0c_1x7", 1, 7, 192, 224).conv(m + "/Branch_2/Conv2d_0d_7x1", 7, 1, 224, 224)
                .conv(m + "/Branch_2/Conv2d_0e_1x7", 1, 7, 224, 256);
            e.conv(m + "/Branch_3/Conv2d_0b_1x1", 1, 1024, 128);
        }
        e.conv("Mixed_7a/Branch_0/Conv2d_0a_1x1", 1, 1024, 192).conv("Mixed_7a/Branch_0/Conv2d_1a_3x3", 3, 192, 192);
        e.conv("Mixed_7a/Branch_1/Conv2d_0a_1x1", 1, 1024, 256).conv("Mixed_7a/Branch_1/Conv2d_0b_1x7", 1, 7, 256, 256)
            .conv("Mixed_7a/Branch_1/Conv2d_0c_7x1", 7, 1, 256, 320).conv("Mixed_7a/Branch_1/Conv2d_1a_3x3", 3, 320, 320);
        for (char c = 'b'; c <= 'd'; c++) {
            String m = "Mixed_7" + c;
            e.conv(m + "/Branch_0/Conv2d_0a_1x1", 1, 1536, 256);
            e.conv(m + "/Branch_1/Conv2d_0a_1x1", 1, 1536, 384).conv(m + "/Branch_1/Conv2d_0b_1x3", 1, 3, 384, 256)
                .conv(m + "/Branch_1/Conv2d_0c_3x1", 3, 1, 384, 256);
            e.conv(m + "/Branch_2/Conv2d_0a_1x1", 1, 1536, 384).conv(m + "/Branch_2/Conv2d_0b_3x1", 3, 1, 384, 448)
                .conv(m + "/Branch_2/Conv2d_0c_1x3", 1, 3, 448, 512).conv(m + "/Branch_2/Conv2d_0d_1x3", 1, 3, 512, 256)
                .conv(m + "/Branch_2/Conv2d_0e_3x1", 3, 1, 512, 256);
            e.conv(m + "/Branch_3/Conv2d_0b_1x1", 1, 1536, 256);
        }
        return e;
    }

    static ExpectedVariables fullVariables(int classes, boolean aux) {
        ExpectedVariables e = baseVariables();
        if (aux) e.conv("AuxLogits/Conv2d_1b_1x1", 1, 1024, 128).conv("AuxLogits/Conv2d_2a", 5, 128, 768).fc("AuxLogits/Aux_logits", 768, classes);
        return e.fc("Logits/Logits", 1536, classes);
    }

    @Test
    void baseEndPointsAndVariables() {
        ShapeBuild b = InceptionTesting.base(InceptionV4::inceptionV4Base, InceptionUtils.inceptionArgScope(), 5, 299, 299, 3);
        assertEquals(END_POINTS, new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {5, 149, 149, 32}, b.endPoints().get("Conv2d_1a_3x3"));
        assertArrayEquals(new int[] {5, 147, 147, 32}, b.endPoints().get("Conv2d_2a_3x3"));
        assertArrayEquals(new int[] {5, 147, 147, 64}, b.endPoints().get("Conv2d_2b_3x3"));
        assertArrayEquals(new int[] {5, 73, 73, 160}, b.endPoints().get("Mixed_3a"));
        assertArrayEquals(new int[] {5, 71, 71, 192}, b.endPoints().get("Mixed_4a"));
        for (String k : END_POINTS.subList(5, END_POINTS.size())) {
            int[] expected = k.startsWith("Mixed_5") ? new int[] {5, 35, 35, 384}
                : k.startsWith("Mixed_6") ? new int[] {5, 17, 17, 1024} : new int[] {5, 8, 8, 1536};
            assertArrayEquals(expected, b.endPoints().get(k), k);
        }
        ExpectedVariables e = baseVariables();
        e.assertMatches(b.variables(), "inception_v4_base");
        assertEquals(e.all(), b.all());
        assertEquals(e.trainable(), b.trainable());
    }

    @Test
    void classificationNetworkEndPointsAndParameterCounts() {
        ShapeBuild b = ShapeBuild.of(Nets.get("inception_v4"), 5, 1000);
        List<String> names = new ArrayList<>(END_POINTS);
        names.addAll(List.of("AuxLogits", "global_pool", "PreLogitsFlatten", "Logits", "Predictions"));
        assertEquals(names, new ArrayList<>(b.endPoints().keySet()));
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("AuxLogits"));
        assertArrayEquals(new int[] {5, 1, 1, 1536}, b.endPoints().get("global_pool"));
        assertArrayEquals(new int[] {5, 1536}, b.endPoints().get("PreLogitsFlatten"));
        assertArrayEquals(new int[] {5, 1000}, b.endPoints().get("Predictions"));
        for (int classes : new int[] {1000, 1001}) {
            for (boolean aux : new boolean[] {true, false}) {
                ShapeBuild full = ShapeBuild.of(Nets.get("inception_v4"), 1, 299, 299, classes, true, NetArg.CREATE_AUX_LOGITS.is(aux));
                ExpectedVariables e = fullVariables(classes, aux);
                e.assertMatches(full.variables(), "inception_v4 " + classes + " aux " + aux);
                assertEquals(e.trainable(), full.trainable());
                assertEquals(e.all(), full.all());
            }
        }
        assertEquals(1001, Nets.get("inception_v4").defaultNumClasses());
        ShapeBuild released = ShapeBuild.of(Nets.get("inception_v4"), 1, 1001);
        assertEquals(46_009_106L, released.trainable());
        assertEquals(46_074_066L, released.all());
        // The PyTorch ports of this checkpoint (timm / pretrainedmodels: 42,679,816 parameters) drop
        // the aux head, keep 1000 classes and give every batch norm a gamma as well as a beta.
        ExpectedVariables port = fullVariables(1000, false);
        assertEquals(42_679_816L, port.trainable() + port.bnChannels());
        assertEquals(12_260_479_328L, released.macs(), "about 12.3 G multiply-adds at 299x299");
    }

    @Test
    void options() {
        NetworkFn fn = Nets.get("inception_v4");
        // testBuildWithoutAuxLogits / testBuildNoClasses
        ShapeBuild noAux = ShapeBuild.of(fn, 5, 299, 299, 1000, true, NetArg.CREATE_AUX_LOGITS.is(false));
        assertFalse(noAux.endPoints().containsKey("AuxLogits"));
        assertArrayEquals(new int[] {5, 1000}, noAux.logits());
        ShapeBuild none = ShapeBuild.of(fn, 5, 299, 299, 0, true);
        assertArrayEquals(new int[] {5, 1, 1, 1536}, none.logits());
        for (String k : List.of("AuxLogits", "PreLogitsFlatten", "Logits", "Predictions")) assertFalse(none.endPoints().containsKey(k), k);
        // testHalfSizeImages: the aux conv and the final pool take the whole (smaller) map
        ShapeBuild half = ShapeBuild.of(fn, 5, 150, 150, 1000, false);
        assertArrayEquals(new int[] {5, 3, 3, 1536}, half.endPoints().get("Mixed_7d"));
        assertArrayEquals(new int[] {1, 1, 128, 768}, half.variables().get("InceptionV4/AuxLogits/Conv2d_2a/weights"));
        assertArrayEquals(new int[] {5, 1000}, half.logits());
        // testGlobalPool: 350x400 → a 9x11 map pooled whole
        ShapeBuild big = ShapeBuild.of(fn, 1, 350, 400, 1000, false);
        assertArrayEquals(new int[] {1, 9, 11, 1536}, big.endPoints().get("Mixed_7d"));
        assertArrayEquals(new int[] {1, 1, 1, 1536}, big.endPoints().get("global_pool"));
        assertArrayEquals(new int[] {1, 1000}, big.logits());
        // inception_v4 has no spatial_squeeze or global_pool argument
        assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 1, 299, 299, 10, false, NetArg.SPATIAL_SQUEEZE.is(false)));
        assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(fn, 1, 299, 299, 10, false, NetArg.GLOBAL_POOL.is(true)));
        assertTrue(ShapeBuild.of(fn, 1, 299, 299, 10, false, NetArg.SCOPE.is("v4")).variables().containsKey("v4/Logits/Logits/weights"));
    }

    @Test
    void baseUpToEveryFinalEndpoint() {
        for (int i = 0; i < END_POINTS.size(); i++) {
            String last = END_POINTS.get(i);
            ShapeBuild b = InceptionTesting.base(x -> InceptionV4.inceptionV4Base(x, last, null), ArgScope.empty(), 5, 299, 299, 3);
            assertEquals(END_POINTS.subList(0, i + 1), new ArrayList<>(b.endPoints().keySet()), last);
            assertArrayEquals(b.endPoints().get(last), b.logits());
        }
        assertThrows(IllegalArgumentException.class,
            () -> InceptionTesting.base(x -> InceptionV4.inceptionV4Base(x, "Mixed_6i", null), ArgScope.empty(), 1, 299, 299, 3));
    }

    /** Slow: drawing the 46 M truncated-normal initial values alone takes several seconds on a shared machine. */
    @Test
    @Tag("slow")
    void forwardInTrainingAndInferenceMode() {
        // 107 is the smallest input whose Mixed_6h (5x5) still feeds the 5x5/3 aux pool
        InceptionTesting.forwardInBothModes(Nets.get("inception_v4"), 10, 1, 107, false);
    }

    @Test
    @Tag("slow")
    void forwardAtDefaultSizeInBothModes() {
        InceptionTesting.forwardInBothModes(Nets.get("inception_v4"), 1001, 1, 299, false);
    }
}
