package org.slim4j.cuda;

import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * A few TF32 convolutions on cuda:0 and nothing else, for a kernel profiler on a GPU machine
 * (e.g. {@code ncu --kernel-name regex:conv_tc ... java -cp ... org.slim4j.cuda.ConvProbe}): ResNet-50's
 * 3x3 64 -> 64 and 1x1 64 -> 256 at 56x56, batch 64, forward and input gradient, 4 times each.
 */
public final class ConvProbe {
    private ConvProbe() {
    }

    public static void main(String[] args) {
        CudaDevice d = CudaDevice.open(0);
        d.configure(d.options().withPrecision(CudaOptions.Precision.TF32));
        ConvKernels conv = Backends.forDevice(d).kernels(ConvKernels.class);
        int[][] shapes = {{64, 56, 56, 64, 64, 3}, {64, 56, 56, 64, 256, 1}};
        for (int[] s : shapes) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = Tensor.randomUniform(1, DType.FLOAT32, Shape.of(s[0], s[1], s[2], s[3]), -1, 1).toDevice(d);
                Tensor f = Tensor.randomUniform(2, DType.FLOAT32, Shape.of(s[5], s[5], s[3], s[4]), -1, 1).toDevice(d);
                Tensor dy = Tensor.randomUniform(3, DType.FLOAT32, Shape.of(s[0], s[1], s[2], s[4]), -1, 1).toDevice(d);
                Conv2dSpec spec = Conv2dSpec.of(1, Padding.SAME);
                for (int i = 0; i < 4; i++) {
                    try (TensorScope step = TensorScope.open()) {
                        conv.conv2d(x, f, spec);
                        conv.conv2dBackpropInput(x.shape(), f, dy, spec);
                    }
                }
                d.sync();
            }
        }
        System.out.println("ConvProbe: done");
    }
}
