package org.slim4j.autograd.ops;

import org.slim4j.autograd.Var;
import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Differentiable regular and depthwise 2-D convolutions (NHWC, HWIO / [kh, kw, C, M]). */
public final class ConvOps {
    private ConvOps() {
    }

    public static Var conv2d(Var input, Var filter, Conv2dSpec spec) {
        ConvKernels k = Backends.kernels(input.value(), ConvKernels.class);
        Tensor y = k.conv2d(input.value(), filter.value(), spec);
        return Var.result(y, dy -> new Tensor[] {
            input.requiresGrad() ? k.conv2dBackpropInput(input.value().shape(), filter.value(), dy, spec) : null,
            filter.requiresGrad() ? k.conv2dBackpropFilter(input.value(), filter.value().shape(), dy, spec) : null}, input, filter);
    }

    /**
     * act(conv2d(input, filter) + bias) as one kernel call ({@link FusedConvKernels}): the bias and
     * the activation are applied to each block of the convolution's output while it is in cache, so
     * the two intermediate tensors and their passes over memory disappear. Same values as the three
     * ops in a row (the bias is added after the full sum; relu and relu6 are the same max/min).
     * Gradients follow the chain: relu's and relu6's derivative is read off the output (it is 1
     * exactly where the output is strictly inside the clamps), the bias gets its sum over rows, the
     * convolution the usual two backprops.
     */
    public static Var conv2dBiasActivation(Var input, Var filter, Var bias, Conv2dSpec spec, FusedConvKernels.Activation act) {
        Tensor y = Backends.kernels(input.value(), FusedConvKernels.class)
            .conv2dScaleShift(input.value(), filter.value(), null, bias.value(), spec, act);
        return Var.result(y, dy -> {
            Tensor gz = dy;
            if (act != FusedConvKernels.Activation.NONE) {
                UnaryOp op = act == FusedConvKernels.Activation.RELU ? UnaryOp.RELU : UnaryOp.RELU6;
                gz = Backends.kernels(dy, ElementwiseKernels.class).unaryGrad(op, y, null, dy);
            }
            try {
                ConvKernels k = Backends.kernels(input.value(), ConvKernels.class);
                return new Tensor[] {
                    input.requiresGrad() ? k.conv2dBackpropInput(input.value().shape(), filter.value(), gz, spec) : null,
                    filter.requiresGrad() ? k.conv2dBackpropFilter(input.value(), filter.value().shape(), gz, spec) : null,
                    bias.requiresGrad() ? Backends.kernels(gz, BiasAddKernels.class).biasAddGrad(gz) : null};
            } finally {
                if (gz != dy) gz.close();
            }
        }, input, filter, bias);
    }

    public static Var depthwiseConv2d(Var input, Var filter, Conv2dSpec spec) {
        DepthwiseConvKernels k = Backends.kernels(input.value(), DepthwiseConvKernels.class);
        Tensor y = k.depthwiseConv2d(input.value(), filter.value(), spec);
        return Var.result(y, dy -> new Tensor[] {
            input.requiresGrad() ? k.depthwiseConv2dBackpropInput(input.value().shape(), filter.value(), dy, spec) : null,
            filter.requiresGrad() ? k.depthwiseConv2dBackpropFilter(input.value(), filter.value().shape(), dy, spec) : null}, input, filter);
    }
}
