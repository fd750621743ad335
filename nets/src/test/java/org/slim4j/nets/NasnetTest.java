package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Args;
import org.slim4j.layers.Layers;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * nasnet_cifar, nasnet_mobile, nasnet_large: end points as TF-Slim's nasnet_test asserts,
 * every variable name and shape, parameter counts against the released models, options, and
 * real forward passes in both modes.
 */
class NasnetTest {
    private long liveBefore;

    @BeforeEach
    void rememberMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noMemoryLeft() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "bytes left allocated");
    }

    // ---- end points ----------------------------------------------------------------------------------

    /** The end points in TF's dict order, with nasnet_test's shapes (batch 5, training: aux head on). */
    static Map<String, int[]> expectedEndPoints(int batch, int classes, int stemSize, int stemChannels, int cellsPerStack, int[] sizes,
                                                int f, boolean training) {
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("Stem", new int[] {batch, stemSize, stemSize, stemChannels});
        int cell = 0;
        for (int stack = 0; stack < 3; stack++) {
            int fk = f << stack;
            if (stack > 0) m.put("Reduction_Cell_" + (stack - 1), new int[] {batch, sizes[stack], sizes[stack], 4 * fk});
            for (int i = 0; i < cellsPerStack; i++, cell++) {
                m.put("Cell_" + cell, new int[] {batch, sizes[stack], sizes[stack], 6 * fk});
            }
            if (stack == 1 && training) m.put("AuxLogits", new int[] {batch, classes});
        }
        m.put("global_pool", new int[] {batch, 24 * f});
        m.put("Logits", new int[] {batch, classes});
        m.put("Predictions", new int[] {batch, classes});
        return m;
    }

    static void assertEndPoints(Map<String, int[]> expected, ShapeBuild b, String what) {
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(b.endPoints().keySet()), what);
        expected.forEach((k, v) -> assertArrayEquals(v, b.endPoints().get(k), what + " " + k + " " + Arrays.toString(b.endPoints().get(k))));
    }

    @Test
    void endPointShapesAsInNasnetTest() {
        ShapeBuild cifar = ShapeBuild.of(Nets.get("nasnet_cifar"), 5, 32, 32, 10, true);
        assertEndPoints(expectedEndPoints(5, 10, 32, 96, 6, new int[] {32, 16, 8}, 32, true), cifar, "cifar");
        assertArrayEquals(new int[] {5, 10}, cifar.logits());
        ShapeBuild mobile = ShapeBuild.of(Nets.get("nasnet_mobile"), 5, 224, 224, 1000, true);
        assertEndPoints(expectedEndPoints(5, 1000, 28, 88, 4, new int[] {28, 14, 7}, 44, true), mobile, "mobile");
        assertArrayEquals(new int[] {5, 1000}, mobile.logits());
        ShapeBuild large = ShapeBuild.of(Nets.get("nasnet_large"), 5, 331, 331, 1000, true);
        assertEndPoints(expectedEndPoints(5, 1000, 42, 336, 6, new int[] {42, 21, 11}, 168, true), large, "large");
        assertArrayEquals(new int[] {5, 1000}, large.logits());
        // the spec's figures for a few of them
        assertArrayEquals(new int[] {5, 14, 14, 352}, mobile.endPoints().get("Reduction_Cell_0"));
        assertArrayEquals(new int[] {5, 11, 11, 4032}, large.endPoints().get("Cell_17"));
        assertArrayEquals(new int[] {5, 768}, cifar.endPoints().get("global_pool"));
    }

    // ---- variables -----------------------------------------------------------------------------------

    enum PrevKind { NONE, FACT, CONV }

    /** The NASNet-A normal cell's variables; h1 (the matched previous layer) has c1 channels. */
    static void normalCell(NasnetExpect e, String s, int f, int cin, PrevKind prev, int cprev) {
        int c1 = prev(e, s, f, cin, prev, cprev);
        e.conv(s + "/1x1", 1, 1, cin, f).bn(s + "/beginning_bn", f);
        e.sep(s + "/comb_iter_0/left", 5, f, f).sep(s + "/comb_iter_0/right", 3, c1, f);
        e.sep(s + "/comb_iter_1/left", 5, c1, f).sep(s + "/comb_iter_1/right", 3, c1, f);
        // comb_iter_2: avg pool of h0; 'none' of h1 (a 1x1 only when its channels differ)
        if (c1 != f) e.conv1x1Bn(s + "/comb_iter_2/right/1x1", s + "/comb_iter_2/right/bn_1", c1, f);
        // comb_iter_3: two avg pools of h1
        if (c1 != f) {
            e.conv1x1Bn(s + "/comb_iter_3/left/1x1", s + "/comb_iter_3/left/bn_1", c1, f);
            e.conv1x1Bn(s + "/comb_iter_3/right/1x1", s + "/comb_iter_3/right/bn_1", c1, f);
        }
        e.sep(s + "/comb_iter_4/left", 3, f, f);
        // h1 is part of the output: reduced to f channels when it has others
        if (c1 != f) e.conv(s + "/cell_output/reduction_1/path_conv", 1, 1, c1, f).bn(s + "/cell_output/reduction_1/path_bn", f);
    }

    /** The NASNet-A reduction cell's variables. */
    static void reductionCell(NasnetExpect e, String s, int f, int cin, PrevKind prev, int cprev) {
        int c1 = prev(e, s, f, cin, prev, cprev);
        e.conv(s + "/1x1", 1, 1, cin, f).bn(s + "/beginning_bn", f);
        e.sep(s + "/comb_iter_0/left", 5, f, f).sep(s + "/comb_iter_0/right", 7, c1, f);
        e.sep(s + "/comb_iter_1/right", 7, c1, f);
        e.sep(s + "/comb_iter_2/right", 5, c1, f);
        e.sep(s + "/comb_iter_4/left", 3, f, f);
    }

    /** The previous layer's matching; returns h1's channels. */
    static int prev(NasnetExpect e, String s, int f, int cin, PrevKind prev, int cprev) {
        switch (prev) {
            case NONE:
                return cin;
            case FACT:
                e.factorized(s, cprev, f);
                return f;
            default:
                e.conv1x1Bn(s + "/prev_1x1", s + "/prev_bn", cprev, f);
                return f;
        }
    }

    /** Every variable of a NASNet-A network after its stem: 3 stacks of n cells, reductions between. */
    static void nasnetCells(NasnetExpect e, int f, int n, int stemOut, PrevKind firstPrev, int firstPrevChannels, int auxSize, int classes,
                            boolean training) {
        int cell = 0;
        for (int stack = 0; stack < 3; stack++) {
            int fk = f << stack;
            int cin;
            if (stack == 0) {
                normalCell(e, "cell_" + cell++, fk, stemOut, firstPrev, firstPrevChannels);
                normalCell(e, "cell_" + cell++, fk, 6 * fk, PrevKind.CONV, stemOut);
            } else {
                int before = 6 * (fk / 2);
                reductionCell(e, "reduction_cell_" + (stack - 1), fk, before, PrevKind.CONV, before);
                normalCell(e, "cell_" + cell++, fk, 4 * fk, PrevKind.FACT, before);
                normalCell(e, "cell_" + cell++, fk, 6 * fk, PrevKind.CONV, 4 * fk);
            }
            for (int i = 2; i < n; i++) normalCell(e, "cell_" + cell++, fk, 6 * fk, PrevKind.CONV, 6 * fk);
            if (stack == 1 && training) e.auxHead("aux_" + (cell - 1), 6 * fk, auxSize, classes);
        }
        e.fc("final_layer/FC", 24 * f, classes);
    }

    /** NASNet mobile/large: conv0, two stem reduction cells, the cells. */
    static NasnetExpect imagenetNasnet(int f, int stem, int n, int auxSize, int classes, boolean training) {
        NasnetExpect e = new NasnetExpect();
        e.conv("conv0", 3, 3, 3, stem).bn("conv0_bn", stem);
        reductionCell(e, "cell_stem_0", f / 4, stem, PrevKind.NONE, 0);
        reductionCell(e, "cell_stem_1", f / 2, 4 * (f / 4), PrevKind.FACT, stem);
        nasnetCells(e, f, n, 4 * (f / 2), PrevKind.FACT, 4 * (f / 4), auxSize, classes, training);
        return e;
    }

    static NasnetExpect cifarNasnet(int classes, boolean training) {
        NasnetExpect e = new NasnetExpect();
        e.conv("l1_stem_3x3", 3, 3, 3, 96).bn("l1_stem_bn", 96);
        nasnetCells(e, 32, 6, 96, PrevKind.NONE, 0, 16, classes, training);
        return e;
    }

    static List<String> actualList(ShapeBuild b) {
        List<String> out = new ArrayList<>();
        b.variables().forEach((k, v) -> out.add(k + " " + Arrays.toString(v)));
        return out;
    }

    @Test
    void everyVariableHasTfSlimsNameAndShape() {
        // NASNet-A mobile in training mode at 1001 classes: the layout of the released checkpoint
        ShapeBuild mobile = ShapeBuild.of(Nets.get("nasnet_mobile"), 1, 224, 224, 1001, true);
        NasnetExpect m = imagenetNasnet(44, 32, 4, 14, 1001, true);
        for (String prefix : List.of("conv0", "conv0_bn", "cell_stem_0", "cell_stem_1", "cell_0", "cell_1", "reduction_cell_0", "cell_4", "aux_7",
            "final_layer")) {
            assertEquals(m.under(prefix), NasnetExpect.actual(mobile.variables(), prefix), prefix);
        }
        assertEquals(m.names, (actualList(mobile)), "nasnet_mobile, all variables in creation order");
        // a few written out in full, as a checkpoint lists them
        assertArrayEquals(new int[] {1, 1, 32, 11}, mobile.variables().get("cell_stem_1/path1_conv/weights"));
        assertArrayEquals(new int[] {7, 7, 32, 1}, mobile.variables().get("cell_stem_0/comb_iter_0/right/separable_7x7_1/depthwise_weights"));
        assertArrayEquals(new int[] {1, 1, 88, 44}, mobile.variables().get("cell_1/prev_1x1/weights"));
        assertArrayEquals(new int[] {4, 4, 128, 768}, mobile.variables().get("aux_7/aux_logits/Conv/weights"));
        assertArrayEquals(new int[] {1056, 1001}, mobile.variables().get("final_layer/FC/weights"));
        assertArrayEquals(new int[] {44}, mobile.variables().get("cell_3/comb_iter_4/left/bn_sep_3x3_2/moving_variance"));

        ShapeBuild large = ShapeBuild.of(Nets.get("nasnet_large"), 1, 331, 331, 1001, true);
        assertEquals(imagenetNasnet(168, 96, 6, 21, 1001, true).names, (actualList(large)), "nasnet_large");
        assertArrayEquals(new int[] {6, 6, 128, 768}, large.variables().get("aux_11/aux_logits/Conv/weights"));

        ShapeBuild cifar = ShapeBuild.of(Nets.get("nasnet_cifar"), 1, 32, 32, 10, true);
        assertEquals(cifarNasnet(10, true).names, (actualList(cifar)), "nasnet_cifar");
        // the first cell's previous layer is the stem itself: 96 channels reduced in cell_output
        assertArrayEquals(new int[] {1, 1, 96, 32}, cifar.variables().get("cell_0/cell_output/reduction_1/path_conv/weights"));
        assertArrayEquals(new int[] {1, 1, 96, 32}, cifar.variables().get("cell_0/comb_iter_3/right/1x1/weights"));

        // inference mode builds no aux head
        ShapeBuild eval = ShapeBuild.of(Nets.get("nasnet_mobile"), 1, 224, 224, 1001, false);
        assertEquals(imagenetNasnet(44, 32, 4, 14, 1001, false).names, (actualList(eval)));
        assertTrue(eval.variables().keySet().stream().noneMatch(k -> k.startsWith("aux_")));
    }

    // ---- parameter counts ----------------------------------------------------------------------------

    @Test
    void parameterCountsAreThoseOfTheReleasedModels() {
        // Keras' NASNetMobile / NASNetLarge (converted from these checkpoints, 1000 classes, no aux
        // head): 5,326,716 / 88,949,818 parameters in 1126 / 1546 weights; trainable 5,289,978 /
        // 88,753,150 (also imgclsmob's count of NASNet-A 6@4032).
        ShapeBuild mobile = ShapeBuild.of(Nets.get("nasnet_mobile"), 1, 224, 224, 1000, false);
        assertEquals(5_289_978L, mobile.trainable());
        assertEquals(5_326_716L, mobile.all());
        assertEquals(1126, mobile.variables().size());
        ShapeBuild large = ShapeBuild.of(Nets.get("nasnet_large"), 1, 331, 331, 1000, false);
        assertEquals(88_753_150L, large.trainable());
        assertEquals(88_949_818L, large.all());
        assertEquals(1546, large.variables().size());

        // the same counted from the architecture, and with the checkpoints' 1001 classes and aux head
        for (boolean training : new boolean[] {false, true}) {
            NasnetExpect m = imagenetNasnet(44, 32, 4, 14, 1001, training);
            ShapeBuild b = ShapeBuild.of(Nets.get("nasnet_mobile"), 1, 224, 224, 1001, training);
            assertEquals(m.trainable, b.trainable());
            assertEquals(m.all, b.all());
            NasnetExpect l = imagenetNasnet(168, 96, 6, 21, 1001, training);
            b = ShapeBuild.of(Nets.get("nasnet_large"), 1, 331, 331, 1001, training);
            assertEquals(l.trainable, b.trainable());
            assertEquals(l.all, b.all());
            NasnetExpect c = cifarNasnet(10, training);
            b = ShapeBuild.of(Nets.get("nasnet_cifar"), 1, 32, 32, 10, training);
            assertEquals(c.trainable, b.trainable());
            assertEquals(c.all, b.all());
        }
        assertEquals(5_291_035L, imagenetNasnet(44, 32, 4, 14, 1001, false).trainable, "README: 5.3M");
        assertEquals(5_291_035L + 2_412_009L, imagenetNasnet(44, 32, 4, 14, 1001, true).trainable, "with the aux head");
        assertEquals(88_757_183L, imagenetNasnet(168, 96, 6, 21, 1001, false).trainable, "README: 88.9M");
        // the paper's NASNet-A (6 @ 768) on CIFAR-10: 3.3M
        long cifar = cifarNasnet(10, false).trainable;
        assertEquals(3_346_538L, cifar);
        assertEquals(3.3, Math.round(cifar / 1e5) / 10.0);

        // multiply-adds of one image, as the paper reports them: 564M (mobile), 23.8B (large)
        assertEquals(564e6, ShapeBuild.of(Nets.get("nasnet_mobile"), 1, 224, 224, 1000, false).macs(), 1e6);
        assertEquals(23.8e9, large.macs(), 0.05e9);
    }

    // ---- options -------------------------------------------------------------------------------------

    @Test
    void preLogitsAuxHeadFinalEndpointAndConfigOptions() {
        NetworkFn mobile = Nets.get("nasnet_mobile");
        // num_classes 0: the global pool, no logits, predictions or aux head
        ShapeBuild b = ShapeBuild.of(mobile, 5, 224, 224, 0, true);
        assertArrayEquals(new int[] {5, 1056}, b.logits());
        List<String> names = new ArrayList<>(b.endPoints().keySet());
        assertEquals("global_pool", names.get(names.size() - 1));
        assertFalse(b.endPoints().containsKey("AuxLogits") || b.endPoints().containsKey("Logits") || b.endPoints().containsKey("Predictions"));
        assertTrue(b.variables().keySet().stream().noneMatch(k -> k.contains("FC") || k.startsWith("aux_")));
        // cifar likewise
        assertArrayEquals(new int[] {5, 768}, ShapeBuild.of(Nets.get("nasnet_cifar"), 5, 32, 32, 0, true).logits());

        // inference mode: no aux head
        b = ShapeBuild.of(mobile, 2, 224, 224, 1001, false);
        assertEquals(expectedEndPoints(2, 1001, 28, 88, 4, new int[] {28, 14, 7}, 44, false).keySet(), b.endPoints().keySet());
        // use_aux_head off
        b = ShapeBuild.of(mobile, 2, 224, 224, 1001, true, Nasnet.CONFIG.is(Nasnet.mobileImagenetConfig().withUseAuxHead(false)));
        assertFalse(b.endPoints().containsKey("AuxLogits"));
        assertTrue(ShapeBuild.of(mobile, 2, 224, 224, 1001, true).endPoints().containsKey("AuxLogits"));

        // final_endpoint stops the build there
        b = ShapeBuild.of(mobile, 2, 224, 224, 1001, true, Nasnet.FINAL_ENDPOINT.is("Cell_5"));
        assertArrayEquals(new int[] {2, 14, 14, 528}, b.logits());
        List<String> upTo = new ArrayList<>(expectedEndPoints(2, 1001, 28, 88, 4, new int[] {28, 14, 7}, 44, true).keySet()).subList(0, 8);
        assertEquals(upTo, new ArrayList<>(b.endPoints().keySet()));
        assertTrue(b.variables().keySet().stream().noneMatch(k -> k.startsWith("cell_6/") || k.startsWith("final_layer")));
        b = ShapeBuild.of(mobile, 2, 224, 224, 1001, true, Nasnet.FINAL_ENDPOINT.is("Reduction_Cell_1"));
        assertArrayEquals(new int[] {2, 7, 7, 704}, b.logits());
        // as in TF, stopping at Logits returns the dropout output, not the logits
        b = ShapeBuild.of(mobile, 2, 224, 224, 1001, true, Nasnet.FINAL_ENDPOINT.is("Logits"));
        assertArrayEquals(new int[] {2, 1056}, b.logits());
        assertArrayEquals(new int[] {2, 1001}, b.endPoints().get("Logits"));
        assertFalse(b.endPoints().containsKey("Predictions"));

        // a config changes the network: 6 cells of 20 filters with a stem multiplier of 2
        Nasnet.Config small = Nasnet.mobileImagenetConfig().withNumCells(6).withNumConvFilters(20).withStemMultiplier(2.0);
        b = ShapeBuild.of(mobile, 1, 224, 224, 7, true, Nasnet.CONFIG.is(small));
        assertArrayEquals(new int[] {3, 3, 3, 64}, b.variables().get("conv0/weights"));
        assertArrayEquals(new int[] {1, 7, 7, 480}, b.endPoints().get("Cell_5"));
        assertTrue(b.endPoints().containsKey("AuxLogits") && b.variables().containsKey("aux_3/aux_logits/proj/weights"), "aux after cell 3 of 6");
        assertArrayEquals(new int[] {480, 7}, b.variables().get("final_layer/FC/weights"));
    }

    @Test
    void badArgumentsAreRejectedWithClearMessages() {
        NetworkFn mobile = Nets.get("nasnet_mobile");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ShapeBuild.of(mobile, 1, 224, 224, 10, false, NetArg.SPATIAL_SQUEEZE.is(true)));
        assertEquals("nasnet_mobile() got an unexpected keyword argument 'spatial_squeeze'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> ShapeBuild.of(Nets.get("nasnet_cifar"), 1, 32, 32, 10, false, Nasnet.FINAL_ENDPOINT.is("Cell_3")));
        assertEquals("nasnet_cifar() got an unexpected keyword argument 'final_endpoint'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> ShapeBuild.of(mobile, 1, 224, 224, 10, false, Nasnet.CONFIG.is(Nasnet.mobileImagenetConfig().withDataFormat("NCHW"))));
        assertEquals("nasnet: data_format NCHW is not supported (only NHWC)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Nasnet.mobileImagenetConfig().withDropPathKeepProb(0));
        assertEquals("nasnet config: drop_path_keep_prob must be in (0, 1], got 0.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(mobile, 1, 224, 224, -1, false));
        assertEquals("nasnet_mobile: num_classes must be >= 0, got -1", e.getMessage());
        // too small an image for the aux head's 5x5 pool (the map before it is 4x4 at 64 pixels)
        e = assertThrows(IllegalArgumentException.class, () -> ShapeBuild.of(mobile, 1, 64, 64, 10, true));
        assertTrue(e.getMessage().startsWith("avg_pool"), e.getMessage());
        assertTrue(ArgScope.current().kinds().isEmpty(), "arg scopes are closed after a failed build");
    }

    @Test
    void argScopesCarryTfSlimsDefaults() {
        ArgScope cifar = Nasnet.nasnetCifarArgScope(5e-4);
        Args bn = cifar.defaultsFor(Layers.BATCH_NORM);
        assertEquals(0.9, bn.get(Arg.DECAY, null));
        assertEquals(1e-5, bn.get(Arg.EPSILON, null));
        assertEquals(true, bn.get(Arg.SCALE, null));
        assertEquals(true, bn.get(Arg.FUSED, null));
        Args mobileBn = Nasnet.nasnetMobileArgScope(4e-5).defaultsFor(Layers.BATCH_NORM);
        assertEquals(0.9997, mobileBn.get(Arg.DECAY, null));
        assertEquals(1e-3, mobileBn.get(Arg.EPSILON, null));
        Args largeBn = Nasnet.nasnetLargeArgScope(5e-5).defaultsFor(Layers.BATCH_NORM);
        assertEquals(0.9997, largeBn.get(Arg.DECAY, null));
        for (var kind : List.of(Layers.CONV2D, Layers.SEPARABLE_CONV2D)) {
            Args a = cifar.defaultsFor(kind);
            assertTrue(a.has(Arg.BIASES_INITIALIZER) && a.get(Arg.BIASES_INITIALIZER, null) == null, "no biases on " + kind);
            assertTrue(a.has(Arg.ACTIVATION_FN) && a.get(Arg.ACTIVATION_FN, null) == null, "linear " + kind);
            assertNotNull(a.get(Arg.WEIGHTS_REGULARIZER, null));
        }
        Args fc = cifar.defaultsFor(Layers.FULLY_CONNECTED);
        assertEquals("FC", fc.get(Arg.SCOPE, null));
        assertFalse(fc.has(Arg.BIASES_INITIALIZER), "fc keeps its biases");

        // the initializer is variance scaling with FAN_OUT: final_layer/FC/weights [1056, 10] has
        // fan_out 10, a truncated normal of stddev sqrt(1.3 * 2 / 10) (no value beyond 2 sigma)
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("nasnet_mobile"), 10, 4e-5, 5)) {
            net.createVariables(96, 96, false);
            double[] w = net.variables().get("final_layer/FC/weights").value().toDoubleArray();
            double sigma = Math.sqrt(1.3 * 2 / 10);
            double ss = 0;
            for (double v : w) {
                assertTrue(Math.abs(v) <= 2 * sigma + 1e-6);
                ss += v * v;
            }
            // a normal truncated at 2 sigma has a standard deviation of 0.8796 sigma
            assertEquals(0.8796 * sigma, Math.sqrt(ss / w.length), 0.03 * sigma);
            // every conv, separable conv and fc weight is regularised, nothing else
            long weights = net.variables().variables().stream().filter(v -> v.name().endsWith("weights")).count();
            assertEquals(weights, net.variables().regularizationLosses().size());
            // shape-only and real builds agree on the variables
            assertEquals(new ArrayList<>(ShapeBuild.of(Nets.get("nasnet_mobile"), 1, 96, 96, 10, false).variables().keySet()),
                net.variables().variables().stream().map(Variable::name).toList());
        }
    }

    // ---- forward passes ------------------------------------------------------------------------------

    /**
     * A real forward pass in both modes; shapes agree with the shape-only build, values are finite,
     * and (when {@code backward}) gradients reach every trainable variable.
     */
    static void forwardInBothModes(String name, int batch, int size, int classes, boolean backward, Arg.Value<?>... options) {
        NetworkFn fn = Nets.get(name);
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(fn, classes, 4e-5, 21, options)) {
            Tensor images = Tensor.randomUniform(8, -1, 1, batch, size, size, 3);
            NetOutput eval = net.apply(images, false);
            ShapeBuild expectedEval = ShapeBuild.of(fn, batch, size, size, classes, false, options);
            assertEquals(expectedEval.endPoints().keySet(), eval.endPoints().names(), name);
            eval.endPoints().asMap().forEach((k, v) -> assertArrayEquals(expectedEval.endPoints().get(k), v.value().dims(), name + " " + k));
            assertFinite(eval.logits(), name + " eval logits");
            String firstBn = net.variables().variables().stream().filter(v -> v.name().endsWith("moving_mean")).findFirst().orElseThrow().name();
            assertEquals(0.0, org.slim4j.tensor.testing.Close.maxAbs(net.variables().get(firstBn).value().toDoubleArray()),
                "inference leaves the moving statistics alone");

            NetOutput train = net.apply(images, true);
            ShapeBuild expectedTrain = ShapeBuild.of(fn, batch, size, size, classes, true, options);
            assertEquals(expectedTrain.endPoints().keySet(), train.endPoints().names(), name);
            train.endPoints().asMap().forEach((k, v) -> assertArrayEquals(expectedTrain.endPoints().get(k), v.value().dims(), name + " " + k));
            assertTrue(train.endPoints().contains("AuxLogits"), name);
            assertFinite(train.logits(), name + " train logits");
            assertFinite(train.endPoints().get("AuxLogits"), name + " aux logits");
            assertTrue(org.slim4j.tensor.testing.Close.maxAbs(net.variables().get(firstBn).value().toDoubleArray()) > 0,
                "training updates the moving statistics");
            assertEquals(expectedTrain.trainable(), net.variables().trainableParameterCount());

            Var loss = org.slim4j.autograd.ops.ElementwiseOps.add(org.slim4j.autograd.ops.ReduceOps.mean(train.logits()),
                org.slim4j.autograd.ops.ReduceOps.mean(train.endPoints().get("AuxLogits")));
            if (!backward) return;
            loss.backward();
            for (Variable v : net.variables().trainableVariables()) assertNotNull(v.var().grad(), name + ": no gradient reaches " + v.name());
            for (Var p : net.variables().trainableVars()) p.zeroGrad();
        }
    }

    static void assertFinite(Var v, String what) {
        for (double d : v.value().toDoubleArray()) assertTrue(Double.isFinite(d), what + " has " + d);
    }

    @Test
    void nasnetMobileForwardAtReducedSizeInBothModes() {
        forwardInBothModes("nasnet_mobile", 2, 96, 10, true);
    }

    /** All 18 cells with drop path fully ramped, on 16x16 images (a quarter of the work of 32x32). */
    @Test
    void nasnetCifarForwardInBothModes() {
        forwardInBothModes("nasnet_cifar", 1, 16, 10, true, Nasnet.CURRENT_STEP.is(() -> 937_500L));
    }

    /** (Without a backward pass; initialising 88M parameters alone takes seconds, so it is tagged slow.) */
    @Test
    @Tag("slow")
    void nasnetLargeForwardAtReducedSizeInBothModes() {
        forwardInBothModes("nasnet_large", 1, 96, 10, false);
    }

    /** Drop path follows the training step: no randomness at step 0, per-pass masks later, reproducible per network seed. */
    @Test
    void dropPathIsScheduledByTheTrainingStep() {
        // a short cifar net (3 cells) on 16x16 images: drop path keep 0.6, no dense dropout, so drop
        // path is the only random op
        Nasnet.Config config = Nasnet.cifarConfig().withNumCells(3);
        long[] step = {0};
        LongSupplier currentStep = () -> step[0];
        try (TensorScope ts = TensorScope.open()) {
            Tensor images = Tensor.randomUniform(9, -1, 1, 2, 16, 16, 3);
            double[] a0;
            double[] a1;
            try (Network a = Network.create(Nets.get("nasnet_cifar"), 10, 0.0, 3, Nasnet.CONFIG.is(config), Nasnet.CURRENT_STEP.is(currentStep))) {
                a0 = a.apply(images, true).logits().value().toDoubleArray();
                assertArrayEquals(a0, a.apply(images, true).logits().value().toDoubleArray(), 1e-6, "step 0: drop path keeps everything");
                step[0] = config.totalTrainingSteps();
                a1 = a.apply(images, true).logits().value().toDoubleArray();
                assertNotEquals(Arrays.toString(a0), Arrays.toString(a1), "fully ramped: paths are dropped");
                assertNotEquals(Arrays.toString(a1), Arrays.toString(a.apply(images, true).logits().value().toDoubleArray()), "a new mask each pass");
            }
            step[0] = 0;
            try (Network b = Network.create(Nets.get("nasnet_cifar"), 10, 0.0, 3, Nasnet.CONFIG.is(config), Nasnet.CURRENT_STEP.is(currentStep))) {
                assertArrayEquals(a0, b.apply(images, true).logits().value().toDoubleArray(), 1e-6);
                step[0] = config.totalTrainingSteps();
                b.apply(images, true); // the second pass of a, at step 0, drew no masks but counts as a pass
                assertArrayEquals(a1, b.apply(images, true).logits().value().toDoubleArray(), 1e-6, "the same network seed and pass number give the same masks");
            }
        }
    }

    @Test
    @Tag("slow")
    void fullSizeForwardPassesInBothModes() {
        forwardInBothModes("nasnet_cifar", 2, 32, 10, true, Nasnet.CURRENT_STEP.is(() -> 937_500L));
        forwardInBothModes("nasnet_mobile", 1, 224, 1001, true);
        forwardInBothModes("nasnet_large", 1, 331, 1001, true);
    }
}
