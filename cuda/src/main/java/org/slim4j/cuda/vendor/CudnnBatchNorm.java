package org.slim4j.cuda.vendor;

import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationBackward;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationForwardInference;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationForwardTraining;
import static jcuda.jcudnn.JCudnn.cudnnCreateTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDeriveBNTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetTensor4dDescriptor;
import static org.slim4j.cuda.vendor.CudnnLibrary.at;
import static org.slim4j.cuda.vendor.CudnnLibrary.check;

import jcuda.Pointer;
import jcuda.jcudnn.cudnnBatchNormMode;
import jcuda.jcudnn.cudnnDataType;
import jcuda.jcudnn.cudnnHandle;
import jcuda.jcudnn.cudnnTensorDescriptor;
import jcuda.jcudnn.cudnnTensorFormat;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * {@link BatchNormKernels} on cuDNN's batch normalisation (the "vendor" path), FusedBatchNormV3
 * semantics over the last axis. x is described as NHWC [n, h, w, c] (rank 4) or [rows, 1, 1, c]
 * (any other rank), so cuDNN's spatial mode reduces over everything but the channel. Training uses
 * CUDNN_BATCHNORM_SPATIAL_PERSISTENT (cuDNN's fast NHWC kernels, as PyTorch uses for channels-last
 * training), inference CUDNN_BATCHNORM_SPATIAL.
 *
 * <p>cuDNN speaks in inverse standard deviations where TensorFlow speaks in variances: the batch
 * variance returned is 1 / invStd^2 - epsilon, and the backward pass gets invStd = rsqrt(variance +
 * epsilon), both computed by the hand-written elementwise kernels. A null scale / offset becomes a
 * temporary of ones / zeros. cuDNN has no backward of the inference form, and rejects tiny epsilons:
 * those go to the hand-written kernels.
 */
public final class CudnnBatchNorm implements BatchNormKernels {
    /** cuDNN's CUDNN_BN_MIN_EPSILON of older versions; smaller epsilons go to the hand-written kernels. */
    static final double MIN_EPSILON = 1e-5;
    private static final Pointer ONE = Pointer.to(new float[] {1f});
    private static final Pointer ZERO = Pointer.to(new float[] {0f});

    private final CudaDevice device;
    private final BatchNormKernels builtin;

    /** {@code builtin}: the hand-written family, for what cuDNN does not do. */
    public CudnnBatchNorm(CudaDevice device, BatchNormKernels builtin) {
        CudnnLibrary.Status s = CudnnLibrary.status();
        if (!s.loaded()) throw new IllegalStateException("cuDNN batch norm on " + device.name() + ": cuDNN did not load: " + s.describe());
        if (builtin == null) throw new IllegalArgumentException("CudnnBatchNorm: the hand-written BatchNormKernels are required");
        this.device = device;
        this.builtin = builtin;
    }

    /** The 4-d NHWC dims (n, c, h, w order) cuDNN sees for x. */
    static int[] nchwDims(Shape x) {
        int c = x.dim(x.rank() - 1);
        if (x.rank() == 4) return new int[] {x.dim(0), c, x.dim(1), x.dim(2)};
        return new int[] {c == 0 ? 0 : x.numel() / c, c, 1, 1};
    }

    private ElementwiseKernels elementwise() {
        return device.backend().kernels(ElementwiseKernels.class);
    }

    private void checkArg(String op, String arg, Tensor t, Shape expected, boolean optional) {
        if (t == null) {
            if (optional) return;
            throw new IllegalArgumentException(op + ": " + arg + " is required");
        }
        if (t.device() != device) throw new IllegalArgumentException(op + ": " + arg + " " + t.shape() + " lives on " + t.device().name());
        if (t.dtype() != DType.FLOAT32) throw new IllegalArgumentException(op + ": unsupported dtype " + t.dtype() + " for " + arg + " " + t.shape());
        if (!t.shape().equals(expected)) throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != " + expected);
    }

    /** Whether cuDNN can take this call (else the hand-written kernels do). */
    private static boolean cudnnCan(Tensor x, float epsilon) {
        return x.rank() >= 1 && x.numel() > 0 && epsilon >= MIN_EPSILON;
    }

    private Tensor filled(int c, float value) {
        try (Tensor host = Tensor.fill(value, c)) {
            return host.toDevice(device);
        }
    }

    @Override
    public Training trainingForward(Tensor x, Tensor scale, Tensor offset, float epsilon) {
        String op = "batch norm trainingForward (cuDNN)";
        checkArg(op, "x", x, x == null ? null : x.shape(), false);
        if (!cudnnCan(x, epsilon)) return builtin.trainingForward(x, scale, offset, epsilon);
        int c = x.dim(-1);
        checkArg(op, "scale", scale, Shape.of(c), true);
        checkArg(op, "offset", offset, Shape.of(c), true);
        Tensor y = device.empty(DType.FLOAT32, x.shape());
        Tensor mean = device.empty(DType.FLOAT32, Shape.of(c));
        Tensor variance;
        try (Tensor invStd = device.empty(DType.FLOAT32, Shape.of(c));
             Tensor ones = scale == null ? filled(c, 1f) : null;
             Tensor zeros = offset == null ? filled(c, 0f) : null) {
            Tensor s = scale != null ? scale : ones;
            Tensor b = offset != null ? offset : zeros;
            device.onStream(stream -> {
                cudnnHandle h = CudnnLibrary.handle(device, stream);
                int mode = cudnnBatchNormMode.CUDNN_BATCHNORM_SPATIAL_PERSISTENT;
                try (Descriptors d = new Descriptors(x.shape(), mode, op)) {
                    // No running averages (null, factor 0): slim keeps its moving statistics itself.
                    check(cudnnBatchNormalizationForwardTraining(h, mode, ONE, ZERO, d.x, at(x), d.x, at(y), d.param, at(s), at(b), 0.0,
                            new Pointer(), new Pointer(), epsilon, at(mean), at(invStd)), "cudnnBatchNormalizationForwardTraining", op + " x " + x.shape());
                }
                return null;
            });
            // variance = invStd^-2 - epsilon
            try (Tensor inv2 = elementwise().pow(invStd, -2.0)) {
                variance = elementwise().affine(inv2, 1.0, -(double) epsilon);
            }
        }
        return new Training(y, mean, variance);
    }

    @Override
    public Tensor inferenceForward(Tensor x, Tensor scale, Tensor offset, Tensor mean, Tensor variance, float epsilon) {
        String op = "batch norm inferenceForward (cuDNN)";
        checkArg(op, "x", x, x == null ? null : x.shape(), false);
        if (!cudnnCan(x, epsilon)) return builtin.inferenceForward(x, scale, offset, mean, variance, epsilon);
        int c = x.dim(-1);
        checkArg(op, "scale", scale, Shape.of(c), true);
        checkArg(op, "offset", offset, Shape.of(c), true);
        checkArg(op, "mean", mean, Shape.of(c), false);
        checkArg(op, "variance", variance, Shape.of(c), false);
        Tensor y = device.empty(DType.FLOAT32, x.shape());
        try (Tensor ones = scale == null ? filled(c, 1f) : null;
             Tensor zeros = offset == null ? filled(c, 0f) : null) {
            Tensor s = scale != null ? scale : ones;
            Tensor b = offset != null ? offset : zeros;
            device.onStream(stream -> {
                cudnnHandle h = CudnnLibrary.handle(device, stream);
                int mode = cudnnBatchNormMode.CUDNN_BATCHNORM_SPATIAL;
                try (Descriptors d = new Descriptors(x.shape(), mode, op)) {
                    check(cudnnBatchNormalizationForwardInference(h, mode, ONE, ZERO, d.x, at(x), d.x, at(y), d.param, at(s), at(b), at(mean),
                            at(variance), epsilon), "cudnnBatchNormalizationForwardInference", op + " x " + x.shape());
                }
                return null;
            });
        }
        return y;
    }

    @Override
    public Grads trainingBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon) {
        String op = "batch norm trainingBackward (cuDNN)";
        checkArg(op, "x", x, x == null ? null : x.shape(), false);
        if (!cudnnCan(x, epsilon)) return builtin.trainingBackward(dy, x, scale, mean, variance, epsilon);
        int c = x.dim(-1);
        checkArg(op, "dy", dy, x.shape(), false);
        checkArg(op, "scale", scale, Shape.of(c), true);
        checkArg(op, "mean", mean, Shape.of(c), false);
        checkArg(op, "variance", variance, Shape.of(c), false);
        Tensor dx = device.empty(DType.FLOAT32, x.shape());
        Tensor dscale = device.empty(DType.FLOAT32, Shape.of(c));
        Tensor doffset = device.empty(DType.FLOAT32, Shape.of(c));
        try (Tensor shifted = elementwise().affine(variance, 1.0, epsilon);
             Tensor invStd = elementwise().unary(UnaryOp.RSQRT, shifted);
             Tensor ones = scale == null ? filled(c, 1f) : null) {
            Tensor s = scale != null ? scale : ones;
            device.onStream(stream -> {
                cudnnHandle h = CudnnLibrary.handle(device, stream);
                int mode = cudnnBatchNormMode.CUDNN_BATCHNORM_SPATIAL_PERSISTENT;
                try (Descriptors d = new Descriptors(x.shape(), mode, op)) {
                    check(cudnnBatchNormalizationBackward(h, mode, ONE, ZERO, ONE, ZERO, d.x, at(x), d.x, at(dy), d.x, at(dx), d.param, at(s),
                            at(dscale), at(doffset), epsilon, at(mean), at(invStd)), "cudnnBatchNormalizationBackward", op + " x " + x.shape());
                }
                return null;
            });
        }
        return new Grads(dx, dscale, doffset);
    }

    /** cuDNN has no backward of the inference form: the hand-written kernels compute it. */
    @Override
    public Grads inferenceBackward(Tensor dy, Tensor x, Tensor scale, Tensor mean, Tensor variance, float epsilon) {
        return builtin.inferenceBackward(dy, x, scale, mean, variance, epsilon);
    }

    /** x/y/dy (one NHWC descriptor: same shape) and the per-channel parameter descriptor derived from it. */
    private static final class Descriptors implements AutoCloseable {
        final cudnnTensorDescriptor x = new cudnnTensorDescriptor();
        final cudnnTensorDescriptor param = new cudnnTensorDescriptor();

        Descriptors(Shape shape, int mode, String op) {
            check(cudnnCreateTensorDescriptor(x), "cudnnCreateTensorDescriptor", op);
            check(cudnnCreateTensorDescriptor(param), "cudnnCreateTensorDescriptor", op);
            int[] d = nchwDims(shape);
            check(cudnnSetTensor4dDescriptor(x, cudnnTensorFormat.CUDNN_TENSOR_NHWC, cudnnDataType.CUDNN_DATA_FLOAT, d[0], d[1], d[2], d[3]),
                    "cudnnSetTensor4dDescriptor", op + " x " + shape);
            check(cudnnDeriveBNTensorDescriptor(param, x, mode), "cudnnDeriveBNTensorDescriptor", op + " x " + shape);
        }

        @Override
        public void close() {
            cudnnDestroyTensorDescriptor(x);
            cudnnDestroyTensorDescriptor(param);
        }
    }
}
