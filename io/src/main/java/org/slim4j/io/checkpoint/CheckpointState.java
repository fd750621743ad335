package org.slim4j.io.checkpoint;

import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code checkpoint} file TensorFlow keeps beside a model's checkpoints: a text-format
 * CheckpointState proto naming the latest checkpoint ({@code model_checkpoint_path}), the ones not
 * yet deleted, oldest first ({@code all_model_checkpoint_paths}), and optionally their Unix
 * timestamps. Paths are usually relative to the file's directory; absolute ones are honoured,
 * and when an absolute path no longer exists (the folder was moved) its file name is looked up
 * beside the state file instead.
 */
public record CheckpointState(String modelCheckpointPath, List<String> allModelCheckpointPaths,
                              List<Double> allModelCheckpointTimestamps, double lastPreservedTimestamp) {
    public static final String FILE_NAME = "checkpoint";

    public CheckpointState {
        allModelCheckpointPaths = List.copyOf(allModelCheckpointPaths);
        allModelCheckpointTimestamps = List.copyOf(allModelCheckpointTimestamps);
    }

    public CheckpointState(String modelCheckpointPath, List<String> allModelCheckpointPaths) {
        this(modelCheckpointPath, allModelCheckpointPaths, List.of(), 0);
    }

    /** Parses the text format; {@code where} names the file in error messages. */
    public static CheckpointState parse(String text, String where) throws CheckpointFormatException {
        org.slim4j.io.proto.CheckpointState.Builder b = org.slim4j.io.proto.CheckpointState.newBuilder();
        try {
            TextFormat.Parser.newBuilder().setAllowUnknownFields(true).build().merge(text, b);
        } catch (TextFormat.ParseException e) {
            throw new CheckpointFormatException(where + ": not a CheckpointState text proto (" + e.getMessage() + ")", e);
        }
        return new CheckpointState(b.getModelCheckpointPath(), b.getAllModelCheckpointPathsList(),
                b.getAllModelCheckpointTimestampsList(), b.getLastPreservedTimestamp());
    }

    /** The state file in {@code dir}, or null when there is none. */
    public static CheckpointState read(Path dir) throws IOException {
        Path f = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(f)) return null;
        return parse(Files.readString(f, StandardCharsets.UTF_8), f.toString());
    }

    /** The text TensorFlow writes: one {@code field: "value"} line per field, strings C-escaped. */
    public String toText() {
        org.slim4j.io.proto.CheckpointState.Builder b = org.slim4j.io.proto.CheckpointState.newBuilder()
                .setModelCheckpointPath(modelCheckpointPath)
                .addAllAllModelCheckpointPaths(allModelCheckpointPaths)
                .addAllAllModelCheckpointTimestamps(allModelCheckpointTimestamps)
                .setLastPreservedTimestamp(lastPreservedTimestamp);
        return TextFormat.printer().printToString(b.build());
    }

    /** Writes {@code dir/checkpoint} atomically (a temporary file renamed over the old one). */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeAtomically(dir.resolve(FILE_NAME), toText().getBytes(StandardCharsets.UTF_8));
    }

    /** {@code path} as the state file in {@code dir} means it (see the class comment). */
    public static Path resolve(Path dir, String path) throws IOException {
        Path p = Path.of(path);
        if (!p.isAbsolute()) return dir.resolve(p);
        if (CheckpointReader.exists(p) || p.getFileName() == null) return p;
        Path beside = dir.resolve(p.getFileName().toString());
        return CheckpointReader.exists(beside) ? beside : p;
    }

    /** The latest checkpoint the state file in {@code dir} names, or null when there is none or it is gone. */
    public static Path latestCheckpoint(Path dir) throws IOException {
        CheckpointState s = read(dir);
        if (s == null || s.modelCheckpointPath().isEmpty()) return null;
        Path p = resolve(dir, s.modelCheckpointPath());
        return CheckpointReader.exists(p) ? p : null;
    }
}
