package org.slim4j.nets;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.DoubleFunction;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Args;

/**
 * A network of the nets factory: TF-Slim's network function together with what nets_factory
 * knows about it (its default image size, its arg scope function). {@link #apply} is TF's
 * {@code network_fn(images)}: it opens {@code argScope(weightDecay)} and builds the network in the
 * open {@link org.slim4j.layers.Graph}. {@link Network} binds one to a variable store for training
 * and evaluation.
 */
public interface NetworkFn {
    /** The factory name, e.g. {@code vgg_16}. */
    String name();

    /** {@code network_fn.default_image_size}. */
    int defaultImageSize();

    /** Channels of the images the released model takes (3; LeNet takes MNIST's 1). */
    default int defaultImageChannels() {
        return 3;
    }

    /**
     * The function's default num_classes (e.g. 1000 for VGG, 10 for LeNet); for functions without
     * one (ResNet, NASNet) the class count of the released checkpoints.
     */
    int defaultNumClasses();

    /** The family's arg scope function, e.g. {@code vgg_arg_scope(weight_decay)}. */
    ArgScope argScope(double weightDecay);

    /** The keyword options {@link #build} accepts ({@link NetArg} keys and family-specific ones). */
    Set<Arg<?>> options();

    /**
     * Builds the network on {@code images} (NHWC) in the open graph, under whatever arg scope is
     * active. numClasses 0 returns the pre-logits features (TF's num_classes=None).
     */
    NetOutput build(Var images, int numClasses, boolean isTraining, Args options);

    /** TF's network_fn: builds inside {@code argScope(weightDecay)}; unknown options are an error. */
    default NetOutput apply(Var images, int numClasses, double weightDecay, boolean isTraining, Args options) {
        options.requireOnly(name(), options());
        if (numClasses < 0) throw new IllegalArgumentException(name() + ": num_classes must be >= 0, got " + numClasses);
        try (ArgScope.Opened s = argScope(weightDecay).open()) {
            return build(images, numClasses, isTraining, options);
        }
    }

    default NetOutput apply(Var images, int numClasses, double weightDecay, boolean isTraining, Arg.Value<?>... options) {
        return apply(images, numClasses, weightDecay, isTraining, Args.of(options));
    }

    /** The body of a network function. */
    @FunctionalInterface
    interface Body {
        NetOutput build(Var images, int numClasses, boolean isTraining, Args options);
    }

    /** A network function from its parts. */
    static NetworkFn of(String name, int defaultImageSize, int defaultImageChannels, int defaultNumClasses,
                        DoubleFunction<ArgScope> argScope, List<Arg<?>> options, Body body) {
        Set<Arg<?>> opts = Collections.unmodifiableSet(new LinkedHashSet<>(options));
        return new NetworkFn() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int defaultImageSize() {
                return defaultImageSize;
            }

            @Override
            public int defaultImageChannels() {
                return defaultImageChannels;
            }

            @Override
            public int defaultNumClasses() {
                return defaultNumClasses;
            }

            @Override
            public ArgScope argScope(double weightDecay) {
                return argScope.apply(weightDecay);
            }

            @Override
            public Set<Arg<?>> options() {
                return opts;
            }

            @Override
            public NetOutput build(Var images, int numClasses, boolean isTraining, Args options) {
                return body.build(images, numClasses, isTraining, options);
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }
}
