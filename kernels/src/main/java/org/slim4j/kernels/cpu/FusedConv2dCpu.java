package org.slim4j.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.cpu.ConvSupport.Geometry;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Inference conv -> per-channel scale/shift (bias or folded batch norm) -> activation in one pass
 * (NHWC input and output, HWIO filter). float32 runs the implicit-GEMM convolution of
 * {@link Conv2dCpu} and applies scale, shift and the activation to each block of output pixels as
 * soon as its last K block is done ({@link Sgemm.Epilogue}), while the block is still in L1/L2:
 * the convolution output is written once and never re-read. float64 is the reference: the float64
 * convolution, then the epilogue in double.
 */
public final class FusedConv2dCpu implements FusedConvKernels {
    private static final String OP = "conv2d_scale_shift";
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private final Conv2dCpu conv = new Conv2dCpu();

    @Override
    public Tensor conv2dScaleShift(Tensor input, Tensor filter, Tensor scale, Tensor shift, Conv2dSpec spec, Activation activation) {
        ConvSupport.requireSpec(OP, spec);
        if (activation == null) throw new IllegalArgumentException(OP + ": activation is required");
        ConvSupport.Operands ops = ConvSupport.operands(OP, input, filter);
        int[] xd = ops.xd();
        int[] fd = ops.fd();
        DType t = ops.dtype();
        String shapes = ops.shapes();
        int cout = fd[3];
        checkChannel(OP, "scale", scale, t, cout, shapes);
        checkChannel(OP, "shift", shift, t, cout, shapes);
        Geometry g = ConvSupport.geometry(OP, xd, fd[0], fd[1], spec, shapes);
        if (t == DType.FLOAT64) return reference(input, filter, scale, shift, spec, activation);
        // The convolution writes all of y; with nothing to sum over the epilogue reads zeros.
        Shape yShape = Shape.of(g.n(), g.ho(), g.wo(), cout);
        Tensor y = g.k() == 0 ? Tensor.zeros(t, yShape) : Tensor.empty(t, yShape);
        if (y.numel() == 0) return y;
        Sgemm.Epilogue epi = epilogue(scale, shift, cout, activation);
        if (g.k() == 0) {
            epi.apply(y.floatData(), y.offset(), cout, 0, g.outPixels(), 0, cout);
            return y;
        }
        Conv2dCpu.forwardF(input.floatData(), input.offset(), filter.floatData(), filter.offset(), y.floatData(), y.offset(), g, cout, epi);
        return y;
    }

    static void checkChannel(String op, String arg, Tensor v, DType t, int cout, String shapes) {
        if (v == null) return;
        if (v.dtype() != t) {
            throw new IllegalArgumentException(op + ": dtype mismatch: input is " + t + ", " + arg + " is " + v.dtype());
        }
        if (v.rank() != 1 || v.dim(0) != cout) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + v.shape() + " != [" + cout + "] (" + shapes + ")");
        }
    }

    /** The float32 epilogue c = act(c * scale + shift) for per-channel scale and shift (null: 1 and 0). */
    static Sgemm.Epilogue epilogue(Tensor scale, Tensor shift, int cout, Activation activation) {
        float[] sc = new float[cout];
        float[] sh = new float[cout];
        for (int co = 0; co < cout; co++) {
            sc[co] = scale == null ? 1f : scale.floatData()[scale.offset() + co];
            sh[co] = shift == null ? 0f : shift.floatData()[shift.offset() + co];
        }
        return (c, cOff, ldc, row0, rows, col0, cols) -> apply(c, cOff, ldc, row0, rows, col0, cols, sc, sh, activation);
    }

    /** c = act(c * scale + shift) on one block, vectorised over channels. */
    private static void apply(float[] c, int cOff, int ldc, int row0, int rows, int col0, int cols,
                              float[] sc, float[] sh, Activation act) {
        int vl = S.length();
        int vecEnd = S.loopBound(cols);
        FloatVector zero = FloatVector.zero(S);
        FloatVector six = FloatVector.broadcast(S, 6f);
        for (int r = row0; r < row0 + rows; r++) {
            int row = cOff + r * ldc + col0;
            int j = 0;
            for (; j < vecEnd; j += vl) {
                FloatVector v = FloatVector.fromArray(S, c, row + j)
                        .fma(FloatVector.fromArray(S, sc, col0 + j), FloatVector.fromArray(S, sh, col0 + j));
                if (act != Activation.NONE) v = v.max(zero);
                if (act == Activation.RELU6) v = v.min(six);
                v.intoArray(c, row + j);
            }
            for (; j < cols; j++) {
                float v = Math.fma(c[row + j], sc[col0 + j], sh[col0 + j]);
                if (act != Activation.NONE) v = Math.max(v, 0f);
                if (act == Activation.RELU6) v = Math.min(v, 6f);
                c[row + j] = v;
            }
        }
    }

    private Tensor reference(Tensor input, Tensor filter, Tensor scale, Tensor shift, Conv2dSpec spec, Activation act) {
        return scaleShiftReference(conv.conv2d(input, filter, spec), scale, shift, act);
    }

    /** The float64 epilogue, in place on y (channels last). */
    static Tensor scaleShiftReference(Tensor y, Tensor scale, Tensor shift, Activation act) {
        double[] a = y.doubleData();
        int cout = y.dim(3);
        for (int i = y.offset(), end = y.offset() + y.numel(); i < end; i++) {
            int co = (i - y.offset()) % cout;
            double v = a[i] * (scale == null ? 1.0 : scale.doubleData()[scale.offset() + co])
                    + (shift == null ? 0.0 : shift.doubleData()[shift.offset() + co]);
            if (act != Activation.NONE) v = Math.max(v, 0.0);
            if (act == Activation.RELU6) v = Math.min(v, 6.0);
            a[i] = v;
        }
        return y;
    }
}
