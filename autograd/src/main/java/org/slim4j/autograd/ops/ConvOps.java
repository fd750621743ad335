package org.slim4j.autograd.ops;

import org.slim4j.autograd.Var;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.DepthwiseConvKernels;
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

    public static Var depthwiseConv2d(Var input, Var filter, Conv2dSpec spec) {
        DepthwiseConvKernels k = Backends.kernels(input.value(), DepthwiseConvKernels.class);
        Tensor y = k.depthwiseConv2d(input.value(), filter.value(), spec);
        return Var.result(y, dy -> new Tensor[] {
            input.requiresGrad() ? k.depthwiseConv2dBackpropInput(input.value().shape(), filter.value(), dy, spec) : null,
            filter.requiresGrad() ? k.depthwiseConv2dBackpropFilter(input.value(), filter.value().shape(), dy, spec) : null}, input, filter);
    }
}
