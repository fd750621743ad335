package org.slim4j.io.preprocessing;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TF1's legacy (align_corners = false, half_pixel_centers = false) nearest-neighbour, bicubic and
 * area resizing of one float32 HWC image, as TF's CPU kernels compute them in float32. Bilinear
 * lives in the kernels module ({@code ResizeKernels}). Scale = in / out in float; source coordinate
 * = destination · scale.
 */
final class ImageResizers {
    private ImageResizers() {
    }

    private static float scale(int in, int out) {
        return (float) in / out;
    }

    /** ResizeNearestNeighbor: source index min(floor(dst · scale), in − 1). */
    static Tensor nearest(Tensor image, int outH, int outW) {
        int h = image.dim(0);
        int w = image.dim(1);
        int c = image.dim(2);
        float sy = scale(h, outH);
        float sx = scale(w, outW);
        float[] x = image.floatData();
        int xo = image.offset();
        Tensor out = Tensor.zeros(DType.FLOAT32, Shape.of(outH, outW, c));
        float[] y = out.floatData();
        int[] col = new int[outW];
        for (int ox = 0; ox < outW; ox++) col[ox] = Math.min((int) Math.floor(ox * sx), w - 1);
        for (int oy = 0; oy < outH; oy++) {
            int iy = Math.min((int) Math.floor(oy * sy), h - 1);
            for (int ox = 0; ox < outW; ox++) {
                System.arraycopy(x, xo + (iy * w + col[ox]) * c, y, (oy * outW + ox) * c, c);
            }
        }
        return out;
    }

    // ---- bicubic ---------------------------------------------------------------------------------

    private static final int TABLE_SIZE = 1024;
    /** TF's coefficient table for the cubic kernel with a = −0.75: [i·2] = W(i/1024), [i·2+1] = W(1 + i/1024). */
    private static final float[] CUBIC = cubicTable(-0.75);

    private static float[] cubicTable(double a) {
        float[] t = new float[(TABLE_SIZE + 1) * 2];
        for (int i = 0; i <= TABLE_SIZE; i++) {
            float x = (float) (i * 1.0 / TABLE_SIZE);
            t[i * 2] = (float) (((a + 2) * x - (a + 3)) * x * x + 1);
            x += 1.0f;
            t[i * 2 + 1] = (float) (((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
        }
        return t;
    }

    /** Four source indices (clamped to the image) and weights for one output coordinate. */
    private record Taps(int[] index, float[] weight) {
    }

    private static Taps taps(int out, float scale, int limit) {
        int[] idx = new int[4 * out];
        float[] wt = new float[4 * out];
        for (int o = 0; o < out; o++) {
            float in = o * scale;
            int loc = (int) Math.floor(in);
            float delta = in - loc;
            int off = ImageOps.lrintf(delta * TABLE_SIZE);
            wt[4 * o] = CUBIC[off * 2 + 1];
            wt[4 * o + 1] = CUBIC[off * 2];
            wt[4 * o + 2] = CUBIC[(TABLE_SIZE - off) * 2];
            wt[4 * o + 3] = CUBIC[(TABLE_SIZE - off) * 2 + 1];
            for (int k = 0; k < 4; k++) idx[4 * o + k] = Math.min(limit - 1, Math.max(0, loc - 1 + k));
        }
        return new Taps(idx, wt);
    }

    /** ResizeBicubic (legacy, a = −0.75, weights from TF's 1024-entry table, edge pixels repeated). */
    static Tensor bicubic(Tensor image, int outH, int outW) {
        int h = image.dim(0);
        int w = image.dim(1);
        int c = image.dim(2);
        Taps ty = taps(outH, scale(h, outH), h);
        Taps tx = taps(outW, scale(w, outW), w);
        float[] x = image.floatData();
        int xo = image.offset();
        Tensor out = Tensor.zeros(DType.FLOAT32, Shape.of(outH, outW, c));
        float[] y = out.floatData();
        for (int oy = 0; oy < outH; oy++) {
            int r0 = xo + ty.index()[4 * oy] * w * c;
            int r1 = xo + ty.index()[4 * oy + 1] * w * c;
            int r2 = xo + ty.index()[4 * oy + 2] * w * c;
            int r3 = xo + ty.index()[4 * oy + 3] * w * c;
            float wy0 = ty.weight()[4 * oy];
            float wy1 = ty.weight()[4 * oy + 1];
            float wy2 = ty.weight()[4 * oy + 2];
            float wy3 = ty.weight()[4 * oy + 3];
            for (int ox = 0; ox < outW; ox++) {
                for (int ch = 0; ch < c; ch++) {
                    // TF interpolates each of the four columns along y first, then along x.
                    float acc = 0f;
                    for (int k = 0; k < 4; k++) {
                        int col = tx.index()[4 * ox + k] * c + ch;
                        float v = x[r0 + col] * wy0 + x[r1 + col] * wy1 + x[r2 + col] * wy2 + x[r3 + col] * wy3;
                        acc = k == 0 ? v * tx.weight()[4 * ox] : acc + v * tx.weight()[4 * ox + k];
                    }
                    y[(oy * outW + ox) * c + ch] = acc;
                }
            }
        }
        return out;
    }

    // ---- area -------------------------------------------------------------------------------------

    /** ResizeArea: each output pixel is the mean of the input area it covers (partial pixels weighted). */
    static Tensor area(Tensor image, int outH, int outW) {
        int h = image.dim(0);
        int w = image.dim(1);
        int c = image.dim(2);
        float hs = scale(h, outH);
        float ws = scale(w, outW);
        float norm = (float) (1.0 / (hs * ws));
        // Per output column: first and end (exclusive) input column and the weights of the two ends.
        int[] xStart = new int[outW];
        int[] xEnd = new int[outW];
        float[] xStartScale = new float[outW];
        float[] xEndScale = new float[outW];
        for (int ox = 0; ox < outW; ox++) {
            float in0 = ox * ws;
            float in1 = (ox + 1) * ws;
            int s = (int) Math.floor(in0);
            int e = (int) Math.ceil(in1);
            xStart[ox] = s;
            xEnd[ox] = e;
            xStartScale[ox] = cover(s, in0, in1, ws);
            xEndScale[ox] = cover(e - 1, in0, in1, ws);
        }
        float[] x = image.floatData();
        int xo = image.offset();
        Tensor out = Tensor.zeros(DType.FLOAT32, Shape.of(outH, outW, c));
        float[] y = out.floatData();
        for (int oy = 0; oy < outH; oy++) {
            float in0 = oy * hs;
            float in1 = (oy + 1) * hs;
            int ys = (int) Math.floor(in0);
            int ye = (int) Math.ceil(in1);
            for (int ox = 0; ox < outW; ox++) {
                int s = xStart[ox];
                int e = xEnd[ox];
                for (int ch = 0; ch < c; ch++) {
                    float sum = 0f;
                    for (int iy = ys; iy < ye; iy++) {
                        int row = xo + clamp(iy, h) * w * c + ch;
                        float sumY = x[row + clamp(s, w) * c] * xStartScale[ox];
                        if (s + 1 != e) {
                            for (int ix = s + 1; ix < e - 1; ix++) sumY += x[row + clamp(ix, w) * c];
                            sumY += x[row + clamp(e - 1, w) * c] * xEndScale[ox];
                        }
                        sum += sumY * cover(iy, in0, in1, hs);
                    }
                    y[(oy * outW + ox) * c + ch] = sum * norm;
                }
            }
        }
        return out;
    }

    /** How much of input cell [i, i+1) lies in [in0, in1), as TF's ResizeArea computes it. */
    private static float cover(int i, float in0, float in1, float scale) {
        if (i < in0) return i + 1 > in1 ? scale : i + 1 - in0;
        return i + 1 > in1 ? in1 - i : 1.0f;
    }

    private static int clamp(int v, int limit) {
        return Math.min(limit - 1, Math.max(0, v));
    }
}
