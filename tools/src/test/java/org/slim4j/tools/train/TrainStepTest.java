package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.optim.Momentum;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.nets.Nets;
import org.slim4j.nets.NetworkFn;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/**
 * The training step hands the L2 regularisers' gradients to the optimizer instead of autograd:
 * the variables after a few steps must be those of differentiating the whole TF-Slim loss.
 */
class TrainStepTest {
    private static final int CLASSES = 10;
    private static final int BATCH = 4;
    private static final double WEIGHT_DECAY = 0.01;  // large, so that a missing or doubled term shows

    private static Tensor labels() {
        float[] v = new float[BATCH * CLASSES];
        for (int i = 0; i < BATCH; i++) v[i * CLASSES + (3 * i + 1) % CLASSES] = 1f;
        return Tensor.of(v, BATCH, CLASSES);
    }

    /** Three steps of lenet; {@code viaOptimizer}: TrainStep's way, else the regularisation loss differentiated. */
    private static List<double[]> train(boolean viaOptimizer, List<Double> losses) {
        return train(viaOptimizer, losses, null);
    }

    /** {@link #train(boolean, List)} with a loss scaler (or null) in TrainStep's way; the trained variables. */
    private static List<double[]> train(boolean viaOptimizer, List<Double> losses, org.slim4j.autograd.optim.LossScaler scaler) {
        NetworkFn fn = Nets.get("lenet");
        try (VariableStore store = new VariableStore(11, CpuDevice.INSTANCE);
             Momentum optimizer = new Momentum(0.9);
             TensorScope inputs = TensorScope.open()) {
            NetRunner.createVariables(fn, store, CLASSES, WEIGHT_DECAY, 28, 28, 1, true);
            Tensor images = Tensor.randomUniform(5, -1, 1, BATCH, 28, 28, 1);
            Tensor oneHot = labels();
            List<Var> params = store.trainableVars();
            TrainStep step = new TrainStep(fn, store, CLASSES, WEIGHT_DECAY, 0.0, 1, optimizer, params, scaler);
            for (int s = 0; s < 3; s++) {
                if (viaOptimizer) {
                    losses.add(step.run(images, oneHot, 0.05, 100 + s));
                    continue;
                }
                try (TensorScope scope = TensorScope.open()) {
                    TrainStep.Losses l = step.forward(images, oneHot, 0, 100 + s);
                    Var total = org.slim4j.autograd.ops.ElementwiseOps.add(l.cloneLoss(), store.regularizationLoss(false));
                    losses.add(total.value().item());
                    total.backward();
                    optimizer.step(params, 0.05);
                } finally {
                    step.zeroGrad();
                }
            }
            List<double[]> out = new ArrayList<>();
            for (Variable v : store.trainableVariables()) out.add(v.value().toDoubleArray());
            return out;
        }
    }

    @Test
    void optimizerSideWeightDecayTrainsLikeDifferentiatingTheL2Losses() {
        List<Double> lossesA = new ArrayList<>(), lossesB = new ArrayList<>();
        List<double[]> a = train(true, lossesA);
        List<double[]> b = train(false, lossesB);
        assertEquals(b.size(), a.size());
        for (int i = 0; i < a.size(); i++) Close.assertClose(b.get(i), a.get(i), 2e-5, "variable " + i);
        for (int s = 0; s < 3; s++) assertEquals(lossesB.get(s), lossesA.get(s), 1e-5 * Math.abs(lossesB.get(s)), "loss of step " + s);
    }

    /**
     * Same seed, same thread count: the same variables bit for bit, the first run included (in a
     * fresh JVM it runs while the JIT compiles the kernels; Vector API lane sums once took a
     * different order then, see LaneSum).
     */
    @Test
    void trainingIsBitReproducibleRunToRun() {
        List<double[]> a = train(true, new ArrayList<>());
        List<double[]> b = train(true, new ArrayList<>());
        for (int i = 0; i < a.size(); i++) org.junit.jupiter.api.Assertions.assertArrayEquals(a.get(i), b.get(i), "variable " + i);
    }

    /**
     * fp16's loss scaling in the step: a power-of-two scale (here growing from 2^10 to 2^11 after two
     * steps) and its inverse are exact in float, so the variables equal the unscaled run's bit for bit;
     * a scale that overflows the gradients skips the update (variables as initialised) and halves.
     */
    @Test
    void lossScalingTrainsExactlyLikeNoneAndSkipsOverflowingSteps() {
        List<double[]> plain = train(true, new ArrayList<>(), null);
        org.slim4j.autograd.optim.LossScaler scaler = new org.slim4j.autograd.optim.LossScaler(1024, 2);
        List<double[]> scaled = train(true, new ArrayList<>(), scaler);
        assertEquals(2048.0, scaler.scale());
        for (int i = 0; i < plain.size(); i++) org.junit.jupiter.api.Assertions.assertArrayEquals(plain.get(i), scaled.get(i), "variable " + i);
        org.slim4j.autograd.optim.LossScaler huge = new org.slim4j.autograd.optim.LossScaler(0x1p127, 2000);
        List<double[]> skipped = train(true, new ArrayList<>(), huge);
        assertEquals(3, huge.skippedSteps());
        assertEquals(0x1p124, huge.scale());
        try (VariableStore store = new VariableStore(11, CpuDevice.INSTANCE)) {
            NetRunner.createVariables(Nets.get("lenet"), store, CLASSES, WEIGHT_DECAY, 28, 28, 1, true);
            int i = 0;
            for (Variable v : store.trainableVariables()) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(v.value().toDoubleArray(), skipped.get(i++), v.name() + " moved");
            }
        }
    }

    @Test
    void theRegularisedWeightsAreTheOnesWithADecay() {
        try (VariableStore store = new VariableStore(11, CpuDevice.INSTANCE); TensorScope s = TensorScope.open()) {
            NetRunner.createVariables(Nets.get("lenet"), store, CLASSES, WEIGHT_DECAY, 28, 28, 1, true);
            Map<Var, Double> decays = store.weightDecays();
            int weights = 0;
            for (Variable v : store.trainableVariables()) {
                boolean isWeights = v.name().endsWith("/weights");
                weights += isWeights ? 1 : 0;
                if (isWeights) assertEquals(WEIGHT_DECAY, decays.get(v.var()), 0, v.name());
                else assertFalse(decays.containsKey(v.var()), v.name() + " is not regularised in lenet");
            }
            assertEquals(4, weights);
            assertEquals(4, decays.size());
            // The loss value is the same whichever way its gradient goes, and only the L2-as-decay one is a constant.
            Var withGrad = store.regularizationLoss(false);
            Var valueOnly = store.regularizationLoss(true);
            assertEquals(withGrad.value().item(), valueOnly.value().item(), 0);
            assertTrue(withGrad.requiresGrad());
            assertFalse(valueOnly.requiresGrad());
        }
    }
}
