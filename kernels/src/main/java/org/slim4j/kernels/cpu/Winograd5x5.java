package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * 5x5, stride-1, undilated convolution (a correlation, as in TensorFlow) by Winograd's minimal
 * filtering F(2x2, 5x5): Y = A^T [ (G g G^T) . (B^T d B) ] A on 6x6 input tiles with stride 2, so
 * 36 multiplies make 4 outputs instead of 100. NHWC source and destination, channels multiples of
 * the vector length. Used for the forward pass, with the filter flipped and its channels swapped
 * for the input gradient, and through {@link WinogradFilterGradient} for the filter gradient
 * (LeNet's and CifarNet's second layers, Inception's 5x5 branch); {@link Conv2dCpu} picks it when
 * it applies. The work is laid out as in {@link Winograd3x3}:
 * filter transformed once per call into 36 Cin x Cout matrices packed as Sgemm B panels; output
 * tiles in blocks per task; per block the input transform writes row-major A panels, 36 small GEMMs
 * run on {@link Sgemm#kernelRows}, and the output transform writes NHWC (then the epilogue).
 *
 * <p>The matrices are Toom-Cook's for the interpolation points 0, 1, -1, 1/2, -1/2 and infinity
 * (Lavin and Gray's construction). With +-1/2 instead of +-2 the entries of B^T stay within 5/4,
 * which keeps the float32 error to a few 1e-6 of the output scale (about 7x F(2x2, 3x3)'s; with
 * +-2 it is twice that).
 */
final class Winograd5x5 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final int NR = Sgemm.NR;
    private static final int KS = Sgemm.KS;
    /** Tile side (input) and the number of Winograd positions. */
    private static final int T = 6;
    private static final int P = T * T;
    /** Floats of V plus M per tile block (~768 KiB: L2). */
    private static final int BLOCK_FLOATS = 192 * 1024;

    /** G (6 x 5): U = G g G^T. Rows are the points 0, 1, -1, 1/2, -1/2, infinity. */
    private static final double[][] G = {
        {4, 0, 0, 0, 0},
        {2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3},
        {2.0 / 3, -2.0 / 3, 2.0 / 3, -2.0 / 3, 2.0 / 3},
        {-8.0 / 3, -4.0 / 3, -2.0 / 3, -1.0 / 3, -1.0 / 6},
        {-8.0 / 3, 4.0 / 3, -2.0 / 3, 1.0 / 3, -1.0 / 6},
        {0, 0, 0, 0, 1},
    };

    // U, V, M and the ragged-tile scratch are Winograd3x3's per-thread buffers: a thread runs one
    // convolution at a time, and sharing them keeps one set of L2-sized arrays per thread.
    /** Per worker: a half-transformed input tile (6 x 6 vectors), then an output tile's 2 x 6 and 2 x 2. */
    private static final ThreadLocal<float[]> PATCH = ThreadLocal.withInitial(() -> new float[P * VL + 16 * VL]);

    private Winograd5x5() {
    }

    /** Whether the Winograd path handles this convolution (5x5, unit strides and dilations, vector-multiple channels). */
    static boolean applies(int kh, int kw, int sh, int sw, int dh, int dw, int cin, int cout) {
        return kh == 5 && kw == 5 && sh == 1 && sw == 1 && dh == 1 && dw == 1
                && cin % VL == 0 && cout % VL == 0 && cin >= 16 && cout >= 16;
    }

    /**
     * dst[n, oy, ox, co] = sum over (ky, kx, ci) of x[n, oy + offY + ky, ox + offX + kx, ci] *
     * g(ky, kx, ci, co), cells outside [0, h) x [0, w) counting as zero; x is [n, h, w, cin] at
     * xo, dst [n, dstH, dstW, cout], every element of dst written.
     */
    static void correlate(float[] x, int xo, int n, int h, int w, int cin, Winograd3x3.Taps g,
                          float[] dst, int dOff, int dstH, int dstW, int cout, int offY, int offX, Sgemm.Epilogue epi) {
        final int np = Sgemm.panels(cout);
        final int kbs = Sgemm.ceilDiv(cin, KS);
        final int tbMax = Winograd3x3.blockTiles(BLOCK_FLOATS, P, kbs, cout);
        final int tH = (dstH + 1) / 2, tW = (dstW + 1) / 2;
        final int tiles = n * tH * tW;
        final int units = Sgemm.ceilDiv(tiles, tbMax);
        final Winograd3x3.TileSource in = Winograd3x3.TileSource.of(x, xo, n, h, w, cin, tH, tW, offY, offX, T);
        final float[] u = transformFilter(g, cin, cout, np);
        Parallel.forRange(units, 1, (u0, u1) -> {
            float[] v = ThreadBuffers.floats(Winograd3x3.V_BUF, P * Winograd3x3.vPlane(kbs, tbMax));
            float[] m = ThreadBuffers.floats(Winograd3x3.M_BUF, P * Winograd3x3.mPlane(tbMax, cout));
            float[] scratch = Winograd3x3.SCRATCH.get();
            float[] patch = ThreadBuffers.floats(PATCH, P * VL + 16 * VL);
            for (int unit = u0; unit < u1; unit++) {
                int t0 = unit * tbMax;
                int tb1 = Math.min(tbMax, tiles - t0);
                transformInputTiles(in, cin, tH, tW, t0, tb1, tbMax, kbs, v, patch);
                Winograd3x3.positionProducts(P, kbs, cin, cout, np, tb1, tbMax, v, u, m, scratch);
                outputTransform(m, cout, tH, tW, t0, tb1, tbMax, dst, dOff, dstH, dstW, epi, patch);
            }
        });
    }

    /** The filter gradient of {@link #correlate}'s scheme ({@link WinogradFilterGradient}). */
    static final WinogradFilterGradient.Scheme GRADIENT = new WinogradFilterGradient.Scheme(T,
            Winograd5x5::transformInputTiles, Winograd5x5::gradTransform, Winograd5x5::filterFromProducts);

    /**
     * dM[xi nu] = A dY A^T for tiles [t0, t0 + tb) and every channel vector of dy, written as
     * {@link WinogradFilterGradient} lays it out (A = the 6 x 2 transpose of A^T). Tiles at the
     * edge read their missing dy cells as zeros through the patch: its first 4 vectors hold the
     * 2x2 dy cells, the next 12 the row pass (A dY, 6 x 2).
     */
    private static void gradTransform(float[] dy, int dyo, int dstH, int dstW, int cout, int tH, int tW,
                                      int t0, int tb, int tbMax, float[] m, float[] patch) {
        int plane = WinogradFilterGradient.gradPlane(tbMax, cout);
        int rows = 4 * VL;
        for (int tt = 0; tt < tb; tt++) {
            int p00 = Winograd3x3.tilePixel(t0 + tt, tH, tW, dstH, dstW);
            boolean right = p00 % dstW + 1 < dstW, down = p00 / dstW % dstH + 1 < dstH;
            int d00 = dyo + p00 * cout;
            for (int cb = 0; cb < cout; cb += VL) {
                float[] arr = dy;
                int b00 = d00 + cb, colStride = cout, rowStride = dstW * cout;
                if (!(right && down)) {
                    WinogradFilterGradient.edgeTile(dy, b00, rowStride, colStride, right, down, patch);
                    arr = patch;
                    b00 = 0;
                    colStride = VL;
                    rowStride = 2 * VL;
                }
                // Rows: r[xi][j] = A[xi][0] dY[0][j] + A[xi][1] dY[1][j], one column j at a time.
                expand(arr, b00, b00 + rowStride, patch, rows, 2 * VL);
                expand(arr, b00 + colStride, b00 + rowStride + colStride, patch, rows + VL, 2 * VL);
                // Columns: dM[xi][nu] = r[xi][0] A[nu][0] + r[xi][1] A[nu][1].
                int o = WinogradFilterGradient.gradOffset(tt, cb, tbMax);
                for (int xi = 0; xi < T; xi++) {
                    expand(patch, rows + xi * 2 * VL, rows + xi * 2 * VL + VL, m, xi * T * plane + o, plane);
                }
            }
        }
    }

    /**
     * out[o0 + j * outStride] = A[j][0] * in[i0] + A[j][1] * in[i1] for j in 0..5, one vector each:
     * A's rows (A^T's columns) are (1, 0), (1, 1), (1, -1), (1, 1/2), (1, -1/2), (0, 1).
     */
    private static void expand(float[] in, int i0, int i1, float[] out, int o0, int outStride) {
        FloatVector d0 = FloatVector.fromArray(S, in, i0);
        FloatVector d1 = FloatVector.fromArray(S, in, i1);
        FloatVector half = d1.mul(0.5f);
        d0.intoArray(out, o0);
        d0.add(d1).intoArray(out, o0 + outStride);
        d0.sub(d1).intoArray(out, o0 + 2 * outStride);
        d0.add(half).intoArray(out, o0 + 3 * outStride);
        d0.sub(half).intoArray(out, o0 + 4 * outStride);
        d1.intoArray(out, o0 + 5 * outStride);
    }

    /**
     * dW (HWIO, 5x5, at dwo) = G^T dU G for every (ci, co); dU[xi nu] (Cin x Cout) at
     * (xi * 6 + nu) * cin * cout. Computed in double, rounded once.
     */
    private static void filterFromProducts(float[] du, int cin, int cout, float[] dw, int dwo) {
        Parallel.forRange(cin, Math.max(1, 1024 / Math.max(1, cout)), (c0, c1) -> {
            double[] t = new double[T * 5];
            for (int ci = c0; ci < c1; ci++) {
                for (int co = 0; co < cout; co++) {
                    int e = ci * cout + co;
                    // t = dU G (6 x 5), then dW = G^T t (5 x 5).
                    for (int xi = 0; xi < T; xi++) {
                        for (int b = 0; b < 5; b++) {
                            double s = 0;
                            for (int nu = 0; nu < T; nu++) s += du[(xi * T + nu) * cin * cout + e] * G[nu][b];
                            t[xi * 5 + b] = s;
                        }
                    }
                    for (int a = 0; a < 5; a++) {
                        for (int b = 0; b < 5; b++) {
                            double s = 0;
                            for (int xi = 0; xi < T; xi++) s += G[xi][a] * t[xi * 5 + b];
                            dw[dwo + ((a * 5 + b) * cin + ci) * cout + co] = (float) s;
                        }
                    }
                }
            }
        });
    }

    /**
     * U[xi nu] = G g G^T for every (ci, co), packed per position xi*6+nu as NR-wide B panels over
     * the whole Cin: element (ci, co) at ((xi*6+nu) * np + co / NR) * cin * NR + ci * NR + co % NR.
     * Computed in double, rounded once. The buffer belongs to the calling thread, except for a
     * frozen weight's, which is kept ({@link org.slim4j.kernels.FrozenWeights}).
     */
    private static float[] transformFilter(Winograd3x3.Taps g, int cin, int cout, int np) {
        return transformFilter(g, G, "winograd 2x2 5x5", cin, cout, np);
    }

    /**
     * The same for any 6 x r matrix G on this path's points, r x r filters ({@link Winograd4x4}'s
     * F(4x4, 3x3) has r = 3); {@code form} names the kept form.
     */
    static float[] transformFilter(Winograd3x3.Taps g, double[][] gm, String form, int cin, int cout, int np) {
        int r = gm[0].length;
        return new FilterForm(form, r, r, cin, cout).of(g, P * np * cin * NR, () -> transformInto(g, gm, cin, cout, np));
    }

    private static float[] transformInto(Winograd3x3.Taps g, double[][] gm, int cin, int cout, int np) {
        int r = gm[0].length;
        int size = P * np * cin * NR;
        float[] u = ThreadBuffers.floats(Winograd3x3.U_BUF, size);
        java.util.Arrays.fill(u, 0, size, 0f);
        Parallel.forRange(cin, Math.max(1, 1024 / Math.max(1, cout)), (c0, c1) -> {
            double[] gg = new double[r * r];
            double[] t = new double[T * r];
            for (int ci = c0; ci < c1; ci++) {
                for (int co = 0; co < cout; co++) {
                    for (int a = 0; a < r; a++) {
                        for (int b = 0; b < r; b++) gg[a * r + b] = g.get(a, b, ci, co);
                    }
                    // t = G g (6 x r), then U = t G^T (6 x 6).
                    for (int xi = 0; xi < T; xi++) {
                        for (int b = 0; b < r; b++) {
                            double s = 0;
                            for (int a = 0; a < r; a++) s += gm[xi][a] * gg[a * r + b];
                            t[xi * r + b] = s;
                        }
                    }
                    int base = (co / NR) * cin * NR + ci * NR + co % NR;
                    int stride = np * cin * NR;
                    for (int xi = 0; xi < T; xi++) {
                        for (int nu = 0; nu < T; nu++) {
                            double s = 0;
                            for (int b = 0; b < r; b++) s += t[xi * r + b] * gm[nu][b];
                            u[base + (xi * T + nu) * stride] = (float) s;
                        }
                    }
                }
            }
        });
        return u;
    }

    /**
     * The input transform of tiles [t0, t0 + tb): for each channel vector, V[xi nu] = B^T d B of
     * the tile's 6x6 input cells, all inside the source ({@link Winograd3x3.TileSource}). V is
     * stored as Winograd3x3 stores it: position p, K block kb, tile row tt, channel c at
     * p * vPlane + (kb * tbMax + tt) * KS + c % KS ({@link Winograd3x3#vPlane}). rowPass holds B^T d.
     */
    private static void transformInputTiles(Winograd3x3.TileSource in, int cin, int tH, int tW, int t0, int tb, int tbMax,
                                            int kbs, float[] v, float[] rowPass) {
        transformInputTiles(in, 2, cin, tH, tW, t0, tb, tbMax, kbs, v, rowPass);
    }

    /**
     * The same for tiles {@code step} pixels apart: F(4x4, 3x3) ({@link Winograd4x4}) takes its
     * 6x6 tiles 4 apart, and shares B^T since it interpolates at the same six points.
     */
    static void transformInputTiles(Winograd3x3.TileSource in, int step, int cin, int tH, int tW, int t0, int tb, int tbMax,
                                    int kbs, float[] v, float[] rowPass) {
        int rowStride = in.w() * cin;
        int plane = Winograd3x3.vPlane(kbs, tbMax);
        float[] src = in.a();
        for (int tt = 0; tt < tb; tt++) {
            int t = t0 + tt;
            int img = t / (tH * tW);
            // Tile row and column; the input tile starts step pixels per tile in, shifted by the offsets.
            int y0 = step * (t % (tH * tW) / tW) + in.tileY();
            int x0 = step * (t % tW) + in.tileX();
            int base = in.off() + ((img * in.h() + y0) * in.w() + x0) * cin;
            for (int cb = 0; cb < cin; cb += VL) {
                int kb = cb / KS;
                int dstBase = (kb * tbMax + tt) * KS + cb - kb * KS;
                // Rows: e[xi][b] = sum_a B^T[xi][a] d[a][b], one column b at a time.
                for (int b = 0; b < T; b++) bt(src, base + cb + b * cin, rowStride, rowPass, b * VL, T * VL);
                // Columns: V[xi][nu] = sum_b e[xi][b] B^T[nu][b].
                for (int xi = 0; xi < T; xi++) bt(rowPass, xi * T * VL, VL, v, xi * T * plane + dstBase, plane);
            }
        }
    }

    /**
     * out[j * outStride] = sum_i B^T[j][i] in[i0 + i * inStride] for j, i in 0..5, one vector each:
     * B^T rows (1/4, 0, -5/4, 0, 1, 0), (0, -1/4, -1/4, 1, 1, 0), (0, 1/4, -1/4, -1, 1, 0),
     * (0, -1/2, -1, 1/2, 1, 0), (0, 1/2, -1, -1/2, 1, 0), (0, 1/4, 0, -5/4, 0, 1).
     */
    private static void bt(float[] in, int i0, int inStride, float[] out, int o0, int outStride) {
        FloatVector quarter = FloatVector.broadcast(S, 0.25f);
        FloatVector minusQuarter = FloatVector.broadcast(S, -0.25f);
        FloatVector minusFiveQuarters = FloatVector.broadcast(S, -1.25f);
        FloatVector d2 = FloatVector.fromArray(S, in, i0 + 2 * inStride);
        FloatVector d4 = FloatVector.fromArray(S, in, i0 + 4 * inStride);
        FloatVector p = d2.fma(minusQuarter, d4);    // d4 - d2/4
        FloatVector r = d4.sub(d2);
        FloatVector d0 = FloatVector.fromArray(S, in, i0);
        d0.fma(quarter, d2.fma(minusFiveQuarters, d4)).intoArray(out, o0);
        FloatVector d1 = FloatVector.fromArray(S, in, i0 + inStride);
        FloatVector d3 = FloatVector.fromArray(S, in, i0 + 3 * inStride);
        FloatVector q = d1.fma(minusQuarter, d3);    // d3 - d1/4
        FloatVector s = d3.sub(d1).mul(0.5f);
        p.add(q).intoArray(out, o0 + outStride);
        p.sub(q).intoArray(out, o0 + 2 * outStride);
        r.add(s).intoArray(out, o0 + 3 * outStride);
        r.sub(s).intoArray(out, o0 + 4 * outStride);
        FloatVector d5 = FloatVector.fromArray(S, in, i0 + 5 * inStride);
        d1.fma(quarter, d3.fma(minusFiveQuarters, d5)).intoArray(out, o0 + 5 * outStride);
    }

    /**
     * out[o0] = m0 + m1 + m2 + m3 + m4 and out[o1] = m1 - m2 + (m3 - m4) / 2 + m5 (A^T's rows), with
     * m_i = in[i0 + i * inStride].
     */
    private static void at(float[] in, int i0, int inStride, float[] out, int o0, int o1) {
        FloatVector m1 = FloatVector.fromArray(S, in, i0 + inStride);
        FloatVector m2 = FloatVector.fromArray(S, in, i0 + 2 * inStride);
        FloatVector sum = m1.add(m2);
        FloatVector dif = m1.sub(m2);
        FloatVector m3 = FloatVector.fromArray(S, in, i0 + 3 * inStride);
        FloatVector m4 = FloatVector.fromArray(S, in, i0 + 4 * inStride);
        FloatVector.fromArray(S, in, i0).add(sum).add(m3.add(m4)).intoArray(out, o0);
        FloatVector m5 = FloatVector.fromArray(S, in, i0 + 5 * inStride);
        m3.sub(m4).fma(FloatVector.broadcast(S, 0.5f), dif.add(m5)).intoArray(out, o1);
    }

    /** Y = A^T M A for tiles [t0, t0 + tb), clipped to the destination, plus the epilogue per pixel. */
    private static void outputTransform(float[] m, int cout, int tH, int tW, int t0, int tb, int tbMax,
                                        float[] dst, int dOff, int dstH, int dstW, Sgemm.Epilogue epi, float[] patch) {
        int plane = Winograd3x3.mPlane(tbMax, cout);
        int s0 = P * VL;               // patch: the row-transformed tile, 2 x 6 vectors
        int y0 = s0 + 2 * T * VL;      // then the 2 x 2 output vectors
        for (int tt = 0; tt < tb; tt++) {
            int p00 = Winograd3x3.tilePixel(t0 + tt, tH, tW, dstH, dstW);
            int p10 = p00 + dstW;
            boolean right = p00 % dstW + 1 < dstW, down = p00 / dstW % dstH + 1 < dstH;
            for (int cb = 0; cb < cout; cb += VL) {
                int mb = tt * cout + cb;
                // Rows: s[i][nu] = sum_xi A^T[i][xi] M[xi][nu], one column nu at a time.
                for (int nu = 0; nu < T; nu++) at(m, nu * plane + mb, T * plane, patch, s0 + nu * VL, s0 + (T + nu) * VL);
                // Columns: y[i][j] = sum_nu s[i][nu] A^T[j][nu].
                if (right && down) {
                    at(patch, s0, VL, dst, dOff + p00 * cout + cb, dOff + (p00 + 1) * cout + cb);
                    at(patch, s0 + T * VL, VL, dst, dOff + p10 * cout + cb, dOff + (p10 + 1) * cout + cb);
                    continue;
                }
                // A tile clipped by the edge: through the patch, then its pixels inside.
                at(patch, s0, VL, patch, y0, y0 + VL);
                at(patch, s0 + T * VL, VL, patch, y0 + 2 * VL, y0 + 3 * VL);
                System.arraycopy(patch, y0, dst, dOff + p00 * cout + cb, VL);
                if (right) System.arraycopy(patch, y0 + VL, dst, dOff + (p00 + 1) * cout + cb, VL);
                if (down) {
                    System.arraycopy(patch, y0 + 2 * VL, dst, dOff + p10 * cout + cb, VL);
                    if (right) System.arraycopy(patch, y0 + 3 * VL, dst, dOff + (p10 + 1) * cout + cb, VL);
                }
            }
            if (epi != null) Winograd3x3.tileEpilogue(epi, dst, dOff, cout, p00, dstW, right, down);
        }
    }
}
