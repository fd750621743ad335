package org.slim4j.io.checkpoint;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slim4j.tensor.Tensor;

/**
 * A TensorFlow checkpoint opened for reading: the tensors' names, dtypes and shapes up front, the
 * values on request (read lazily, checksums verified). {@link #open} accepts whatever a user may
 * pass as {@code --checkpoint_path}:
 * <ul>
 * <li>a directory: the checkpoint its {@code checkpoint} state file names as latest;</li>
 * <li>a V2 prefix ({@code model.ckpt-1234}), its {@code .index} file or one of its data shards;</li>
 * <li>a V1 checkpoint file ({@code inception_v3.ckpt}), a glob pattern of V1 shards
 *     ({@code model.ckpt-3000-?????-of-00001}), or a V1 prefix whose shards are {@code PREFIX-?????-of-?????}.</li>
 * </ul>
 */
public interface CheckpointReader extends Closeable {
    Pattern DATA_SHARD = Pattern.compile("(.*)\\.data-\\d{5}-of-\\d{5}");

    /** Opens the checkpoint at {@code path} (see the class comment for what it may be). */
    static CheckpointReader open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path latest = CheckpointState.latestCheckpoint(path);
            if (latest == null) {
                CheckpointState state = CheckpointState.read(path);
                if (state == null) {
                    throw new NoSuchFileException(path.toString(), null, "a directory without a 'checkpoint' state file; pass a checkpoint prefix instead");
                }
                throw new NoSuchFileException(path.resolve(CheckpointState.FILE_NAME).toString(), null,
                        "names '" + state.modelCheckpointPath() + "' as the latest checkpoint, but it does not exist");
            }
            return openFile(latest);
        }
        return openFile(path);
    }

    private static CheckpointReader openFile(Path path) throws IOException {
        Path name = path.getFileName();
        if (name == null) throw new NoSuchFileException(path.toString(), null, "not a checkpoint");
        String n = name.toString();
        if (Files.isRegularFile(indexFile(path))) return BundleReader.open(path);
        if (n.endsWith(".index") && Files.isRegularFile(path)) {
            return BundleReader.open(path.resolveSibling(n.substring(0, n.length() - ".index".length())));
        }
        var m = DATA_SHARD.matcher(n);
        if (m.matches() && Files.isRegularFile(indexFile(path.resolveSibling(m.group(1))))) {
            return BundleReader.open(path.resolveSibling(m.group(1)));
        }
        if (Files.isRegularFile(path)) return V1CheckpointReader.open(List.of(path));
        List<Path> files = v1Files(path);
        if (!files.isEmpty()) return V1CheckpointReader.open(files);
        throw new NoSuchFileException(path.toString(), null,
                "no checkpoint there (looked for " + indexFile(path).getFileName() + ", a V1 file, and " + n + "-?????-of-?????)");
    }

    /** The V1 shard files a pattern or prefix names (sorted), or an empty list. */
    static List<Path> v1Files(Path path) throws IOException {
        Path name = path.getFileName();
        if (name == null) return List.of();
        String n = name.toString();
        String glob = n.matches(".*[?*\\[].*") ? n : n + "-?????-of-?????";
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) return List.of();
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob.replace("\\", "\\\\"));
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (matcher.matches(p.getFileName()) && Files.isRegularFile(p)) out.add(path.resolveSibling(p.getFileName()));
            }
        }
        Collections.sort(out);
        return out;
    }

    /** Whether a checkpoint (V2 index, V1 file or V1 shards) exists at {@code prefix}. */
    static boolean exists(Path prefix) throws IOException {
        return Files.isRegularFile(indexFile(prefix)) || Files.isRegularFile(prefix) || !v1Files(prefix).isEmpty();
    }

    /** {@code PREFIX.index}. */
    static Path indexFile(Path prefix) {
        return prefix.resolveSibling(prefix.getFileName() + ".index");
    }

    /** {@code PREFIX.data-SSSSS-of-NNNNN}. */
    static Path dataFile(Path prefix, int shard, int numShards) {
        return prefix.resolveSibling(String.format("%s.data-%05d-of-%05d", prefix.getFileName(), shard, numShards));
    }

    /** "V1" or "V2". */
    String format();

    /** What was opened: the V2 prefix or the (first) V1 file. */
    Path path();

    /** Every tensor, sorted by name (bytewise, as the index stores them). */
    List<CheckpointEntry> entries();

    default Optional<CheckpointEntry> find(String name) {
        for (CheckpointEntry e : entries()) {
            if (e.name().equals(name)) return Optional.of(e);
        }
        return Optional.empty();
    }

    default boolean contains(String name) {
        return find(name).isPresent();
    }

    /** The entry named {@code name}; NoSuchElementException naming the checkpoint when absent. */
    default CheckpointEntry entry(String name) {
        return find(name).orElseThrow(() -> new NoSuchElementException("tensor '" + name + "' not found in checkpoint " + path()));
    }

    /**
     * The tensor's values as a new CPU tensor the caller closes (bool loads as UINT8, half as
     * FLOAT16). String tensors: {@link #readStrings}; types slim4j can't hold: {@link #readBytes}.
     */
    Tensor read(String name) throws IOException;

    /** The elements of a fixed-size tensor as little-endian bytes in row-major order. */
    byte[] readBytes(String name) throws IOException;

    /** The elements of a string tensor, row-major. */
    List<byte[]> readStrings(String name) throws IOException;
}
