package org.slim4j.autograd.ops;

import org.slim4j.autograd.Var;
import org.slim4j.kernels.ResizeKernels;
import org.slim4j.kernels.ResizeMode;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;

/** Differentiable bilinear resize (NHWC). */
public final class ResizeOps {
    private ResizeOps() {
    }

    public static Var resizeBilinear(Var images, int height, int width, ResizeMode mode) {
        ResizeKernels k = Backends.kernels(images.value(), ResizeKernels.class);
        Tensor y = k.resizeBilinear(images.value(), height, width, mode);
        return Var.result(y, dy -> new Tensor[] {k.resizeBilinearGrad(dy, images.value().shape(), mode)}, images);
    }
}
