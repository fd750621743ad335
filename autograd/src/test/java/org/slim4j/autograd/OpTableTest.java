package org.slim4j.autograd;

import static org.slim4j.autograd.OpCheck.of;
import static org.slim4j.autograd.OpCheck.s;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slim4j.autograd.ops.BatchNormOps;
import org.slim4j.autograd.ops.BiasAddOps;
import org.slim4j.autograd.ops.ConvOps;
import org.slim4j.autograd.ops.DropoutOps;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.LrnOps;
import org.slim4j.autograd.ops.MatMulOps;
import org.slim4j.autograd.ops.PoolOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.autograd.ops.ResizeOps;
import org.slim4j.autograd.ops.ShapeOps;
import org.slim4j.autograd.ops.SoftmaxOps;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.LrnSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.ResizeMode;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** Every differentiable op, with sample shapes, through {@link OpCheck}. */
class OpTableTest {
    static Stream<OpCheck.Case> table() {
        Conv2dSpec same1 = Conv2dSpec.of(1, Padding.SAME);
        Conv2dSpec same2 = Conv2dSpec.of(2, Padding.SAME);
        Conv2dSpec valid2 = Conv2dSpec.of(2, Padding.VALID);
        return Stream.of(
            of("matmul", x -> MatMulOps.matmul(x.get(0), x.get(1)), s(3, 5), s(5, 4)),
            of("matmul_ta", x -> MatMulOps.matmul(x.get(0), x.get(1), true, false), s(5, 3), s(5, 4)),
            of("matmul_tb", x -> MatMulOps.matmul(x.get(0), x.get(1), false, true), s(3, 5), s(4, 5)),
            of("matmul_ta_tb", x -> MatMulOps.matmul(x.get(0), x.get(1), true, true), s(5, 3), s(4, 5)),
            of("add_broadcast", x -> ElementwiseOps.add(x.get(0), x.get(1)), s(2, 3, 4), s(4)),
            of("sub_broadcast", x -> ElementwiseOps.sub(x.get(0), x.get(1)), s(2, 1, 4), s(3, 1)),
            of("mul_broadcast", x -> ElementwiseOps.mul(x.get(0), x.get(1)), s(2, 3, 1), s(3, 4)),
            of("div", 0.5, 2, x -> ElementwiseOps.div(x.get(0), x.get(1)), s(2, 3), s(2, 3)),
            of("relu", x -> ElementwiseOps.relu(x.get(0)), s(4, 5)),
            of("relu6", -2, 8, x -> ElementwiseOps.relu6(x.get(0)), s(4, 5)),
            of("add_relu", x -> ElementwiseOps.addActivation(x.get(0), x.get(1), UnaryOp.RELU), s(3, 4, 5), s(3, 4, 5)),
            of("add_relu6_broadcast", -2, 5, x -> ElementwiseOps.addActivation(x.get(0), x.get(1), UnaryOp.RELU6), s(2, 3, 4), s(4)),
            of("sigmoid", -3, 3, x -> ElementwiseOps.sigmoid(x.get(0)), s(4, 5)),
            of("tanh", -3, 3, x -> ElementwiseOps.tanh(x.get(0)), s(4, 5)),
            of("exp", x -> ElementwiseOps.unary(UnaryOp.EXP, x.get(0)), s(7)),
            of("log", 0.5, 3, x -> ElementwiseOps.unary(UnaryOp.LOG, x.get(0)), s(7)),
            of("sqrt", 0.5, 3, x -> ElementwiseOps.unary(UnaryOp.SQRT, x.get(0)), s(7)),
            of("rsqrt", 0.5, 3, x -> ElementwiseOps.unary(UnaryOp.RSQRT, x.get(0)), s(7)),
            of("square", x -> ElementwiseOps.unary(UnaryOp.SQUARE, x.get(0)), s(7)),
            of("affine", x -> ElementwiseOps.affine(x.get(0), -1.5, 0.25), s(2, 3)),
            of("pow", 0.5, 2, x -> ElementwiseOps.pow(x.get(0), 1.7), s(2, 3)),
            of("bias_add", x -> BiasAddOps.biasAdd(x.get(0), x.get(1)), s(2, 3, 3, 4), s(4)),
            of("conv2d_3x3_same_s1", x -> ConvOps.conv2d(x.get(0), x.get(1), same1), s(2, 5, 6, 3), s(3, 3, 3, 4)),
            of("conv2d_3x3_same_s2_even", x -> ConvOps.conv2d(x.get(0), x.get(1), same2), s(1, 6, 8, 2), s(3, 3, 2, 3)),
            of("conv2d_3x3_same_s2_odd", x -> ConvOps.conv2d(x.get(0), x.get(1), same2), s(1, 7, 5, 2), s(3, 3, 2, 3)),
            of("conv2d_3x3_valid_s2", x -> ConvOps.conv2d(x.get(0), x.get(1), valid2), s(2, 7, 7, 2), s(3, 3, 2, 3)),
            of("conv2d_3x3_same_dil2", x -> ConvOps.conv2d(x.get(0), x.get(1), same1.withDilation(2)), s(1, 7, 6, 2), s(3, 3, 2, 3)),
            of("conv2d_1x7_same", x -> ConvOps.conv2d(x.get(0), x.get(1), same1), s(1, 4, 9, 2), s(1, 7, 2, 2)),
            of("conv2d_1x1_s2", x -> ConvOps.conv2d(x.get(0), x.get(1), same2), s(2, 5, 5, 3), s(1, 1, 3, 4)),
            of("conv2d_bias_relu", -2, 2, x -> ConvOps.conv2dBiasActivation(x.get(0), x.get(1), x.get(2), same1, FusedConvKernels.Activation.RELU),
                s(2, 5, 6, 3), s(3, 3, 3, 4), s(4)),
            of("conv2d_bias_relu6_s2", -3, 3, x -> ConvOps.conv2dBiasActivation(x.get(0), x.get(1), x.get(2), same2, FusedConvKernels.Activation.RELU6),
                s(1, 7, 5, 2), s(3, 3, 2, 3), s(3)),
            of("conv2d_bias_valid", x -> ConvOps.conv2dBiasActivation(x.get(0), x.get(1), x.get(2), valid2, FusedConvKernels.Activation.NONE),
                s(2, 7, 7, 2), s(3, 3, 2, 3), s(3)),
            of("depthwise_3x3_same_s1_m2", x -> ConvOps.depthwiseConv2d(x.get(0), x.get(1), same1), s(2, 5, 4, 3), s(3, 3, 3, 2)),
            of("depthwise_3x3_same_s2_m1", x -> ConvOps.depthwiseConv2d(x.get(0), x.get(1), same2), s(1, 6, 7, 4), s(3, 3, 4, 1)),
            of("depthwise_3x3_dil2", x -> ConvOps.depthwiseConv2d(x.get(0), x.get(1), same1.withDilation(2)), s(1, 6, 6, 2), s(3, 3, 2, 1)),
            of("max_pool_3x3_s2_same", x -> PoolOps.maxPool(x.get(0), PoolSpec.of(3, 2, Padding.SAME)), s(2, 7, 8, 3)),
            of("max_pool_2x2_s2_valid", x -> PoolOps.maxPool(x.get(0), PoolSpec.of(2, 2, Padding.VALID)), s(1, 7, 6, 2)),
            of("avg_pool_3x3_s2_same", x -> PoolOps.avgPool(x.get(0), PoolSpec.of(3, 2, Padding.SAME)), s(2, 7, 8, 3)),
            of("avg_pool_3x3_s1_same", x -> PoolOps.avgPool(x.get(0), PoolSpec.of(3, 1, Padding.SAME)), s(1, 5, 6, 2)),
            of("batch_norm_training", x -> BatchNormOps.training(x.get(0), x.get(1), x.get(2), 0.001f).y(), s(2, 3, 4, 5), s(5), s(5)),
            of("batch_norm_training_no_scale", x -> BatchNormOps.training(x.get(0), null, x.get(1), 0.001f).y(), s(3, 2, 2, 4), s(4)),
            of("batch_norm_training_relu", -2, 2, x -> BatchNormOps.trainingActivation(x.get(0), x.get(1), x.get(2), 0.001f,
                FusedConvKernels.Activation.RELU).y(), s(2, 3, 4, 5), s(5), s(5)),
            of("batch_norm_training_relu6_no_scale", -3, 6, x -> BatchNormOps.trainingActivation(x.get(0), null, x.get(1), 0.001f,
                FusedConvKernels.Activation.RELU6).y(), s(3, 2, 2, 4), s(4)),
            of("batch_norm_inference", x -> BatchNormOps.inference(x.get(0), x.get(1), x.get(2),
                constant(x, 0.1, 0.3), constant(x, 0.5, 1.5), 0.001f), s(2, 3, 4, 5), s(5), s(5)),
            of("lrn_cifarnet", x -> LrnOps.lrn(x.get(0), LrnSpec.cifarNet()), s(2, 3, 3, 10)),
            of("lrn_r2", x -> LrnOps.lrn(x.get(0), new LrnSpec(2, 2f, 0.01f, 0.5f)), s(1, 2, 3, 7)),
            of("softmax", x -> SoftmaxOps.softmax(x.get(0)), s(3, 6)),
            of("log_softmax", x -> SoftmaxOps.logSoftmax(x.get(0)), s(3, 6)),
            of("softmax_xent", -3, 3, x -> SoftmaxOps.softmaxCrossEntropy(x.get(0), oneHot(x.get(0).value().dtype())), s(3, 5)),
            of("softmax_xent_smoothed", -3, 3, x -> SoftmaxOps.softmaxCrossEntropy(x.get(0), oneHot(x.get(0).value().dtype()), 0.1), s(3, 5)),
            of("sparse_softmax_xent", -3, 3, x -> SoftmaxOps.sparseSoftmaxCrossEntropy(x.get(0), Tensor.of(new long[] {4, 0, 2}, 3)), s(3, 5)),
            of("sum_axes", x -> ReduceOps.sum(x.get(0), new int[] {0, 2}, false), s(2, 3, 4)),
            of("mean_global_pool", x -> ReduceOps.mean(x.get(0), new int[] {1, 2}, true), s(2, 3, 4, 5)),
            of("mean_all", x -> ReduceOps.mean(x.get(0)), s(3, 4)),
            of("l2_loss", x -> ReduceOps.l2Loss(x.get(0)), s(3, 4)),
            of("reshape", x -> ShapeOps.reshape(x.get(0), 4, -1), s(2, 3, 4)),
            of("concat_axis3", x -> ShapeOps.concat(List.of(x.get(0), x.get(1)), 3), s(1, 2, 2, 3), s(1, 2, 2, 2)),
            of("split_axis1", x -> ShapeOps.concat(List.of(ShapeOps.split(x.get(0), 1, new int[] {1, 3}).get(1),
                ShapeOps.split(x.get(0), 1, new int[] {2, 2}).get(0)), 1), s(2, 4, 3)),
            of("pad", x -> ShapeOps.pad(x.get(0), new int[][] {{0, 0}, {1, 2}, {2, 1}, {0, 0}}, 0), s(1, 3, 2, 2)),
            of("slice", x -> ShapeOps.slice(x.get(0), new int[] {1, 0, 1}, new int[] {1, 2, 2}), s(2, 3, 4)),
            of("slice_rest", x -> ShapeOps.slice(x.get(0), new int[] {1, 0, 1}, new int[] {-1, 2, -1}), s(2, 3, 4)),
            of("transpose", x -> ShapeOps.transpose(x.get(0), 0, 3, 1, 2), s(2, 3, 4, 5)),
            of("dropout", x -> DropoutOps.dropout(x.get(0), 0.6, 1234), s(4, 6)),
            of("resize_legacy_up", x -> ResizeOps.resizeBilinear(x.get(0), 7, 9, ResizeMode.LEGACY), s(1, 4, 5, 2)),
            of("resize_half_pixel_down", x -> ResizeOps.resizeBilinear(x.get(0), 3, 4, ResizeMode.HALF_PIXEL), s(2, 7, 9, 2)),
            of("resize_align_corners_up", x -> ResizeOps.resizeBilinear(x.get(0), 6, 8, ResizeMode.ALIGN_CORNERS), s(1, 3, 4, 2)));
    }

    /** Fixed per-channel statistics in the inputs' dtype. */
    private static Tensor constant(List<Var> x, double lo, double hi) {
        int c = x.get(0).value().dim(-1);
        return Tensor.randomUniform(c + (long) (lo * 100), x.get(0).value().dtype(), Shape.of(c), lo, hi);
    }

    private static Tensor oneHot(DType dtype) {
        double[] rows = {0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0.2, 0.2, 0.2, 0.2, 0.2};
        return Tensor.fromDoubles(dtype, Shape.of(3, 5), rows);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void forwardAndBackwardMatchReferences(OpCheck.Case c) {
        OpCheck.run(c);
    }
}
