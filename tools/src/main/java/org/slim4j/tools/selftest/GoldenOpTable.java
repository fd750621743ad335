package org.slim4j.tools.selftest;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slim4j.io.preprocessing.ImageOps;
import org.slim4j.io.preprocessing.InceptionPreprocessing;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.LrnKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.kernels.ResizeKernels;
import org.slim4j.kernels.ResizeMode;
import org.slim4j.kernels.ShapeKernels;
import org.slim4j.kernels.SoftmaxKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * How each TensorFlow op of the golden set runs on slim4j's kernels: TF op name → a function of
 * the case's inputs (by TF input name) and attrs → its outputs (by the output names of case.json).
 * Only NHWC, TF's defaults for unlisted attrs; anything else is reported as unsupported.
 */
public final class GoldenOpTable {
    /** One TF op on slim4j: returns its outputs by name (extra outputs are ignored, then closed). */
    @FunctionalInterface
    public interface GoldenOp {
        Map<String, Tensor> run(OpCall c);
    }

    /** The TF ops of TF-Slim's inception preprocess_for_eval, as a golden pipeline case lists its steps. */
    private static final List<String> INCEPTION_EVAL_STEPS = List.of("Cast", "Mul", "Slice", "ExpandDims", "ResizeBilinear", "Squeeze", "Sub", "Mul");

    /** Reason given for {@code "op": "pipeline"} cases other than inception's eval preprocessing. */
    public static final String PIPELINE_REASON = "unsupported pipeline: only TF-Slim's inception preprocess_for_eval (steps "
            + String.join(", ", INCEPTION_EVAL_STEPS) + ") runs";

    private static final Map<String, GoldenOp> OPS = new LinkedHashMap<>();

    static {
        // ---- convolution: input NHWC, filter HWIO / [kh, kw, C, M]; sizes come as int tensors
        op("Conv2D", c -> one(conv(c).conv2d(c.in("input"), c.in("filter"), convSpec(c))));
        op("Conv2DBackpropInput", c -> one(conv(c).conv2dBackpropInput(
                Shape.of(c.ints("input_sizes")), c.in("filter"), c.in("out_backprop"), convSpec(c))));
        op("Conv2DBackpropFilter", c -> one(conv(c).conv2dBackpropFilter(
                c.in("input"), Shape.of(c.ints("filter_sizes")), c.in("out_backprop"), convSpec(c))));
        op("DepthwiseConv2dNative", c -> one(depthwise(c).depthwiseConv2d(c.in("input"), c.in("filter"), convSpec(c))));
        op("DepthwiseConv2dNativeBackpropInput", c -> one(depthwise(c).depthwiseConv2dBackpropInput(
                Shape.of(c.ints("input_sizes")), c.in("filter"), c.in("out_backprop"), convSpec(c))));
        op("DepthwiseConv2dNativeBackpropFilter", c -> one(depthwise(c).depthwiseConv2dBackpropFilter(
                c.in("input"), Shape.of(c.ints("filter_sizes")), c.in("out_backprop"), convSpec(c))));

        // ---- pooling
        op("MaxPool", c -> one(pool(c).maxPool(c.in("input"), poolSpec(c))));
        op("MaxPoolGrad", c -> one(pool(c).maxPoolGrad(c.in("orig_input"), c.in("orig_output"), c.in("grad"), poolSpec(c))));
        op("AvgPool", c -> one(pool(c).avgPool(c.in("value"), poolSpec(c))));
        op("AvgPoolGrad", c -> one(pool(c).avgPoolGrad(Shape.of(c.ints("orig_input_shape")), c.in("grad"), poolSpec(c))));

        // ---- normalisation
        op("FusedBatchNormV3", GoldenOpTable::fusedBatchNorm);
        op("FusedBatchNormGradV3", GoldenOpTable::fusedBatchNormGrad);
        op("LRN", c -> one(c.kernels(LrnKernels.class).lrn(c.in("input"), lrnSpec(c))));
        // LRNGrad(input_grads = dy, input_image = x, output_image = y)
        op("LRNGrad", c -> one(c.kernels(LrnKernels.class).lrnGrad(
                c.in("input_image"), c.in("output_image"), c.in("input_grads"), lrnSpec(c))));

        // ---- softmax and losses
        op("Softmax", c -> named("softmax", c.kernels(SoftmaxKernels.class).softmax(c.in("logits"))));
        op("LogSoftmax", c -> named("logsoftmax", c.kernels(SoftmaxKernels.class).logSoftmax(c.in("logits"))));
        op("SoftmaxCrossEntropyWithLogits", c -> crossEntropy(
                c.kernels(SoftmaxKernels.class).softmaxCrossEntropy(c.in("features"), c.in("labels"))));
        op("SparseSoftmaxCrossEntropyWithLogits", c -> crossEntropy(
                c.kernels(SoftmaxKernels.class).sparseSoftmaxCrossEntropy(c.in("features"), c.in("labels"))));
        op("L2Loss", c -> one(c.kernels(ReduceKernels.class).l2Loss(c.in("t"))));

        // ---- activations, dense
        op("Relu", c -> named("activations", c.kernels(ElementwiseKernels.class).unary(UnaryOp.RELU, c.in("features"))));
        op("Relu6", c -> named("activations", c.kernels(ElementwiseKernels.class).unary(UnaryOp.RELU6, c.in("features"))));
        op("BiasAdd", c -> {
            nhwc(c);
            return one(c.kernels(BiasAddKernels.class).biasAdd(c.in("value"), c.in("bias")));
        });
        op("BiasAddGrad", c -> {
            nhwc(c);
            return one(c.kernels(BiasAddKernels.class).biasAddGrad(c.in("out_backprop")));
        });
        op("MatMul", c -> named("product", c.kernels(MatMulKernels.class).matmul(
                c.in("a"), c.in("b"), c.attrBool("transpose_a", false), c.attrBool("transpose_b", false))));

        // ---- resizing
        op("ResizeBilinear", c -> {
            int[] size = c.ints("size");
            return one(c.kernels(ResizeKernels.class).resizeBilinear(c.in("images"), size[0], size[1], resizeMode(c)));
        });
        op("CropAndResize", c -> {
            String method = c.attrString("method", "bilinear");
            if (!method.equals("bilinear")) throw new OpCall.Unsupported("CropAndResize method '" + method + "' is not supported (bilinear only)");
            int[] size = c.ints("crop_size");
            float extrapolation = c.hasAttr("extrapolation_value") ? c.attrFloat("extrapolation_value") : 0f;
            return named("crops", c.kernels(ResizeKernels.class).cropAndResize(
                    c.in("image"), c.in("boxes"), c.in("box_ind"), size[0], size[1], extrapolation));
        });

        // ---- reductions and shape ops
        op("Mean", c -> one(c.kernels(ReduceKernels.class).mean(
                c.in("input"), c.ints("reduction_indices"), c.attrBool("keep_dims", false))));
        op("ConcatV2", c -> one(c.kernels(ShapeKernels.class).concat(c.list("values"), c.ints("axis")[0])));
        op("Pad", c -> {
            int[] p = c.ints("paddings");
            int[][] paddings = new int[p.length / 2][];
            for (int d = 0; d < paddings.length; d++) paddings[d] = new int[] {p[2 * d], p[2 * d + 1]};
            return one(c.kernels(ShapeKernels.class).pad(c.in("input"), paddings, 0.0));
        });

        // ---- multi-op pipelines: TF-Slim's inception eval preprocessing
        op("pipeline", GoldenOpTable::inceptionEvalPipeline);
    }

    private GoldenOpTable() {
    }

    private static void op(String tfOp, GoldenOp fn) {
        OPS.put(tfOp, fn);
    }

    /** The mapping of a TF op, or null when slim4j has none. */
    public static GoldenOp lookup(String tfOp) {
        return OPS.get(tfOp);
    }

    /** Every TF op name the table maps. */
    public static Set<String> ops() {
        return Collections.unmodifiableSet(OPS.keySet());
    }

    // ---- outputs ----------------------------------------------------------------------------------

    private static Map<String, Tensor> one(Tensor t) {
        return named("output", t);
    }

    private static Map<String, Tensor> named(String name, Tensor t) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(name, t);
        return m;
    }

    private static Map<String, Tensor> crossEntropy(SoftmaxKernels.CrossEntropy ce) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("loss", ce.loss());
        m.put("backprop", ce.backprop());
        return m;
    }

    // ---- attrs → specs ------------------------------------------------------------------------------

    private static ConvKernels conv(OpCall c) {
        return c.kernels(ConvKernels.class);
    }

    private static DepthwiseConvKernels depthwise(OpCall c) {
        return c.kernels(DepthwiseConvKernels.class);
    }

    private static PoolKernels pool(OpCall c) {
        return c.kernels(PoolKernels.class);
    }

    private static void nhwc(OpCall c) {
        String format = c.attrString("data_format", "NHWC");
        if (!format.equals("NHWC")) throw new OpCall.Unsupported("data_format " + format + " is not supported (NHWC only)");
    }

    /** TF writes per-axis NHWC lists [1, h, w, 1]; returns {h, w}. */
    private static int[] spatial(OpCall c, String attr) {
        int[] v = c.attrInts(attr);
        if (v.length != 4 || v[0] != 1 || v[3] != 1) {
            throw new OpCall.Unsupported(attr + " " + java.util.Arrays.toString(v) + " not supported (only [1, h, w, 1])");
        }
        return new int[] {v[1], v[2]};
    }

    private static Padding padding(OpCall c) {
        String p = c.attrString("padding", null);
        if (p == null) throw new IllegalArgumentException("missing attr 'padding'");
        if (p.equals("EXPLICIT")) throw new OpCall.Unsupported("EXPLICIT padding is not supported (SAME/VALID only)");
        return Padding.parse(p);
    }

    private static Conv2dSpec convSpec(OpCall c) {
        nhwc(c);
        int[] s = spatial(c, "strides");
        int[] d = c.hasAttr("dilations") ? spatial(c, "dilations") : new int[] {1, 1};
        return new Conv2dSpec(s[0], s[1], d[0], d[1], padding(c));
    }

    private static PoolSpec poolSpec(OpCall c) {
        nhwc(c);
        int[] k = spatial(c, "ksize");
        int[] s = spatial(c, "strides");
        return new PoolSpec(k[0], k[1], s[0], s[1], padding(c));
    }

    private static LrnSpec lrnSpec(OpCall c) {
        // TF's defaults: depth_radius 5, bias 1, alpha 1, beta 0.5.
        int r = c.hasAttr("depth_radius") ? c.attrInt("depth_radius") : 5;
        float bias = c.hasAttr("bias") ? c.attrFloat("bias") : 1f;
        float alpha = c.hasAttr("alpha") ? c.attrFloat("alpha") : 1f;
        float beta = c.hasAttr("beta") ? c.attrFloat("beta") : 0.5f;
        return new LrnSpec(r, bias, alpha, beta);
    }

    private static ResizeMode resizeMode(OpCall c) {
        boolean alignCorners = c.attrBool("align_corners", false);
        boolean halfPixel = c.attrBool("half_pixel_centers", false);
        if (alignCorners && halfPixel) throw new IllegalArgumentException("align_corners and half_pixel_centers cannot both be true (TF rejects it)");
        if (alignCorners) return ResizeMode.ALIGN_CORNERS;
        return halfPixel ? ResizeMode.HALF_PIXEL : ResizeMode.LEGACY;
    }

    // ---- preprocessing pipeline -------------------------------------------------------------------------

    /**
     * The {@code inception_preprocess_eval} case: slim4j's inception preprocess_for_eval (central
     * fraction 0.875, legacy bilinear resize to the ResizeBilinear step's size) → its intermediates
     * converted, cropped, resized and the output. The case's Slice step must be that central crop.
     */
    private static Map<String, Tensor> inceptionEvalPipeline(OpCall c) {
        JsonNode steps = c.hasAttr("steps") ? c.attrJson("steps") : null;
        List<String> ops = new ArrayList<>();
        if (steps != null) steps.forEach(s -> ops.add(s.path("op").asText()));
        if (!ops.equals(INCEPTION_EVAL_STEPS)) throw new OpCall.Unsupported(PIPELINE_REASON);
        Tensor image = c.in("image");
        if (!(image.device() instanceof CpuDevice)) image = image.toDevice(CpuDevice.INSTANCE);
        if (image.rank() != 3) throw new IllegalArgumentException("pipeline: image must be [height, width, channels], got " + image.shape());
        double fraction = InceptionPreprocessing.DEFAULT_CENTRAL_FRACTION;
        ImageOps.CropWindow w = ImageOps.centralCropWindow(image.dim(0), image.dim(1), fraction);
        JsonNode slice = steps.get(2);
        String want = List.of(w.offsetY(), w.offsetX(), 0) + " " + List.of(w.height(), w.width(), image.dim(2));
        String got = ints(slice.get("begin")) + " " + ints(slice.get("size"));
        if (!want.equals(got)) {
            throw new OpCall.Unsupported("pipeline: Slice begin/size " + got + " is not central_crop(" + fraction + ") " + want);
        }
        List<Integer> size = ints(steps.get(4).get("size"));
        if (size.size() != 2) throw new IllegalArgumentException("pipeline: ResizeBilinear size " + size + " must have 2 entries");
        InceptionPreprocessing.EvalSteps s = InceptionPreprocessing.evalSteps(image, size.get(0), size.get(1), fraction);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("converted", s.converted());
        m.put("cropped", s.cropped());
        m.put("resized", s.resized());
        m.put("output", s.output());
        return m;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> r = new ArrayList<>();
        if (array != null) array.forEach(v -> r.add(v.asInt()));
        return r;
    }

    // ---- batch norm -----------------------------------------------------------------------------------

    private static float epsilon(OpCall c) {
        return c.hasAttr("epsilon") ? c.attrFloat("epsilon") : 1e-4f;
    }

    /**
     * FusedBatchNormV3(x, scale, offset, mean, variance) → y, batch_mean, batch_variance,
     * reserve_space_1, reserve_space_2. Training: batch_variance is Bessel-corrected (×N/(N−1)),
     * blended with the given mean/variance when exponential_avg_factor ≠ 1; reserve_space_1/2 are the
     * batch mean and biased variance. Inference: batch_mean/batch_variance echo mean/variance.
     */
    private static Map<String, Tensor> fusedBatchNorm(OpCall c) {
        nhwc(c);
        BatchNormKernels bn = c.kernels(BatchNormKernels.class);
        Tensor x = c.in("x");
        Map<String, Tensor> m = new LinkedHashMap<>();
        if (!c.attrBool("is_training", true)) {
            m.put("y", bn.inferenceForward(x, c.in("scale"), c.in("offset"), c.in("mean"), c.in("variance"), epsilon(c)));
            m.put("batch_mean", c.in("mean").copy());
            m.put("batch_variance", c.in("variance").copy());
            return m;
        }
        BatchNormKernels.Training t = bn.trainingForward(x, c.in("scale"), c.in("offset"), epsilon(c));
        int channels = x.dim(-1);
        long n = channels == 0 ? 0 : x.numel() / channels;
        double bessel = (double) n / Math.max(n - 1, 1);
        double factor = c.hasAttr("exponential_avg_factor") ? c.attrFloat("exponential_avg_factor") : 1.0;
        double[] mean = t.mean().toDoubleArray();
        double[] var = t.variance().toDoubleArray();
        double[] oldMean = c.in("mean").numel() == channels ? c.in("mean").toDoubleArray() : null;
        double[] oldVar = c.in("variance").numel() == channels ? c.in("variance").toDoubleArray() : null;
        double[] batchMean = new double[channels];
        double[] batchVar = new double[channels];
        for (int i = 0; i < channels; i++) {
            batchMean[i] = mean[i];
            batchVar[i] = var[i] * bessel;
            // TF's running-average update, used when a factor < 1 and running statistics are given.
            if (factor != 1.0 && oldMean != null && oldVar != null) {
                batchMean[i] = (1 - factor) * oldMean[i] + factor * batchMean[i];
                batchVar[i] = (1 - factor) * oldVar[i] + factor * batchVar[i];
            }
        }
        m.put("y", t.y());
        m.put("batch_mean", Tensor.fromDoubles(t.mean().dtype(), t.mean().shape(), batchMean));
        m.put("batch_variance", Tensor.fromDoubles(t.variance().dtype(), t.variance().shape(), batchVar));
        m.put("reserve_space_1", t.mean());
        m.put("reserve_space_2", t.variance());
        return m;
    }

    /**
     * FusedBatchNormGradV3(y_backprop, x, scale, reserve_space_1, reserve_space_2, reserve_space_3)
     * → x_backprop, scale_backprop, offset_backprop. reserve_space_1/2 are the batch mean and biased
     * variance in training, the population statistics in inference; reserve_space_3 is unused.
     */
    private static Map<String, Tensor> fusedBatchNormGrad(OpCall c) {
        nhwc(c);
        BatchNormKernels bn = c.kernels(BatchNormKernels.class);
        Tensor dy = c.in("y_backprop");
        Tensor x = c.in("x");
        Tensor scale = c.in("scale");
        Tensor mean = c.in("reserve_space_1");
        Tensor variance = c.in("reserve_space_2");
        BatchNormKernels.Grads g = c.attrBool("is_training", true)
                ? bn.trainingBackward(dy, x, scale, mean, variance, epsilon(c))
                : bn.inferenceBackward(dy, x, scale, mean, variance, epsilon(c));
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("x_backprop", g.dx());
        m.put("scale_backprop", g.dscale());
        m.put("offset_backprop", g.doffset());
        return m;
    }
}
