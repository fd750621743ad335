package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.autograd.optim.LearningRateSchedule;
import org.slim4j.autograd.optim.Optimizer;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tools.UsageException;

/**
 * Every --optimizer with its hyper-parameter flags against TF's update rule computed by hand (two
 * steps of a constant gradient on one variable), the slot names it saves, and every
 * --learning_rate_decay_type with TF-Slim's decay_steps.
 */
class OptimizerFlagsTest {
    private static final double LR = 0.1;
    private static final double G = 0.5;

    private static TrainImageClassifierCommand flags(String... args) throws UsageException {
        TrainImageClassifierCommand c = new TrainImageClassifierCommand();
        c.flags().parse(args);
        return c;
    }

    /** Two steps from w = 1 with gradient G; returns [w1, w2] and checks the slot names. */
    private static double[] twoSteps(Optimizer opt, List<String> slotNames) {
        double[] w = new double[2];
        try (TensorScope s = TensorScope.open(); opt) {
            Var v = Var.param(Tensor.of(new float[] {1f}, 1), "w");
            for (int i = 0; i < 2; i++) {
                ReduceOps.sum(ElementwiseOps.scale(v, G)).backward();
                opt.step(List.of(v), LR);
                v.zeroGrad();
                w[i] = v.value().item();
            }
            Map<String, Tensor> vars = opt.variables(x -> "net/w");
            assertEquals(slotNames, List.copyOf(vars.keySet()));
        }
        return w;
    }

    private static void assertSteps(double[] expected, double[] got) {
        assertEquals(expected[0], got[0], 1e-6, "first step");
        assertEquals(expected[1], got[1], 1e-6, "second step");
    }

    @Test
    void sgd() throws UsageException {
        Optimizer o = Optimizers.configure(flags("--optimizer=sgd"));
        assertSteps(new double[] {1 - LR * G, 1 - 2 * LR * G}, twoSteps(o, List.of()));
    }

    @Test
    void momentum() throws UsageException {
        Optimizer o = Optimizers.configure(flags("--optimizer=momentum", "--momentum=0.5"));
        double a1 = G;
        double w1 = 1 - LR * a1;
        double a2 = 0.5 * a1 + G;
        assertSteps(new double[] {w1, w1 - LR * a2}, twoSteps(o, List.of("net/w/Momentum")));
    }

    @Test
    void adamUsesBetasAndOptEpsilon() throws UsageException {
        Optimizer o = Optimizers.configure(flags("--optimizer=adam", "--adam_beta1=0.8", "--adam_beta2=0.9", "--opt_epsilon=0.01"));
        double b1 = 0.8;
        double b2 = 0.9;
        double eps = 0.01;
        double m = 0;
        double v = 0;
        double w = 1;
        double[] ws = new double[2];
        for (int t = 1; t <= 2; t++) {
            m = b1 * m + (1 - b1) * G;
            v = b2 * v + (1 - b2) * G * G;
            double lrT = LR * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
            w -= lrT * m / (Math.sqrt(v) + eps);
            ws[t - 1] = w;
        }
        assertSteps(ws, twoSteps(o, List.of("net/w/Adam", "net/w/Adam_1", "beta1_power", "beta2_power")));
    }

    @Test
    void adamsBetaPowersExistBeforeTheFirstStepSoAResumeCanRestoreThem() throws UsageException {
        Optimizer o = Optimizers.configure(flags("--optimizer=adam"));
        try (TensorScope s = TensorScope.open(); o) {
            ResumableAdam adam = assertInstanceOf(ResumableAdam.class, o);
            Var v = Var.param(Tensor.of(new float[] {1f}, 1), "w");
            adam.createSlots(List.of(v));
            adam.createNonSlots();
            Map<String, Tensor> vars = adam.variables(x -> "w");
            assertEquals(0.9, vars.get("beta1_power").item(), 1e-7);
            assertEquals(0.999, vars.get("beta2_power").item(), 1e-7);
        }
    }

    @Test
    void adagradStartsFromItsInitialAccumulator() throws UsageException {
        Optimizer o = Optimizers.configure(flags("--optimizer=adagrad", "--adagrad_initial_accumulator_value=0.2"));
        double w1 = 1 - LR * G / Math.sqrt(0.2 + G * G);
        double w2 = w1 - LR * G / Math.sqrt(0.2 + 2 * G * G);
        assertSteps(new double[] {w1, w2}, twoSteps(o, List.of("net/w/Adagrad")));
    }

    @Test
    void adadeltaUsesRhoAndOptEpsilon() throws UsageException {
        Optimizer o = Optimizers.configure(flags("--optimizer=adadelta", "--adadelta_rho=0.5", "--opt_epsilon=0.1"));
        double rho = 0.5;
        double eps = 0.1;
        double acc = 0;
        double accUpd = 0;
        double w = 1;
        double[] ws = new double[2];
        for (int t = 0; t < 2; t++) {
            acc = rho * acc + (1 - rho) * G * G;
            double upd = Math.sqrt(accUpd + eps) / Math.sqrt(acc + eps) * G;
            accUpd = rho * accUpd + (1 - rho) * upd * upd;
            w -= LR * upd;
            ws[t] = w;
        }
        assertSteps(ws, twoSteps(o, List.of("net/w/Adadelta", "net/w/Adadelta_1")));
    }

    @Test
    void rmspropUsesDecayMomentumAndOptEpsilonWithMsStartingAtOne() throws UsageException {
        Optimizer o = Optimizers.configure(flags("--optimizer=rmsprop", "--rmsprop_decay=0.8", "--rmsprop_momentum=0.5", "--opt_epsilon=0.1"));
        double ms = 1;
        double mom = 0;
        double w = 1;
        double[] ws = new double[2];
        for (int t = 0; t < 2; t++) {
            ms = 0.8 * ms + 0.2 * G * G;
            mom = 0.5 * mom + LR * G / Math.sqrt(ms + 0.1);
            w -= mom;
            ws[t] = w;
        }
        assertSteps(ws, twoSteps(o, List.of("net/w/RMSProp", "net/w/RMSProp_1")));
    }

    @Test
    void ftrlUsesPowerAccumulatorAndL1L2() throws UsageException {
        Optimizer o = Optimizers.configure(flags("--optimizer=ftrl", "--ftrl_learning_rate_power=-0.5",
            "--ftrl_initial_accumulator_value=0.1", "--ftrl_l1=0.01", "--ftrl_l2=0.02"));
        double acc = 0.1;
        double lin = 0;
        double w = 1;
        double[] ws = new double[2];
        for (int t = 0; t < 2; t++) {
            double accNew = acc + G * G;
            lin += G - (Math.sqrt(accNew) - Math.sqrt(acc)) / LR * w;
            double quad = Math.sqrt(accNew) / LR + 2 * 0.02;
            w = Math.abs(lin) > 0.01 ? (Math.signum(lin) * 0.01 - lin) / quad : 0;
            acc = accNew;
            ws[t] = w;
        }
        assertSteps(ws, twoSteps(o, List.of("net/w/Ftrl", "net/w/Ftrl_1")));
    }

    @Test
    void defaultsAreTfSlims() throws UsageException {
        TrainImageClassifierCommand c = flags();
        assertEquals("rmsprop", c.optimizer.get());
        assertEquals(1.0, c.optEpsilon.get());
        assertEquals(0.9, c.rmspropDecay.get());
        assertEquals(0.9, c.rmspropMomentum.get());
        assertEquals("exponential", c.learningRateDecayType.get());
        assertEquals(0.94, c.learningRateDecayFactor.get());
        assertEquals(2.0, c.numEpochsPerDecay.get());
    }

    @Test
    void exponentialDecayIsStaircaseOverTfSlimsDecaySteps() throws UsageException {
        // decay_steps = int(1000 * 2.0 / 32) = 62
        LearningRateSchedule s = Optimizers.learningRate(flags("--learning_rate=0.01", "--batch_size=32"), 1000);
        assertEquals(62, ((LearningRateSchedule.Exponential) s).decaySteps());
        assertEquals(0.01, s.at(0), 1e-12);
        assertEquals(0.01, s.at(61), 1e-12);
        assertEquals(0.01 * 0.94, s.at(62), 1e-12);
        assertEquals(0.01 * 0.94 * 0.94, s.at(124), 1e-12);
        LearningRateSchedule f = Optimizers.learningRate(flags("--learning_rate=0.1", "--batch_size=10", "--num_epochs_per_decay=0.5",
            "--learning_rate_decay_factor=0.5"), 100);
        assertEquals(5, ((LearningRateSchedule.Exponential) f).decaySteps());
        assertEquals(0.025, f.at(10), 1e-12);
        assertEquals((float) 0.025, Optimizers.learningRateAt(f, 12), 0, "TF's float32 learning rate");
    }

    @Test
    void polynomialDecayIsLinearToTheEndRate() throws UsageException {
        LearningRateSchedule s = Optimizers.learningRate(flags("--learning_rate_decay_type=polynomial", "--learning_rate=0.01",
            "--end_learning_rate=0.001", "--batch_size=32"), 1000);
        assertEquals(0.01, s.at(0), 1e-12);
        assertEquals((0.01 - 0.001) * (1 - 31 / 62.0) + 0.001, s.at(31), 1e-12);
        assertEquals(0.001, s.at(62), 1e-12);
        assertEquals(0.001, s.at(5000), 1e-12);
    }

    @Test
    void fixedIsConstantAndTinyDatasetsStillDecay() throws UsageException {
        LearningRateSchedule s = Optimizers.learningRate(flags("--learning_rate_decay_type=fixed", "--learning_rate=0.3"), 1000);
        assertEquals(0.3, s.at(0), 1e-12);
        assertEquals(0.3, s.at(1_000_000), 1e-12);
        assertEquals(1, Optimizers.decaySteps(10, 2.0, 32), "at least one step per decay");
    }

    @Test
    void invalidOptimizerSettingsAreUsageErrors() throws UsageException {
        TrainImageClassifierCommand c = flags("--optimizer=adagrad", "--adagrad_initial_accumulator_value=0", "--dataset_dir=/tmp");
        UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, c::validate);
        assertTrue(e.getMessage().contains("--adagrad_initial_accumulator_value"), e.getMessage());
        UsageException bad = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, () -> flags("--optimizer=lamb"));
        assertTrue(bad.getMessage().contains("adadelta, adagrad, adam, ftrl, momentum, rmsprop, sgd"), bad.getMessage());
    }
}
