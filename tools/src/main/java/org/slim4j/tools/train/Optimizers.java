package org.slim4j.tools.train;

import java.util.List;
import org.slim4j.autograd.optim.Adadelta;
import org.slim4j.autograd.optim.Adagrad;
import org.slim4j.autograd.optim.Ftrl;
import org.slim4j.autograd.optim.GradientDescent;
import org.slim4j.autograd.optim.LearningRateSchedule;
import org.slim4j.autograd.optim.Momentum;
import org.slim4j.autograd.optim.Optimizer;
import org.slim4j.autograd.optim.RmsProp;

/**
 * train_image_classifier's {@code _configure_optimizer} and {@code _configure_learning_rate}: the
 * optimizer and learning-rate schedule its flags describe, with TF-Slim's parameter mapping.
 */
public final class Optimizers {
    /** The --optimizer names, in TF-Slim's order. */
    public static final List<String> NAMES = List.of("adadelta", "adagrad", "adam", "ftrl", "momentum", "rmsprop", "sgd");
    /** The --learning_rate_decay_type names. */
    public static final List<String> DECAY_TYPES = List.of("exponential", "fixed", "polynomial");

    private Optimizers() {
    }

    /**
     * The optimizer {@code --optimizer} names, configured from the command's flags:
     * AdadeltaOptimizer(rho=adadelta_rho, epsilon=opt_epsilon), AdagradOptimizer(initial_accumulator_value),
     * AdamOptimizer(beta1, beta2, epsilon=opt_epsilon), FtrlOptimizer(learning_rate_power,
     * initial_accumulator_value, l1, l2), MomentumOptimizer(momentum), RMSPropOptimizer(decay=rmsprop_decay,
     * momentum=rmsprop_momentum, epsilon=opt_epsilon), GradientDescentOptimizer.
     */
    public static Optimizer configure(TrainImageClassifierCommand f) {
        return switch (f.optimizer.get()) {
            case "adadelta" -> new Adadelta(f.adadeltaRho.get(), f.optEpsilon.get());
            case "adagrad" -> new Adagrad(f.adagradInitialAccumulatorValue.get());
            case "adam" -> new ResumableAdam(f.adamBeta1.get(), f.adamBeta2.get(), f.optEpsilon.get());
            case "ftrl" -> new Ftrl(f.ftrlLearningRatePower.get(), f.ftrlInitialAccumulatorValue.get(), f.ftrlL1.get(), f.ftrlL2.get());
            case "momentum" -> new Momentum(f.momentum.get());
            case "rmsprop" -> new RmsProp(f.rmspropDecay.get(), f.rmspropMomentum.get(), f.optEpsilon.get());
            case "sgd" -> new GradientDescent();
            default -> throw new IllegalArgumentException("Optimizer [" + f.optimizer.get() + "] was not recognized");
        };
    }

    /**
     * TF-Slim's decay_steps: {@code int(num_samples_per_epoch * num_epochs_per_decay / batch_size)}
     * (batch_size per clone, so num_epochs_per_decay counts per-clone epochs). At least 1: a data set
     * smaller than one batch per decay period would make TF divide by zero.
     */
    public static long decaySteps(long numSamplesPerEpoch, double numEpochsPerDecay, int batchSize) {
        long steps = (long) (numSamplesPerEpoch * numEpochsPerDecay / batchSize);
        return Math.max(1, steps);
    }

    /**
     * The learning rate as a function of the global step: {@code fixed}: learning_rate;
     * {@code exponential}: learning_rate * decay_factor^floor(step / decay_steps) (staircase);
     * {@code polynomial}: linear (power 1, no cycle) from learning_rate to end_learning_rate over decay_steps.
     */
    public static LearningRateSchedule learningRate(TrainImageClassifierCommand f, long numSamplesPerEpoch) {
        long decaySteps = decaySteps(numSamplesPerEpoch, f.numEpochsPerDecay.get(), f.batchSize.get());
        double lr = f.learningRate.get();
        return switch (f.learningRateDecayType.get()) {
            case "exponential" -> new LearningRateSchedule.Exponential(lr, decaySteps, f.learningRateDecayFactor.get());
            case "fixed" -> new LearningRateSchedule.Fixed(lr);
            case "polynomial" -> new LearningRateSchedule.Polynomial(lr, decaySteps, f.endLearningRate.get());
            default -> throw new IllegalArgumentException("learning_rate_decay_type [" + f.learningRateDecayType.get() + "] was not recognized");
        };
    }

    /** TF evaluates the schedule in float32; the value a step uses and the learning_rate summary shows. */
    public static double learningRateAt(LearningRateSchedule schedule, long globalStep) {
        return (float) schedule.at(globalStep);
    }
}
