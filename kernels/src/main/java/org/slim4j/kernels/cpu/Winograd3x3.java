package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3x3, stride-1, undilated convolution (a correlation, as in TensorFlow) by Winograd's minimal
 * filtering F(2x2, 3x3) (Lavin and Gray): Y = A^T [ (G g G^T) . (B^T d B) ] A on 4x4 input tiles
 * with stride 2, so 16 multiplies make 4 outputs instead of 36. NHWC source and destination,
 * channels multiples of the vector length. Used for the forward pass, with the filter flipped and
 * its channels swapped for the input gradient, and through {@link WinogradFilterGradient} for the
 * filter gradient; {@link Conv2dCpu} picks it when it applies.
 *
 * <p>The filter is transformed once per call into 16 matrices U[xi nu] (Cin x Cout), packed as
 * {@link Sgemm} B panels. Output tiles are then processed in blocks of TB tiles per task: the
 * input transform writes B^T d B for each of the 16 positions straight into row-major A panels
 * (tile rows, 64 channels per K block, contiguous vector stores), 16 small GEMMs
 * M[xi nu] (TB x Cout) = V[xi nu] (TB x Cin) x U[xi nu] run on {@link Sgemm#kernelRows}, and the
 * output transform writes the 2x2 outputs of each tile to NHWC (an optional epilogue then sees each
 * finished pixel). A block's V and M (16 x TB x channels each) stay in L2, so the transforms cost
 * no memory traffic beyond reading the input and writing the output once.
 *
 * <p>Accuracy: the transforms only add, subtract and halve, so the result differs from direct
 * summation by a few float32 roundings (the tests hold it to 1e-5 of the output scale).
 */
final class Winograd3x3 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final int NR = Sgemm.NR;
    private static final int KS = Sgemm.KS;
    private static final int MR4 = Sgemm.MR4;
    /** Floats of V plus M per tile block (~384 KiB: L2). */
    private static final int BLOCK_FLOATS = 96 * 1024;

    static final ThreadLocal<float[]> U_BUF = ThreadLocal.withInitial(() -> new float[0]);
    static final ThreadLocal<float[]> V_BUF = ThreadLocal.withInitial(() -> new float[0]);
    static final ThreadLocal<float[]> M_BUF = ThreadLocal.withInitial(() -> new float[0]);
    /** Ragged-tile scratch of the micro-kernels (kernelRows here, Sgemm.kernelTransposedA in the filter gradient). */
    static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[Sgemm.MR * NR]);

    private Winograd3x3() {
    }

    /** Filter value g(ky, kx, ci, co) of the correlation being computed. */
    interface Taps {
        float get(int ky, int kx, int ci, int co);
    }

    /**
     * A forward pass's filter as stored, HWIO with kw columns: g(ky, kx, ci, co) at
     * {@code w[wo + ((ky * kw + kx) * cin + ci) * cout + co]}. Its output channels are contiguous,
     * so {@link #transformFilter} transforms a vector of them at a time; and it is a weight as
     * stored, so its transformed or packed forms may be kept while it is frozen ({@link org.slim4j.kernels.FrozenWeights}).
     */
    record HwioTaps(float[] w, int wo, int kw, int cin, int cout) implements Taps {
        @Override
        public float get(int ky, int kx, int ci, int co) {
            return w[wo + ((ky * kw + kx) * cin + ci) * cout + co];
        }
    }

    /** Whether the Winograd path handles this convolution (3x3, unit strides and dilations, vector-multiple channels). */
    static boolean applies(int kh, int kw, int sh, int sw, int dh, int dw, int cin, int cout) {
        return kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1
                && cin % VL == 0 && cout % VL == 0 && cin >= 16 && cout >= 16;
    }

    private static float[] grow(ThreadLocal<float[]> tl, int size) {
        return ThreadBuffers.floats(tl, size);
    }

    /**
     * A source in which every input tile (side {@code tile}, {@code step} pixels apart, the first at
     * (offY, offX)) lies whole: x itself, or a zero-padded copy when some tile hangs over its edge.
     * Tiles start at (step ty + tileY, step tx + tileX) of {@code a} ([n, h, w, c] at {@code off}).
     * Gathering the edge tiles cell by cell instead cost more than one copy of the input: on a
     * 14x14 map half the tiles touch the edge.
     */
    record TileSource(float[] a, int off, int h, int w, int tileY, int tileX) {
        static TileSource of(float[] x, int xo, int n, int h, int w, int c, int tH, int tW, int offY, int offX, int tile) {
            return of(x, xo, n, h, w, c, tH, tW, offY, offX, tile, 2);
        }

        static TileSource of(float[] x, int xo, int n, int h, int w, int c, int tH, int tW, int offY, int offX, int tile, int step) {
            int top = Math.max(0, -offY), left = Math.max(0, -offX);
            int needH = step * (tH - 1) + offY + tile, needW = step * (tW - 1) + offX + tile;
            if (top == 0 && left == 0 && needH <= h && needW <= w) return new TileSource(x, xo, h, w, offY, offX);
            int hp = Math.max(h, needH) + top, wp = Math.max(w, needW) + left;
            return new TileSource(ImplicitGemmConv.padded(x, xo, n, h, w, c, top, left, hp, wp), 0, hp, wp, offY + top, offX + left);
        }
    }

    /**
     * dst[n, oy, ox, co] = sum over (ky, kx, ci) of x[n, oy + offY + ky, ox + offX + kx, ci] *
     * g(ky, kx, ci, co), cells outside [0, h) x [0, w) counting as zero; x is [n, h, w, cin] at
     * xo, dst [n, dstH, dstW, cout], every element of dst written.
     */
    static void correlate(float[] x, int xo, int n, int h, int w, int cin, Taps g,
                          float[] dst, int dOff, int dstH, int dstW, int cout, int offY, int offX, Sgemm.Epilogue epi) {
        final int np = Sgemm.panels(cout);
        final float[] u = transformFilter(g, cin, cout, np);
        final int tH = (dstH + 1) / 2, tW = (dstW + 1) / 2;
        final TileSource in = TileSource.of(x, xo, n, h, w, cin, tH, tW, offY, offX, 4);
        final int tiles = n * tH * tW;
        final int kbs = Sgemm.ceilDiv(cin, KS);
        final int tbMax = blockTiles(BLOCK_FLOATS, 16, kbs, cout);
        final int units = Sgemm.ceilDiv(tiles, tbMax);
        Parallel.forRange(units, 1, (u0, u1) -> {
            float[] v = grow(V_BUF, 16 * vPlane(kbs, tbMax));
            float[] m = grow(M_BUF, 16 * mPlane(tbMax, cout));
            float[] scratch = SCRATCH.get();
            for (int unit = u0; unit < u1; unit++) {
                int t0 = unit * tbMax;
                int tb1 = Math.min(tbMax, tiles - t0);
                inputTransform(in, cin, tH, tW, t0, tb1, tbMax, kbs, v);
                positionProducts(16, kbs, cin, cout, np, tb1, tbMax, v, u, m, scratch);
                outputTransform(m, cout, tH, tW, t0, tb1, tbMax, dst, dOff, dstH, dstW, epi);
            }
        });
    }

    /** Tiles per block such that V and M of all positions fit in {@code floats}: a multiple of MR4, 8 to 64. */
    static int blockTiles(int floats, int positions, int kbs, int cout) {
        int tb = floats / (positions * (kbs * KS + cout)) / MR4 * MR4;
        return Math.max(2 * MR4, Math.min(64, tb));
    }

    /**
     * One cache line between consecutive positions of V and M (here and in {@link Winograd5x5}).
     * The transforms touch all 16 (36) positions of a tile at once; unpadded, a plane is often a
     * multiple of 4 KiB (48 tiles x 64 channels at 56x56, 12 x 256 at 14x14) and puts every
     * position on the same L1 set, 16 lines for 8 ways. Alternated in one JVM, two threads, best of
     * 8 (ms, unpadded -> padded): ResNet's 3x3 64->64 at 56x56 batch 8 forward 13.5 / 14.9 -> 12.1 /
     * 12.6, input gradient 14.5 / 14.0 -> 12.2 / 11.7, filter gradient 19.2 / 16.8 -> 14.3 / 14.6;
     * 128->128 at 28x28 and 256->256 at 14x14 within the noise (forward 5 of 5 faster at 14x14);
     * LeNet's 5x5 32->64 at 14x14 batch 64 forward 11.4 / 10.1 / 9.4 -> 10.7 / 9.9 / 8.6;
     * Inception's 5x5 48->64 at 35x35 batch 4 forward 7.3 / 6.2 -> 6.0 / 5.3, input gradient
     * 7.3 / 6.3 -> 5.3 / 5.6.
     */
    static final int PLANE_PAD = 16;

    /** Floats between consecutive positions of V (tile-block input transforms). */
    static int vPlane(int kbs, int tbMax) {
        return kbs * tbMax * KS + PLANE_PAD;
    }

    /** Floats between consecutive positions of M (tile-block products). */
    static int mPlane(int tbMax, int cout) {
        return tbMax * cout + PLANE_PAD;
    }

    /**
     * The per-position products of a tile block: M[xi] (tb x Cout) = V[xi] (tb x Cin) x U[xi] for
     * each of the positions, V as row-major A panels (K blocks of KS channels; position xi from
     * xi * vPlane), U as B panels, on {@link Sgemm#kernelRows}; M[xi] from xi * mPlane.
     */
    static void positionProducts(int positions, int kbs, int cin, int cout, int np, int tb1, int tbMax,
                                 float[] v, float[] u, float[] m, float[] scratch) {
        int vPlane = vPlane(kbs, tbMax);
        int mPlane = mPlane(tbMax, cout);
        for (int xi = 0; xi < positions; xi++) {
            for (int kb = 0; kb < kbs; kb++) {
                int kc = Math.min(KS, cin - kb * KS);
                int vBase = xi * vPlane + kb * tbMax * KS;
                for (int q = 0; q < np; q++) {
                    int nr = Math.min(NR, cout - q * NR);
                    int bo = (xi * np + q) * cin * NR + kb * KS * NR;
                    int co = xi * mPlane + q * NR;
                    for (int ir = 0; ir < tb1; ir += MR4) {
                        Sgemm.kernelRows(kc, v, vBase + ir * KS, u, bo, m, co + ir * cout, cout,
                                Math.min(MR4, tb1 - ir), nr, kb > 0, scratch);
                    }
                }
            }
        }
    }

    /** The filter gradient of {@link #correlate}'s scheme ({@link WinogradFilterGradient}). */
    static final WinogradFilterGradient.Scheme GRADIENT = new WinogradFilterGradient.Scheme(4,
            (in, cin, tH, tW, t0, tb, tbMax, kbs, v, patch) -> inputTransform(in, cin, tH, tW, t0, tb, tbMax, kbs, v),
            Winograd3x3::gradTransform, Winograd3x3::filterFromProducts);

    /** dW (HWIO, 3x3, at dwo) = G^T dU G for every (ci, co); dU[xi nu] (Cin x Cout) at (xi * 4 + nu) * cin * cout. */
    private static void filterFromProducts(float[] du, int cin, int cout, float[] dw, int dwo) {
        Parallel.forRange(cin, Math.max(1, 4096 / Math.max(1, cout)), (c0, c1) -> {
            float[] u = new float[16];
            for (int ci = c0; ci < c1; ci++) {
                for (int co = 0; co < cout; co++) {
                    int e = ci * cout + co;
                    for (int xi = 0; xi < 16; xi++) u[xi] = du[xi * cin * cout + e];
                    // s = G^T dU (3 x 4), then dg = s G (3 x 3); G rows (1,0,0), (.5,.5,.5), (.5,-.5,.5), (0,0,1).
                    for (int a = 0; a < 3; a++) {
                        float s0, s1, s2, s3;
                        if (a == 0) {
                            s0 = u[0] + 0.5f * (u[4] + u[8]);
                            s1 = u[1] + 0.5f * (u[5] + u[9]);
                            s2 = u[2] + 0.5f * (u[6] + u[10]);
                            s3 = u[3] + 0.5f * (u[7] + u[11]);
                        } else if (a == 1) {
                            s0 = 0.5f * (u[4] - u[8]);
                            s1 = 0.5f * (u[5] - u[9]);
                            s2 = 0.5f * (u[6] - u[10]);
                            s3 = 0.5f * (u[7] - u[11]);
                        } else {
                            s0 = 0.5f * (u[4] + u[8]) + u[12];
                            s1 = 0.5f * (u[5] + u[9]) + u[13];
                            s2 = 0.5f * (u[6] + u[10]) + u[14];
                            s3 = 0.5f * (u[7] + u[11]) + u[15];
                        }
                        int row = dwo + (a * 3 * cin + ci) * cout + co;
                        dw[row] = s0 + 0.5f * (s1 + s2);
                        dw[row + cin * cout] = 0.5f * (s1 - s2);
                        dw[row + 2 * cin * cout] = 0.5f * (s1 + s2) + s3;
                    }
                }
            }
        });
    }

    /**
     * dM[xi nu] = A dY A^T for tiles [t0, t0 + tb) and every channel vector of dy, written as
     * {@link WinogradFilterGradient} lays it out (A = the 4 x 2 transpose of A^T: rows (1,0),
     * (1,1), (1,-1), (0,-1)). Tiles at the edge read their missing dy cells as zeros through a
     * patch buffer.
     */
    private static void gradTransform(float[] dy, int dyo, int dstH, int dstW, int cout, int tH, int tW,
                                      int t0, int tb, int tbMax, float[] m, float[] patch) {
        int plane = WinogradFilterGradient.gradPlane(tbMax, cout);
        for (int tt = 0; tt < tb; tt++) {
            int t = t0 + tt;
            int img = t / (tH * tW);
            int rem = t - img * tH * tW;
            int ty = rem / tW;
            int tx = rem - ty * tW;
            int oy = 2 * ty, ox = 2 * tx;
            boolean full = oy + 1 < dstH && ox + 1 < dstW;
            int p00 = dyo + ((img * dstH + oy) * dstW + ox) * cout;
            for (int cb = 0; cb < cout; cb += VL) {
                float[] arr;
                int b00, colStride, rowStride;
                if (full) {
                    arr = dy;
                    b00 = p00 + cb;
                    colStride = cout;
                    rowStride = dstW * cout;
                } else {
                    WinogradFilterGradient.edgeTile(dy, p00 + cb, dstW * cout, cout, ox + 1 < dstW, oy + 1 < dstH, patch);
                    arr = patch;
                    b00 = 0;
                    colStride = VL;
                    rowStride = 2 * VL;
                }
                FloatVector d00 = FloatVector.fromArray(S, arr, b00);
                FloatVector d01 = FloatVector.fromArray(S, arr, b00 + colStride);
                FloatVector d10 = FloatVector.fromArray(S, arr, b00 + rowStride);
                FloatVector d11 = FloatVector.fromArray(S, arr, b00 + rowStride + colStride);
                // Rows: r_xi = (A dY)[xi] = (d0, d0 + d1, d0 - d1, -d1) per column.
                FloatVector r10 = d00.add(d10), r11 = d01.add(d11);
                FloatVector r20 = d00.sub(d10), r21 = d01.sub(d11);
                FloatVector r30 = d10.neg(), r31 = d11.neg();
                int o = WinogradFilterGradient.gradOffset(tt, cb, tbMax);
                // Columns: dM[xi][.] = (r0, r0 + r1, r0 - r1, -r1), written out (no vector-argument helper).
                d00.intoArray(m, o);
                d00.add(d01).intoArray(m, plane + o);
                d00.sub(d01).intoArray(m, 2 * plane + o);
                d01.neg().intoArray(m, 3 * plane + o);
                r10.intoArray(m, 4 * plane + o);
                r10.add(r11).intoArray(m, 5 * plane + o);
                r10.sub(r11).intoArray(m, 6 * plane + o);
                r11.neg().intoArray(m, 7 * plane + o);
                r20.intoArray(m, 8 * plane + o);
                r20.add(r21).intoArray(m, 9 * plane + o);
                r20.sub(r21).intoArray(m, 10 * plane + o);
                r21.neg().intoArray(m, 11 * plane + o);
                r30.intoArray(m, 12 * plane + o);
                r30.add(r31).intoArray(m, 13 * plane + o);
                r30.sub(r31).intoArray(m, 14 * plane + o);
                r31.neg().intoArray(m, 15 * plane + o);
            }
        }
    }

    /**
     * U[xi nu] = G g G^T for every (ci, co), packed per position xi*4+nu as NR-wide B panels over
     * the whole Cin: element (ci, co) at ((xi*4+nu) * np + co / NR) * cin * NR + ci * NR + co % NR.
     * The buffer belongs to the calling thread, except for a frozen weight's, which is kept.
     */
    static float[] transformFilter(Taps g, int cin, int cout, int np) {
        return new FilterForm("winograd 2x2 3x3", 3, 3, cin, cout).of(g, 16 * np * cin * NR, () -> transformInto(g, cin, cout, np));
    }

    private static float[] transformInto(Taps g, int cin, int cout, int np) {
        int size = 16 * np * cin * NR;
        float[] u = grow(U_BUF, size);
        int grain = Math.max(1, 4096 / Math.max(1, cout));
        HwioTaps hwio = g instanceof HwioTaps h && h.kw() == 3 && cout % VL == 0 ? h : null;
        // Columns past cout in a ragged last panel must read as zeros; elsewhere every value is written.
        if (hwio == null || cout % NR != 0) java.util.Arrays.fill(u, 0, size, 0f);
        if (hwio != null) {
            Parallel.forRange(cin, grain, (c0, c1) -> {
                for (int ci = c0; ci < c1; ci++) transformFilterRow(hwio, ci, cout, np, u);
            });
            return u;
        }
        Parallel.forRange(cin, grain, (c0, c1) -> {
            float[] t = new float[12];
            for (int ci = c0; ci < c1; ci++) {
                for (int co = 0; co < cout; co++) {
                    // t = g G^T (3 x 4), then U = G t (4 x 4).
                    for (int a = 0; a < 3; a++) {
                        float g0 = g.get(a, 0, ci, co), g1 = g.get(a, 1, ci, co), g2 = g.get(a, 2, ci, co);
                        t[a * 4] = g0;
                        t[a * 4 + 1] = 0.5f * (g0 + g1 + g2);
                        t[a * 4 + 2] = 0.5f * (g0 - g1 + g2);
                        t[a * 4 + 3] = g2;
                    }
                    int base = (co / NR) * cin * NR + ci * NR + co % NR;
                    int stride = np * cin * NR;
                    for (int nu = 0; nu < 4; nu++) {
                        float a0 = t[nu], a1 = t[4 + nu], a2 = t[8 + nu];
                        u[base + nu * stride] = a0;
                        u[base + (4 + nu) * stride] = 0.5f * (a0 + a1 + a2);
                        u[base + (8 + nu) * stride] = 0.5f * (a0 - a1 + a2);
                        u[base + (12 + nu) * stride] = a2;
                    }
                }
            }
        });
        return u;
    }

    /**
     * {@link #transformFilter}'s scalar loop for one input channel of an HWIO filter, VL output
     * channels at a time: the same float operations in the same order, so the same U. Alternated
     * with the scalar loop in one JVM (two threads, medians of 150): 256 -> 256 1.8-2.1 -> 0.65-1.1
     * ms, 512 -> 512 9.8 -> 5.2-6.8 ms, 64 and 128 channels about even. The forward pass
     * transforms its filter on every call (ResNet-50 inference: 1.8% of JFR samples before this).
     */
    private static void transformFilterRow(HwioTaps h, int ci, int cout, int np, float[] u) {
        float[] w = h.w();
        int stride = np * h.cin() * NR;
        int rowStep = h.cin() * cout;
        for (int co = 0; co < cout; co += VL) {
            int g0 = h.wo() + ci * cout + co;
            // t = g G^T (3 x 4), one row of the 3x3 filter at a time.
            FloatVector a0 = FloatVector.fromArray(S, w, g0), a1 = FloatVector.fromArray(S, w, g0 + rowStep);
            FloatVector a2 = FloatVector.fromArray(S, w, g0 + 2 * rowStep);
            FloatVector t00 = a0, t01 = a0.add(a1).add(a2).mul(0.5f), t02 = a0.sub(a1).add(a2).mul(0.5f), t03 = a2;
            a0 = FloatVector.fromArray(S, w, g0 + 3 * rowStep);
            a1 = FloatVector.fromArray(S, w, g0 + 4 * rowStep);
            a2 = FloatVector.fromArray(S, w, g0 + 5 * rowStep);
            FloatVector t10 = a0, t11 = a0.add(a1).add(a2).mul(0.5f), t12 = a0.sub(a1).add(a2).mul(0.5f), t13 = a2;
            a0 = FloatVector.fromArray(S, w, g0 + 6 * rowStep);
            a1 = FloatVector.fromArray(S, w, g0 + 7 * rowStep);
            a2 = FloatVector.fromArray(S, w, g0 + 8 * rowStep);
            FloatVector t20 = a0, t21 = a0.add(a1).add(a2).mul(0.5f), t22 = a0.sub(a1).add(a2).mul(0.5f), t23 = a2;
            // U = G t (4 x 4), one column nu at a time.
            int base = (co / NR) * h.cin() * NR + ci * NR + co % NR;
            filterColumn(t00, t10, t20, u, base, stride);
            filterColumn(t01, t11, t21, u, base + stride, stride);
            filterColumn(t02, t12, t22, u, base + 2 * stride, stride);
            filterColumn(t03, t13, t23, u, base + 3 * stride, stride);
        }
    }

    /** U[xi][nu] for xi = 0..3 (planes 4 * stride apart) from column nu of t: G's rows (1,0,0), (1/2,1/2,1/2), (1/2,-1/2,1/2), (0,0,1). */
    private static void filterColumn(FloatVector a0, FloatVector a1, FloatVector a2, float[] u, int o, int stride) {
        a0.intoArray(u, o);
        a0.add(a1).add(a2).mul(0.5f).intoArray(u, o + 4 * stride);
        a0.sub(a1).add(a2).mul(0.5f).intoArray(u, o + 8 * stride);
        a2.intoArray(u, o + 12 * stride);
    }

    /**
     * V[xi nu] = B^T d B for tiles [t0, t0 + tb) and every channel vector, written as row-major A
     * panels: position p, K block kb, tile row tt, channel c at p * vPlane + (kb * tbMax + tt) * KS + c % KS.
     * Every tile lies inside the source ({@link TileSource}), so the transform's loads are
     * unconditional (a vector chosen by a branch would make C2 box it).
     */
    private static void inputTransform(TileSource in, int cin, int tH, int tW, int t0, int tb, int tbMax, int kbs, float[] v) {
        int plane = vPlane(kbs, tbMax);
        int rowStride = in.w() * cin;
        float[] src = in.a();
        for (int tt = 0; tt < tb; tt++) {
            int t = t0 + tt;
            int img = t / (tH * tW);
            int rem = t - img * tH * tW;
            int ty = rem / tW;
            int tx = rem - ty * tW;
            int base = in.off() + ((img * in.h() + 2 * ty + in.tileY()) * in.w() + 2 * tx + in.tileX()) * cin;
            for (int cb = 0; cb < cin; cb += VL) {
                int kb = cb / KS;
                transformTile(src, base + cb, rowStride, cin, v, (kb * tbMax + tt) * KS + cb - kb * KS, plane);
            }
        }
    }

    /** One channel vector of one tile: d[a][b] at arr[base + a * rowStride + b * colStride]. */
    private static void transformTile(float[] arr, int base, int rowStride, int colStride, float[] v, int dstBase, int plane) {
        int b0 = base, b1 = b0 + rowStride, b2 = b1 + rowStride, b3 = b2 + rowStride;
        // Rows first: e[.][b] = (B^T d)[.][b] for each column b of the 4x4 tile.
        FloatVector e00, e01, e02, e03, e10, e11, e12, e13, e20, e21, e22, e23, e30, e31, e32, e33;
        {
            FloatVector d0 = FloatVector.fromArray(S, arr, b0), d1 = FloatVector.fromArray(S, arr, b1);
            FloatVector d2 = FloatVector.fromArray(S, arr, b2), d3 = FloatVector.fromArray(S, arr, b3);
            e00 = d0.sub(d2);
            e10 = d1.add(d2);
            e20 = d2.sub(d1);
            e30 = d1.sub(d3);
        }
        {
            FloatVector d0 = FloatVector.fromArray(S, arr, b0 + colStride), d1 = FloatVector.fromArray(S, arr, b1 + colStride);
            FloatVector d2 = FloatVector.fromArray(S, arr, b2 + colStride), d3 = FloatVector.fromArray(S, arr, b3 + colStride);
            e01 = d0.sub(d2);
            e11 = d1.add(d2);
            e21 = d2.sub(d1);
            e31 = d1.sub(d3);
        }
        {
            FloatVector d0 = FloatVector.fromArray(S, arr, b0 + 2 * colStride), d1 = FloatVector.fromArray(S, arr, b1 + 2 * colStride);
            FloatVector d2 = FloatVector.fromArray(S, arr, b2 + 2 * colStride), d3 = FloatVector.fromArray(S, arr, b3 + 2 * colStride);
            e02 = d0.sub(d2);
            e12 = d1.add(d2);
            e22 = d2.sub(d1);
            e32 = d1.sub(d3);
        }
        {
            FloatVector d0 = FloatVector.fromArray(S, arr, b0 + 3 * colStride), d1 = FloatVector.fromArray(S, arr, b1 + 3 * colStride);
            FloatVector d2 = FloatVector.fromArray(S, arr, b2 + 3 * colStride), d3 = FloatVector.fromArray(S, arr, b3 + 3 * colStride);
            e03 = d0.sub(d2);
            e13 = d1.add(d2);
            e23 = d2.sub(d1);
            e33 = d1.sub(d3);
        }
        // Then columns: V[xi][.] = (B^T d)[xi][.] B = (e0 - e2, e1 + e2, e2 - e1, e1 - e3). Written out
        // in place: a helper taking vectors as arguments is not always inlined, and then C2 boxes them.
        e00.sub(e02).intoArray(v, 0 * plane + dstBase);
        e01.add(e02).intoArray(v, 1 * plane + dstBase);
        e02.sub(e01).intoArray(v, 2 * plane + dstBase);
        e01.sub(e03).intoArray(v, 3 * plane + dstBase);
        e10.sub(e12).intoArray(v, 4 * plane + dstBase);
        e11.add(e12).intoArray(v, 5 * plane + dstBase);
        e12.sub(e11).intoArray(v, 6 * plane + dstBase);
        e11.sub(e13).intoArray(v, 7 * plane + dstBase);
        e20.sub(e22).intoArray(v, 8 * plane + dstBase);
        e21.add(e22).intoArray(v, 9 * plane + dstBase);
        e22.sub(e21).intoArray(v, 10 * plane + dstBase);
        e21.sub(e23).intoArray(v, 11 * plane + dstBase);
        e30.sub(e32).intoArray(v, 12 * plane + dstBase);
        e31.add(e32).intoArray(v, 13 * plane + dstBase);
        e32.sub(e31).intoArray(v, 14 * plane + dstBase);
        e31.sub(e33).intoArray(v, 15 * plane + dstBase);
    }

    /** The top-left output pixel (index in [n, dstH, dstW]) of 2x2 output tile t of tH x tW tiles per image. */
    static int tilePixel(int t, int tH, int tW, int dstH, int dstW) {
        int img = t / (tH * tW);
        int rem = t - img * tH * tW;
        int ty = rem / tW;
        return (img * dstH + 2 * ty) * dstW + 2 * (rem - ty * tW);
    }

    /** The epilogue on each output pixel of a 2x2 tile at p00 (those inside the image: right, down). */
    static void tileEpilogue(Sgemm.Epilogue epi, float[] dst, int dOff, int cout, int p00, int dstW, boolean right, boolean down) {
        epi.apply(dst, dOff, cout, p00, 1, 0, cout);
        if (right) epi.apply(dst, dOff, cout, p00 + 1, 1, 0, cout);
        if (down) {
            epi.apply(dst, dOff, cout, p00 + dstW, 1, 0, cout);
            if (right) epi.apply(dst, dOff, cout, p00 + dstW + 1, 1, 0, cout);
        }
    }

    /** Y = A^T M A for tiles [t0, t0 + tb), clipped to the destination, plus the epilogue per pixel. */
    private static void outputTransform(float[] m, int cout, int tH, int tW, int t0, int tb, int tbMax,
                                        float[] dst, int dOff, int dstH, int dstW, Sgemm.Epilogue epi) {
        int plane = mPlane(tbMax, cout);
        for (int tt = 0; tt < tb; tt++) {
            int p00 = tilePixel(t0 + tt, tH, tW, dstH, dstW);
            int p10 = p00 + dstW;
            boolean right = p00 % dstW + 1 < dstW, down = p00 / dstW % dstH + 1 < dstH;
            for (int cb = 0; cb < cout; cb += VL) {
                int mb = tt * cout + cb;
                // Rows: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 for each column nu.
                FloatVector s00, s01, s02, s03, s10, s11, s12, s13;
                {
                    FloatVector m0 = FloatVector.fromArray(S, m, mb), m1 = FloatVector.fromArray(S, m, 4 * plane + mb);
                    FloatVector m2 = FloatVector.fromArray(S, m, 8 * plane + mb), m3 = FloatVector.fromArray(S, m, 12 * plane + mb);
                    s00 = m0.add(m1).add(m2);
                    s10 = m1.sub(m2).sub(m3);
                }
                {
                    FloatVector m0 = FloatVector.fromArray(S, m, plane + mb), m1 = FloatVector.fromArray(S, m, 5 * plane + mb);
                    FloatVector m2 = FloatVector.fromArray(S, m, 9 * plane + mb), m3 = FloatVector.fromArray(S, m, 13 * plane + mb);
                    s01 = m0.add(m1).add(m2);
                    s11 = m1.sub(m2).sub(m3);
                }
                {
                    FloatVector m0 = FloatVector.fromArray(S, m, 2 * plane + mb), m1 = FloatVector.fromArray(S, m, 6 * plane + mb);
                    FloatVector m2 = FloatVector.fromArray(S, m, 10 * plane + mb), m3 = FloatVector.fromArray(S, m, 14 * plane + mb);
                    s02 = m0.add(m1).add(m2);
                    s12 = m1.sub(m2).sub(m3);
                }
                {
                    FloatVector m0 = FloatVector.fromArray(S, m, 3 * plane + mb), m1 = FloatVector.fromArray(S, m, 7 * plane + mb);
                    FloatVector m2 = FloatVector.fromArray(S, m, 11 * plane + mb), m3 = FloatVector.fromArray(S, m, 15 * plane + mb);
                    s03 = m0.add(m1).add(m2);
                    s13 = m1.sub(m2).sub(m3);
                }
                // Columns: y[i][0] = s_i0 + s_i1 + s_i2, y[i][1] = s_i1 - s_i2 - s_i3.
                s00.add(s01).add(s02).intoArray(dst, dOff + p00 * cout + cb);
                if (right) s01.sub(s02).sub(s03).intoArray(dst, dOff + (p00 + 1) * cout + cb);
                if (down) {
                    s10.add(s11).add(s12).intoArray(dst, dOff + p10 * cout + cb);
                    if (right) s11.sub(s12).sub(s13).intoArray(dst, dOff + (p10 + 1) * cout + cb);
                }
            }
            if (epi != null) tileEpilogue(epi, dst, dOff, cout, p00, dstW, right, down);
        }
    }
}
