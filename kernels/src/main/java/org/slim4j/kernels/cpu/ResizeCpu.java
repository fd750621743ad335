package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.ResizeKernels;
import org.slim4j.kernels.ResizeMode;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TensorFlow's ResizeBilinear (three coordinate modes), its gradient, and CropAndResize (bilinear),
 * all NHWC. Images may be float32, float64 or uint8; float32 and uint8 give float32 output,
 * float64 gives float64 (the reference path).
 *
 * <p>The float32 path reproduces TF's arithmetic: source coordinates are computed in float
 * (legacy: dst * scale; half-pixel: (dst + 0.5) * scale - 0.5; align-corners: scale = (in-1)/(out-1)),
 * lower = max(floor(src), 0), upper = min(ceil(src), in-1), lerp = src - floor(src), and a pixel is
 * top + (bottom - top) * yLerp with top/bottom lerped along x. Per-axis tables are computed once;
 * the channel loop is vectorised. The gradient gathers per input row (each task owns the image
 * rows it writes), so it is parallel and deterministic.
 */
public final class ResizeCpu implements ResizeKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int GRAIN_ELEMS = 8192;

    /** Interpolation table along one axis: source indices (lo, hi) and the weight of hi. */
    private record AxisTable(int[] lo, int[] hi, float[] lerp) {
    }

    private static float scaleF(int in, int out, ResizeMode mode) {
        return mode == ResizeMode.ALIGN_CORNERS && out > 1 ? (in - 1) / (float) (out - 1) : in / (float) out;
    }

    private static AxisTable tableF(int in, int out, ResizeMode mode) {
        float scale = scaleF(in, out, mode);
        int[] lo = new int[out];
        int[] hi = new int[out];
        float[] lerp = new float[out];
        for (int i = 0; i < out; i++) {
            float src = mode == ResizeMode.HALF_PIXEL ? ((float) i + 0.5f) * scale - 0.5f : (float) i * scale;
            float fl = (float) Math.floor(src);
            lo[i] = Math.max((int) fl, 0);
            hi[i] = Math.min((int) Math.ceil(src), in - 1);
            lerp[i] = src - fl;
        }
        return new AxisTable(lo, hi, lerp);
    }

    /** Reference source coordinate in double. */
    private static double srcD(int i, int in, int out, ResizeMode mode) {
        return switch (mode) {
            case LEGACY -> i * ((double) in / out);
            case HALF_PIXEL -> (i + 0.5) * ((double) in / out) - 0.5;
            case ALIGN_CORNERS -> out > 1 ? i * ((double) (in - 1) / (out - 1)) : i * ((double) in / out);
        };
    }

    // ---- resizeBilinear --------------------------------------------------------------------------

    @Override
    public Tensor resizeBilinear(Tensor images, int outHeight, int outWidth, ResizeMode mode) {
        String op = "resizeBilinear";
        checkImages(op, images);
        if (mode == null) throw new IllegalArgumentException(op + ": mode is null");
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must be positive (images " + images.shape() + ")");
        }
        int n = images.dim(0);
        int h = images.dim(1);
        int w = images.dim(2);
        int c = images.dim(3);
        DType outType = images.dtype() == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
        Tensor out = Tensor.zeros(outType, Shape.of(n, outHeight, outWidth, c));
        if (out.numel() == 0) return out;
        if (outType == DType.FLOAT64) {
            double[] x = images.doubleData();
            int xo = images.offset();
            double[] y = out.doubleData();
            int o = 0;
            for (int b = 0; b < n; b++) {
                for (int oy = 0; oy < outHeight; oy++) {
                    double sy = srcD(oy, h, outHeight, mode);
                    int y0 = Math.max((int) Math.floor(sy), 0);
                    int y1 = Math.min((int) Math.ceil(sy), h - 1);
                    double ly = sy - Math.floor(sy);
                    for (int ox = 0; ox < outWidth; ox++) {
                        double sx = srcD(ox, w, outWidth, mode);
                        int x0 = Math.max((int) Math.floor(sx), 0);
                        int x1 = Math.min((int) Math.ceil(sx), w - 1);
                        double lx = sx - Math.floor(sx);
                        for (int ch = 0; ch < c; ch++) {
                            double tl = x[xo + ((b * h + y0) * w + x0) * c + ch];
                            double tr = x[xo + ((b * h + y0) * w + x1) * c + ch];
                            double bl = x[xo + ((b * h + y1) * w + x0) * c + ch];
                            double br = x[xo + ((b * h + y1) * w + x1) * c + ch];
                            double top = tl + (tr - tl) * lx;
                            double bottom = bl + (br - bl) * lx;
                            y[o++] = top + (bottom - top) * ly;
                        }
                    }
                }
            }
            return out;
        }
        float[] x = floatPixels(images);
        int xo = images.dtype() == DType.FLOAT32 ? images.offset() : 0;
        float[] y = out.floatData();
        AxisTable ty = tableF(h, outHeight, mode);
        AxisTable tx = tableF(w, outWidth, mode);
        int[] xl = new int[outWidth];
        int[] xh = new int[outWidth];
        for (int i = 0; i < outWidth; i++) {
            xl[i] = tx.lo()[i] * c;
            xh[i] = tx.hi()[i] * c;
        }
        float[] lxs = tx.lerp();
        int rowLen = outWidth * c;
        Parallel.forRange(n * outHeight, Math.max(1, GRAIN_ELEMS / rowLen), (s, e) -> {
            for (int r = s; r < e; r++) {
                int b = r / outHeight;
                int oy = r % outHeight;
                int top = xo + (b * h + ty.lo()[oy]) * w * c;
                int bot = xo + (b * h + ty.hi()[oy]) * w * c;
                float ly = ty.lerp()[oy];
                int o = r * rowLen;
                for (int ox = 0; ox < outWidth; ox++, o += c) {
                    lerpPixel(x, top + xl[ox], top + xh[ox], bot + xl[ox], bot + xh[ox], lxs[ox], ly, y, o, c);
                }
            }
        });
        return out;
    }

    /** out[o + ch] = bilinear blend of four pixels' channel ch, in TF's order of operations. */
    private static void lerpPixel(float[] x, int tl, int tr, int bl, int br, float lx, float ly, float[] y, int o, int c) {
        int step = F.length();
        int ch = 0;
        if (c >= step) {
            FloatVector vx = FloatVector.broadcast(F, lx);
            FloatVector vy = FloatVector.broadcast(F, ly);
            for (; ch <= c - step; ch += step) {
                FloatVector a = FloatVector.fromArray(F, x, tl + ch);
                FloatVector b = FloatVector.fromArray(F, x, tr + ch);
                FloatVector cc = FloatVector.fromArray(F, x, bl + ch);
                FloatVector d = FloatVector.fromArray(F, x, br + ch);
                FloatVector top = b.sub(a).mul(vx).add(a);
                FloatVector bottom = d.sub(cc).mul(vx).add(cc);
                bottom.sub(top).mul(vy).add(top).intoArray(y, o + ch);
            }
        }
        for (; ch < c; ch++) {
            float a = x[tl + ch];
            float top = a + (x[tr + ch] - a) * lx;
            float cc = x[bl + ch];
            float bottom = cc + (x[br + ch] - cc) * lx;
            y[o + ch] = top + (bottom - top) * ly;
        }
    }

    // ---- resizeBilinearGrad ----------------------------------------------------------------------

    @Override
    public Tensor resizeBilinearGrad(Tensor dy, Shape imageShape, ResizeMode mode) {
        String op = "resizeBilinearGrad";
        if (dy.dtype() != DType.FLOAT32 && dy.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": dy dtype " + dy.dtype() + " is not supported (float32 or float64)");
        }
        if (mode == null) throw new IllegalArgumentException(op + ": mode is null");
        if (dy.rank() != 4 || imageShape.rank() != 4 || dy.dim(0) != imageShape.dim(0) || dy.dim(3) != imageShape.dim(3)
                || imageShape.dim(1) == 0 || imageShape.dim(2) == 0) {
            throw new IllegalArgumentException(op + ": dy " + dy.shape() + " and image shape " + imageShape
                    + " must both be NHWC with the same batch and channels and a non-empty image");
        }
        int n = imageShape.dim(0);
        int h = imageShape.dim(1);
        int w = imageShape.dim(2);
        int c = imageShape.dim(3);
        int oh = dy.dim(1);
        int ow = dy.dim(2);
        Tensor out = Tensor.zeros(dy.dtype(), imageShape);
        if (dy.numel() == 0 || out.numel() == 0) return out;
        int go = dy.offset();
        if (dy.dtype() == DType.FLOAT64) {
            // Reference: scatter every upstream value onto its four source pixels.
            double[] g = dy.doubleData();
            double[] dx = out.doubleData();
            for (int b = 0; b < n; b++) {
                for (int oy = 0; oy < oh; oy++) {
                    double sy = srcD(oy, h, oh, mode);
                    int y0 = Math.max((int) Math.floor(sy), 0);
                    int y1 = Math.min((int) Math.ceil(sy), h - 1);
                    double ly = sy - Math.floor(sy);
                    for (int ox = 0; ox < ow; ox++) {
                        double sx = srcD(ox, w, ow, mode);
                        int x0 = Math.max((int) Math.floor(sx), 0);
                        int x1 = Math.min((int) Math.ceil(sx), w - 1);
                        double lx = sx - Math.floor(sx);
                        for (int ch = 0; ch < c; ch++) {
                            double v = g[go + ((b * oh + oy) * ow + ox) * c + ch];
                            dx[((b * h + y0) * w + x0) * c + ch] += v * (1 - ly) * (1 - lx);
                            dx[((b * h + y0) * w + x1) * c + ch] += v * (1 - ly) * lx;
                            dx[((b * h + y1) * w + x0) * c + ch] += v * ly * (1 - lx);
                            dx[((b * h + y1) * w + x1) * c + ch] += v * ly * lx;
                        }
                    }
                }
            }
            return out;
        }
        float[] g = dy.floatData();
        float[] dx = out.floatData();
        AxisTable ty = tableF(h, oh, mode);
        AxisTable tx = tableF(w, ow, mode);
        // For every image row, the upstream rows that touch it and their y weights (CSR lists).
        int[] start = new int[h + 1];
        for (int oy = 0; oy < oh; oy++) {
            start[ty.lo()[oy] + 1]++;
            start[ty.hi()[oy] + 1]++;
        }
        for (int i = 0; i < h; i++) start[i + 1] += start[i];
        int[] fillPos = start.clone();
        int[] srcRow = new int[2 * oh];
        float[] wy = new float[2 * oh];
        for (int oy = 0; oy < oh; oy++) {
            float ly = ty.lerp()[oy];
            int p = fillPos[ty.lo()[oy]]++;
            srcRow[p] = oy;
            wy[p] = 1f - ly;
            p = fillPos[ty.hi()[oy]]++;
            srcRow[p] = oy;
            wy[p] = ly;
        }
        int[] xl = new int[ow];
        int[] xh = new int[ow];
        for (int i = 0; i < ow; i++) {
            xl[i] = tx.lo()[i] * c;
            xh[i] = tx.hi()[i] * c;
        }
        float[] lxs = tx.lerp();
        int perRow = Math.max(1, 2 * oh / Math.max(1, h)) * ow * c;
        Parallel.forRange(n * h, Math.max(1, GRAIN_ELEMS / perRow), (s, e) -> {
            for (int r = s; r < e; r++) {
                int b = r / h;
                int iy = r % h;
                int dst = r * w * c;
                for (int p = start[iy]; p < start[iy + 1]; p++) {
                    float wyp = wy[p];
                    int src = go + (b * oh + srcRow[p]) * ow * c;
                    for (int ox = 0; ox < ow; ox++) {
                        float lx = lxs[ox];
                        scatterPixel(g, src + ox * c, wyp * (1f - lx), wyp * lx, dx, dst + xl[ox], dst + xh[ox], c);
                    }
                }
            }
        });
        return out;
    }

    /** dx[lo + ch] += g[ch] * wLo; dx[hi + ch] += g[ch] * wHi. */
    private static void scatterPixel(float[] g, int gi, float wLo, float wHi, float[] dx, int lo, int hi, int c) {
        int step = F.length();
        int ch = 0;
        if (c >= step) {
            FloatVector vl = FloatVector.broadcast(F, wLo);
            FloatVector vh = FloatVector.broadcast(F, wHi);
            for (; ch <= c - step; ch += step) {
                FloatVector v = FloatVector.fromArray(F, g, gi + ch);
                FloatVector.fromArray(F, dx, lo + ch).add(v.mul(vl)).intoArray(dx, lo + ch);
                // Re-read: lo and hi may be the same pixel.
                FloatVector.fromArray(F, dx, hi + ch).add(v.mul(vh)).intoArray(dx, hi + ch);
            }
        }
        for (; ch < c; ch++) {
            float v = g[gi + ch];
            dx[lo + ch] += v * wLo;
            dx[hi + ch] += v * wHi;
        }
    }

    // ---- cropAndResize ---------------------------------------------------------------------------

    @Override
    public Tensor cropAndResize(Tensor images, Tensor boxes, Tensor boxIndex, int cropHeight, int cropWidth, float extrapolationValue) {
        String op = "cropAndResize";
        checkImages(op, images);
        if (boxes.dtype() != DType.FLOAT32 && boxes.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": boxes dtype " + boxes.dtype() + " is not supported (float32 or float64)");
        }
        if (boxes.rank() != 2 || boxes.dim(1) != 4) {
            throw new IllegalArgumentException(op + ": boxes must be [B, 4], got " + boxes.shape() + " (images " + images.shape() + ")");
        }
        int nb = boxes.dim(0);
        if (boxIndex.dtype() != DType.INT32 && boxIndex.dtype() != DType.INT64) {
            throw new IllegalArgumentException(op + ": boxIndex must be int32 or int64, got " + boxIndex.dtype());
        }
        if (boxIndex.rank() != 1 || boxIndex.dim(0) != nb) {
            throw new IllegalArgumentException(op + ": boxIndex shape " + boxIndex.shape() + " must be [" + nb + "] to match boxes " + boxes.shape());
        }
        if (cropHeight <= 0 || cropWidth <= 0) {
            throw new IllegalArgumentException(op + ": crop size " + cropHeight + "x" + cropWidth + " must be positive");
        }
        int n = images.dim(0);
        int h = images.dim(1);
        int w = images.dim(2);
        int c = images.dim(3);
        long[] bi = boxIndex.toLongArray();
        for (int b = 0; b < nb; b++) {
            if (bi[b] < 0 || bi[b] >= n) {
                throw new IllegalArgumentException(op + ": boxIndex[" + b + "] = " + bi[b] + " is out of range [0, " + n + ") (images " + images.shape() + ")");
            }
        }
        DType outType = images.dtype() == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
        Tensor out = Tensor.zeros(outType, Shape.of(nb, cropHeight, cropWidth, c));
        if (out.numel() == 0) return out;
        if (outType == DType.FLOAT64) {
            double[] x = images.doubleData();
            int xo = images.offset();
            double[] bx = boxes.toDoubleArray();
            double[] y = out.doubleData();
            double ext = extrapolationValue;
            for (int b = 0; b < nb; b++) {
                double y1 = bx[4 * b];
                double x1 = bx[4 * b + 1];
                double y2 = bx[4 * b + 2];
                double x2 = bx[4 * b + 3];
                int img = (int) bi[b];
                for (int cy = 0; cy < cropHeight; cy++) {
                    double iy = cropHeight > 1 ? y1 * (h - 1) + cy * ((y2 - y1) * (h - 1) / (cropHeight - 1)) : 0.5 * (y1 + y2) * (h - 1);
                    for (int cx = 0; cx < cropWidth; cx++) {
                        double ix = cropWidth > 1 ? x1 * (w - 1) + cx * ((x2 - x1) * (w - 1) / (cropWidth - 1)) : 0.5 * (x1 + x2) * (w - 1);
                        int o = ((b * cropHeight + cy) * cropWidth + cx) * c;
                        if (iy < 0 || iy > h - 1 || ix < 0 || ix > w - 1) {
                            for (int ch = 0; ch < c; ch++) y[o + ch] = ext;
                            continue;
                        }
                        int t = (int) Math.floor(iy);
                        int bo = (int) Math.ceil(iy);
                        int l = (int) Math.floor(ix);
                        int r = (int) Math.ceil(ix);
                        double ly = iy - t;
                        double lx = ix - l;
                        for (int ch = 0; ch < c; ch++) {
                            double tl = x[xo + ((img * h + t) * w + l) * c + ch];
                            double tr = x[xo + ((img * h + t) * w + r) * c + ch];
                            double bl = x[xo + ((img * h + bo) * w + l) * c + ch];
                            double br = x[xo + ((img * h + bo) * w + r) * c + ch];
                            double top = tl + (tr - tl) * lx;
                            double bottom = bl + (br - bl) * lx;
                            y[o + ch] = top + (bottom - top) * ly;
                        }
                    }
                }
            }
            return out;
        }
        float[] x = floatPixels(images);
        int xo = images.dtype() == DType.FLOAT32 ? images.offset() : 0;
        float[] bx = boxes.toFloatArray();
        float[] y = out.floatData();
        int rowLen = cropWidth * c;
        Parallel.forRange(nb * cropHeight, Math.max(1, GRAIN_ELEMS / rowLen), (s, e) -> {
            for (int r = s; r < e; r++) {
                int b = r / cropHeight;
                int cy = r % cropHeight;
                float y1 = bx[4 * b];
                float x1 = bx[4 * b + 1];
                float y2 = bx[4 * b + 2];
                float x2 = bx[4 * b + 3];
                int img = (int) bi[b];
                int o = r * rowLen;
                // TF's float arithmetic: scale first, then y1 * (H - 1) + cy * scale.
                float hs = cropHeight > 1 ? (y2 - y1) * (h - 1) / (cropHeight - 1) : 0f;
                float ws = cropWidth > 1 ? (x2 - x1) * (w - 1) / (cropWidth - 1) : 0f;
                float iy = cropHeight > 1 ? y1 * (h - 1) + cy * hs : 0.5f * (y1 + y2) * (h - 1);
                if (iy < 0 || iy > h - 1) {
                    java.util.Arrays.fill(y, o, o + rowLen, extrapolationValue);
                    continue;
                }
                int t = (int) Math.floor(iy);
                int bo = (int) Math.ceil(iy);
                float ly = iy - t;
                int top = xo + (img * h + t) * w * c;
                int bot = xo + (img * h + bo) * w * c;
                for (int cx = 0; cx < cropWidth; cx++, o += c) {
                    float ix = cropWidth > 1 ? x1 * (w - 1) + cx * ws : 0.5f * (x1 + x2) * (w - 1);
                    if (ix < 0 || ix > w - 1) {
                        java.util.Arrays.fill(y, o, o + c, extrapolationValue);
                        continue;
                    }
                    int l = (int) Math.floor(ix);
                    int rr = (int) Math.ceil(ix);
                    lerpPixel(x, top + l * c, top + rr * c, bot + l * c, bot + rr * c, ix - l, ly, y, o, c);
                }
            }
        });
        return out;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private static void checkImages(String op, Tensor images) {
        DType t = images.dtype();
        if (t != DType.FLOAT32 && t != DType.FLOAT64 && t != DType.UINT8) {
            throw new IllegalArgumentException(op + ": images dtype " + t + " is not supported (float32, float64 or uint8)");
        }
        if (images.rank() != 4) {
            throw new IllegalArgumentException(op + ": images must be NHWC (rank 4), got shape " + images.shape());
        }
        if (images.dim(1) == 0 || images.dim(2) == 0) {
            throw new IllegalArgumentException(op + ": images " + images.shape() + " have no pixels");
        }
    }

    /** float32 pixels: the tensor's own array, or a widened copy of uint8 data (offset 0). */
    private static float[] floatPixels(Tensor images) {
        if (images.dtype() == DType.FLOAT32) return images.floatData();
        byte[] a = images.byteData();
        int off = images.offset();
        float[] f = new float[images.numel()];
        for (int i = 0; i < f.length; i++) f[i] = a[off + i] & 0xff;
        return f;
    }
}
