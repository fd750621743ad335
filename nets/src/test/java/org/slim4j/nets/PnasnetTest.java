package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Arg;
import org.slim4j.layers.Layers;
import org.slim4j.nets.NasnetTest.PrevKind;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * pnasnet_large, pnasnet_mobile: end points as TF-Slim's pnasnet_test asserts, every variable name
 * and shape, parameter counts, options, and real forward passes in both modes.
 */
class PnasnetTest {
    private long liveBefore;

    @BeforeEach
    void rememberMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noMemoryLeft() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "bytes left allocated");
    }

    /** pnasnet_test's end points: Stem, Cell_i, AuxLogits (training), global_pool, Logits, Predictions. */
    static Map<String, int[]> expectedEndPoints(int batch, int classes, int stemSize, int stemChannels, int cellsPerStack, int[] sizes, int f,
                                                boolean training) {
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("Stem", new int[] {batch, stemSize, stemSize, stemChannels});
        int cell = 0;
        for (int stack = 0; stack < 3; stack++) {
            for (int i = 0; i < cellsPerStack; i++, cell++) m.put("Cell_" + cell, new int[] {batch, sizes[stack], sizes[stack], 5 * (f << stack)});
            if (stack == 1 && training) m.put("AuxLogits", new int[] {batch, classes});
        }
        m.put("global_pool", new int[] {batch, 20 * f});
        m.put("Logits", new int[] {batch, classes});
        m.put("Predictions", new int[] {batch, classes});
        return m;
    }

    @Test
    void endPointShapesAsInPnasnetTest() {
        ShapeBuild large = ShapeBuild.of(Nets.get("pnasnet_large"), 5, 331, 331, 1000, true);
        NasnetTest.assertEndPoints(expectedEndPoints(5, 1000, 42, 540, 4, new int[] {42, 21, 11}, 216, true), large, "large");
        assertEquals(17, large.endPoints().size());
        assertArrayEquals(new int[] {5, 1000}, large.logits());
        ShapeBuild mobile = ShapeBuild.of(Nets.get("pnasnet_mobile"), 5, 224, 224, 1000, true);
        NasnetTest.assertEndPoints(expectedEndPoints(5, 1000, 28, 135, 3, new int[] {28, 14, 7}, 54, true), mobile, "mobile");
        assertEquals(14, mobile.endPoints().size());
        assertArrayEquals(new int[] {5, 11, 11, 4320}, large.endPoints().get("Cell_11"));
        assertArrayEquals(new int[] {5, 1080}, mobile.endPoints().get("global_pool"));
    }

    // ---- variables -----------------------------------------------------------------------------------

    /** The PNAS cell's variables; h1 (the matched previous layer) has c1 channels. */
    static void pnasCell(NasnetExpect e, String s, int f, int cin, PrevKind prev, int cprev, int stride) {
        int c1 = NasnetTest.prev(e, s, f, cin, prev, cprev);
        e.conv(s + "/1x1", 1, 1, cin, f).bn(s + "/beginning_bn", f);
        e.sep(s + "/comb_iter_0/left", 5, c1, f);
        // max pool of h1: a 1x1 only when its channels differ
        if (c1 != f) e.conv1x1Bn(s + "/comb_iter_0/right/1x1", s + "/comb_iter_0/right/bn_1", c1, f);
        e.sep(s + "/comb_iter_1/left", 7, f, f);
        e.sep(s + "/comb_iter_2/left", 5, f, f).sep(s + "/comb_iter_2/right", 3, f, f);
        e.sep(s + "/comb_iter_3/left", 3, f, f);
        e.sep(s + "/comb_iter_4/left", 3, c1, f);
        // 'none' of h0 strides with a 1x1 conv
        if (stride > 1) e.conv1x1Bn(s + "/comb_iter_4/right/1x1", s + "/comb_iter_4/right/bn_1", f, f);
    }

    /** conv0, the two stem cells, then 3 stacks of n cells whose first (after the first stack) strides. */
    static NasnetExpect pnasnet(int f, int stem, int n, int auxSize, int classes, boolean training) {
        NasnetExpect e = new NasnetExpect();
        e.conv("conv0", 3, 3, 3, stem).bn("conv0_bn", stem);
        pnasCell(e, "cell_stem_0", f / 4, stem, PrevKind.NONE, 0, 2);
        pnasCell(e, "cell_stem_1", f / 2, 5 * (f / 4), PrevKind.FACT, stem, 2);
        int cell = 0;
        for (int stack = 0; stack < 3; stack++) {
            int fk = f << stack;
            if (stack == 0) {
                pnasCell(e, "cell_" + cell++, fk, 5 * (f / 2), PrevKind.FACT, 5 * (f / 4), 1);
                pnasCell(e, "cell_" + cell++, fk, 5 * fk, PrevKind.CONV, 5 * (f / 2), 1);
            } else {
                int before = 5 * (fk / 2);
                pnasCell(e, "cell_" + cell++, fk, before, PrevKind.CONV, before, 2);
                pnasCell(e, "cell_" + cell++, fk, 5 * fk, PrevKind.FACT, before, 1);
            }
            for (int i = 2; i < n; i++) pnasCell(e, "cell_" + cell++, fk, 5 * fk, PrevKind.CONV, 5 * fk, 1);
            if (stack == 1 && training) e.auxHead("aux_" + (cell - 1), 5 * fk, auxSize, classes);
        }
        e.fc("final_layer/FC", 20 * f, classes);
        return e;
    }

    @Test
    void everyVariableHasTfSlimsNameAndShape() {
        ShapeBuild mobile = ShapeBuild.of(Nets.get("pnasnet_mobile"), 1, 224, 224, 1001, true);
        NasnetExpect m = pnasnet(54, 32, 3, 14, 1001, true);
        for (String prefix : List.of("conv0", "cell_stem_0", "cell_stem_1", "cell_0", "cell_3", "cell_4", "aux_5", "final_layer")) {
            assertEquals(m.under(prefix), NasnetExpect.actual(mobile.variables(), prefix), prefix);
        }
        assertEquals(m.names, NasnetTest.actualList(mobile), "pnasnet_mobile, all variables in creation order");
        // mobile's stem cells have odd filter counts: 13 and 27; the factorized reduction gives the extra filter to path 2
        assertArrayEquals(new int[] {1, 1, 32, 13}, mobile.variables().get("cell_stem_1/path1_conv/weights"));
        assertArrayEquals(new int[] {1, 1, 32, 14}, mobile.variables().get("cell_stem_1/path2_conv/weights"));
        assertArrayEquals(new int[] {27}, mobile.variables().get("cell_stem_1/final_path_bn/gamma"));

        ShapeBuild large = ShapeBuild.of(Nets.get("pnasnet_large"), 1, 331, 331, 1001, true);
        assertEquals(pnasnet(216, 96, 4, 21, 1001, true).names, NasnetTest.actualList(large), "pnasnet_large");
        // pnasnet_test's testBuildNonExistingLayer*
        for (ShapeBuild b : List.of(mobile, large)) {
            assertTrue(b.variables().containsKey("cell_stem_0/1x1/weights"));
            assertTrue(b.variables().containsKey("cell_stem_0/comb_iter_0/right/1x1/weights"));
            assertFalse(b.variables().containsKey("cell_stem_1/comb_iter_0/right/1x1/weights"));
        }
        assertArrayEquals(new int[] {6, 6, 128, 768}, large.variables().get("aux_7/aux_logits/Conv/weights"));
        assertArrayEquals(new int[] {4320, 1001}, large.variables().get("final_layer/FC/weights"));
    }

    @Test
    void parameterCountsAreThoseOfTheReleasedModels() {
        // PNASNet-5 large, 1000 classes without the aux head: 86,057,668 trainable parameters, as
        // imgclsmob counts the port of this checkpoint
        ShapeBuild large = ShapeBuild.of(Nets.get("pnasnet_large"), 1, 331, 331, 1000, false);
        assertEquals(86_057_668L, large.trainable());
        for (boolean training : new boolean[] {false, true}) {
            NasnetExpect l = pnasnet(216, 96, 4, 21, 1001, training);
            ShapeBuild b = ShapeBuild.of(Nets.get("pnasnet_large"), 1, 331, 331, 1001, training);
            assertEquals(l.trainable, b.trainable());
            assertEquals(l.all, b.all());
            NasnetExpect m = pnasnet(54, 32, 3, 14, 1001, training);
            b = ShapeBuild.of(Nets.get("pnasnet_mobile"), 1, 224, 224, 1001, training);
            assertEquals(m.trainable, b.trainable());
            assertEquals(m.all, b.all());
        }
        // the paper's / README's sizes: 86.1M and 5.1M
        assertEquals(86.1, Math.round(pnasnet(216, 96, 4, 21, 1001, false).trainable / 1e5) / 10.0);
        long mobile = pnasnet(54, 32, 3, 14, 1001, false).trainable;
        assertEquals(5_065_568L, mobile);
        assertEquals(5.1, Math.round(mobile / 1e5) / 10.0);
        // multiply-adds as in the paper: 588M (mobile), 25.0B (large; 24.94B counting only conv/fc products)
        assertEquals(588e6, ShapeBuild.of(Nets.get("pnasnet_mobile"), 1, 224, 224, 1000, false).macs(), 1e6);
        assertEquals(25.0e9, large.macs(), 0.07e9);
    }

    @Test
    void options() {
        NetworkFn large = Nets.get("pnasnet_large");
        // pnasnet_test's testBuildPreLogits*: num_classes None gives the pooled features
        ShapeBuild b = ShapeBuild.of(large, 5, 331, 331, 0, true);
        assertArrayEquals(new int[] {5, 4320}, b.logits());
        assertFalse(b.endPoints().containsKey("AuxLogits") || b.endPoints().containsKey("Predictions"));
        assertArrayEquals(new int[] {5, 1080}, ShapeBuild.of(Nets.get("pnasnet_mobile"), 5, 224, 224, 0, true).logits());
        // testNoAuxHead*
        for (boolean aux : new boolean[] {true, false}) {
            b = ShapeBuild.of(large, 1, 331, 331, 1000, true, Nasnet.CONFIG.is(Pnasnet.largeImagenetConfig().withUseAuxHead(aux)));
            assertEquals(aux, b.endPoints().containsKey("AuxLogits"));
        }
        assertFalse(ShapeBuild.of(large, 1, 331, 331, 1000, false).endPoints().containsKey("AuxLogits"), "no aux head in inference");
        b = ShapeBuild.of(Nets.get("pnasnet_mobile"), 2, 224, 224, 10, true, Nasnet.FINAL_ENDPOINT.is("Cell_3"));
        assertArrayEquals(new int[] {2, 14, 14, 540}, b.logits());
        assertEquals(List.of("Stem", "Cell_0", "Cell_1", "Cell_2", "Cell_3"), new ArrayList<>(b.endPoints().keySet()));
        // the factory's arg scope is NASNet's: scale, decay 0.9997, epsilon 1e-3
        var bn = Pnasnet.pnasnetLargeArgScope(4e-5).defaultsFor(Layers.BATCH_NORM);
        assertEquals(0.9997, bn.get(Arg.DECAY, null));
        assertEquals(1e-3, bn.get(Arg.EPSILON, null));
        assertEquals("FC", Pnasnet.pnasnetMobileArgScope(4e-5).defaultsFor(Layers.FULLY_CONNECTED).get(Arg.SCOPE, null));
    }

    @Test
    void pnasnetMobileForwardAtReducedSizeInBothModes() {
        NasnetTest.forwardInBothModes("pnasnet_mobile", 2, 96, 10, true);
    }

    /** (Without a backward pass; initialising 86M parameters alone takes seconds, so it is tagged slow.) */
    @Test
    @Tag("slow")
    void pnasnetLargeForwardAtReducedSizeInBothModes() {
        NasnetTest.forwardInBothModes("pnasnet_large", 1, 96, 10, false);
    }

    /**
     * testUseBoundedActivation: with relu6 everywhere and the combinations passed through relu6, a
     * PNAS cell's output (five combinations) lies in [0, 6] whatever the weights; with relu it does not.
     */
    @Test
    void boundedActivationsBoundTheCellOutputs() {
        Nasnet.Config bounded = Pnasnet.mobileImagenetConfig().withUseBoundedActivation(true);
        try (TensorScope ts = TensorScope.open()) {
            Tensor images = Tensor.randomUniform(4, -50, 50, 1, 64, 64, 3);
            try (Network net = Network.create(Nets.get("pnasnet_mobile"), 10, 0.0, 2, Nasnet.CONFIG.is(bounded))) {
                NetOutput out = net.apply(images, false);
                for (String cell : List.of("Stem", "Cell_0", "Cell_5", "Cell_8")) {
                    for (double v : out.endPoints().get(cell).value().toDoubleArray()) assertTrue(v >= 0 && v <= 6, cell + " has " + v);
                }
            }
            try (Network net = Network.create(Nets.get("pnasnet_mobile"), 10, 0.0, 2)) {
                Var stem = net.apply(images, false).endPoints().get("Stem");
                double max = 0;
                double min = 0;
                for (double v : stem.value().toDoubleArray()) {
                    max = Math.max(max, v);
                    min = Math.min(min, v);
                }
                assertTrue(max > 6 || min < 0, "unbounded: " + min + " .. " + max);
            }
        }
    }

    @Test
    @Tag("slow")
    void fullSizeForwardPassesInBothModes() {
        NasnetTest.forwardInBothModes("pnasnet_mobile", 1, 224, 1001, true);
        NasnetTest.forwardInBothModes("pnasnet_large", 1, 331, 1001, true);
    }
}
