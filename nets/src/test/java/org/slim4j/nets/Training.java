package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.autograd.ops.SoftmaxOps;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/** A minimal train_image_classifier loop for tests: softmax cross-entropy + regularisation, plain gradient descent. */
final class Training {
    private Training() {
    }

    /** Mean cross-entropy of the network in inference mode. */
    static double loss(Network net, Tensor images, Tensor labels) {
        try (TensorScope ts = TensorScope.open(); GradMode.Guard g = GradMode.noGrad()) {
            return ReduceOps.mean(SoftmaxOps.sparseSoftmaxCrossEntropy(net.apply(images, false).logits(), labels)).value().item();
        }
    }

    /** Runs {@code steps} training steps on one batch; returns {inference loss before, after}. */
    static double[] run(Network net, Tensor images, Tensor labels, int steps, double learningRate) {
        double before = loss(net, images, labels);
        for (int s = 0; s < steps; s++) {
            try (TensorScope ts = TensorScope.open()) {
                Var logits = net.apply(images, true).logits();
                Var loss = ReduceOps.mean(SoftmaxOps.sparseSoftmaxCrossEntropy(logits, labels));
                Var reg = net.variables().regularizationLoss();
                if (reg != null) loss = ElementwiseOps.add(loss, reg);
                assertTrue(Double.isFinite(loss.value().item()), "loss " + loss.value().item() + " at step " + s);
                for (Var p : net.variables().trainableVars()) p.zeroGrad();
                loss.backward();
                for (Var p : net.variables().trainableVars()) {
                    if (p.grad() != null) Backends.kernels(p.value(), ElementwiseKernels.class).addInPlace(p.value(), p.grad(), -learningRate);
                }
            }
        }
        for (Var p : net.variables().trainableVars()) p.zeroGrad();
        return new double[] {before, loss(net, images, labels)};
    }

    /** Random labels in [0, classes) as int32. */
    static Tensor labels(long seed, int n, int classes) {
        int[] l = new int[n];
        org.slim4j.tensor.SeededRandom r = new org.slim4j.tensor.SeededRandom(seed);
        for (int i = 0; i < n; i++) l[i] = r.nextInt(classes);
        return Tensor.of(l, n);
    }
}
