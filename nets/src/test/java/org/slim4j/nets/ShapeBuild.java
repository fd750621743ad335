package org.slim4j.nets;

import java.util.LinkedHashMap;
import java.util.Map;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Arg;
import org.slim4j.layers.Graph;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.DType;

/** A shape-only build of a network for tests: end point and variable shapes, no memory. */
record ShapeBuild(int[] logits, Map<String, int[]> endPoints, Map<String, int[]> variables, long trainable, long all, long macs) {

    static ShapeBuild of(NetworkFn fn, int batch, int height, int width, int numClasses, boolean training, Arg.Value<?>... options) {
        VariableStore store = VariableStore.shapeOnly();
        try (Graph g = Graph.open(store)) {
            Var images = MetaDevice.placeholder(DType.FLOAT32, batch, height, width, fn.defaultImageChannels());
            NetOutput out = fn.apply(images, numClasses, 0.0, training, options);
            Map<String, int[]> eps = new LinkedHashMap<>();
            out.endPoints().asMap().forEach((k, v) -> eps.put(k, v.value().dims()));
            Map<String, int[]> vars = new LinkedHashMap<>();
            for (Variable v : store.variables()) vars.put(v.name(), v.shape().dims());
            return new ShapeBuild(out.logits().value().dims(), eps, vars, store.trainableParameterCount(), store.parameterCount(), g.multiplyAdds());
        } finally {
            store.close();
        }
    }

    static ShapeBuild of(NetworkFn fn, int batch, int numClasses) {
        return of(fn, batch, fn.defaultImageSize(), fn.defaultImageSize(), numClasses, true);
    }

    /** Sum of kh*kw*in*out + out over conv/fc layers given as {kh, kw, in, out} rows. */
    static long weightsAndBiases(int[][] layers) {
        long n = 0;
        for (int[] l : layers) n += (long) l[0] * l[1] * l[2] * l[3] + l[3];
        return n;
    }
}
