package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/** vgg_a / vgg_16 / vgg_19: names, shapes and sizes as TF-Slim's vgg_test asserts, from shape-only builds. */
class VggTest {
    private static final int[] DEPTHS = {64, 128, 256, 512, 512};

    private static int[] repeats(String name) {
        return switch (name) {
            case "vgg_a" -> new int[] {1, 1, 2, 2, 2};
            case "vgg_16" -> new int[] {2, 2, 3, 3, 3};
            default -> new int[] {2, 2, 4, 4, 4};
        };
    }

    @Test
    void endPointsAndVariablesHaveTfSlimNamesAndShapes() {
        for (String name : List.of("vgg_a", "vgg_16", "vgg_19")) {
            ShapeBuild b = ShapeBuild.of(Nets.get(name), 5, 1000);
            int[] rep = repeats(name);
            List<String> endPoints = new ArrayList<>();
            List<String> variables = new ArrayList<>();
            int size = 224;
            int in = 3;
            for (int blk = 1; blk <= 5; blk++) {
                for (int i = 1; i <= rep[blk - 1]; i++) {
                    String conv = name + "/conv" + blk + "/conv" + blk + "_" + i;
                    endPoints.add(conv);
                    variables.add(conv + "/weights");
                    variables.add(conv + "/biases");
                    assertArrayEquals(new int[] {5, size, size, DEPTHS[blk - 1]}, b.endPoints().get(conv), conv);
                    assertArrayEquals(new int[] {3, 3, in, DEPTHS[blk - 1]}, b.variables().get(conv + "/weights"), conv);
                    in = DEPTHS[blk - 1];
                }
                size /= 2;
                endPoints.add(name + "/pool" + blk);
                assertArrayEquals(new int[] {5, size, size, DEPTHS[blk - 1]}, b.endPoints().get(name + "/pool" + blk));
            }
            for (String fc : List.of("fc6", "fc7", "fc8")) {
                endPoints.add(name + "/" + fc);
                variables.add(name + "/" + fc + "/weights");
                variables.add(name + "/" + fc + "/biases");
            }
            assertEquals(endPoints, new ArrayList<>(b.endPoints().keySet()), name);
            assertEquals(variables, new ArrayList<>(b.variables().keySet()), name);
            assertArrayEquals(new int[] {5, 1, 1, 4096}, b.endPoints().get(name + "/fc7"));
            assertArrayEquals(new int[] {5, 1000}, b.endPoints().get(name + "/fc8"));
            assertArrayEquals(new int[] {5, 1000}, b.logits());
            assertArrayEquals(new int[] {7, 7, 512, 4096}, b.variables().get(name + "/fc6/weights"));
            assertArrayEquals(new int[] {1, 1, 4096, 1000}, b.variables().get(name + "/fc8/weights"));
        }
    }

    /** {kh, kw, in, out} of every layer, from the VGG paper's tables. */
    private static long parameters(int[] rep, int classes) {
        List<int[]> layers = new ArrayList<>();
        int in = 3;
        for (int blk = 0; blk < 5; blk++) {
            for (int i = 0; i < rep[blk]; i++) {
                layers.add(new int[] {3, 3, in, DEPTHS[blk]});
                in = DEPTHS[blk];
            }
        }
        layers.add(new int[] {7, 7, 512, 4096});
        layers.add(new int[] {1, 1, 4096, 4096});
        layers.add(new int[] {1, 1, 4096, classes});
        return ShapeBuild.weightsAndBiases(layers.toArray(new int[0][]));
    }

    @Test
    void parameterCountsAreThoseOfTheRealModels() {
        assertEquals(138_357_544L, parameters(repeats("vgg_16"), 1000), "the well-known VGG-16 size");
        assertEquals(143_667_240L, parameters(repeats("vgg_19"), 1000));
        assertEquals(132_863_336L, parameters(repeats("vgg_a"), 1000));
        for (String name : List.of("vgg_a", "vgg_16", "vgg_19")) {
            ShapeBuild b = ShapeBuild.of(Nets.get(name), 1, 1000);
            assertEquals(parameters(repeats(name), 1000), b.trainable(), name);
            assertEquals(b.trainable(), b.all(), name + " has no moving statistics");
        }
        // VGG-16's 15.47 G multiply-adds: sum over conv layers of H*W*out*9*in, plus the fc layers
        long macs = 0;
        int size = 224;
        int in = 3;
        for (int blk = 0; blk < 5; blk++) {
            for (int i = 0; i < repeats("vgg_16")[blk]; i++) {
                macs += (long) size * size * DEPTHS[blk] * 9 * in;
                in = DEPTHS[blk];
            }
            size /= 2;
        }
        macs += 7L * 7 * 512 * 4096 + 4096L * 4096 + 4096L * 1000;
        assertEquals(15_470_264_320L, macs);
        assertEquals(macs, ShapeBuild.of(Nets.get("vgg_16"), 1, 1000).macs());
    }

    @Test
    void fullyConvolutionalVariantsAsInVggTest() {
        // 256x256 without squeeze: fc8 is a 2x2 map
        ShapeBuild b = ShapeBuild.of(Nets.get("vgg_16"), 1, 256, 256, 10, false, NetArg.SPATIAL_SQUEEZE.is(false));
        assertArrayEquals(new int[] {1, 2, 2, 10}, b.logits());
        b = ShapeBuild.of(Nets.get("vgg_19"), 1, 256, 256, 10, false, NetArg.SPATIAL_SQUEEZE.is(false), NetArg.GLOBAL_POOL.is(true));
        assertArrayEquals(new int[] {1, 1, 1, 10}, b.logits());
        assertArrayEquals(new int[] {1, 1, 1, 4096}, b.endPoints().get("global_pool"));
        // SAME fc6 keeps the 7x7 map
        b = ShapeBuild.of(Nets.get("vgg_a"), 2, 224, 224, 10, false, NetArg.SPATIAL_SQUEEZE.is(false), NetArg.FC_CONV_PADDING.is(Padding.SAME));
        assertArrayEquals(new int[] {2, 7, 7, 10}, b.logits());
        // no classes: the fc7 features
        b = ShapeBuild.of(Nets.get("vgg_16"), 5, 224, 224, 0, false);
        assertArrayEquals(new int[] {5, 1, 1, 4096}, b.logits());
        assertFalse(b.endPoints().containsKey("vgg_16/fc8"));
        assertFalse(b.variables().containsKey("vgg_16/fc8/weights"));
        // a scope option renames everything
        b = ShapeBuild.of(Nets.get("vgg_16"), 1, 224, 224, 3, false, NetArg.SCOPE.is("vgg_d"));
        assertTrue(b.variables().containsKey("vgg_d/conv1/conv1_1/weights"));
    }

    @Test
    @Tag("slow")
    void vgg16ForwardAtFullSizeInBothModes() {
        long live = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(Nets.get("vgg_16"), 1000, 0.0005, 1)) {
            Tensor images = Tensor.randomUniform(2, -1, 1, 1, 224, 224, 3);
            NetOutput eval = net.apply(images, false);
            assertArrayEquals(new int[] {1, 1000}, eval.logits().value().dims());
            ShapeBuild expected = ShapeBuild.of(Nets.get("vgg_16"), 1, 224, 224, 1000, false);
            eval.endPoints().asMap().forEach((k, v) -> assertArrayEquals(expected.endPoints().get(k), v.value().dims(), k));
            NetOutput train = net.apply(images, true);
            assertArrayEquals(new int[] {1, 1000}, train.logits().value().dims());
            assertEquals(138_357_544L, net.variables().trainableParameterCount());
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes());
    }
}
