package org.slim4j.tools.export;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.proto.GraphDef;
import org.slim4j.io.proto.NodeDef;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j freeze_graph --input_graph=F.pb --input_checkpoint=PREFIX --output_graph=frozen.pb
 * --output_node_names=a,b}: TensorFlow's freeze_graph tool for binary GraphDefs (see {@link GraphFreezer}).
 */
public final class FreezeGraphCommand implements Command {
    private final Flags flags = new Flags("freeze_graph");
    private final Flags.Flag<String> inputGraph = flags.string("input_graph", "", "GraphDef file to load (binary .pb)").required();
    private final Flags.Flag<String> inputCheckpoint = flags.string("input_checkpoint", "", "checkpoint: a V2 prefix, a V1 file, or a directory (its latest)").required();
    private final Flags.Flag<String> outputGraph = flags.string("output_graph", "", "output file name").required();
    private final Flags.Flag<String> outputNodeNames = flags.string("output_node_names", "", "the name(s) of the output nodes, comma separated").required();
    private final Flags.Flag<Boolean> inputBinary = flags.bool("input_binary", true, "whether the input graph is binary (text graphs are not supported)");

    @Override
    public String name() {
        return "freeze_graph";
    }

    @Override
    public String description() {
        return "replace a GraphDef's variables by the checkpoint's values (Const) and prune what the outputs do not need";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        if (!inputBinary.get()) throw new UsageException("freeze_graph: text GraphDefs (--noinput_binary) are not supported; pass a binary .pb");
        List<String> outputs = names(outputNodeNames.get());
        GraphDef graph = read(Path.of(inputGraph.get()));
        GraphDef frozen;
        try (CheckpointReader reader = CheckpointReader.open(Path.of(inputCheckpoint.get()))) {
            frozen = GraphFreezer.freeze(graph, reader, outputs);
        }
        Path file = Path.of(outputGraph.get());
        if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream os = Files.newOutputStream(file)) {
            frozen.writeTo(os);
        }
        int consts = 0;
        for (NodeDef n : frozen.getNodeList()) if (n.getOp().equals("Const")) consts++;
        out.println("Converted variables to const ops; " + frozen.getNodeCount() + " nodes (" + consts + " Const) in the final graph, written to " + file);
        return Main.EXIT_OK;
    }

    static List<String> names(String csv) {
        List<String> out = new ArrayList<>();
        for (String s : csv.split(",")) if (!s.isBlank()) out.add(s.trim());
        return out;
    }

    /** Reads a binary GraphDef. */
    public static GraphDef read(Path file) throws java.io.IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return GraphDef.parseFrom(in);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new java.io.IOException(file + ": not a binary GraphDef (" + e.getMessage() + ")", e);
        }
    }
}
