package org.slim4j.autograd.optim;

/**
 * TF-Slim's learning-rate decay types as a function of the global step:
 * fixed; exponential with staircase, lr * factor^floor(step / decaySteps); polynomial (power 1,
 * no cycle) from lr to endLearningRate over decaySteps.
 */
public sealed interface LearningRateSchedule {
    double at(long globalStep);

    record Fixed(double learningRate) implements LearningRateSchedule {
        @Override
        public double at(long globalStep) {
            return learningRate;
        }
    }

    record Exponential(double learningRate, long decaySteps, double decayFactor) implements LearningRateSchedule {
        public Exponential {
            if (decaySteps < 1) throw new IllegalArgumentException("decay steps must be >= 1, got " + decaySteps);
        }

        @Override
        public double at(long globalStep) {
            return learningRate * Math.pow(decayFactor, Math.floorDiv(globalStep, decaySteps));
        }
    }

    record Polynomial(double learningRate, long decaySteps, double endLearningRate) implements LearningRateSchedule {
        public Polynomial {
            if (decaySteps < 1) throw new IllegalArgumentException("decay steps must be >= 1, got " + decaySteps);
        }

        @Override
        public double at(long globalStep) {
            double frac = 1.0 - (double) Math.min(globalStep, decaySteps) / decaySteps;
            return (learningRate - endLearningRate) * frac + endLearningRate;
        }
    }
}
