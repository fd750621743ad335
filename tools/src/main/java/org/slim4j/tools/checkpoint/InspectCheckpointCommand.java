package org.slim4j.tools.checkpoint;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.NoSuchElementException;
import org.slim4j.io.checkpoint.CheckpointEntry;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.checkpoint.TfDataType;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j inspect_checkpoint --file_name=PREFIX [--tensor_name=NAME] [--all_tensors] [--all_tensor_names]},
 * like TensorFlow's inspect_checkpoint: without flags one line per tensor,
 * {@code name (DT_FLOAT) [3,3,3,32]}; with {@code --tensor_name} or {@code --all_tensors} the values
 * too, NumPy style. {@code --file_name} may be a V2 prefix, a V1 file or a training directory.
 */
public final class InspectCheckpointCommand implements Command {
    private final Flags flags = new Flags("inspect_checkpoint");
    private final Flags.Flag<Path> fileName = flags.path("file_name", null,
            "checkpoint: V2 prefix (model.ckpt-1234), V1 file, .index file, or a directory with a 'checkpoint' file").required();
    private final Flags.Flag<String> tensorName = flags.string("tensor_name", "", "print this tensor's values");
    private final Flags.Flag<Boolean> allTensors = flags.bool("all_tensors", false, "print every tensor's values");
    private final Flags.Flag<Boolean> allTensorNames = flags.bool("all_tensor_names", false, "print only the tensor names");
    private final Flags.Flag<Integer> threshold = flags.integer("print_threshold", 1000,
            "arrays with more elements are summarized with '...' (NumPy's threshold; -1 prints everything)");

    @Override
    public String name() {
        return "inspect_checkpoint";
    }

    @Override
    public String description() {
        return "list a TensorFlow checkpoint's tensors (name, dtype, shape) and print their values";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        if (threshold.get() < -1) throw new UsageException("inspect_checkpoint: invalid value '" + threshold.get() + "' for flag --print_threshold: must be >= -1");
        try (CheckpointReader r = CheckpointReader.open(fileName.get())) {
            if (!tensorName.get().isEmpty()) {
                CheckpointEntry e = r.find(tensorName.get()).orElseThrow(() -> notFound(r, tensorName.get()));
                out.println("tensor_name:  " + e.name());
                out.println(values(r, e));
            } else if (allTensors.get()) {
                for (CheckpointEntry e : r.entries()) {
                    out.println("tensor_name:  " + e.name());
                    out.println(values(r, e));
                }
            } else if (allTensorNames.get()) {
                for (CheckpointEntry e : r.entries()) out.println("tensor_name:  " + e.name());
            } else {
                for (CheckpointEntry e : r.entries()) out.println(e);
            }
        }
        return Main.EXIT_OK;
    }

    private String values(CheckpointReader r, CheckpointEntry e) throws Exception {
        if (e.dtype() == TfDataType.STRING) return ValuePrinter.formatStrings(e.dims(), r.readStrings(e.name()), threshold.get());
        if (!e.dtype().isFixedSize()) return "<" + e.dtype().tfName() + " values cannot be printed>";
        return ValuePrinter.format(e.dtype(), e.dims(), r.readBytes(e.name()), threshold.get());
    }

    private static NoSuchElementException notFound(CheckpointReader r, String name) {
        String best = null;
        int bestScore = Integer.MAX_VALUE;
        for (CheckpointEntry e : r.entries()) {
            int d = distance(name, e.name());
            if (d < bestScore) {
                bestScore = d;
                best = e.name();
            }
        }
        return new NoSuchElementException("tensor '" + name + "' not found in checkpoint " + r.path()
                + (best != null && bestScore <= Math.max(3, name.length() / 3) ? " (did you mean '" + best + "'?)" : ""));
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1), Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
