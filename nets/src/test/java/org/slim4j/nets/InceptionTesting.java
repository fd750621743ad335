package org.slim4j.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** Shared checks of the Inception tests: shape-only builds of the base functions and real forward passes. */
final class InceptionTesting {
    private InceptionTesting() {
    }

    /** A shape-only build of a base function ({@code inception_v3_base(inputs)}) under an arg scope. */
    static ShapeBuild base(Function<Var, NetOutput> base, ArgScope argScope, int batch, int height, int width, int channels) {
        VariableStore store = VariableStore.shapeOnly();
        try (Graph g = Graph.open(store); ArgScope.Opened s = argScope.open()) {
            NetOutput out = base.apply(MetaDevice.placeholder(DType.FLOAT32, batch, height, width, channels));
            Map<String, int[]> eps = new LinkedHashMap<>();
            out.endPoints().asMap().forEach((k, v) -> eps.put(k, v.value().dims()));
            Map<String, int[]> vars = new LinkedHashMap<>();
            for (Variable v : store.variables()) vars.put(v.name(), v.shape().dims());
            return new ShapeBuild(out.logits().value().dims(), eps, vars, store.trainableParameterCount(), store.parameterCount(), g.multiplyAdds());
        } finally {
            store.close();
        }
    }

    /** The channel count of end point {@code name}. */
    static int depth(ShapeBuild b, String name) {
        int[] d = b.endPoints().get(name);
        return d[d.length - 1];
    }

    /**
     * Real forward passes of a network at a reduced size: inference (finite, non-zero logits of the
     * expected shape), then training (every end point shaped as the shape-only build says; batch statistics
     * instead of the moving ones give other logits; the moving means move away from 0). Every
     * weight tensor is L2-regularised (also every biases tensor when {@code biasesRegularized}).
     * No tensor outlives the test.
     */
    static void forwardInBothModes(NetworkFn fn, int numClasses, int batch, int size, boolean biasesRegularized, Arg.Value<?>... options) {
        long live = CpuDevice.INSTANCE.liveBytes();
        ShapeBuild expected = ShapeBuild.of(fn, batch, size, size, numClasses, true, options);
        try (TensorScope ts = TensorScope.open(); Network net = Network.create(fn, numClasses, 0.00004, 11, options)) {
            Tensor images = Tensor.randomUniform(5, -1, 1, batch, size, size, 3);
            NetOutput eval = net.apply(images, false);
            assertArrayEquals(expected.logits(), eval.logits().value().dims(), fn.name() + " logits");
            double[] evalLogits = eval.logits().value().toDoubleArray();
            for (double v : evalLogits) assertTrue(Double.isFinite(v), fn.name() + ": non-finite logit " + v);
            assertTrue(Close.maxAbs(evalLogits) > 0, fn.name() + ": logits are all zero");

            String firstMean = null;
            int weights = 0;
            int biases = 0;
            for (Variable v : net.variables().variables()) {
                if (firstMean == null && v.name().endsWith("/BatchNorm/moving_mean")) firstMean = v.name();
                if (v.name().endsWith("/weights")) weights++;
                if (v.name().endsWith("/biases")) biases++;
            }
            assertTrue(firstMean != null, fn.name() + " has batch norm");
            assertEquals(0.0, Close.maxAbs(net.variables().get(firstMean).value().toDoubleArray()), fn.name() + ": moving mean starts at 0");
            assertEquals(weights + (biasesRegularized ? biases : 0), net.variables().regularizationLosses().size(), fn.name() + ": L2 losses");

            NetOutput train = net.apply(images, true);
            expected.endPoints().forEach((k, dims) -> assertArrayEquals(dims, train.endPoints().get(k).value().dims(), fn.name() + " end point " + k));
            double[] trainLogits = train.logits().value().toDoubleArray();
            for (double v : trainLogits) assertTrue(Double.isFinite(v), fn.name() + ": non-finite training logit " + v);
            assertTrue(Close.maxAbsDiff(evalLogits, trainLogits) > 0, fn.name() + ": training mode differs from inference");
            assertTrue(Close.maxAbs(net.variables().get(firstMean).value().toDoubleArray()) > 0, fn.name() + ": training updates " + firstMean);
            assertFalse(net.variables().isShapeOnly());
        }
        assertEquals(live, CpuDevice.INSTANCE.liveBytes(), fn.name() + ": tensors left allocated");
    }
}
