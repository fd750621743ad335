package org.slim4j.tools.export;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import org.slim4j.io.datasets.DatasetDescriptor;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.nets.NetworkFn;
import org.slim4j.nets.Nets;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j export_inference_graph --model_name=NAME --output_file=F.pb}: TF-Slim's
 * export_inference_graph.py. Writes the network's inference graph as a binary TensorFlow GraphDef
 * (see {@link GraphExporter}) with num_classes = the dataset's classes − labels_offset, and prints
 * the input and output node names that freeze_graph and label_image take.
 */
public final class ExportInferenceGraphCommand implements Command {
    private final Flags flags = new Flags("export_inference_graph");
    private final Flags.Flag<String> modelName = flags.string("model_name", "inception_v3", "the name of the architecture to save");
    private final Flags.Flag<Boolean> isTraining = flags.bool("is_training", false, "whether to save out a training-focused version of the model (not supported: inference graphs only)");
    private final Flags.Flag<Integer> imageSize = flags.define("image_size", "int", null, positive(), "the image size to use; none = the model's default_image_size");
    private final Flags.Flag<Integer> batchSize = flags.define("batch_size", "int", null, positive(), "batch size for the exported model; none = any batch (-1)");
    private final Flags.Flag<String> datasetName = flags.string("dataset_name", "imagenet", "the name of the dataset to use with the model (its number of classes)");
    private final Flags.Flag<Integer> labelsOffset = flags.integer("labels_offset", 0, "an offset for the labels in the dataset (1 for ImageNet models trained without the background class)");
    private final Flags.Flag<String> outputFile = flags.string("output_file", "", "where to save the resulting file to").required();
    private final Flags.Flag<String> datasetDir = flags.string("dataset_dir", "", "directory to save intermediate dataset files to (unused, accepted for compatibility)");

    @Override
    public String name() {
        return "export_inference_graph";
    }

    @Override
    public String description() {
        return "write a network's inference graph as a TensorFlow GraphDef (.pb) with TF-Slim's node names";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        if (isTraining.get()) throw new UsageException("export_inference_graph: --is_training=true is not supported; slim4j exports inference graphs (--is_training=false)");
        NetworkFn fn;
        try {
            fn = Nets.get(modelName.get());
        } catch (IllegalArgumentException e) {
            throw new UsageException("export_inference_graph: invalid value '" + modelName.get() + "' for flag --model_name: " + e.getMessage());
        }
        DatasetDescriptor dataset = Datasets.BUILT_IN.get(datasetName.get());
        if (dataset == null) {
            throw new UsageException("export_inference_graph: unknown --dataset_name '" + datasetName.get() + "' (known: " + String.join(", ", Datasets.BUILT_IN.keySet()) + ")");
        }
        int classes = dataset.numClasses() - labelsOffset.get();
        if (classes < 1) throw new UsageException("export_inference_graph: " + dataset.name() + " has " + dataset.numClasses() + " classes, --labels_offset=" + labelsOffset.get() + " leaves none");
        int size = imageSize.get() != null ? imageSize.get() : fn.defaultImageSize();
        GraphExporter.Exported g = GraphExporter.export(fn, classes, size, batchSize.get());
        Path file = Path.of(outputFile.get());
        if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream os = Files.newOutputStream(file)) {
            g.graph().writeTo(os);
        }
        out.println("Wrote " + file + ": " + g.graph().getNodeCount() + " nodes, " + classes + " classes");
        out.println("input:  " + g.inputName() + " " + Arrays.toString(g.inputShape()) + " float32 (NHWC)");
        out.println("output: " + g.outputName());
        return Main.EXIT_OK;
    }

    static Function<String, Integer> positive() {
        return s -> {
            int v;
            try {
                v = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an integer");
            }
            if (v < 1) throw new IllegalArgumentException("must be >= 1");
            return v;
        };
    }
}
