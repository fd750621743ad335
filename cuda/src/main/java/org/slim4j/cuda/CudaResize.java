package org.slim4j.cuda;

import org.slim4j.kernels.ResizeKernels;
import org.slim4j.kernels.ResizeMode;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Bilinear resizing on the GPU (resize.cu), NHWC: TF's ResizeBilinear in every {@link ResizeMode},
 * its gradient and CropAndResize. Images are float32 or uint8 (float32 output); float64 images are
 * rejected (the CUDA backend computes in float32). The gradient is a gather: the per-axis lists of
 * output rows / columns reading each image row / column are built here (in float, as the CPU
 * backend computes the coordinates) and copied to the device with the call.
 */
final class CudaResize implements ResizeKernels {
    private static final String MODULE = "resize";

    private final CudaOps ops;

    CudaResize(CudaOps ops) {
        this.ops = ops;
    }

    private void checkImages(String op, Tensor images) {
        ops.checkDevice(op, "images", images);
        DType t = images.dtype();
        if (t != DType.FLOAT32 && t != DType.UINT8) {
            throw new IllegalArgumentException(op + ": images dtype " + t + " " + images.shape()
                    + " is not supported on cuda (float32 or uint8; the cuda backend computes in FLOAT32 only)");
        }
        if (images.rank() != 4) {
            throw new IllegalArgumentException(op + ": images must be NHWC (rank 4), got shape " + images.shape());
        }
        if (images.dim(1) == 0 || images.dim(2) == 0) {
            throw new IllegalArgumentException(op + ": images " + images.shape() + " have no pixels");
        }
    }

    /** The scale of one axis, as the CPU backend computes it. */
    private static float scale(int in, int out, ResizeMode mode) {
        return mode == ResizeMode.ALIGN_CORNERS && out > 1 ? (in - 1) / (float) (out - 1) : in / (float) out;
    }

    /** The ResizeGeom struct of resize.cu: n, h, w, c, oh, ow, halfPixel. */
    private static int[] geom(Shape image, int oh, int ow, ResizeMode mode) {
        return new int[] {image.dim(0), image.dim(1), image.dim(2), image.dim(3), oh, ow, mode == ResizeMode.HALF_PIXEL ? 1 : 0};
    }

    @Override
    public Tensor resizeBilinear(Tensor images, int outHeight, int outWidth, ResizeMode mode) {
        String op = "resizeBilinear";
        checkImages(op, images);
        if (mode == null) throw new IllegalArgumentException(op + ": mode is null");
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must be positive (images " + images.shape() + ")");
        }
        Shape s = images.shape();
        Tensor y = ops.out(Shape.of(s.dim(0), outHeight, outWidth, s.dim(3)));
        int total = y.numel();
        if (total == 0) return y;
        String kernel = images.dtype() == DType.UINT8 ? "resize_bilinear_u8" : "resize_bilinear_f32";
        ops.launch1d(MODULE, kernel, total, new KernelArgs().i32(total).ptr(CudaOps.ptr(y)).ptr(CudaOps.ptr(images))
                .struct(geom(s, outHeight, outWidth, mode)).f32(scale(s.dim(1), outHeight, mode)).f32(scale(s.dim(2), outWidth, mode)));
        return y;
    }

    /**
     * For one axis (in cells, out samples): CSR lists start[in + 1], then the sample indices; and
     * the weights. Sample i reads cells lo (weight 1 - lerp) and hi (weight lerp), computed in
     * float exactly as resize.cu's resize_axis and the CPU backend do.
     */
    private static void axisLists(int in, int out, ResizeMode mode, int[] ints, int intOff, float[] weights, int wOff) {
        float scale = scale(in, out, mode);
        int[] lo = new int[out];
        int[] hi = new int[out];
        float[] lerp = new float[out];
        int[] start = new int[in + 1];
        for (int i = 0; i < out; i++) {
            float src = mode == ResizeMode.HALF_PIXEL ? ((float) i + 0.5f) * scale - 0.5f : (float) i * scale;
            float fl = (float) Math.floor(src);
            lo[i] = Math.max((int) fl, 0);
            hi[i] = Math.min((int) Math.ceil(src), in - 1);
            lerp[i] = src - fl;
            start[lo[i] + 1]++;
            start[hi[i] + 1]++;
        }
        for (int i = 0; i < in; i++) start[i + 1] += start[i];
        System.arraycopy(start, 0, ints, intOff, in + 1);
        int[] fill = start;  // reused as the next free slot of each cell
        int idx = intOff + in + 1;
        for (int i = 0; i < out; i++) {
            int p = fill[lo[i]]++;
            ints[idx + p] = i;
            weights[wOff + p] = 1f - lerp[i];
            p = fill[hi[i]]++;
            ints[idx + p] = i;
            weights[wOff + p] = lerp[i];
        }
    }

    @Override
    public Tensor resizeBilinearGrad(Tensor dy, Shape imageShape, ResizeMode mode) {
        String op = "resizeBilinearGrad";
        ops.checkF32(op, "dy", dy);
        if (mode == null) throw new IllegalArgumentException(op + ": mode is null");
        if (imageShape == null) throw new IllegalArgumentException(op + ": imageShape is null (dy " + dy.shape() + ")");
        if (dy.rank() != 4 || imageShape.rank() != 4 || dy.dim(0) != imageShape.dim(0) || dy.dim(3) != imageShape.dim(3)
                || imageShape.dim(1) == 0 || imageShape.dim(2) == 0) {
            throw new IllegalArgumentException(op + ": dy " + dy.shape() + " and image shape " + imageShape
                    + " must both be NHWC with the same batch and channels and a non-empty image");
        }
        Tensor dx = ops.out(imageShape);
        int total = dx.numel();
        if (total == 0) return dx;
        int h = imageShape.dim(1), w = imageShape.dim(2), oh = dy.dim(1), ow = dy.dim(2);
        if (dy.numel() == 0) {
            ops.device.memset32(CudaOps.ptr(dx), 0, total);
            return dx;
        }
        // ints: startY[h + 1], idxY[2 oh], startX[w + 1], idxX[2 ow]; floats: wY[2 oh], wX[2 ow].
        int[] ints = new int[h + 1 + 2 * oh + w + 1 + 2 * ow];
        float[] weights = new float[2 * oh + 2 * ow];
        int xInts = h + 1 + 2 * oh;
        axisLists(h, oh, mode, ints, 0, weights, 0);
        axisLists(w, ow, mode, ints, xInts, weights, 2 * oh);
        try (Tensor hi = Tensor.of(ints, ints.length); Tensor hf = Tensor.of(weights, weights.length);
             Tensor di = hi.toDevice(ops.device); Tensor df = hf.toDevice(ops.device)) {
            long pi = CudaOps.ptr(di), pf = CudaOps.ptr(df);
            ops.launch1d(MODULE, "resize_bilinear_grad_f32", total, new KernelArgs().i32(total).ptr(CudaOps.ptr(dx)).ptr(CudaOps.ptr(dy))
                    .ptr(pi).ptr(pi + 4L * (h + 1)).ptr(pf).ptr(pi + 4L * xInts).ptr(pi + 4L * (xInts + w + 1)).ptr(pf + 4L * 2 * oh)
                    .struct(geom(imageShape, oh, ow, mode)));
        }
        return dx;
    }

    @Override
    public Tensor cropAndResize(Tensor images, Tensor boxes, Tensor boxIndex, int cropHeight, int cropWidth, float extrapolationValue) {
        String op = "cropAndResize";
        checkImages(op, images);
        ops.checkF32(op, "boxes", boxes);
        if (boxes.rank() != 2 || boxes.dim(1) != 4) {
            throw new IllegalArgumentException(op + ": boxes must be [B, 4], got " + boxes.shape() + " (images " + images.shape() + ")");
        }
        int nb = boxes.dim(0);
        ops.checkDevice(op, "boxIndex", boxIndex);
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
        // Validated on the host (a bad index would read outside the images); the kernel gets an int32 copy.
        long[] bi = boxIndex.toLongArray();
        int[] idx = new int[nb];
        for (int b = 0; b < nb; b++) {
            if (bi[b] < 0 || bi[b] >= n) {
                throw new IllegalArgumentException(op + ": boxIndex[" + b + "] = " + bi[b] + " is out of range [0, " + n + ") (images " + images.shape() + ")");
            }
            idx[b] = (int) bi[b];
        }
        Tensor y = ops.out(Shape.of(nb, cropHeight, cropWidth, images.dim(3)));
        int total = y.numel();
        if (total == 0) return y;
        int[] g = {n, images.dim(1), images.dim(2), images.dim(3), nb, cropHeight, cropWidth};
        String kernel = images.dtype() == DType.UINT8 ? "crop_and_resize_u8" : "crop_and_resize_f32";
        try (Tensor hostIdx = Tensor.of(idx, nb); Tensor devIdx = hostIdx.toDevice(ops.device)) {
            ops.launch1d(MODULE, kernel, total, new KernelArgs().i32(total).ptr(CudaOps.ptr(y)).ptr(CudaOps.ptr(images))
                    .ptr(CudaOps.ptr(boxes)).ptr(CudaOps.ptr(devIdx)).struct(g).f32(extrapolationValue));
        }
        return y;
    }
}
