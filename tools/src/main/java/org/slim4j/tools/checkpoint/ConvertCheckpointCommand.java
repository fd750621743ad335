package org.slim4j.tools.checkpoint;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slim4j.io.checkpoint.BundleWriter;
import org.slim4j.io.checkpoint.CheckpointEntry;
import org.slim4j.io.checkpoint.CheckpointReader;
import org.slim4j.io.checkpoint.TfDataType;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j convert_checkpoint --input=V1_FILE --output=V2_PREFIX}: rewrites a checkpoint (a 2016
 * TF-Slim V1 {@code .ckpt}, or any checkpoint slim4j reads) as a V2 bundle TensorFlow restores.
 * Every tensor is copied bit for bit with its TensorFlow dtype; partitioned V1 variables become
 * whole tensors. The output appears atomically; an existing one is kept unless {@code --overwrite}.
 */
public final class ConvertCheckpointCommand implements Command {
    private final Flags flags = new Flags("convert_checkpoint");
    private final Flags.Flag<Path> input = flags.path("input", null, "checkpoint to convert (V1 file, V1 shard pattern, V2 prefix or directory)").required();
    private final Flags.Flag<Path> output = flags.path("output", null, "V2 prefix to write (writes OUTPUT.index and OUTPUT.data-00000-of-00001)").required();
    private final Flags.Flag<Boolean> overwrite = flags.bool("overwrite", false, "replace an existing checkpoint at --output");

    @Override
    public String name() {
        return "convert_checkpoint";
    }

    @Override
    public String description() {
        return "convert a TensorFlow V1 checkpoint into a V2 one (.index + .data)";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Path dst = output.get();
        Path dstIndex = dst.resolveSibling(dst.getFileName() + ".index");
        if (Files.isDirectory(dst)) {
            throw new UsageException("convert_checkpoint: invalid value '" + dst + "' for flag --output: a directory; give a prefix such as " + dst.resolve("model.ckpt"));
        }
        if (Files.exists(dstIndex) && !overwrite.get()) {
            throw new UsageException("convert_checkpoint: " + dstIndex + " already exists (pass --overwrite to replace it)");
        }
        long bytes = 0;
        int count = 0;
        String format;
        try (CheckpointReader r = CheckpointReader.open(input.get()); BundleWriter w = new BundleWriter(dst)) {
            format = r.format();
            for (CheckpointEntry e : r.entries()) {
                if (e.dtype() == TfDataType.STRING) {
                    var values = r.readStrings(e.name());
                    w.addStrings(e.name(), e.dims(), values, 0);
                    for (byte[] v : values) bytes += v.length;
                } else if (e.dtype().isFixedSize()) {
                    byte[] le = r.readBytes(e.name());
                    w.addBytes(e.name(), e.dtype(), e.dims(), le, 0);
                    bytes += le.length;
                } else {
                    throw new IllegalStateException("tensor '" + e.name() + "' has dtype " + e.dtype().tfName() + ", which cannot be converted");
                }
                count++;
            }
            w.finish();
        }
        out.printf("converted %d tensors (%d bytes of values) from %s checkpoint %s to V2 checkpoint %s%n", count, bytes, format, input.get(), dst);
        return Main.EXIT_OK;
    }
}
