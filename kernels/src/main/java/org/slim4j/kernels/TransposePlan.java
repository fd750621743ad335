package org.slim4j.kernels;

import java.util.Arrays;
import org.slim4j.tensor.Shape;

/**
 * A transpose reduced to what a kernel must move: size-1 axes dropped and input axes that stay
 * neighbours in the output fused, so NHWC -> NCHW becomes a batch of [H*W, C] -> [C, H*W] swaps.
 * The CPU and CUDA transposes both plan with it; {@link #rank()} <= 1 means a plain copy.
 *
 * @param inDims        merged input dims, in input order
 * @param perm          output axis g takes merged input axis perm[g]
 * @param outDims       merged output dims
 * @param inStrideOfOut input element stride of each output axis
 * @param outStrides    row-major element strides of {@code outDims}
 */
public record TransposePlan(int[] inDims, int[] perm, int[] outDims, int[] inStrideOfOut, int[] outStrides) {

    /** The output shape's dims of transposing {@code input} by {@code perm}; the error names {@code op} when perm is not a permutation. */
    public static int[] outputDims(String op, Shape input, int[] perm) {
        int rank = input.rank();
        boolean ok = perm != null && perm.length == rank;
        boolean[] seen = new boolean[rank];
        for (int i = 0; ok && i < rank; i++) {
            ok = perm[i] >= 0 && perm[i] < rank && !seen[perm[i]];
            if (ok) seen[perm[i]] = true;
        }
        if (!ok) {
            throw new IllegalArgumentException(op + ": perm " + Arrays.toString(perm) + " is not a permutation of the axes of input " + input);
        }
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) out[i] = input.dim(perm[i]);
        return out;
    }

    /** The plan of transposing an input of {@code dims} by the (valid) permutation {@code perm}. */
    public static TransposePlan of(int[] dims, int[] perm) {
        int rank = dims.length;
        // Drop size-1 axes: p is perm over the kept axes, d their sizes.
        int[] keep = new int[rank];
        int kept = 0;
        for (int a = 0; a < rank; a++) if (dims[a] != 1) keep[kept++] = a;
        int[] newIndex = new int[rank];
        for (int i = 0; i < kept; i++) newIndex[keep[i]] = i;
        int[] p = new int[kept];
        int[] d = new int[kept];
        for (int i = 0, q = 0; i < rank; i++) if (dims[perm[i]] != 1) p[q++] = newIndex[perm[i]];
        for (int i = 0; i < kept; i++) d[i] = dims[keep[i]];
        // Fuse output neighbours that were input neighbours (p[i] == p[i-1] + 1) into groups.
        int[] gIn = new int[kept];
        int[] gSize = new int[kept];
        int m = 0;
        for (int i = 0; i < kept; i++) {
            if (m > 0 && p[i] == p[i - 1] + 1) {
                gSize[m - 1] *= d[p[i]];
            } else {
                gIn[m] = p[i];
                gSize[m] = d[p[i]];
                m++;
            }
        }
        // Rank the groups by input position: merged input dims and the merged perm.
        Integer[] byIn = new Integer[m];
        for (int g = 0; g < m; g++) byIn[g] = g;
        Arrays.sort(byIn, (u, v) -> Integer.compare(gIn[u], gIn[v]));
        int[] md = new int[m];
        int[] mp = new int[m];
        for (int r = 0; r < m; r++) {
            md[r] = gSize[byIn[r]];
            mp[byIn[r]] = r;
        }
        int[] inStride = rowStrides(md);
        int[] od = new int[m];
        int[] sso = new int[m];
        for (int g = 0; g < m; g++) {
            od[g] = md[mp[g]];
            sso[g] = inStride[mp[g]];
        }
        return new TransposePlan(md, mp, od, sso, rowStrides(od));
    }

    /** Number of merged axes. */
    public int rank() {
        return perm.length;
    }

    /** Whether the input's innermost axis stays innermost, so the copy moves contiguous runs. */
    public boolean innermostStays() {
        return perm[rank() - 1] == rank() - 1;
    }

    /** The output position of the input's innermost merged axis. */
    public int outPositionOfInnermostInput() {
        int q = 0;
        while (perm[q] != rank() - 1) q++;
        return q;
    }

    private static int[] rowStrides(int[] dims) {
        int[] s = new int[dims.length];
        int st = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = st;
            st *= dims[i];
        }
        return s;
    }
}
