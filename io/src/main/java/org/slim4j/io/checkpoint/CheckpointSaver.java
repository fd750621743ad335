package org.slim4j.io.checkpoint;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slim4j.tensor.Tensor;

/**
 * Saves numbered V2 checkpoints into a directory the way TensorFlow's Saver does:
 * {@code DIR/BASENAME-STEP}, then the {@code checkpoint} state file (relative paths, newest last,
 * with timestamps) is rewritten atomically, then checkpoints beyond {@code maxToKeep} are deleted,
 * oldest first ({@code maxToKeep <= 0} keeps all). Checkpoints already listed in an existing state
 * file are picked up, so a restarted training run keeps pruning them.
 */
public final class CheckpointSaver {
    /** Writes a checkpoint's tensors into a bundle. */
    @FunctionalInterface
    public interface Contents {
        void writeTo(BundleWriter writer) throws IOException;
    }

    private record Kept(String name, double timestamp) {
    }

    private final Path dir;
    private final String baseName;
    private final int maxToKeep;
    private final List<Kept> kept = new ArrayList<>();

    public CheckpointSaver(Path dir, String baseName, int maxToKeep) throws IOException {
        if (baseName.isEmpty() || baseName.contains("/") || baseName.contains("\\")) {
            throw new IllegalArgumentException("checkpoint base name must be a plain file name, got '" + baseName + "'");
        }
        this.dir = dir;
        this.baseName = baseName;
        this.maxToKeep = maxToKeep;
        CheckpointState state = CheckpointState.read(dir);
        if (state != null) {
            List<String> paths = state.allModelCheckpointPaths();
            for (int i = 0; i < paths.size(); i++) {
                Path p = CheckpointState.resolve(dir, paths.get(i));
                if (!CheckpointReader.exists(p)) continue;
                double ts = i < state.allModelCheckpointTimestamps().size() ? state.allModelCheckpointTimestamps().get(i) : 0;
                kept.add(new Kept(relative(p), ts));
            }
        }
    }

    private String relative(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path d = dir.toAbsolutePath().normalize();
        return abs.getParent() != null && abs.getParent().equals(d) ? abs.getFileName().toString() : abs.toString();
    }

    /** Saves {@code tensors} (in map order) as checkpoint {@code step}; returns its prefix. */
    public Path save(long step, Map<String, Tensor> tensors) throws IOException {
        return save(step, w -> {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) w.add(e.getKey(), e.getValue());
        });
    }

    /** Saves checkpoint {@code step} with whatever {@code contents} adds; returns its prefix. */
    public Path save(long step, Contents contents) throws IOException {
        Path prefix = dir.resolve(baseName + "-" + step);
        try (BundleWriter w = new BundleWriter(prefix)) {
            contents.writeTo(w);
            w.finish();
        }
        String name = relative(prefix);
        kept.removeIf(k -> k.name.equals(name));
        kept.add(new Kept(name, System.currentTimeMillis() / 1000.0));
        List<Kept> delete = new ArrayList<>();
        while (maxToKeep > 0 && kept.size() > maxToKeep) delete.add(kept.remove(0));
        writeState();
        for (Kept k : delete) deleteCheckpoint(CheckpointState.resolve(dir, k.name));
        return prefix;
    }

    private void writeState() throws IOException {
        List<String> names = new ArrayList<>();
        List<Double> times = new ArrayList<>();
        for (Kept k : kept) {
            names.add(k.name);
            times.add(k.timestamp);
        }
        String latest = names.isEmpty() ? "" : names.get(names.size() - 1);
        double lastPreserved = times.isEmpty() ? 0 : times.get(0);
        new CheckpointState(latest, names, times, lastPreserved).write(dir);
    }

    /** The kept checkpoints' prefixes, oldest first. */
    public List<Path> checkpoints() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Kept k : kept) out.add(CheckpointState.resolve(dir, k.name));
        return out;
    }

    /** Deletes a V2 checkpoint's index, data shards and .meta file (if any). */
    public static void deleteCheckpoint(Path prefix) throws IOException {
        Files.deleteIfExists(CheckpointReader.indexFile(prefix));
        Files.deleteIfExists(prefix.resolveSibling(prefix.getFileName() + ".meta"));
        Path parent = prefix.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) return;
        Pattern shard = Pattern.compile(
                Pattern.quote(prefix.getFileName().toString()) + "\\.data-\\d{5}-of-\\d{5}");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
            for (Path f : ds) {
                if (shard.matcher(f.getFileName().toString()).matches()) Files.deleteIfExists(f);
            }
        }
    }
}
