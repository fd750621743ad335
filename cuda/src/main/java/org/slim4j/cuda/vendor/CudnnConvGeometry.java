package org.slim4j.cuda.vendor;

import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.Shape;

/**
 * How one TensorFlow convolution (input NHWC [n,h,w,c], filter HWIO [kh,kw,c,k], {@link Conv2dSpec})
 * maps onto cuDNN's legacy API: descriptor dimensions, the strides that let cudnnTransformTensor
 * turn HWIO into cuDNN's NHWC filter layout KRSC [k,kh,kw,c], and the padding.
 *
 * <p>cuDNN pads symmetrically; TensorFlow's SAME puts the odd extra row/column after (bottom/right).
 * Then the input is copied into a zeroed buffer {@code extraH} rows and {@code extraW} columns
 * larger at the bottom/right (its interior starts at element 0, so the copy is a plain strided
 * transform) and cuDNN pads {@code padH}/{@code padW} = TF's padding before on both sides: the
 * output size is TF's, since (h + extra + 2 * before - effective) / stride + 1 = out.
 *
 * <p>cuDNN's 4-d descriptors take dimensions in (n, c, h, w) order with explicit strides; the
 * stride arrays here are in that order. The record is also the algorithm cache key.
 */
public record CudnnConvGeometry(int n, int h, int w, int c, int kh, int kw, int k, int strideH, int strideW, int dilationH,
                                int dilationW, int padH, int padW, int extraH, int extraW, int outH, int outW) {

    /** Validates the shapes (errors name the op and the shapes) and applies TensorFlow's padding rule. */
    public static CudnnConvGeometry of(String op, Shape input, Shape filter, Conv2dSpec spec) {
        if (input.rank() != 4) throw new IllegalArgumentException(op + ": input must be NHWC (rank 4), got " + input);
        if (filter.rank() != 4) throw new IllegalArgumentException(op + ": filter must be HWIO (rank 4), got " + filter);
        int c = input.dim(3);
        if (filter.dim(2) != c) {
            throw new IllegalArgumentException(op + ": filter " + filter + " has " + filter.dim(2) + " input channels, input " + input
                    + " has " + c);
        }
        Padding.Window wh = spec.padding().window(input.dim(1), filter.dim(0), spec.strideH(), spec.dilationH());
        Padding.Window ww = spec.padding().window(input.dim(2), filter.dim(1), spec.strideW(), spec.dilationW());
        return new CudnnConvGeometry(input.dim(0), input.dim(1), input.dim(2), c, filter.dim(0), filter.dim(1), filter.dim(3),
                spec.strideH(), spec.strideW(), spec.dilationH(), spec.dilationW(), wh.padBefore(), ww.padBefore(),
                wh.padAfter() - wh.padBefore(), ww.padAfter() - ww.padBefore(), wh.outSize(), ww.outSize());
    }

    public CudnnConvGeometry {
        if (extraH < 0 || extraW < 0) {
            throw new IllegalArgumentException("CudnnConvGeometry: padding after must not be smaller than before: " + extraH + ", " + extraW);
        }
    }

    /** Whether the input needs the explicit bottom/right zero rows/columns (TF's asymmetric SAME padding). */
    public boolean explicitPadding() {
        return extraH > 0 || extraW > 0;
    }

    public int paddedH() {
        return h + extraH;
    }

    public int paddedW() {
        return w + extraW;
    }

    public Shape inputShape() {
        return Shape.of(n, h, w, c);
    }

    public Shape paddedInputShape() {
        return Shape.of(n, paddedH(), paddedW(), c);
    }

    public Shape filterShape() {
        return Shape.of(kh, kw, c, k);
    }

    /** cuDNN's NHWC filter layout KRSC [k, kh, kw, c]. */
    public Shape krscShape() {
        return Shape.of(k, kh, kw, c);
    }

    public Shape outputShape() {
        return Shape.of(n, outH, outW, k);
    }

    /** Strides (n, c, h, w order, in elements) of a dense NHWC tensor of spatial size hh x ww with cc channels. */
    public static int[] nhwcStrides(int hh, int ww, int cc) {
        return new int[] {hh * ww * cc, 1, ww * cc, cc};
    }

    /** The HWIO filter seen as a 4-d tensor with dims (k, c, kh, kw): k is innermost, then c, kw, kh. */
    public int[] hwioStrides() {
        return new int[] {1, k, kw * c * k, c * k};
    }

    /** The KRSC filter with the same dims (k, c, kh, kw): c innermost, then kw, kh, k. */
    public int[] krscStrides() {
        return new int[] {kh * kw * c, 1, kw * c, c};
    }

    /** The unpadded input's extent inside the padded buffer: dims (n, c, h, w) with the padded buffer's strides. */
    public int[] interiorStrides() {
        return nhwcStrides(paddedH(), paddedW(), c);
    }
}
