package org.slim4j.tools.export;

import java.io.PrintStream;
import java.nio.file.Path;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;

/** {@code slim4j summarize_graph --in_graph=F.pb}: inputs, outputs, op counts and parameters of a GraphDef ({@link GraphSummary}). */
public final class SummarizeGraphCommand implements Command {
    private final Flags flags = new Flags("summarize_graph");
    private final Flags.Flag<String> inGraph = flags.string("in_graph", "", "binary GraphDef file").required();

    @Override
    public String name() {
        return "summarize_graph";
    }

    @Override
    public String description() {
        return "print a GraphDef's inputs, outputs, op counts and parameter count";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        out.print(GraphSummary.of(FreezeGraphCommand.read(Path.of(inGraph.get()))).format());
        return Main.EXIT_OK;
    }
}
