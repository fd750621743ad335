package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3x3, stride-1, undilated convolution (a correlation, as in TensorFlow) by Winograd's minimal
 * filtering F(4x4, 3x3): Y = A^T [ (G g G^T) . (B^T d B) ] A on 6x6 input tiles 4 apart, so 36
 * multiplies make 16 outputs (2.25 per output, against F(2x2, 3x3)'s 4 and the direct 9). Used for
 * the forward pass and, with the filter flipped and its channels swapped, the input gradient, on
 * maps big enough that 4x4 output tiles waste little at the edges ({@link Conv2dCpu} decides). The
 * filter gradient stays on F(2x2, 3x3): through {@link WinogradFilterGradient} an F(4x4, 3x3)
 * scheme was slower on every shape tried (its 36 dU partials of Cin x Cout are 2.25 times the
 * traffic; ResNet's 28x28 128-channel layer 12.5 -> 15.7 ms, Inception's 147x147 stem 26.2 -> 33.9).
 *
 * <p>It interpolates at the points 0, 1, -1, 1/2, -1/2 and infinity like {@link Winograd5x5}
 * (F(2x2, 5x5)): with the same scaling of the points, B^T is the same matrix, so the input
 * transform is Winograd5x5's with tiles 4 apart; G (6 x 3) and A^T (4 x 6) follow from the points
 * (G's rows are the scaled values of 1, x, x^2 at each point, A^T's columns those of 1, x, x^2,
 * x^3). The layout of the work is Winograd5x5's: filter transformed once per call (or kept for a
 * frozen weight) into 36 Cin x Cout matrices packed as Sgemm B panels, tile blocks per task, the
 * input transform into row-major A panels, 36 small GEMMs, the output transform to NHWC with the
 * epilogue. Its float32 error is larger than F(2x2, 3x3)'s: about 3e-5 of the output's scale
 * (simulated in float32 against float64, 64 channels, uniform inputs; F(2x2, 3x3) 1e-6), within
 * what the golden selftest allows (1e-4) and what cuDNN's and oneDNN's F(4x4, 3x3) give.
 */
final class Winograd4x4 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final int KS = Sgemm.KS;
    /** Input tile side, output tile side, and the number of Winograd positions. */
    private static final int T = 6;
    private static final int M = 4;
    private static final int P = T * T;
    /** Floats of V plus M per tile block (~768 KiB), as Winograd5x5's. */
    private static final int BLOCK_FLOATS = 192 * 1024;

    /** G (6 x 3): U = G g G^T. Rows are the points 0, 1, -1, 1/2, -1/2, infinity, scaled as Winograd5x5's. */
    private static final double[][] G = {
        {4, 0, 0},
        {2.0 / 3, 2.0 / 3, 2.0 / 3},
        {2.0 / 3, -2.0 / 3, 2.0 / 3},
        {-8.0 / 3, -4.0 / 3, -2.0 / 3},
        {-8.0 / 3, 4.0 / 3, -2.0 / 3},
        {0, 0, 1},
    };

    /** Per worker: the input transform's row pass (6 x 6 vectors); the output's row pass (4 x 6) and a clipped row (4). */
    private static final ThreadLocal<float[]> PATCH = ThreadLocal.withInitial(() -> new float[P * VL]);

    private Winograd4x4() {
    }

    /** Whether this path handles the convolution: as {@link Winograd3x3#applies}. */
    static boolean applies(int kh, int kw, int sh, int sw, int dh, int dw, int cin, int cout) {
        return Winograd3x3.applies(kh, kw, sh, sw, dh, dw, cin, cout);
    }

    /**
     * dst[n, oy, ox, co] = sum over (ky, kx, ci) of x[n, oy + offY + ky, ox + offX + kx, ci] *
     * g(ky, kx, ci, co), cells outside [0, h) x [0, w) counting as zero; x is [n, h, w, cin] at
     * xo, dst [n, dstH, dstW, cout], every element of dst written, then the epilogue.
     */
    static void correlate(float[] x, int xo, int n, int h, int w, int cin, Winograd3x3.Taps g,
                          float[] dst, int dOff, int dstH, int dstW, int cout, int offY, int offX, Sgemm.Epilogue epi) {
        final int np = Sgemm.panels(cout);
        final int kbs = Sgemm.ceilDiv(cin, KS);
        final int tbMax = Winograd3x3.blockTiles(BLOCK_FLOATS, P, kbs, cout);
        final int tH = (dstH + M - 1) / M, tW = (dstW + M - 1) / M;
        final int tiles = n * tH * tW;
        final int units = Sgemm.ceilDiv(tiles, tbMax);
        final Winograd3x3.TileSource in = Winograd3x3.TileSource.of(x, xo, n, h, w, cin, tH, tW, offY, offX, T, M);
        final float[] u = transformFilter(g, cin, cout, np);
        Parallel.forRange(units, 1, (u0, u1) -> {
            float[] v = ThreadBuffers.floats(Winograd3x3.V_BUF, P * Winograd3x3.vPlane(kbs, tbMax));
            float[] m = ThreadBuffers.floats(Winograd3x3.M_BUF, P * Winograd3x3.mPlane(tbMax, cout));
            float[] scratch = Winograd3x3.SCRATCH.get();
            float[] patch = ThreadBuffers.floats(PATCH, P * VL);
            for (int unit = u0; unit < u1; unit++) {
                int t0 = unit * tbMax;
                int tb1 = Math.min(tbMax, tiles - t0);
                Winograd5x5.transformInputTiles(in, M, cin, tH, tW, t0, tb1, tbMax, kbs, v, patch);
                Winograd3x3.positionProducts(P, kbs, cin, cout, np, tb1, tbMax, v, u, m, scratch);
                outputTransform(m, cout, tH, tW, t0, tb1, tbMax, dst, dOff, dstH, dstW, epi, patch);
            }
        });
    }

    /**
     * U[xi nu] = G g G^T for every (ci, co), packed per position xi*6+nu as NR-wide B panels over
     * the whole Cin, by Winograd5x5's transform with this G. In this thread's buffer, or kept for a
     * frozen weight ({@link org.slim4j.kernels.FrozenWeights}).
     */
    static float[] transformFilter(Winograd3x3.Taps g, int cin, int cout, int np) {
        return Winograd5x5.transformFilter(g, G, "winograd 4x4 3x3", cin, cout, np);
    }

    /**
     * out[o0 + i * outStride], i in 0..3, = A^T's rows applied to m_j = in[i0 + j * inStride], j in
     * 0..5, one vector each: (1, 1, 1, 1, 1, 0), (0, 1, -1, 1/2, -1/2, 0), (0, 1, 1, 1/4, 1/4, 0),
     * (0, 1, -1, 1/8, -1/8, 1).
     */
    private static void at(float[] in, int i0, int inStride, float[] out, int o0, int outStride) {
        FloatVector m1 = FloatVector.fromArray(S, in, i0 + inStride);
        FloatVector m2 = FloatVector.fromArray(S, in, i0 + 2 * inStride);
        FloatVector sum12 = m1.add(m2);
        FloatVector dif12 = m1.sub(m2);
        FloatVector m3 = FloatVector.fromArray(S, in, i0 + 3 * inStride);
        FloatVector m4 = FloatVector.fromArray(S, in, i0 + 4 * inStride);
        FloatVector sum34 = m3.add(m4);
        FloatVector dif34 = m3.sub(m4);
        FloatVector.fromArray(S, in, i0).add(sum12).add(sum34).intoArray(out, o0);
        dif34.fma(FloatVector.broadcast(S, 0.5f), dif12).intoArray(out, o0 + outStride);
        sum34.fma(FloatVector.broadcast(S, 0.25f), sum12).intoArray(out, o0 + 2 * outStride);
        FloatVector m5 = FloatVector.fromArray(S, in, i0 + 5 * inStride);
        dif34.fma(FloatVector.broadcast(S, 0.125f), dif12.add(m5)).intoArray(out, o0 + 3 * outStride);
    }

    /** Y = A^T M A for tiles [t0, t0 + tb), clipped to the destination, plus the epilogue per pixel. */
    private static void outputTransform(float[] m, int cout, int tH, int tW, int t0, int tb, int tbMax,
                                        float[] dst, int dOff, int dstH, int dstW, Sgemm.Epilogue epi, float[] patch) {
        int plane = Winograd3x3.mPlane(tbMax, cout);
        int clipped = M * T * VL;  // patch: the row pass (4 x 6 vectors), then one clipped output row (4)
        for (int tt = 0; tt < tb; tt++) {
            int t = t0 + tt;
            int img = t / (tH * tW);
            int rem = t - img * tH * tW;
            int ty = rem / tW;
            int oy = M * ty, ox = M * (rem - ty * tW);
            int rows = Math.min(M, dstH - oy), cols = Math.min(M, dstW - ox);
            int p00 = (img * dstH + oy) * dstW + ox;
            for (int cb = 0; cb < cout; cb += VL) {
                int mb = tt * cout + cb;
                // Rows: s[i][nu] = sum_xi A^T[i][xi] M[xi][nu], one column nu at a time.
                for (int nu = 0; nu < T; nu++) at(m, nu * plane + mb, T * plane, patch, nu * VL, T * VL);
                // Columns: y[i][j] = sum_nu s[i][nu] A^T[j][nu], one output row i at a time.
                for (int i = 0; i < rows; i++) {
                    int d = dOff + (p00 + i * dstW) * cout + cb;
                    if (cols == M) {
                        at(patch, i * T * VL, VL, dst, d, cout);
                    } else {
                        at(patch, i * T * VL, VL, patch, clipped, VL);
                        for (int j = 0; j < cols; j++) System.arraycopy(patch, clipped + j * VL, dst, d + j * cout, VL);
                    }
                }
            }
            if (epi != null) {
                for (int i = 0; i < rows; i++) epi.apply(dst, dOff, cout, p00 + i * dstW, cols, 0, cout);
            }
        }
    }
}
