package org.slim4j.cuda.vendor;

import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardData;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardFilter;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionForward;
import static jcuda.jcudnn.JCudnn.cudnnCreateConvolutionDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnCreateFilterDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnCreateTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyConvolutionDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyFilterDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionBackwardDataAlgorithmEx;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionForwardAlgorithmEx;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolution2dForwardOutputDim;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionBackwardDataWorkspaceSize;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionBackwardFilterWorkspaceSize;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionForwardWorkspaceSize;
import static jcuda.jcudnn.JCudnn.cudnnSetConvolution2dDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetConvolutionMathType;
import static jcuda.jcudnn.JCudnn.cudnnSetFilter4dDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetTensor4dDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetTensor4dDescriptorEx;
import static jcuda.jcudnn.JCudnn.cudnnTransformTensor;
import static org.slim4j.cuda.vendor.CudnnLibrary.at;
import static org.slim4j.cuda.vendor.CudnnLibrary.check;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import jcuda.Pointer;
import jcuda.jcudnn.cudnnConvolutionBwdDataAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionBwdFilterAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionDescriptor;
import jcuda.jcudnn.cudnnConvolutionFwdAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionMode;
import jcuda.jcudnn.cudnnDataType;
import jcuda.jcudnn.cudnnFilterDescriptor;
import jcuda.jcudnn.cudnnHandle;
import jcuda.jcudnn.cudnnMathType;
import jcuda.jcudnn.cudnnTensorDescriptor;
import jcuda.jcudnn.cudnnTensorFormat;
import org.slim4j.cuda.CudaDevice;
import org.slim4j.cuda.CudaOptions;
import org.slim4j.cuda.CudaOutOfMemoryError;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * {@link ConvKernels} on cuDNN 9's legacy convolution API (the "vendor" path, {@code --kernels=vendor|auto}).
 * Activations are NHWC tensors as they are (CUDNN_TENSOR_NHWC); the HWIO filter is turned into
 * cuDNN's NHWC filter layout KRSC on the device by cudnnTransformTensor (and the filter gradient
 * back the same way), into a temporary block of the device's caching allocator. TF's asymmetric
 * SAME padding is handled as {@link CudnnConvGeometry} describes.
 *
 * <p>The algorithm of each (direction, shape, math type) is chosen once by cudnnFind*AlgorithmEx
 * (cuDNN times every algorithm on the real buffers) and cached. Math: CUDNN_FMA_MATH (exact
 * float32) for {@code --precision=fp32}, CUDNN_TENSOR_OP_MATH (TF32 tensor cores) for tf32.
 * Workspaces come from the caching allocator and are released after the call is queued (safe:
 * later users of the block queue behind it on the same stream). All cuDNN calls run under the
 * device lock on the device's one stream ({@link CudaDevice#onStream}), so they are ordered with the
 * hand-written kernels.
 */
public final class CudnnConv implements ConvKernels {
    /** Up to this many algorithms are returned by a search (cuDNN 9 has 8 forward, 6 data and 7 filter algorithms). */
    private static final int MAX_ALGOS = 16;
    /** Workspace offered to an algorithm search: a quarter of the free memory, within these bounds. */
    static final long MIN_SEARCH_WORKSPACE = 64L << 20;
    static final long MAX_SEARCH_WORKSPACE = 1L << 30;
    private static final Pointer ONE = Pointer.to(new float[] {1f});
    private static final Pointer ZERO = Pointer.to(new float[] {0f});

    enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** Algorithm cache key: direction, geometry, the math type the precision asks for. */
    record AlgoKey(Direction direction, CudnnConvGeometry geometry, int mathType) {
    }

    /** A chosen algorithm: its id and its workspace bytes (asked of cuDNN for that algorithm). */
    record Choice(int algo, long workspace) {
    }

    private final CudaDevice device;
    private final Map<AlgoKey, Choice> algos = new HashMap<>();

    /** Throws IllegalStateException with the reason when cuDNN did not load ({@link CudnnLibrary#status()}). */
    public CudnnConv(CudaDevice device) {
        CudnnLibrary.Status s = CudnnLibrary.status();
        if (!s.loaded()) throw new IllegalStateException("cuDNN convolution on " + device.name() + ": cuDNN did not load: " + s.describe());
        this.device = device;
    }

    /** cuDNN's math type for a {@code --precision}: TF32 tensor cores only when TF32 was asked for. */
    static int mathType(CudaOptions.Precision p) {
        return switch (p) {
            case FP32 -> cudnnMathType.CUDNN_FMA_MATH;
            case TF32 -> cudnnMathType.CUDNN_TENSOR_OP_MATH;
            case BF16, FP16 -> throw new UnsupportedOperationException("cuDNN convolution: --precision=" + p.name().toLowerCase(Locale.ROOT)
                    + " is not supported (the cuda backend computes on float32 tensors): use --precision=fp32 or --precision=tf32");
        };
    }

    /** Number of algorithms chosen so far (one per direction, shape and math type). */
    public int cachedAlgorithms() {
        synchronized (algos) {
            return algos.size();
        }
    }

    // ---- forward -------------------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor input, Tensor filter, Conv2dSpec spec) {
        String op = "conv2d (cuDNN)";
        checkF32(op, "input", input);
        checkF32(op, "filter", filter);
        CudnnConvGeometry g = CudnnConvGeometry.of(op, input.shape(), filter.shape(), spec);
        int math = mathType(device.options().precision());
        if (empty(g)) return Tensor.zeros(device, DType.FLOAT32, g.outputShape());
        Tensor y = device.empty(DType.FLOAT32, g.outputShape());
        device.onStream(stream -> {
            cudnnHandle h = CudnnLibrary.handle(device, stream);
            try (Descriptors d = new Descriptors(g, math, op);
                 Tensor wk = toKrsc(h, filter, g);
                 Tensor xp = padded(h, input, g)) {
                Choice c = forwardAlgorithm(h, d, g, math, xp, wk, y);
                try (Tensor ws = workspace(c.workspace())) {
                    check(cudnnConvolutionForward(h, ONE, d.x, at(xp), d.w, at(wk), d.conv, c.algo(), at(ws), c.workspace(), ZERO, d.y, at(y)),
                            "cudnnConvolutionForward", op + " " + g);
                }
            }
            return null;
        });
        return y;
    }

    private Choice forwardAlgorithm(cudnnHandle h, Descriptors d, CudnnConvGeometry g, int math, Tensor x, Tensor w, Tensor y) {
        AlgoKey key = new AlgoKey(Direction.FORWARD, g, math);
        Choice c = cached(key);
        if (c != null) return c;
        cudnnConvolutionFwdAlgoPerf[] perf = new cudnnConvolutionFwdAlgoPerf[MAX_ALGOS];
        for (int i = 0; i < perf.length; i++) perf[i] = new cudnnConvolutionFwdAlgoPerf();
        int[] count = new int[1];
        long limit = searchWorkspace();
        try (Tensor ws = searchBuffer(limit)) {
            limit = ws.numel() * 4L;
            check(cudnnFindConvolutionForwardAlgorithmEx(h, d.x, at(x), d.w, at(w), d.conv, d.y, at(y), perf.length, count, perf, at(ws), limit),
                    "cudnnFindConvolutionForwardAlgorithmEx", "conv2d (cuDNN) " + g);
        }
        for (int i = 0; i < count[0]; i++) {
            if (!usable(perf[i].status, perf[i].memory, limit)) continue;
            long[] bytes = new long[1];
            check(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, perf[i].algo, bytes), "cudnnGetConvolutionForwardWorkspaceSize",
                    "conv2d (cuDNN) " + g);
            return remember(key, new Choice(perf[i].algo, bytes[0]));
        }
        throw noAlgorithm("conv2d (cuDNN)", g, count[0]);
    }

    // ---- gradient w.r.t. the input -------------------------------------------------------------

    @Override
    public Tensor conv2dBackpropInput(Shape inputShape, Tensor filter, Tensor dy, Conv2dSpec spec) {
        String op = "conv2dBackpropInput (cuDNN)";
        checkF32(op, "filter", filter);
        checkF32(op, "dy", dy);
        CudnnConvGeometry g = CudnnConvGeometry.of(op, inputShape, filter.shape(), spec);
        checkDy(op, dy, g);
        int math = mathType(device.options().precision());
        if (empty(g)) return Tensor.zeros(device, DType.FLOAT32, inputShape);
        Tensor dx = device.empty(DType.FLOAT32, inputShape);
        device.onStream(stream -> {
            cudnnHandle h = CudnnLibrary.handle(device, stream);
            try (Descriptors d = new Descriptors(g, math, op);
                 Tensor wk = toKrsc(h, filter, g);
                 Tensor dxp = g.explicitPadding() ? device.empty(DType.FLOAT32, g.paddedInputShape()) : null) {
                Tensor target = dxp != null ? dxp : dx;
                Choice c = backwardDataAlgorithm(h, d, g, math, wk, dy, target);
                try (Tensor ws = workspace(c.workspace())) {
                    check(cudnnConvolutionBackwardData(h, ONE, d.w, at(wk), d.y, at(dy), d.conv, c.algo(), at(ws), c.workspace(), ZERO, d.x,
                            at(target)), "cudnnConvolutionBackwardData", op + " " + g);
                }
                if (dxp != null) {
                    // The padded rows/columns' gradient belongs to no input element: keep the interior.
                    transform(h, dxp, new int[] {g.n(), g.c(), g.h(), g.w()}, g.interiorStrides(), dx,
                            CudnnConvGeometry.nhwcStrides(g.h(), g.w(), g.c()), op + " cropping the padded gradient");
                }
            }
            return null;
        });
        return dx;
    }

    private Choice backwardDataAlgorithm(cudnnHandle h, Descriptors d, CudnnConvGeometry g, int math, Tensor w, Tensor dy, Tensor dx) {
        AlgoKey key = new AlgoKey(Direction.BACKWARD_DATA, g, math);
        Choice c = cached(key);
        if (c != null) return c;
        cudnnConvolutionBwdDataAlgoPerf[] perf = new cudnnConvolutionBwdDataAlgoPerf[MAX_ALGOS];
        for (int i = 0; i < perf.length; i++) perf[i] = new cudnnConvolutionBwdDataAlgoPerf();
        int[] count = new int[1];
        long limit = searchWorkspace();
        try (Tensor ws = searchBuffer(limit)) {
            limit = ws.numel() * 4L;
            check(cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, at(w), d.y, at(dy), d.conv, d.x, at(dx), perf.length, count, perf, at(ws),
                    limit), "cudnnFindConvolutionBackwardDataAlgorithmEx", "conv2dBackpropInput (cuDNN) " + g);
        }
        for (int i = 0; i < count[0]; i++) {
            if (!usable(perf[i].status, perf[i].memory, limit)) continue;
            long[] bytes = new long[1];
            check(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, perf[i].algo, bytes),
                    "cudnnGetConvolutionBackwardDataWorkspaceSize", "conv2dBackpropInput (cuDNN) " + g);
            return remember(key, new Choice(perf[i].algo, bytes[0]));
        }
        throw noAlgorithm("conv2dBackpropInput (cuDNN)", g, count[0]);
    }

    // ---- gradient w.r.t. the filter ------------------------------------------------------------

    @Override
    public Tensor conv2dBackpropFilter(Tensor input, Shape filterShape, Tensor dy, Conv2dSpec spec) {
        String op = "conv2dBackpropFilter (cuDNN)";
        checkF32(op, "input", input);
        checkF32(op, "dy", dy);
        CudnnConvGeometry g = CudnnConvGeometry.of(op, input.shape(), filterShape, spec);
        checkDy(op, dy, g);
        int math = mathType(device.options().precision());
        if (empty(g)) return Tensor.zeros(device, DType.FLOAT32, filterShape);
        Tensor dw = device.empty(DType.FLOAT32, filterShape);
        device.onStream(stream -> {
            cudnnHandle h = CudnnLibrary.handle(device, stream);
            try (Descriptors d = new Descriptors(g, math, op);
                 Tensor xp = padded(h, input, g);
                 Tensor dwk = device.empty(DType.FLOAT32, g.krscShape())) {
                Choice c = backwardFilterAlgorithm(h, d, g, math, xp, dy, dwk);
                try (Tensor ws = workspace(c.workspace())) {
                    check(cudnnConvolutionBackwardFilter(h, ONE, d.x, at(xp), d.y, at(dy), d.conv, c.algo(), at(ws), c.workspace(), ZERO, d.w,
                            at(dwk)), "cudnnConvolutionBackwardFilter", op + " " + g);
                }
                transform(h, dwk, new int[] {g.k(), g.c(), g.kh(), g.kw()}, g.krscStrides(), dw, g.hwioStrides(), op + " KRSC -> HWIO");
            }
            return null;
        });
        return dw;
    }

    private Choice backwardFilterAlgorithm(cudnnHandle h, Descriptors d, CudnnConvGeometry g, int math, Tensor x, Tensor dy, Tensor dw) {
        AlgoKey key = new AlgoKey(Direction.BACKWARD_FILTER, g, math);
        Choice c = cached(key);
        if (c != null) return c;
        cudnnConvolutionBwdFilterAlgoPerf[] perf = new cudnnConvolutionBwdFilterAlgoPerf[MAX_ALGOS];
        for (int i = 0; i < perf.length; i++) perf[i] = new cudnnConvolutionBwdFilterAlgoPerf();
        int[] count = new int[1];
        long limit = searchWorkspace();
        try (Tensor ws = searchBuffer(limit)) {
            limit = ws.numel() * 4L;
            check(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.x, at(x), d.y, at(dy), d.conv, d.w, at(dw), perf.length, count, perf, at(ws),
                    limit), "cudnnFindConvolutionBackwardFilterAlgorithmEx", "conv2dBackpropFilter (cuDNN) " + g);
        }
        for (int i = 0; i < count[0]; i++) {
            if (!usable(perf[i].status, perf[i].memory, limit)) continue;
            long[] bytes = new long[1];
            check(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, perf[i].algo, bytes),
                    "cudnnGetConvolutionBackwardFilterWorkspaceSize", "conv2dBackpropFilter (cuDNN) " + g);
            return remember(key, new Choice(perf[i].algo, bytes[0]));
        }
        throw noAlgorithm("conv2dBackpropFilter (cuDNN)", g, count[0]);
    }

    // ---- shared --------------------------------------------------------------------------------

    /**
     * A search result that ran within the workspace. The math type is the descriptor's (FMA math
     * restricts the search to exact float32 algorithms); the perf structs' mathType and, in some
     * JCudnn versions, memory fields are not filled in reliably, so the workspace of the chosen
     * algorithm is asked of cuDNN separately.
     */
    static boolean usable(int status, long memory, long limit) {
        return status == 0 && memory <= limit;
    }

    private Choice cached(AlgoKey key) {
        synchronized (algos) {
            return algos.get(key);
        }
    }

    private Choice remember(AlgoKey key, Choice c) {
        synchronized (algos) {
            algos.put(key, c);
        }
        return c;
    }

    private static IllegalStateException noAlgorithm(String op, CudnnConvGeometry g, int tried) {
        return new IllegalStateException(op + ": none of the " + tried + " algorithms cuDNN tried can run " + g
                + " within the workspace limit; use --kernels=builtin");
    }

    private static boolean empty(CudnnConvGeometry g) {
        return g.n() == 0 || g.c() == 0 || g.k() == 0 || g.outH() == 0 || g.outW() == 0;
    }

    private void checkF32(String op, String arg, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": " + arg + " is null");
        if (t.device() != device) {
            throw new IllegalArgumentException(op + ": " + arg + " " + t.shape() + " lives on " + t.device().name() + ", not " + device.name());
        }
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(op + ": unsupported dtype " + t.dtype() + " for " + arg + " " + t.shape() + " (cuDNN path: FLOAT32 only)");
        }
    }

    private static void checkDy(String op, Tensor dy, CudnnConvGeometry g) {
        if (!dy.shape().equals(g.outputShape())) {
            throw new IllegalArgumentException(op + ": dy " + dy.shape() + " does not match the convolution's output " + g.outputShape()
                    + " (input " + g.inputShape() + ", filter " + g.filterShape() + ")");
        }
    }

    /** Bytes offered to an algorithm search: a quarter of the free device memory, within [64 MiB, 1 GiB]. */
    private long searchWorkspace() {
        long free = device.memoryInfo()[0];
        return Math.max(MIN_SEARCH_WORKSPACE, Math.min(MAX_SEARCH_WORKSPACE, free / 4));
    }

    /** The search's workspace: {@code bytes}, or the minimum when the device cannot spare that much now. */
    private Tensor searchBuffer(long bytes) {
        try {
            return workspace(bytes);
        } catch (CudaOutOfMemoryError e) {
            return workspace(MIN_SEARCH_WORKSPACE);
        }
    }

    /** A workspace block from the caching allocator, or null for none. */
    private Tensor workspace(long bytes) {
        if (bytes == 0) return null;
        long words = (bytes + 3) / 4;
        if (words > Integer.MAX_VALUE) throw new IllegalStateException("cuDNN workspace of " + bytes + " bytes is too large");
        return device.empty(DType.FLOAT32, Shape.of((int) words));
    }

    /** The filter in cuDNN's KRSC layout (a temporary), transformed on the device. */
    private Tensor toKrsc(cudnnHandle h, Tensor filter, CudnnConvGeometry g) {
        Tensor wk = device.empty(DType.FLOAT32, g.krscShape());
        transform(h, filter, new int[] {g.k(), g.c(), g.kh(), g.kw()}, g.hwioStrides(), wk, g.krscStrides(), "HWIO -> KRSC filter " + g.filterShape());
        return wk;
    }

    /** The input itself, or (TF's asymmetric SAME) a zeroed copy with the extra bottom rows / right columns. */
    private Tensor padded(cudnnHandle h, Tensor input, CudnnConvGeometry g) {
        if (!g.explicitPadding()) return input.reshape(input.shape());  // a view: closing it leaves the caller's tensor alone
        Tensor xp = Tensor.zeros(device, DType.FLOAT32, g.paddedInputShape());
        transform(h, input, new int[] {g.n(), g.c(), g.h(), g.w()}, CudnnConvGeometry.nhwcStrides(g.h(), g.w(), g.c()), xp,
                g.interiorStrides(), "padding input " + input.shape() + " to " + g.paddedInputShape());
        return xp;
    }

    /** dst = src for one 4-d (n, c, h, w) extent, each side with its own strides (cudnnTransformTensor). */
    private static void transform(cudnnHandle h, Tensor src, int[] dims, int[] srcStrides, Tensor dst, int[] dstStrides, String what) {
        cudnnTensorDescriptor s = new cudnnTensorDescriptor();
        cudnnTensorDescriptor d = new cudnnTensorDescriptor();
        check(cudnnCreateTensorDescriptor(s), "cudnnCreateTensorDescriptor", what);
        check(cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor", what);
        try {
            check(cudnnSetTensor4dDescriptorEx(s, cudnnDataType.CUDNN_DATA_FLOAT, dims[0], dims[1], dims[2], dims[3], srcStrides[0], srcStrides[1],
                    srcStrides[2], srcStrides[3]), "cudnnSetTensor4dDescriptorEx", what);
            check(cudnnSetTensor4dDescriptorEx(d, cudnnDataType.CUDNN_DATA_FLOAT, dims[0], dims[1], dims[2], dims[3], dstStrides[0], dstStrides[1],
                    dstStrides[2], dstStrides[3]), "cudnnSetTensor4dDescriptorEx", what);
            check(cudnnTransformTensor(h, ONE, s, at(src), ZERO, d, at(dst)), "cudnnTransformTensor", what);
        } finally {
            cudnnDestroyTensorDescriptor(s);
            cudnnDestroyTensorDescriptor(d);
        }
    }

    /** The x (input, padded when needed), w (KRSC filter), y (output) and convolution descriptors of one geometry. */
    private static final class Descriptors implements AutoCloseable {
        final cudnnTensorDescriptor x = new cudnnTensorDescriptor();
        final cudnnTensorDescriptor y = new cudnnTensorDescriptor();
        final cudnnFilterDescriptor w = new cudnnFilterDescriptor();
        final cudnnConvolutionDescriptor conv = new cudnnConvolutionDescriptor();

        Descriptors(CudnnConvGeometry g, int math, String op) {
            check(cudnnCreateTensorDescriptor(x), "cudnnCreateTensorDescriptor", op);
            check(cudnnCreateTensorDescriptor(y), "cudnnCreateTensorDescriptor", op);
            check(cudnnCreateFilterDescriptor(w), "cudnnCreateFilterDescriptor", op);
            check(cudnnCreateConvolutionDescriptor(conv), "cudnnCreateConvolutionDescriptor", op);
            int f = cudnnTensorFormat.CUDNN_TENSOR_NHWC;
            int fl = cudnnDataType.CUDNN_DATA_FLOAT;
            String what = op + " " + g;
            check(cudnnSetTensor4dDescriptor(x, f, fl, g.n(), g.c(), g.paddedH(), g.paddedW()), "cudnnSetTensor4dDescriptor(x)", what);
            check(cudnnSetTensor4dDescriptor(y, f, fl, g.n(), g.k(), g.outH(), g.outW()), "cudnnSetTensor4dDescriptor(y)", what);
            check(cudnnSetFilter4dDescriptor(w, fl, f, g.k(), g.c(), g.kh(), g.kw()), "cudnnSetFilter4dDescriptor", what);
            check(cudnnSetConvolution2dDescriptor(conv, g.padH(), g.padW(), g.strideH(), g.strideW(), g.dilationH(), g.dilationW(),
                    cudnnConvolutionMode.CUDNN_CROSS_CORRELATION, fl), "cudnnSetConvolution2dDescriptor", what);
            check(cudnnSetConvolutionMathType(conv, math), "cudnnSetConvolutionMathType", what);
            int[] n = new int[1], c = new int[1], hh = new int[1], ww = new int[1];
            check(cudnnGetConvolution2dForwardOutputDim(conv, x, w, n, c, hh, ww), "cudnnGetConvolution2dForwardOutputDim", what);
            if (n[0] != g.n() || c[0] != g.k() || hh[0] != g.outH() || ww[0] != g.outW()) {
                throw new IllegalStateException(op + ": cuDNN's output [" + n[0] + "," + hh[0] + "," + ww[0] + "," + c[0] + "] differs from TF's "
                        + g.outputShape() + " for " + g);
            }
        }

        @Override
        public void close() {
            cudnnDestroyTensorDescriptor(x);
            cudnnDestroyTensorDescriptor(y);
            cudnnDestroyFilterDescriptor(w);
            cudnnDestroyConvolutionDescriptor(conv);
        }
    }
}
