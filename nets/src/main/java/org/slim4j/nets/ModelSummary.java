package org.slim4j.nets;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.Var;
import org.slim4j.layers.Args;
import org.slim4j.layers.Graph;
import org.slim4j.layers.MetaDevice;
import org.slim4j.layers.Variable;
import org.slim4j.layers.VariableStore;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;

/**
 * A network's structure at a given input size, found by a shape-only build (no memory, no compute;
 * see {@link MetaDevice}) of one image in inference mode: its end points with their output shapes,
 * its variables with their shapes, the trainable and total parameter counts (total includes the
 * batch-norm moving statistics), and the multiply-adds of one forward pass of one image
 * (convolutions, depthwise convolutions and matrix products; poolings, normalisations and
 * activations are not counted).
 */
public record ModelSummary(String model, int numClasses, int imageSize, int channels, List<Entry> endPoints, List<Entry> variables,
                           long trainableParameters, long allParameters, long multiplyAdds) {

    /** A named tensor and its shape. */
    public record Entry(String name, Shape shape) {
    }

    /** The summary of {@code fn} with {@code numClasses} logits on square images of side {@code imageSize}. */
    public static ModelSummary of(NetworkFn fn, int numClasses, int imageSize, int channels) {
        if (imageSize < 1) throw new IllegalArgumentException("image size must be >= 1, got " + imageSize);
        if (channels < 1) throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        VariableStore store = VariableStore.shapeOnly();
        try (Graph g = Graph.open(store)) {
            Var images = MetaDevice.placeholder(DType.FLOAT32, 1, imageSize, imageSize, channels);
            NetOutput out = fn.apply(images, numClasses, 0.0, false, Args.empty());
            List<Entry> eps = new ArrayList<>();
            for (Map.Entry<String, Var> e : out.endPoints().asMap().entrySet()) eps.add(new Entry(e.getKey(), e.getValue().value().shape()));
            List<Entry> vars = new ArrayList<>();
            for (Variable v : store.variables()) vars.add(new Entry(v.name(), v.shape()));
            return new ModelSummary(fn.name(), numClasses, imageSize, channels, List.copyOf(eps), List.copyOf(vars),
                store.trainableParameterCount(), store.parameterCount(), g.multiplyAdds());
        } finally {
            store.close();
        }
    }

    /** With the network's default image size and channels. */
    public static ModelSummary of(NetworkFn fn, int numClasses) {
        return of(fn, numClasses, fn.defaultImageSize(), fn.defaultImageChannels());
    }

    /** The table model_summary prints. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("Model: %s  (num_classes %d, input [1, %d, %d, %d])%n%n", model, numClasses, imageSize, imageSize, channels));
        int w = "End point".length();
        for (Entry e : endPoints) w = Math.max(w, e.name().length());
        sb.append(String.format("%-" + w + "s  %s%n", "End point", "Output shape"));
        for (Entry e : endPoints) sb.append(String.format("%-" + w + "s  %s%n", e.name(), e.shape()));
        sb.append('\n');
        int vw = "Variable".length();
        int sw = "Shape".length();
        for (Entry e : variables) {
            vw = Math.max(vw, e.name().length());
            sw = Math.max(sw, e.shape().toString().length());
        }
        sb.append(String.format("%-" + vw + "s  %-" + sw + "s  %s%n", "Variable", "Shape", "Parameters"));
        for (Entry e : variables) sb.append(String.format("%-" + vw + "s  %-" + sw + "s  %d%n", e.name(), e.shape(), (long) e.shape().numel()));
        sb.append('\n');
        sb.append("Trainable parameters: ").append(trainableParameters).append('\n');
        sb.append("All parameters: ").append(allParameters).append('\n');
        sb.append("Multiply-adds: ").append(multiplyAdds).append('\n');
        return sb.toString();
    }
}
