package org.slim4j.tools.demo;

import java.util.List;
import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.BiasAddOps;
import org.slim4j.autograd.ops.ConvOps;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.MatMulOps;
import org.slim4j.autograd.ops.PoolOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.autograd.ops.ShapeOps;
import org.slim4j.autograd.ops.SoftmaxOps;
import org.slim4j.autograd.optim.Momentum;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * The foundation's proof that slim4j learns: conv5x5(16)-relu-maxpool, conv5x5(32)-relu-maxpool,
 * fully connected to the classes, trained with momentum SGD on softmax cross-entropy.
 * Input NHWC float32 [N, H, W, 1] with H and W divisible by 4.
 */
public final class TinyConvNet implements AutoCloseable {
    private final Var conv1W;
    private final Var conv1B;
    private final Var conv2W;
    private final Var conv2B;
    private final Var fcW;
    private final Var fcB;
    private final List<Var> params;
    private final Momentum optimizer = new Momentum(0.9);

    public TinyConvNet(int height, int width, int channels, int numClasses, long seed) {
        conv1W = param(seed, Shape.of(5, 5, channels, 16), 5 * 5 * channels, "conv1/weights");
        conv1B = Var.param(Tensor.zeros(DType.FLOAT32, Shape.of(16)), "conv1/biases");
        conv2W = param(seed + 1, Shape.of(5, 5, 16, 32), 5 * 5 * 16, "conv2/weights");
        conv2B = Var.param(Tensor.zeros(DType.FLOAT32, Shape.of(32)), "conv2/biases");
        int flat = (height / 4) * (width / 4) * 32;
        fcW = param(seed + 2, Shape.of(flat, numClasses), flat, "logits/weights");
        fcB = Var.param(Tensor.zeros(DType.FLOAT32, Shape.of(numClasses)), "logits/biases");
        params = List.of(conv1W, conv1B, conv2W, conv2B, fcW, fcB);
        for (Var p : params) TensorScope.escape(p.value());
    }

    /** He-scaled truncated normal, so relu activations keep their scale. */
    private static Var param(long seed, Shape shape, int fanIn, String name) {
        return Var.param(Tensor.truncatedNormal(seed, DType.FLOAT32, shape, 0, Math.sqrt(2.0 / fanIn) / 0.88), name);
    }

    public Var logits(Var images) {
        Conv2dSpec same = Conv2dSpec.of(1, Padding.SAME);
        PoolSpec pool = PoolSpec.of(2, 2, Padding.VALID);
        Var h = ElementwiseOps.relu(BiasAddOps.biasAdd(ConvOps.conv2d(images, conv1W, same), conv1B));
        h = PoolOps.maxPool(h, pool);
        h = ElementwiseOps.relu(BiasAddOps.biasAdd(ConvOps.conv2d(h, conv2W, same), conv2B));
        h = PoolOps.maxPool(h, pool);
        return BiasAddOps.biasAdd(MatMulOps.matmul(ShapeOps.flatten(h), fcW), fcB);
    }

    /** Loss and accuracy of one step (or one evaluation). */
    public record StepResult(double loss, double accuracy) {
    }

    /** One SGD step on a batch: images float32 NHWC, labels int32 [N]. */
    public StepResult trainStep(Tensor images, Tensor labels, double learningRate) {
        try (TensorScope scope = TensorScope.open()) {
            Var logits = logits(Var.constant(images));
            Var loss = ReduceOps.mean(SoftmaxOps.sparseSoftmaxCrossEntropy(logits, labels));
            double lossValue = loss.value().item();
            if (!Double.isFinite(lossValue)) {
                throw new ArithmeticException("loss became " + lossValue + " (learning rate " + learningRate + " too high?)");
            }
            double acc = accuracy(logits.value(), labels);
            for (Var p : params) p.zeroGrad();
            loss.backward();
            optimizer.step(params, learningRate);
            return new StepResult(lossValue, acc);
        }
    }

    /** Loss and accuracy without recording gradients. */
    public StepResult evaluate(Tensor images, Tensor labels) {
        try (TensorScope scope = TensorScope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Var logits = logits(Var.constant(images));
            double loss = ReduceOps.mean(SoftmaxOps.sparseSoftmaxCrossEntropy(logits, labels)).value().item();
            return new StepResult(loss, accuracy(logits.value(), labels));
        }
    }

    private static double accuracy(Tensor logits, Tensor labels) {
        Tensor pred = Backends.kernels(logits, ReduceKernels.class).argmax(logits, -1);
        long[] p = pred.toLongArray();
        pred.close();
        int[] l = labels.toIntArray();
        int correct = 0;
        for (int i = 0; i < p.length; i++) if (p[i] == l[i]) correct++;
        return (double) correct / p.length;
    }

    public List<Var> parameters() {
        return params;
    }

    @Override
    public void close() {
        for (Var p : params) {
            p.zeroGrad();
            p.value().close();
        }
        optimizer.close();
    }
}
