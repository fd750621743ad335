package org.slim4j.kernels.cpu;

import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.FusedConvKernels.Activation;
import org.slim4j.kernels.FusedDepthwiseConvKernels;
import org.slim4j.kernels.cpu.ConvSupport.Geometry;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Inference depthwise conv -> per-channel scale/shift (folded batch norm or bias) -> activation in
 * one pass. float32 runs {@link DepthwiseConv2dCpu}'s forward pass and applies scale, shift and the
 * activation to each output row right after the row is written, while it is in L1: MobileNet's
 * depthwise layers otherwise wrote their output, read it back for the batch norm, wrote it, and
 * read and wrote it again for relu6 (three passes over up to 12.8 MB at batch 16). float64 is the
 * reference: the float64 depthwise convolution, then the epilogue in double.
 */
public final class FusedDepthwiseConv2dCpu implements FusedDepthwiseConvKernels {
    private static final String OP = "depthwise_conv2d_scale_shift";
    private final DepthwiseConv2dCpu depthwise = new DepthwiseConv2dCpu();

    @Override
    public Tensor depthwiseConv2dScaleShift(Tensor input, Tensor filter, Tensor scale, Tensor shift, Conv2dSpec spec,
                                            Activation activation) {
        ConvSupport.requireSpec(OP, spec);
        if (activation == null) throw new IllegalArgumentException(OP + ": activation is required");
        ConvSupport.Operands ops = ConvSupport.operands(OP, input, filter);
        int[] xd = ops.xd();
        int[] fd = ops.fd();
        DType t = ops.dtype();
        String shapes = ops.shapes();
        int channels = fd[2] * fd[3];
        FusedConv2dCpu.checkChannel(OP, "scale", scale, t, channels, shapes);
        FusedConv2dCpu.checkChannel(OP, "shift", shift, t, channels, shapes);
        Geometry g = ConvSupport.geometry(OP, xd, fd[0], fd[1], spec, shapes);
        if (t == DType.FLOAT64) {
            return FusedConv2dCpu.scaleShiftReference(depthwise.depthwiseConv2d(input, filter, spec), scale, shift, activation);
        }
        // Every forward path writes all of y before the epilogue reads it.
        Tensor y = Tensor.empty(t, Shape.of(g.n(), g.ho(), g.wo(), channels));
        if (y.numel() == 0) return y;
        DepthwiseConv2dCpu.forwardF(input.floatData(), input.offset(), filter.floatData(), filter.offset(), y.floatData(), y.offset(),
                g, fd[3], FusedConv2dCpu.epilogue(scale, shift, channels, activation));
        return y;
    }
}
