package org.slim4j.nets;

import org.slim4j.autograd.Var;
import org.slim4j.layers.Arg;
import org.slim4j.layers.Args;
import org.slim4j.layers.Graph;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.Tensor;

/**
 * A {@link NetworkFn} bound to its variables: the object a training or evaluation loop holds.
 * Each {@link #apply} is one forward pass (the first one creates the variables, later ones reuse
 * them by name), with its own dropout seed derived from the network's seed and the pass number.
 *
 * <pre>{@code
 * try (Network net = Network.create(Nets.get("lenet"), 10, 0.0, 42)) {
 *     try (TensorScope step = TensorScope.open()) {
 *         NetOutput out = net.apply(images, true);
 *         ... loss ... backward ... optimizer.step(net.variables().trainableVars(), lr);
 *     }
 * }
 * }</pre>
 */
public final class Network implements AutoCloseable {
    private final NetworkFn fn;
    private final int numClasses;
    private final double weightDecay;
    private final Args options;
    private final VariableStore store;
    private long passes;
    private long lastMultiplyAdds;

    public Network(NetworkFn fn, int numClasses, double weightDecay, VariableStore store, Arg.Value<?>... options) {
        this.fn = fn;
        this.numClasses = numClasses;
        this.weightDecay = weightDecay;
        this.options = Args.of(options).requireOnly(fn.name(), fn.options());
        this.store = store;
    }

    /** A network with a new float32 variable store seeded with {@code seed}. */
    public static Network create(NetworkFn fn, int numClasses, double weightDecay, long seed, Arg.Value<?>... options) {
        return new Network(fn, numClasses, weightDecay, new VariableStore(seed), options);
    }

    /** One forward pass (training or inference mode). The result lives in the caller's tensor scope. */
    public NetOutput apply(Var images, boolean isTraining) {
        long passSeed = store.seed() * 0x9E3779B97F4A7C15L + (++passes);
        try (Graph g = Graph.open(store, passSeed)) {
            NetOutput out = fn.apply(images, numClasses, weightDecay, isTraining, options);
            lastMultiplyAdds = g.multiplyAdds();
            return out;
        }
    }

    public NetOutput apply(Tensor images, boolean isTraining) {
        return apply(Var.constant(images), isTraining);
    }

    /**
     * Creates every variable (with its initial value) without computing anything, by building the
     * network once on a value-less input of the given size ({@link MetaDevice}): what a trainer
     * does before restoring a checkpoint or creating optimizer slots. Variables that exist only in
     * training mode (auxiliary heads) are created when {@code isTraining}.
     */
    public void createVariables(int height, int width, boolean isTraining) {
        try (Graph g = Graph.open(store)) {
            Var images = MetaDevice.placeholder(store.dtype(), 1, height, width, fn.defaultImageChannels());
            fn.apply(images, numClasses, weightDecay, isTraining, options);
        }
    }

    /** {@link #createVariables(int, int, boolean)} at the network's default image size, training mode. */
    public void createVariables() {
        createVariables(fn.defaultImageSize(), fn.defaultImageSize(), true);
    }

    public NetworkFn fn() {
        return fn;
    }

    public int numClasses() {
        return numClasses;
    }

    public VariableStore variables() {
        return store;
    }

    /** Multiply-adds of the last forward pass (whole batch). */
    public long lastMultiplyAdds() {
        return lastMultiplyAdds;
    }

    /** Releases the variables. */
    @Override
    public void close() {
        store.close();
    }
}
