package org.slim4j.cuda.vendor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/**
 * The descriptor math of the cuDNN path without a GPU: the strides given to cudnnTransformTensor
 * (HWIO -> KRSC, padding, cropping, KRSC -> HWIO) and the symmetric padding given to cuDNN are run
 * through a Java model of what cuDNN does with them (a strided copy; a cross-correlation with
 * symmetric zero padding and its two gradients), and the results are compared with the CPU
 * backend's float64 TensorFlow-semantics convolution, including TF's asymmetric SAME padding.
 */
class CudnnConvGeometryTest {
    /** {input NHWC, filter HWIO, stride, dilation, padding 0=SAME 1=VALID}. */
    private static final int[][][] CASES = {
        {{2, 8, 8, 3}, {3, 3, 3, 4}, {2}, {1}, {0}},    // SAME stride 2 on an even size: one extra row/column after
        {{1, 7, 7, 2}, {3, 3, 2, 5}, {2}, {1}, {0}},    // SAME stride 2 on an odd size: symmetric
        {{2, 5, 6, 3}, {2, 2, 3, 2}, {1}, {1}, {0}},    // SAME with an even kernel: asymmetric at stride 1
        {{1, 6, 5, 4}, {1, 1, 4, 3}, {2}, {1}, {0}},    // 1x1 stride 2
        {{2, 6, 6, 2}, {1, 1, 2, 3}, {1}, {1}, {1}},    // 1x1 VALID
        {{1, 9, 7, 2}, {3, 3, 2, 2}, {1}, {2}, {0}},    // dilation 2 SAME
        {{2, 9, 8, 3}, {3, 2, 3, 2}, {2}, {1}, {1}},    // VALID stride 2, rectangular kernel
        {{1, 10, 10, 2}, {5, 5, 2, 3}, {3}, {1}, {0}},  // SAME stride 3, 5x5: 2 before and 2 after
    };

    private static Conv2dSpec spec(int[][] c) {
        return new Conv2dSpec(c[2][0], c[2][0], c[3][0], c[3][0], c[4][0] == 0 ? Padding.SAME : Padding.VALID);
    }

    @Test
    void tfSamePaddingBecomesSymmetricPaddingPlusExtraRowsAfter() {
        // 56x56, 3x3, stride 2 (ResNet's downsampling): TF pads 0 before, 1 after.
        CudnnConvGeometry g = CudnnConvGeometry.of("t", Shape.of(64, 56, 56, 64), Shape.of(3, 3, 64, 128), Conv2dSpec.of(2, Padding.SAME));
        assertEquals(0, g.padH());
        assertEquals(1, g.extraH());
        assertEquals(28, g.outH());
        assertTrue(g.explicitPadding());
        assertEquals(Shape.of(64, 57, 57, 64), g.paddedInputShape());
        // 3x3 stride 1 SAME: 1 on both sides, no copy.
        CudnnConvGeometry s1 = CudnnConvGeometry.of("t", Shape.of(64, 56, 56, 64), Shape.of(3, 3, 64, 64), Conv2dSpec.of(1, Padding.SAME));
        assertEquals(1, s1.padH());
        assertEquals(1, s1.padW());
        assertFalse(s1.explicitPadding());
        assertEquals(Shape.of(64, 56, 56, 64), s1.outputShape());
        assertEquals(Shape.of(64, 3, 3, 64), s1.krscShape());
    }

    @Test
    void filterStridesDescribeHwioAndKrsc() {
        CudnnConvGeometry g = CudnnConvGeometry.of("t", Shape.of(1, 9, 9, 5), Shape.of(3, 2, 5, 7), Conv2dSpec.of(1, Padding.SAME));
        // dims (k=7, c=5, kh=3, kw=2); HWIO element [r][s][c][k] is at ((r*2 + s)*5 + c)*7 + k.
        assertArrayEquals(new int[] {1, 7, 2 * 5 * 7, 5 * 7}, g.hwioStrides());
        // KRSC element [k][r][s][c] is at ((k*3 + r)*2 + s)*5 + c.
        assertArrayEquals(new int[] {3 * 2 * 5, 1, 2 * 5, 5}, g.krscStrides());
        assertArrayEquals(new int[] {9 * 9 * 5, 1, 9 * 5, 5}, CudnnConvGeometry.nhwcStrides(9, 9, 5));
        double[] hwio = iota(3 * 2 * 5 * 7);
        double[] krsc = new double[hwio.length];
        transform(hwio, new int[] {7, 5, 3, 2}, g.hwioStrides(), krsc, g.krscStrides());
        for (int k = 0; k < 7; k++) {
            for (int r = 0; r < 3; r++) {
                for (int s = 0; s < 2; s++) {
                    for (int c = 0; c < 5; c++) assertEquals(hwio[((r * 2 + s) * 5 + c) * 7 + k], krsc[((k * 3 + r) * 2 + s) * 5 + c]);
                }
            }
        }
        double[] back = new double[hwio.length];
        transform(krsc, new int[] {7, 5, 3, 2}, g.krscStrides(), back, g.hwioStrides());
        assertArrayEquals(hwio, back);
    }

    @Test
    void modelOfTheCudnnCallsMatchesTheCpuConvolutionAndItsGradients() {
        ConvKernels cpu = CpuBackend.INSTANCE.kernels(ConvKernels.class);
        for (int[][] c : CASES) {
            try (TensorScope scope = TensorScope.open()) {
                Conv2dSpec spec = spec(c);
                Shape xs = Shape.of(c[0]);
                Shape ws = Shape.of(c[1]);
                CudnnConvGeometry g = CudnnConvGeometry.of("t", xs, ws, spec);
                String what = xs + " * " + ws + " " + spec + " " + g;
                assertTrue(g.extraH() <= 1 && g.extraW() <= 1, what);
                // cuDNN sizes the output itself (cudnnGetConvolution2dForwardOutputDim): it must come out as TF's.
                assertEquals(g.outH(), cudnnOutputSize(g.paddedH(), g.padH(), g.kh(), g.strideH(), g.dilationH()), "output height " + what);
                assertEquals(g.outW(), cudnnOutputSize(g.paddedW(), g.padW(), g.kw(), g.strideW(), g.dilationW()), "output width " + what);
                Tensor x = Tensor.randomUniform(1, DType.FLOAT64, xs, -1, 1);
                Tensor w = Tensor.randomUniform(2, DType.FLOAT64, ws, -1, 1);
                Tensor y = cpu.conv2d(x, w, spec);
                assertEquals(y.shape(), g.outputShape(), what);
                Tensor dy = Tensor.randomUniform(3, DType.FLOAT64, y.shape(), -1, 1);

                double[] wk = new double[ws.numel()];
                transform(w.toDoubleArray(), new int[] {g.k(), g.c(), g.kh(), g.kw()}, g.hwioStrides(), wk, g.krscStrides());
                double[] xp = new double[g.paddedInputShape().numel()];
                transform(x.toDoubleArray(), new int[] {g.n(), g.c(), g.h(), g.w()}, CudnnConvGeometry.nhwcStrides(g.h(), g.w(), g.c()), xp,
                        g.interiorStrides());

                Close.assertClose(y.toDoubleArray(), cudnnForward(g, xp, wk), 1e-12, "forward " + what);

                double[] dxp = cudnnBackwardData(g, dy.toDoubleArray(), wk);
                double[] dx = new double[xs.numel()];
                transform(dxp, new int[] {g.n(), g.c(), g.h(), g.w()}, g.interiorStrides(), dx, CudnnConvGeometry.nhwcStrides(g.h(), g.w(), g.c()));
                Close.assertClose(cpu.conv2dBackpropInput(xs, w, dy, spec).toDoubleArray(), dx, 1e-12, "backprop input " + what);

                double[] dwk = cudnnBackwardFilter(g, xp, dy.toDoubleArray());
                double[] dw = new double[ws.numel()];
                transform(dwk, new int[] {g.k(), g.c(), g.kh(), g.kw()}, g.krscStrides(), dw, g.hwioStrides());
                Close.assertClose(cpu.conv2dBackpropFilter(x, ws, dy, spec).toDoubleArray(), dw, 1e-12, "backprop filter " + what);
            }
        }
    }

    @Test
    void shapeErrorsNameTheOpAndTheShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudnnConvGeometry.of("conv2d (cuDNN)", Shape.of(1, 5, 5, 3), Shape.of(3, 3, 4, 2), Conv2dSpec.of(1, Padding.SAME)));
        assertTrue(e.getMessage().contains("conv2d (cuDNN)") && e.getMessage().contains("[3, 3, 4, 2]") && e.getMessage().contains("[1, 5, 5, 3]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CudnnConvGeometry.of("conv2d (cuDNN)", Shape.of(5, 5, 3), Shape.of(3, 3, 3, 2), Conv2dSpec.of(1, Padding.SAME)));
        assertTrue(e.getMessage().contains("NHWC"), e.getMessage());
    }

    // ---- a model of cuDNN's semantics ------------------------------------------------------------

    /** cudnnTransformTensor: dst[i * dstStrides] = src[i * srcStrides] for every index i of dims (n, c, h, w). */
    static void transform(double[] src, int[] dims, int[] ss, double[] dst, int[] ds) {
        for (int a = 0; a < dims[0]; a++) {
            for (int b = 0; b < dims[1]; b++) {
                for (int h = 0; h < dims[2]; h++) {
                    for (int w = 0; w < dims[3]; w++) {
                        dst[a * ds[0] + b * ds[1] + h * ds[2] + w * ds[3]] = src[a * ss[0] + b * ss[1] + h * ss[2] + w * ss[3]];
                    }
                }
            }
        }
    }

    /** cuDNN's output size along one axis: 1 + (in + 2 * pad - ((k - 1) * dilation + 1)) / stride. */
    static int cudnnOutputSize(int in, int pad, int k, int stride, int dilation) {
        return 1 + (in + 2 * pad - ((k - 1) * dilation + 1)) / stride;
    }

    /** Index of input row/column for output o and tap r under cuDNN's symmetric padding, or -1 outside the (padded) input. */
    private static int tap(int o, int r, int stride, int dilation, int pad, int size) {
        int i = o * stride - pad + r * dilation;
        return i >= 0 && i < size ? i : -1;
    }

    /** Cross-correlation of the padded NHWC input with the KRSC filter, symmetric zero padding (padH, padW). */
    static double[] cudnnForward(CudnnConvGeometry g, double[] xp, double[] wk) {
        int hp = g.paddedH(), wp = g.paddedW();
        double[] y = new double[g.outputShape().numel()];
        for (int n = 0; n < g.n(); n++) {
            for (int oh = 0; oh < g.outH(); oh++) {
                for (int ow = 0; ow < g.outW(); ow++) {
                    for (int k = 0; k < g.k(); k++) {
                        double s = 0;
                        for (int r = 0; r < g.kh(); r++) {
                            int ih = tap(oh, r, g.strideH(), g.dilationH(), g.padH(), hp);
                            if (ih < 0) continue;
                            for (int q = 0; q < g.kw(); q++) {
                                int iw = tap(ow, q, g.strideW(), g.dilationW(), g.padW(), wp);
                                if (iw < 0) continue;
                                for (int c = 0; c < g.c(); c++) {
                                    s += xp[((n * hp + ih) * wp + iw) * g.c() + c] * wk[((k * g.kh() + r) * g.kw() + q) * g.c() + c];
                                }
                            }
                        }
                        y[((n * g.outH() + oh) * g.outW() + ow) * g.k() + k] = s;
                    }
                }
            }
        }
        return y;
    }

    /** Gradient of {@link #cudnnForward} w.r.t. the padded input. */
    static double[] cudnnBackwardData(CudnnConvGeometry g, double[] dy, double[] wk) {
        int hp = g.paddedH(), wp = g.paddedW();
        double[] dxp = new double[g.paddedInputShape().numel()];
        for (int n = 0; n < g.n(); n++) {
            for (int oh = 0; oh < g.outH(); oh++) {
                for (int ow = 0; ow < g.outW(); ow++) {
                    for (int k = 0; k < g.k(); k++) {
                        double d = dy[((n * g.outH() + oh) * g.outW() + ow) * g.k() + k];
                        for (int r = 0; r < g.kh(); r++) {
                            int ih = tap(oh, r, g.strideH(), g.dilationH(), g.padH(), hp);
                            if (ih < 0) continue;
                            for (int q = 0; q < g.kw(); q++) {
                                int iw = tap(ow, q, g.strideW(), g.dilationW(), g.padW(), wp);
                                if (iw < 0) continue;
                                for (int c = 0; c < g.c(); c++) {
                                    dxp[((n * hp + ih) * wp + iw) * g.c() + c] += d * wk[((k * g.kh() + r) * g.kw() + q) * g.c() + c];
                                }
                            }
                        }
                    }
                }
            }
        }
        return dxp;
    }

    /** Gradient of {@link #cudnnForward} w.r.t. the KRSC filter. */
    static double[] cudnnBackwardFilter(CudnnConvGeometry g, double[] xp, double[] dy) {
        int hp = g.paddedH(), wp = g.paddedW();
        double[] dwk = new double[g.krscShape().numel()];
        for (int n = 0; n < g.n(); n++) {
            for (int oh = 0; oh < g.outH(); oh++) {
                for (int ow = 0; ow < g.outW(); ow++) {
                    for (int k = 0; k < g.k(); k++) {
                        double d = dy[((n * g.outH() + oh) * g.outW() + ow) * g.k() + k];
                        for (int r = 0; r < g.kh(); r++) {
                            int ih = tap(oh, r, g.strideH(), g.dilationH(), g.padH(), hp);
                            if (ih < 0) continue;
                            for (int q = 0; q < g.kw(); q++) {
                                int iw = tap(ow, q, g.strideW(), g.dilationW(), g.padW(), wp);
                                if (iw < 0) continue;
                                for (int c = 0; c < g.c(); c++) {
                                    dwk[((k * g.kh() + r) * g.kw() + q) * g.c() + c] += d * xp[((n * hp + ih) * wp + iw) * g.c() + c];
                                }
                            }
                        }
                    }
                }
            }
        }
        return dwk;
    }

    private static double[] iota(int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }
}
