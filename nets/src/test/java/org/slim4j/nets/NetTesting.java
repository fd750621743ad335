package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Arg;
import org.slim4j.layers.ArgScope;
import org.slim4j.layers.Graph;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** Helpers of the ResNet and MobileNet tests: shape-only builds of network functions, TF's test inputs, real passes. */
final class NetTesting {
    private NetTesting() {
    }

    /** A shape-only build of {@code net} on a [dims] float32 placeholder, under {@code argScope}. */
    static ShapeBuild shapeOnly(ArgScope argScope, Function<Var, NetOutput> net, int... dims) {
        VariableStore store = VariableStore.shapeOnly();
        try (Graph g = Graph.open(store); ArgScope.Opened s = argScope.open()) {
            NetOutput out = net.apply(MetaDevice.placeholder(DType.FLOAT32, dims));
            Map<String, int[]> eps = new LinkedHashMap<>();
            out.endPoints().asMap().forEach((k, v) -> eps.put(k, v.value().dims()));
            Map<String, int[]> vars = new LinkedHashMap<>();
            for (Variable v : store.variables()) vars.put(v.name(), v.shape().dims());
            return new ShapeBuild(out.logits().value().dims(), eps, vars, store.trainableParameterCount(), store.parameterCount(), g.multiplyAdds());
        } finally {
            store.close();
        }
    }

    /** TF-Slim's create_test_input(batch, height, width, channels): the value at (h, w) is h + w in every batch and channel. */
    static Tensor testInput(DType dtype, int batch, int height, int width, int channels) {
        double[] v = new double[batch * height * width * channels];
        int i = 0;
        for (int n = 0; n < batch; n++) {
            for (int h = 0; h < height; h++) {
                for (int w = 0; w < width; w++) {
                    for (int c = 0; c < channels; c++) v[i++] = h + w;
                }
            }
        }
        return Tensor.fromDoubles(dtype, Shape.of(batch, height, width, channels), v);
    }

    /** The channel count of an end point. */
    static int depth(ShapeBuild b, String name) {
        int[] d = b.endPoints().get(name);
        assertTrue(d != null, "no end point " + name + " in " + b.endPoints().keySet());
        return d[d.length - 1];
    }

    /**
     * Real forward passes of a factory network at a reduced size: inference twice (same logits,
     * every end point shaped as the shape-only build says, finite), then training mode (batch
     * statistics: other logits, finite). No tensor outlives the call.
     */
    static void forwardInBothModes(NetworkFn fn, int numClasses, int batch, int size, Arg.Value<?>... options) {
        long live = CpuDevice.INSTANCE.liveBytes();
        ShapeBuild expected = ShapeBuild.of(fn, batch, size, size, numClasses, false, options);
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(fn, numClasses, 0.00004, 3, options)) {
            Tensor images = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(batch, size, size, 3), -1, 1);
            NetOutput a = net.apply(images, false);
            assertArrayEquals(expected.logits(), a.logits().value().dims(), fn.name());
            assertEquals(expected.endPoints().keySet(), a.endPoints().names(), fn.name());
            a.endPoints().asMap().forEach((k, v) -> assertArrayEquals(expected.endPoints().get(k), v.value().dims(), fn.name() + " " + k));
            double[] la = a.logits().value().toDoubleArray();
            for (double x : la) assertTrue(Double.isFinite(x), fn.name() + " inference logits finite");
            NetOutput b = net.apply(images, false);
            Close.assertClose(la, b.logits().value().toDoubleArray(), 0, fn.name() + " inference is deterministic");
            assertEquals(expected.trainable(), net.variables().trainableParameterCount());
            NetOutput t = net.apply(images, true);
            double[] lt = t.logits().value().toDoubleArray();
            for (double x : lt) assertTrue(Double.isFinite(x), fn.name() + " training logits finite");
            assertTrue(Close.maxAbsDiff(la, lt) > 1e-6, fn.name() + ": training mode normalises with batch statistics");
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), fn.name() + ": bytes left allocated");
    }

    /** The variables a network should create, written down from the architecture in slim's creation order. */
    static final class Vars {
        final Map<String, int[]> shapes = new LinkedHashMap<>();
        long trainable;
        long all;

        Vars add(String name, boolean isTrainable, int... shape) {
            if (shapes.put(name, shape) != null) throw new IllegalStateException("listed twice: " + name);
            long n = 1;
            for (int d : shape) n *= d;
            all += n;
            if (isTrainable) trainable += n;
            return this;
        }

        /** batch_norm variables under {@code scope}: beta, gamma (when scale), moving_mean, moving_variance. */
        Vars batchNorm(String scope, int channels, boolean scale) {
            add(scope + "/beta", true, channels);
            if (scale) add(scope + "/gamma", true, channels);
            add(scope + "/moving_mean", false, channels);
            return add(scope + "/moving_variance", false, channels);
        }

        /** A conv2d with batch norm (center and scale): weights [kh, kw, in, out] and BatchNorm/*. */
        Vars convBn(String scope, int k, int in, int out) {
            add(scope + "/weights", true, k, k, in, out);
            return batchNorm(scope + "/BatchNorm", out, true);
        }

        /** A conv2d without normalizer: weights and biases. */
        Vars convBiases(String scope, int k, int in, int out) {
            add(scope + "/weights", true, k, k, in, out);
            return add(scope + "/biases", true, out);
        }

        /** Names (in order), shapes and parameter counts equal those of the build. */
        void assertMatches(ShapeBuild b) {
            assertEquals(new java.util.ArrayList<>(shapes.keySet()), new java.util.ArrayList<>(b.variables().keySet()), "variable names");
            shapes.forEach((k, v) -> assertArrayEquals(v, b.variables().get(k), k));
            assertEquals(trainable, b.trainable(), "trainable parameters");
            assertEquals(all, b.all(), "all parameters");
        }
    }
}
