package org.slim4j.io.convert;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slim4j.io.datasets.LabelsFile;
import org.slim4j.io.download.RemoteFile;
import org.slim4j.io.example.ExampleBuilder;

/**
 * TF-Slim's {@code download_and_convert_flowers.py}: the photos under {@code flower_photos/<class>/},
 * class names = the sorted folder names (ids 0..4), all paths shuffled with Python's
 * {@code random.seed(0); random.shuffle(...)}, the first 350 for validation and the rest for train,
 * each split in 5 shards of ceil(n / 5) records named {@code flowers_<split>_0000N-of-00005.tfrecord}.
 * The JPEG bytes are stored as they are (format {@code jpg}), with the height and width of the
 * decoded image; decoding (which also rejects broken files) runs on worker threads.
 *
 * <p>TF-Slim lists the folders with {@code os.listdir}, whose order depends on the file system; this
 * converter sorts them (classes, then files), so the split is the same on every machine and equals
 * TF-Slim's wherever {@code os.listdir} returns sorted names.
 */
public final class FlowersConverter {
    public static final String URL = "http://download.tensorflow.org/example_images/flower_photos.tgz";
    public static final String ARCHIVE = "flower_photos.tgz";
    public static final String ROOT = "flower_photos";
    public static final int NUM_VALIDATION = 350;
    public static final int RANDOM_SEED = 0;
    public static final int NUM_SHARDS = 5;

    private FlowersConverter() {
    }

    /** The archive TF-Slim downloads (its size: 228,813,984 bytes). */
    public static RemoteFile remoteFile(String url) {
        if (url != null) {
            String path = URI.create(url).getPath();
            String name = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
            return new RemoteFile(name.isEmpty() ? ARCHIVE : name, List.of(URI.create(url)), -1, null, null);
        }
        return new RemoteFile(ARCHIVE, List.of(URI.create(URL)), 228813984L, null, null);
    }

    /** {@code dir/flower_photos} when it exists, else {@code dir} itself if it has class folders; null otherwise. */
    public static Path findRoot(Path dir) throws IOException {
        Path r = dir.resolve(ROOT);
        if (Files.isDirectory(r)) return r;
        return classDirs(dir).isEmpty() ? null : dir;
    }

    private static List<Path> classDirs(Path root) throws IOException {
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root)) {
            for (Path p : s) if (Files.isDirectory(p) && !p.getFileName().toString().startsWith(".")) dirs.add(p);
        }
        dirs.sort(null);
        return dirs;
    }

    /** The photo paths (sorted by class, then name) and the sorted class names. */
    public static List<Path> photoFilenames(Path root, List<String> classNamesOut) throws IOException {
        List<Path> photos = new ArrayList<>();
        for (Path d : classDirs(root)) {
            classNamesOut.add(d.getFileName().toString());
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(d)) {
                for (Path p : s) if (Files.isRegularFile(p) && !p.getFileName().toString().startsWith(".")) files.add(p);
            }
            files.sort(null);
            photos.addAll(files);
        }
        return photos;
    }

    /** Output file of one shard. */
    public static Path shardPath(Path outDir, String split, int shard) {
        return outDir.resolve(String.format("flowers_%s_%05d-of-%05d.tfrecord", split, shard, NUM_SHARDS));
    }

    /**
     * Converts {@code flower_photos} (or a folder of class folders) under {@code sourceDir} into
     * {@code outDir}; {@code numValidation} is 350 in TF-Slim.
     *
     * @param skipCorrupt skip (and report) photos that do not decode instead of failing
     */
    public static List<ConvertedFile> convert(Path sourceDir, Path outDir, int numValidation, int threads, boolean skipCorrupt,
                                              PrintStream log) throws IOException {
        Path root = findRoot(sourceDir);
        if (root == null) {
            throw new NoSuchFileException(sourceDir.toString(), null, "no " + ROOT + "/ folder and no class folders in " + sourceDir);
        }
        List<String> classNames = new ArrayList<>();
        List<Path> photos = photoFilenames(root, classNames);
        if (photos.isEmpty()) throw new IOException(root + ": the class folders hold no photos");
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < classNames.size(); i++) ids.put(classNames.get(i), i);

        new PythonRandom(RANDOM_SEED).shuffle(photos);
        int nVal = Math.min(numValidation, photos.size());
        List<Path> validation = photos.subList(0, nVal);
        List<Path> training = photos.subList(nVal, photos.size());

        Files.createDirectories(outDir);
        List<ConvertedFile> out = new ArrayList<>();
        try (OrderedParallel pool = new OrderedParallel(threads, "flowers-decode")) {
            out.addAll(convertSplit("train", training, ids, outDir, pool, skipCorrupt, log));
            out.addAll(convertSplit("validation", validation, ids, outDir, pool, skipCorrupt, log));
        }
        LabelsFile.write(LabelsFile.fromList(classNames), outDir);
        return out;
    }

    /** A read and decoded photo: its bytes and size, or why it could not be decoded. */
    private record Photo(byte[] data, int height, int width, String error) {
    }

    private static List<ConvertedFile> convertSplit(String split, List<Path> files, Map<String, Integer> ids, Path outDir,
                                                    OrderedParallel pool, boolean skipCorrupt, PrintStream log) throws IOException {
        int n = files.size();
        int perShard = (n + NUM_SHARDS - 1) / NUM_SHARDS;
        List<ConvertedFile> out = new ArrayList<>();
        ConsoleCounter counter = new ConsoleCounter(log, ">> Converting image %d/%d", n);
        for (int shard = 0; shard < NUM_SHARDS; shard++) {
            int start = shard * perShard;
            int end = Math.min((shard + 1) * perShard, n);
            out.add(RecordFiles.write(shardPath(outDir, split, shard), split, writer -> pool.run(start, Math.max(start, end), i -> {
                    Path f = files.get(i);
                    byte[] data = Files.readAllBytes(f);
                    try {
                        int[] hwc = ImageCodec.dimensions(data, f.toString());
                        return new Photo(data, hwc[0], hwc[1], null);
                    } catch (IOException e) {
                        if (!skipCorrupt) throw e;
                        return new Photo(null, 0, 0, e.getMessage());
                    }
                }, (i, photo) -> {
                    Path f = files.get(i);
                    if (photo.error() != null) {
                        if (log != null) log.println("skipping " + f + ": " + photo.error());
                    } else {
                        int classId = ids.get(f.getParent().getFileName().toString());
                        writer.write(ExampleBuilder.image(photo.data(), "jpg", photo.height(), photo.width(), classId).toByteArray());
                    }
                    counter.step(i + 1);
                })));
        }
        counter.done();
        return out;
    }
}
