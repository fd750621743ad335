package org.slim4j.autograd.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/** TF's update rules on hand-computed first steps, slot names, and convergence on a quadratic. */
class OptimizersTest {
    /** One step on loss = sum(g * w), i.e. a constant gradient g, from w = 1. */
    private static double firstStep(Optimizer opt, double g, double lr) {
        try (TensorScope s = TensorScope.open()) {
            Var w = Var.param(Tensor.of(new double[] {1.0}, 1), "w");
            ReduceOps.sum(ElementwiseOps.scale(w, g)).backward();
            opt.step(List.of(w), lr);
            w.zeroGrad();
            double v = w.value().item();
            opt.close();
            return v;
        }
    }

    @Test
    void firstStepsMatchTensorFlowsFormulas() {
        assertEquals(1 - 0.1 * 2, firstStep(new GradientDescent(), 2, 0.1), 1e-12);
        assertEquals(1 - 0.1 * 2, firstStep(new Momentum(0.9), 2, 0.1), 1e-12);
        // Adam t=1: lr * sqrt(1-b2)/(1-b1) * (1-b1) g / (sqrt((1-b2) g^2) + eps) ~ lr * sign(g)
        double adam = 1 - 0.1 * Math.sqrt(0.001) * 0.5 / (Math.sqrt(0.001 * 0.25) + 1e-8);
        assertEquals(adam, firstStep(new Adam(0.9, 0.999, 1e-8), 0.5, 0.1), 1e-6);
        assertEquals(1 - 0.1 * 1 / Math.sqrt(1.1), firstStep(new Adagrad(0.1), 1, 0.1), 1e-12);
        // RMSProp: ms starts at 1: ms = 1 + (4 - 1) * 0.1 = 1.3; mom = lr g / sqrt(ms + eps)
        assertEquals(1 - 0.1 * 2 / Math.sqrt(1.3 + 1.0), firstStep(new RmsProp(0.9, 0.9, 1.0), 2, 0.1), 1e-12);
        // Adadelta: accum = 0.05 g^2; update = sqrt(0 + eps) / sqrt(accum + eps) g
        double acc = 0.05 * 4;
        assertEquals(1 - 1.0 * Math.sqrt(1e-6) / Math.sqrt(acc + 1e-6) * 2, firstStep(new Adadelta(0.95, 1e-6), 2, 1.0), 1e-12);
        // FTRL, power -0.5, accum 0.1, l1 = l2 = 0, var 1, g 1
        double lin = 1 - (Math.sqrt(1.1) - Math.sqrt(0.1)) / 0.5;
        assertEquals(-lin / (Math.sqrt(1.1) / 0.5), firstStep(new Ftrl(-0.5, 0.1, 0, 0), 1, 0.5), 1e-12);
    }

    @Test
    void slotsCarryTensorFlowsNames() {
        try (TensorScope s = TensorScope.open(); Adam adam = new Adam(0.9, 0.999, 1.0); RmsProp rms = new RmsProp(0.9, 0.9, 1.0)) {
            Var w = Var.param(Tensor.of(new float[] {1, 2}, 2), "w");
            adam.createSlots(List.of(w));
            rms.createSlots(List.of(w));
            ReduceOps.sum(w).backward();
            adam.step(List.of(w), 0.01);
            Map<String, Tensor> vars = adam.variables(v -> "net/w");
            assertEquals(List.of("net/w/Adam", "net/w/Adam_1", "beta1_power", "beta2_power"), List.copyOf(vars.keySet()));
            assertEquals(0.9 * 0.9, vars.get("beta1_power").item(), 1e-6);
            assertEquals(1.0, rms.variables(v -> "w").get("w/RMSProp").toFloatArray()[0], 0, "TF initialises RMSProp's ms to ones");
            w.zeroGrad();
        }
    }

    @Test
    void everyOptimizerMinimisesAQuadraticAndReleasesItsSlots() {
        long before = CpuDevice.INSTANCE.liveBytes();
        List<Optimizer> all = List.of(new GradientDescent(), new Momentum(0.9), new Adam(0.9, 0.999, 1e-8), new Adagrad(0.1),
            new RmsProp(0.9, 0.9, 1e-3), new Adadelta(0.9, 1e-2), new Ftrl(-0.5, 0.1, 0, 0));
        double[] lrs = {0.1, 0.05, 0.1, 0.5, 0.01, 1.0, 0.5};
        for (int o = 0; o < all.size(); o++) {
            Optimizer opt = all.get(o);
            Var w = Var.param(TensorScope.escape(Tensor.of(new float[] {3, -2, 0.5f}, 3)), "w");
            double loss = 0;
            for (int step = 0; step < 300; step++) {
                try (TensorScope s = TensorScope.open()) {
                    Var l = ReduceOps.l2Loss(w);
                    loss = l.value().item();
                    l.backward();
                    opt.step(List.of(w), lrs[o]);
                    w.zeroGrad();
                }
            }
            assertTrue(loss < 0.05, opt.getClass().getSimpleName() + " left loss " + loss);
            opt.close();
            w.value().close();
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }

    /** Fresh optimizers of every kind, in the same order each call. */
    private static List<Optimizer> everyOptimizer() {
        return List.of(new GradientDescent(), new Momentum(0.9), new Momentum(0.9, true), new Adam(0.9, 0.999, 1e-8),
            new Adagrad(0.1), new RmsProp(0.9, 0.9, 1e-3), new Adadelta(0.9, 1e-2), new Ftrl(-0.5, 0.1, 0, 0));
    }

    @Test
    void weightDecayInTheStepEqualsDifferentiatingAnL2Loss() {
        long before = CpuDevice.INSTANCE.liveBytes();
        double decay = 0.05;
        List<Optimizer> viaLoss = everyOptimizer();
        List<Optimizer> viaStep = everyOptimizer();
        for (int o = 0; o < viaLoss.size(); o++) {
            String name = viaLoss.get(o).getClass().getSimpleName() + " #" + o;
            Var w1 = Var.param(TensorScope.escape(Tensor.of(new float[] {3, -2, 0.5f, 1.25f}, 4)), "w");
            Var w2 = Var.param(TensorScope.escape(Tensor.of(new float[] {3, -2, 0.5f, 1.25f}, 4)), "w");
            // An unused parameter: its only gradient is its regulariser's.
            Var u1 = Var.param(TensorScope.escape(Tensor.of(new float[] {2, -1}, 2)), "u");
            Var u2 = Var.param(TensorScope.escape(Tensor.of(new float[] {2, -1}, 2)), "u");
            for (int step = 0; step < 5; step++) {
                try (TensorScope s = TensorScope.open()) {
                    Tensor c = Tensor.of(new float[] {0.5f, -1, 2, 0.25f * step}, 4);
                    Var data = ReduceOps.sum(ElementwiseOps.mul(w1, Var.constant(c)));
                    Var reg = ElementwiseOps.add(ElementwiseOps.scale(ReduceOps.l2Loss(w1), decay),
                        ElementwiseOps.scale(ReduceOps.l2Loss(u1), decay));
                    ElementwiseOps.add(data, reg).backward();
                    viaLoss.get(o).step(List.of(w1, u1), 0.1);
                    ReduceOps.sum(ElementwiseOps.mul(w2, Var.constant(c))).backward();
                    viaStep.get(o).step(List.of(w2, u2), 0.1, v -> decay);
                    for (Var v : List.of(w1, u1, w2, u2)) v.zeroGrad();
                }
            }
            assertArrayEquals(w1.value().toDoubleArray(), w2.value().toDoubleArray(), 1e-5, name + ": used parameter");
            assertArrayEquals(u1.value().toDoubleArray(), u2.value().toDoubleArray(), 1e-5, name + ": unused parameter");
            assertTrue(u2.value().toDoubleArray()[0] != 2.0, name + ": the decay alone moved the unused parameter");
            viaLoss.get(o).close();
            viaStep.get(o).close();
            for (Var v : List.of(w1, u1, w2, u2)) v.value().close();
        }
        assertEquals(before, CpuDevice.INSTANCE.liveBytes());
    }

    @Test
    void learningRateSchedulesFollowTfSlim() {
        assertEquals(0.01 * 0.94 * 0.94, new LearningRateSchedule.Exponential(0.01, 100, 0.94).at(250), 1e-15);
        assertEquals(0.01, new LearningRateSchedule.Exponential(0.01, 100, 0.94).at(99), 0);
        assertEquals(0.0001, new LearningRateSchedule.Polynomial(0.01, 100, 0.0001).at(500), 1e-15);
        assertEquals((0.01 - 0.0001) * 0.5 + 0.0001, new LearningRateSchedule.Polynomial(0.01, 100, 0.0001).at(50), 1e-15);
        assertEquals(0.3, new LearningRateSchedule.Fixed(0.3).at(1_000_000), 0);
    }
}
