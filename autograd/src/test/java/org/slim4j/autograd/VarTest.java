package org.slim4j.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.MatMulOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.autograd.optim.Momentum;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/** The graph mechanics: accumulation, reuse, grad mode, release of saved tensors, deep graphs. */
class VarTest {
    @Test
    void gradientsOfAReusedValueAddUp() {
        try (TensorScope s = TensorScope.open()) {
            Var x = Var.param(Tensor.of(new double[] {1, 2, 3}, 3), "x");
            // y = sum(x * x + x) -> dy/dx = 2x + 1
            Var y = ReduceOps.sum(ElementwiseOps.add(ElementwiseOps.mul(x, x), x));
            y.backward();
            assertArrayEquals(new double[] {3, 5, 7}, x.grad().toDoubleArray());
            x.zeroGrad();
        }
    }

    @Test
    void addHandsBothOperandsOneGradientWithoutLettingThemShareWrites() {
        try (TensorScope s = TensorScope.open()) {
            Var a = Var.param(Tensor.of(new double[] {1, 2, 3}, 3), "a");
            Var b = Var.param(Tensor.of(new double[] {4, 5, 6}, 3), "b");
            Var c = Var.constant(Tensor.of(new double[] {10, 20, 30}, 3));
            Var d = Var.constant(Tensor.of(new double[] {100, 200, 300}, 3));
            // loss = sum(b * d + (a * c + (a + b))). Backward reaches a + b before a * c, and b last:
            // a and b first hold views of one gradient, and a's then gets a * c's added, which must
            // not reach b's.
            Var loss = ReduceOps.sum(ElementwiseOps.add(ElementwiseOps.mul(b, d),
                ElementwiseOps.add(ElementwiseOps.mul(a, c), ElementwiseOps.add(a, b))));
            loss.backward();
            assertArrayEquals(new double[] {11, 21, 31}, a.grad().toDoubleArray());
            assertArrayEquals(new double[] {101, 201, 301}, b.grad().toDoubleArray(), "b's gradient, untouched by a's sum");
            // Two leaves given views of one dy own their gradients: writing one leaves the other.
            Var p = Var.param(Tensor.of(new double[] {1, 1}, 2), "p");
            Var q = Var.param(Tensor.of(new double[] {2, 2}, 2), "q");
            ReduceOps.sum(ElementwiseOps.add(p, q)).backward();
            assertFalse(p.grad().sharesStorage());
            assertFalse(q.grad().sharesStorage());
            Backends.kernels(p.grad(), ElementwiseKernels.class).addInPlace(p.grad(), p.value(), 5);
            assertArrayEquals(new double[] {6, 6}, p.grad().toDoubleArray());
            assertArrayEquals(new double[] {1, 1}, q.grad().toDoubleArray());
            for (Var v : new Var[] {a, b, p, q}) v.zeroGrad();
        }
    }

    @Test
    void gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        try (TensorScope s = TensorScope.open()) {
            Var w = Var.param(Tensor.of(new double[] {2, -1}, 2), "w");
            for (int i = 0; i < 3; i++) ReduceOps.sum(ElementwiseOps.scale(w, 4)).backward();
            assertArrayEquals(new double[] {12, 12}, w.grad().toDoubleArray());
            w.zeroGrad();
            assertNull(w.grad());
        }
    }

    /** A gradient computed elsewhere (a clone's replica) joins a leaf's as a backward pass's would; misuse names the variable. */
    @Test
    void accumulateGradAddsToTheLeafGradientAndChecksItsArgument() {
        try (TensorScope s = TensorScope.open()) {
            Var w = Var.param(Tensor.of(new double[] {2, -1}, 2), "w");
            w.accumulateGrad(Tensor.of(new double[] {1, 2}, 2));
            ReduceOps.sum(ElementwiseOps.scale(w, 4)).backward();
            w.accumulateGrad(Tensor.of(new double[] {10, 20}, 2));
            assertArrayEquals(new double[] {15, 26}, w.grad().toDoubleArray());
            w.zeroGrad();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.accumulateGrad(Tensor.of(new double[] {1, 2, 3}, 3)));
            assertTrue(e.getMessage().contains("for w [2]"), e.getMessage());
            Var y = ElementwiseOps.scale(w, 2);
            assertThrows(IllegalStateException.class, () -> y.accumulateGrad(Tensor.of(new double[] {1, 2}, 2)));
        }
    }

    @Test
    void noGradRecordsNothing() {
        try (TensorScope s = TensorScope.open()) {
            Var w = Var.param(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2), "w");
            Var y;
            try (GradMode.Guard g = GradMode.noGrad()) {
                assertFalse(GradMode.isEnabled());
                y = ReduceOps.sum(MatMulOps.matmul(w, w));
            }
            assertTrue(GradMode.isEnabled());
            assertFalse(y.requiresGrad());
            assertThrows(IllegalStateException.class, y::backward);
        }
    }

    @Test
    void constantsGetNoGradientAndBackwardNeedsAScalar() {
        try (TensorScope s = TensorScope.open()) {
            Var c = Var.constant(Tensor.of(new float[] {1, 2}, 2));
            Var w = Var.param(Tensor.of(new float[] {3, 4}, 2), "w");
            Var prod = ElementwiseOps.mul(c, w);
            assertThrows(IllegalStateException.class, prod::backward);
            ReduceOps.sum(prod).backward();
            assertNull(c.grad());
            assertArrayEquals(new float[] {1, 2}, w.grad().toFloatArray());
            w.zeroGrad();
        }
    }

    @Test
    void savedTensorsAndIntermediateGradientsAreReleased() {
        long before = CpuDevice.INSTANCE.liveBytes();
        Var w = Var.param(TensorScope.escape(Tensor.randomUniform(1, -1, 1, 8, 8)), "w");
        Momentum sgd = new Momentum(0.9);
        for (int step = 0; step < 3; step++) {
            try (TensorScope s = TensorScope.open()) {
                Var h = ElementwiseOps.relu(MatMulOps.matmul(w, w));
                ReduceOps.l2Loss(h).backward();
                sgd.step(java.util.List.of(w), 0.01);
                w.zeroGrad();
            }
        }
        sgd.close();
        w.value().close();
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }

    @Test
    void deepGraphsDoNotOverflowTheStack() {
        try (TensorScope s = TensorScope.open()) {
            Var x = Var.param(Tensor.of(new double[] {1}, 1), "x");
            Var y = x;
            for (int i = 0; i < 20000; i++) y = ElementwiseOps.affine(y, 1.0, 0.001);
            ReduceOps.sum(y).backward();
            assertEquals(1.0, x.grad().item(), 0);
            x.zeroGrad();
        }
    }

    @Test
    void momentumSgdFollowsTensorFlowsRule() {
        try (TensorScope s = TensorScope.open(); Momentum sgd = new Momentum(0.5)) {
            Var w = Var.param(Tensor.of(new double[] {1}, 1), "w");
            // loss = 3w: grad 3 each step; accum 3 then 4.5; w = 1 - 0.1*3 - 0.1*4.5
            for (int i = 0; i < 2; i++) {
                ReduceOps.sum(ElementwiseOps.scale(w, 3)).backward();
                sgd.step(java.util.List.of(w), 0.1);
                w.zeroGrad();
            }
            assertEquals(1 - 0.3 - 0.45, w.value().item(), 1e-12);
        }
    }
}
