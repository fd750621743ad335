package org.slim4j.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.kernels.FusedDepthwiseConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/**
 * The fused inference depthwise convolution: float32 against the float64 reference on every
 * forward path of {@link DepthwiseConv2dCpu} (row ring at strides 1 and 2, interior / generic
 * windows, channel tails, channel multiplier), the reference against the unfused composition
 * depthwise -> batch norm (inference) -> relu6, and argument errors.
 */
class FusedDepthwiseConv2dCpuTest {
    private final FusedDepthwiseConvKernels k = new FusedDepthwiseConv2dCpu();
    private final DepthwiseConvKernels dw = new DepthwiseConv2dCpu();
    private final BatchNormKernels bn = new BatchNormCpu();

    /** in n x h x w x c, filter kh x kw x c x m, stride, dilation, padding. */
    private record Geo(int n, int h, int w, int c, int kh, int kw, int m, int s, int d, Padding pad) {
        Conv2dSpec spec() {
            return new Conv2dSpec(s, s, d, d, pad);
        }
    }

    private static final List<Geo> GEOS = List.of(
            new Geo(2, 9, 11, 16, 3, 3, 1, 1, 1, Padding.SAME),      // ring, stride 1
            new Geo(2, 12, 13, 24, 3, 3, 1, 2, 1, Padding.SAME),     // ring, stride 2
            new Geo(1, 10, 9, 19, 3, 3, 1, 1, 1, Padding.SAME),      // ring with a channel tail
            new Geo(2, 11, 10, 5, 3, 3, 1, 1, 1, Padding.VALID),     // fewer channels than a vector: generic rows
            new Geo(2, 13, 12, 12, 5, 5, 1, 1, 1, Padding.SAME),     // 5x5: interior / generic windows
            new Geo(1, 14, 12, 8, 3, 3, 1, 1, 2, Padding.SAME),      // dilated
            new Geo(2, 8, 9, 6, 3, 3, 2, 1, 1, Padding.SAME));       // channel multiplier 2

    private static Tensor rnd(long seed, DType t, double lo, double hi, int... dims) {
        return Tensor.randomUniform(seed, t, Shape.of(dims), lo, hi);
    }

    private static Tensor f64(Tensor t) {
        return t == null ? null : t.cast(DType.FLOAT64);
    }

    @Test
    void float32MatchesFloat64Reference() {
        long seed = 3;
        for (Geo g : GEOS) {
            for (Activation act : Activation.values()) {
                try (TensorScope scope = TensorScope.open()) {
                    int ch = g.c * g.m;
                    Tensor x = rnd(seed++, DType.FLOAT32, -1, 1, g.n, g.h, g.w, g.c);
                    Tensor f = rnd(seed++, DType.FLOAT32, -1, 1, g.kh, g.kw, g.c, g.m);
                    Tensor scale = rnd(seed++, DType.FLOAT32, 0.2, 1.5, ch);
                    // A shift of the order of the outputs, so relu and relu6 clip a good share.
                    Tensor shift = rnd(seed++, DType.FLOAT32, -2, 6, ch);
                    for (Tensor[] ss : new Tensor[][] {{scale, shift}, {null, shift}, {scale, null}, {null, null}}) {
                        Tensor y = k.depthwiseConv2dScaleShift(x, f, ss[0], ss[1], g.spec(), act);
                        Tensor y64 = k.depthwiseConv2dScaleShift(f64(x), f64(f), f64(ss[0]), f64(ss[1]), g.spec(), act);
                        assertEquals(DType.FLOAT32, y.dtype());
                        assertEquals(y64.shape(), y.shape());
                        Close.assertClose(y64, y, 1e-5, "fused depthwise " + g + " " + act);
                        assertTrue(Close.maxAbs(y64.toDoubleArray()) > 0.1, "non-trivial output " + g);
                    }
                }
            }
        }
    }

    @Test
    void referenceEqualsDepthwiseThenBatchNormThenRelu6() {
        long seed = 70;
        for (Geo g : GEOS) {
            try (TensorScope scope = TensorScope.open()) {
                int ch = g.c * g.m;
                Tensor x = rnd(seed++, DType.FLOAT64, -1, 1, g.n, g.h, g.w, g.c);
                Tensor f = rnd(seed++, DType.FLOAT64, -1, 1, g.kh, g.kw, g.c, g.m);
                Tensor gamma = rnd(seed++, DType.FLOAT64, 0.5, 1.5, ch);
                Tensor beta = rnd(seed++, DType.FLOAT64, -1, 3, ch);
                Tensor mean = rnd(seed++, DType.FLOAT64, -1, 1, ch);
                Tensor var = rnd(seed++, DType.FLOAT64, 0.5, 2, ch);
                float eps = 1e-3f;
                double[] expected = bn.inferenceForward(dw.depthwiseConv2d(x, f, g.spec()), gamma, beta, mean, var, eps).toDoubleArray();
                for (int i = 0; i < expected.length; i++) expected[i] = Math.min(6, Math.max(0, expected[i]));
                double[] sc = new double[ch];
                double[] sh = new double[ch];
                for (int i = 0; i < ch; i++) {
                    sc[i] = gamma.toDoubleArray()[i] / Math.sqrt(var.toDoubleArray()[i] + eps);
                    sh[i] = beta.toDoubleArray()[i] - mean.toDoubleArray()[i] * sc[i];
                }
                Tensor y64 = k.depthwiseConv2dScaleShift(x, f, Tensor.of(sc, ch), Tensor.of(sh, ch), g.spec(), Activation.RELU6);
                Close.assertClose(expected, y64.toDoubleArray(), 1e-12, "fused float64 vs depthwise+bn+relu6 " + g);
                Tensor y32 = k.depthwiseConv2dScaleShift(x.cast(DType.FLOAT32), f.cast(DType.FLOAT32), Tensor.of(sc, ch).cast(DType.FLOAT32),
                        Tensor.of(sh, ch).cast(DType.FLOAT32), g.spec(), Activation.RELU6);
                Close.assertClose(expected, y32.toDoubleArray(), 1e-5, "fused float32 vs depthwise+bn+relu6 " + g);
            }
        }
    }

    @Test
    void badArgumentsNameTheOpAndTheTensor() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = Tensor.zeros(DType.FLOAT32, Shape.of(2, 8, 8, 4));
            Tensor f = Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 4, 2));
            Conv2dSpec s = Conv2dSpec.of(1, Padding.SAME);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k.depthwiseConv2dScaleShift(x, f, Tensor.zeros(DType.FLOAT32, Shape.of(4)), null, s, Activation.RELU6));
            assertTrue(e.getMessage().contains("depthwise_conv2d_scale_shift") && e.getMessage().contains("scale")
                    && e.getMessage().contains("[8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> k.depthwiseConv2dScaleShift(x, Tensor.zeros(DType.FLOAT32, Shape.of(3, 3, 5, 1)), null, null, s, Activation.NONE));
            assertTrue(e.getMessage().contains("in-channels 5 != input channels 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> k.depthwiseConv2dScaleShift(x, f, null, Tensor.zeros(DType.FLOAT64, Shape.of(8)), s, Activation.RELU));
            assertTrue(e.getMessage().contains("shift") && e.getMessage().contains("FLOAT64"), e.getMessage());
        }
    }

    @Test
    void theCpuBackendServesTheFamily() {
        assertTrue(CpuBackend.INSTANCE.kernels(FusedDepthwiseConvKernels.class) instanceof FusedDepthwiseConv2dCpu);
    }
}
