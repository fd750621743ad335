package org.slim4j.cuda;

import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Max and average pooling on the GPU (pool.cu), NHWC, TensorFlow semantics; geometry from
 * {@link Padding#window}; 4 channels per thread where the channel count and alignment allow.
 * MaxPoolGrad runs in two passes: the arg-max of every window (into a temporary int32 buffer), then
 * a gather over the windows covering each input cell.
 */
final class CudaPool implements PoolKernels {
    private static final String MODULE = "pool";

    private final CudaOps ops;

    CudaPool(CudaOps ops) {
        this.ops = ops;
    }

    /** n, h, w, c, oh, ow, kh, kw, sh, sw, padT, padL: the PoolGeom struct of pool.cu. */
    private static int[] geom(String op, String arg, Shape in, PoolSpec spec) {
        if (spec == null) throw new IllegalArgumentException(op + ": spec is null");
        if (in.rank() != 4) {
            throw new IllegalArgumentException(op + ": " + arg + " must be rank 4 NHWC, got shape " + in);
        }
        Padding.Window wh, ww;
        try {
            wh = spec.padding().window(in.dim(1), spec.kernelH(), spec.strideH(), 1);
            ww = spec.padding().window(in.dim(2), spec.kernelW(), spec.strideW(), 1);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + spec.kernelH() + "x" + spec.kernelW() + " " + spec.padding()
                    + " window does not fit " + arg + " " + in + " (" + e.getMessage() + ")", e);
        }
        return new int[] {in.dim(0), in.dim(1), in.dim(2), in.dim(3), wh.outSize(), ww.outSize(), spec.kernelH(), spec.kernelW(),
            spec.strideH(), spec.strideW(), wh.padBefore(), ww.padBefore()};
    }

    private static Shape outShape(int[] g) {
        return Shape.of(g[0], g[4], g[5], g[3]);
    }

    private static void sameShape(String op, String arg, Tensor t, Shape expected, String context) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": " + arg + " shape " + t.shape() + " != expected " + expected + " (" + context + ")");
        }
    }

    /**
     * Channels per thread for these tensors: 4 (the *_f32x4 kernels, one float4 per cell) when the
     * channel count is a multiple of 4 and every tensor starts 16-byte aligned, else 1.
     */
    private static int lanes(int channels, Tensor... tensors) {
        if (channels % 4 != 0) return 1;
        for (Tensor t : tensors) {
            if (CudaOps.ptr(t) % 16 != 0) return 1;
        }
        return 4;
    }

    /** The kernel for these lanes: name, or name + "x4". */
    private static String kernel(String name, int lanes) {
        return lanes == 4 ? name + "x4" : name;
    }

    @Override
    public Tensor maxPool(Tensor input, PoolSpec spec) {
        ops.checkF32("maxPool", "input", input);
        int[] g = geom("maxPool", "input", input.shape(), spec);
        Tensor y = ops.out(outShape(g));
        int lanes = lanes(g[3], input, y);
        int total = y.numel() / lanes;
        ops.launch1d(MODULE, kernel("max_pool_f32", lanes), total, new KernelArgs().i32(total).ptr(CudaOps.ptr(y)).ptr(0)
                .ptr(CudaOps.ptr(input)).struct(g));
        return y;
    }

    @Override
    public Tensor maxPoolGrad(Tensor input, Tensor output, Tensor dy, PoolSpec spec) {
        ops.checkF32("maxPoolGrad", "input", input);
        ops.checkF32("maxPoolGrad", "output", output);
        ops.checkF32("maxPoolGrad", "dy", dy);
        int[] g = geom("maxPoolGrad", "input", input.shape(), spec);
        String ctx = "input " + input.shape();
        sameShape("maxPoolGrad", "output", output, outShape(g), ctx);
        sameShape("maxPoolGrad", "dy", dy, outShape(g), ctx);
        // As TF's CPU kernel, the arg-max is recomputed from the input; output only fixes the shape.
        Tensor dx = ops.out(input.shape());
        try (Tensor arg = ops.device.empty(DType.INT32, outShape(g))) {
            int lanes = lanes(g[3], input, dx, dy, arg);
            int outTotal = dy.numel() / lanes;
            ops.launch1d(MODULE, kernel("max_pool_f32", lanes), outTotal, new KernelArgs().i32(outTotal).ptr(0).ptr(CudaOps.ptr(arg))
                    .ptr(CudaOps.ptr(input)).struct(g));
            int total = dx.numel() / lanes;
            ops.launch1d(MODULE, kernel("max_pool_grad_f32", lanes), total, new KernelArgs().i32(total).ptr(CudaOps.ptr(dx))
                    .ptr(CudaOps.ptr(arg)).ptr(CudaOps.ptr(dy)).struct(g));
        }
        return dx;
    }

    @Override
    public Tensor avgPool(Tensor input, PoolSpec spec) {
        ops.checkF32("avgPool", "input", input);
        int[] g = geom("avgPool", "input", input.shape(), spec);
        Tensor y = ops.out(outShape(g));
        int lanes = lanes(g[3], input, y);
        int total = y.numel() / lanes;
        ops.launch1d(MODULE, kernel("avg_pool_f32", lanes), total, new KernelArgs().i32(total).ptr(CudaOps.ptr(y))
                .ptr(CudaOps.ptr(input)).struct(g));
        return y;
    }

    @Override
    public Tensor avgPoolGrad(Shape inputShape, Tensor dy, PoolSpec spec) {
        if (inputShape == null) throw new IllegalArgumentException("avgPoolGrad: inputShape is null");
        ops.checkF32("avgPoolGrad", "dy", dy);
        int[] g = geom("avgPoolGrad", "inputShape", inputShape, spec);
        sameShape("avgPoolGrad", "dy", dy, outShape(g), "inputShape " + inputShape);
        Tensor dx = ops.out(inputShape);
        int lanes = lanes(g[3], dx, dy);
        int total = dx.numel() / lanes;
        ops.launch1d(MODULE, kernel("avg_pool_grad_f32", lanes), total, new KernelArgs().i32(total).ptr(CudaOps.ptr(dx))
                .ptr(CudaOps.ptr(dy)).struct(g));
        return dx;
    }
}
