package org.slim4j.tools.export;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.GradMode;
import org.slim4j.autograd.Var;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.image.ImageDecoder;
import org.slim4j.io.preprocessing.ImageOps;
import org.slim4j.io.proto.GraphDef;
import org.slim4j.io.proto.NodeDef;
import org.slim4j.layers.Ops;
import org.slim4j.layers.Variable;
import org.slim4j.nets.NetOutput;
import org.slim4j.nets.Network;
import org.slim4j.nets.NetworkFn;
import org.slim4j.nets.Nets;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;
import org.slim4j.tools.train.CheckpointRestorer;

/**
 * {@code slim4j label_image --image=IMG [--image=IMG2 ...] --graph=frozen.pb --labels=labels.txt}:
 * TensorFlow's label_image example run by slim4j itself. Each image is decoded, resized
 * (bilinear) to the input's size, normalised as (pixel − input_mean) / input_std, run through the
 * frozen graph by {@link GraphRunner} (or, with {@code --checkpoint_path} and {@code --model_name},
 * through the network restored from a checkpoint) and the top 5 labels are printed with their
 * probabilities.
 */
public final class LabelImageCommand implements Command {
    private final List<String> images = new ArrayList<>();
    private final Flags flags = new Flags("label_image");
    private final Flags.Flag<List<String>> image = flags.<List<String>>define("image", "path", List.of(), s -> {
        for (String p : s.split(",")) if (!p.isBlank()) images.add(p.trim());
        return List.copyOf(images);
    }, "image to classify (JPEG or PNG); repeat the flag or separate with commas for several").required();
    private final Flags.Flag<String> graph = flags.string("graph", "", "frozen GraphDef (.pb) to run");
    private final Flags.Flag<String> labels = flags.string("labels", "", "labels file: one label per line, or TF-Slim's '<id>:<name>' lines");
    private final Flags.Flag<String> inputLayer = flags.string("input_layer", "input", "name of the input node");
    private final Flags.Flag<String> outputLayer = flags.string("output_layer", "", "name of the output node; none = the graph's only output");
    private final Flags.Flag<Double> inputMean = flags.decimal("input_mean", 0, "subtracted from each pixel (0..255)");
    private final Flags.Flag<Double> inputStd = flags.decimal("input_std", 255, "each pixel is divided by this after the mean");
    private final Flags.Flag<Integer> inputHeight = flags.define("input_height", "int", null, ExportInferenceGraphCommand.positive(), "resize height; none = the input node's");
    private final Flags.Flag<Integer> inputWidth = flags.define("input_width", "int", null, ExportInferenceGraphCommand.positive(), "resize width; none = the input node's");
    private final Flags.Flag<String> checkpointPath = flags.string("checkpoint_path", "", "run the network restored from this checkpoint instead of a graph (needs --model_name)");
    private final Flags.Flag<String> modelName = flags.string("model_name", "", "network of the nets factory, with --checkpoint_path");
    private final Flags.Flag<Integer> numClasses = flags.define("num_classes", "int", null, ExportInferenceGraphCommand.positive(), "with --checkpoint_path: number of logits; none = the model's default");
    private final Flags.Flag<Integer> topK = flags.integer("top_k", 5, "how many labels to print per image");

    @Override
    public String name() {
        return "label_image";
    }

    @Override
    public String description() {
        return "classify images with a frozen GraphDef (slim4j runs it) or a checkpoint, printing the top 5 labels";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        boolean fromGraph = !graph.get().isEmpty();
        boolean fromCheckpoint = !checkpointPath.get().isEmpty();
        if (fromGraph == fromCheckpoint) throw new UsageException("label_image: give either --graph=FROZEN.pb or --checkpoint_path=CKPT with --model_name");
        List<String> names = labels.get().isEmpty() ? null : readLabels(Path.of(labels.get()));
        if (fromGraph) {
            GraphDef g = FreezeGraphCommand.read(Path.of(graph.get()));
            String output = outputLayer.get();
            if (output.isEmpty()) {
                List<String> c = GraphFreezer.outputCandidates(g);
                if (c.size() != 1) throw new UsageException("label_image: the graph has " + c.size() + " possible outputs, pick one with --output_layer: " + String.join(", ", c));
                output = c.get(0);
            }
            int[] shape = inputShape(g, inputLayer.get());
            int h = inputHeight.get() != null ? inputHeight.get() : shape[1] > 0 ? shape[1] : 299;
            int w = inputWidth.get() != null ? inputWidth.get() : shape[2] > 0 ? shape[2] : 299;
            int c = shape[3] > 0 ? shape[3] : 3;
            try (GraphRunner runner = new GraphRunner(g)) {
                for (String img : images) {
                    try (Tensor x = load(Path.of(img), h, w, c); Tensor probs = runner.run(Map.of(inputLayer.get(), x), output)) {
                        print(out, img, probs, names);
                    }
                }
            }
        } else {
            if (modelName.get().isEmpty()) throw new UsageException("label_image: --checkpoint_path needs --model_name");
            NetworkFn fn;
            try {
                fn = Nets.get(modelName.get());
            } catch (IllegalArgumentException e) {
                throw new UsageException("label_image: invalid value '" + modelName.get() + "' for flag --model_name: " + e.getMessage());
            }
            int classes = numClasses.get() != null ? numClasses.get() : fn.defaultNumClasses();
            int h = inputHeight.get() != null ? inputHeight.get() : fn.defaultImageSize();
            int w = inputWidth.get() != null ? inputWidth.get() : fn.defaultImageSize();
            try (Network net = Network.create(fn, classes, 0.0, 0)) {
                net.createVariables(h, w, false);
                Map<String, Tensor> vars = new LinkedHashMap<>();
                for (Variable v : net.variables().variables()) vars.put(v.name(), v.value());
                try (CheckpointReader reader = CheckpointReader.open(Path.of(checkpointPath.get()))) {
                    CheckpointRestorer.restore(reader, vars, List.of(), false, n -> n);
                }
                for (String img : images) {
                    try (Tensor x = load(Path.of(img), h, w, fn.defaultImageChannels()); TensorScope s = TensorScope.open(); GradMode.Guard g = GradMode.noGrad()) {
                        print(out, img, predictions(net.apply(x, false)).value(), names);
                    }
                }
            }
        }
        return Main.EXIT_OK;
    }

    /** The predictions end point, or the softmax of the logits. */
    static Var predictions(NetOutput out) {
        Var p = GraphExporter.predictions(out);
        return p != null ? p : Ops.softmax(out.logits());
    }

    private static int[] inputShape(GraphDef g, String input) throws UsageException {
        for (NodeDef n : g.getNodeList()) {
            if (!n.getName().equals(input)) continue;
            var s = n.getAttrMap().get("shape");
            if (s != null && s.getShape().getDimCount() == 4) return GraphProtoValues.dims(s.getShape());
            return new int[] {-1, -1, -1, -1};
        }
        List<String> placeholders = new ArrayList<>();
        for (NodeDef n : g.getNodeList()) if (n.getOp().equals("Placeholder")) placeholders.add(n.getName());
        throw new UsageException("label_image: input node '" + input + "' is not in the graph; placeholders: " + placeholders);
    }

    /** The image as a [1, h, w, c] float32 batch: bilinear resize, then (x − mean) / std. */
    private Tensor load(Path file, int h, int w, int channels) throws IOException {
        byte[] data = Files.readAllBytes(file);
        try (Tensor u8 = ImageDecoder.decode(data, channels, file.toString()); Tensor resized = ImageOps.resizeBilinear(u8, h, w)) {
            float[] v = resized.toFloatArray();
            float mean = inputMean.get().floatValue(), std = inputStd.get().floatValue();
            for (int i = 0; i < v.length; i++) v[i] = (v[i] - mean) / std;
            return Tensor.of(v, 1, h, w, channels);
        }
    }

    private void print(PrintStream out, String img, Tensor probs, List<String> names) {
        float[] p = probs.toFloatArray();
        int n = p.length / Math.max(1, probs.dim(0));
        out.println(img + ":");
        for (int idx : topK(p, n, topK.get())) {
            String label = names != null && idx < names.size() && names.get(idx) != null ? names.get(idx) : "class " + idx;
            out.printf("  %s (%d): %.5f%n", label, idx, p[idx]);
        }
    }

    /** Labels by index: TF's one-per-line files, or TF-Slim's {@code <id>:<name>} lines (ids may skip). */
    static List<String> readLabels(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!l.isBlank()) lines.add(l.strip());
        boolean slim = !lines.isEmpty() && lines.stream().allMatch(l -> l.matches("\\d+:.*"));
        if (!slim) return lines;
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            int colon = l.indexOf(':');
            int id = Integer.parseInt(l.substring(0, colon));
            while (out.size() <= id) out.add(null);
            out.set(id, l.substring(colon + 1));
        }
        return out;
    }

    /** Indices of the k largest of the first n entries, largest first (ties: lower index first). */
    static int[] topK(float[] p, int n, int k) {
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> Float.compare(p[b], p[a]) != 0 ? Float.compare(p[b], p[a]) : a - b);
        int[] out = new int[Math.min(k, n)];
        for (int i = 0; i < out.length; i++) out[i] = idx[i];
        return out;
    }
}
