package org.slim4j.io.convert;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.slim4j.io.datasets.DatasetDescriptor;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.io.download.Archives;
import org.slim4j.io.download.Downloader;
import org.slim4j.io.download.RemoteFile;

/**
 * TF-Slim's {@code download_and_convert_data.py --dataset_name=... --dataset_dir=...}: creates the
 * folder, does nothing when the converted files are already there ("Dataset files already exist"),
 * otherwise downloads the original files (or takes them from {@code source}), converts them with
 * the data set's converter and removes the temporary downloads and extracted folders, as TF-Slim
 * does. Files given with {@code source} are never modified or removed.
 *
 * <p>{@code source} may be: a folder with the original files (the four IDX files, plain or .gz;
 * {@code cifar-10-batches-py}; {@code flower_photos}) or the folder they are in; a local archive
 * (.tar.gz, .tgz, .zip, .tar, .gz); or an http(s)/file URL of the archive (for mnist and
 * fashion_mnist: of the folder holding the four .gz files).
 */
public final class DownloadAndConvert {
    /** The data sets this command converts. */
    public static final List<String> NAMES = List.of("mnist", "fashion_mnist", "cifar10", "flowers");

    /**
     * @param source        a local folder/archive or a URL to use instead of the official download, or null
     * @param overwrite     convert again even if the output files exist
     * @param numThreads    encode/decode threads (&lt;= 0: one per processor)
     * @param skipCorrupt   flowers: skip photos that do not decode (reported) instead of failing
     * @param downloader    how to download (progress, retries)
     */
    public record Options(String source, boolean overwrite, int numThreads, boolean skipCorrupt, Downloader downloader) {
    }

    /** What happened: the files written (empty when they already existed). */
    public record Result(List<ConvertedFile> files, boolean alreadyExisted) {
    }

    private DownloadAndConvert() {
    }

    public static Result run(String datasetName, Path datasetDir, Options o, PrintStream log) throws IOException {
        if (datasetName == null || !NAMES.contains(datasetName)) {
            throw new IllegalArgumentException("unknown dataset '" + datasetName + "' (known: " + String.join(", ", NAMES)
                    + (datasetName != null && datasetName.equals("imagenet") ? "; imagenet is converted by slim4j build_imagenet_data" : "") + ")");
        }
        if (datasetDir == null || datasetDir.toString().isEmpty()) throw new IllegalArgumentException("--dataset_dir is required");
        if (Files.exists(datasetDir) && !Files.isDirectory(datasetDir)) throw new IOException(datasetDir + " exists and is not a folder");
        Files.createDirectories(datasetDir);
        if (!o.overwrite() && outputsExist(datasetName, datasetDir)) {
            say(log, "Dataset files already exist. Exiting without re-creating them.");
            return new Result(List.of(), true);
        }
        List<Path> temporary = new ArrayList<>();
        try {
            List<ConvertedFile> files = switch (datasetName) {
                case "mnist", "fashion_mnist" -> mnist(datasetName.equals("mnist") ? Datasets.MNIST : Datasets.FASHION_MNIST, datasetDir, o, temporary, log);
                case "cifar10" -> cifar10(datasetDir, o, temporary, log);
                case "flowers" -> flowers(datasetDir, o, temporary, log);
                default -> throw new AssertionError(datasetName);
            };
            cleanUp(temporary);
            for (ConvertedFile f : files) say(log, "wrote " + f.path() + ": " + f.records() + " records (" + f.split() + ")");
            say(log, "\nFinished converting the " + datasetName + " dataset!");
            return new Result(files, false);
        } catch (IOException | RuntimeException e) {
            // Keep what was downloaded (a rerun then skips the download); drop half-extracted folders.
            for (Path t : temporary) if (Files.isDirectory(t)) deleteRecursively(t);
            throw e;
        }
    }

    /** Whether the converted files TF-Slim checks for are all present. */
    public static boolean outputsExist(String name, Path dir) {
        return switch (name) {
            case "mnist", "fashion_mnist", "cifar10" -> {
                DatasetDescriptor d = Datasets.BUILT_IN.get(name);
                yield Files.isRegularFile(dir.resolve(d.patternFor("train"))) && Files.isRegularFile(dir.resolve(d.patternFor("test")));
            }
            case "flowers" -> {
                for (String split : List.of("train", "validation")) {
                    for (int s = 0; s < FlowersConverter.NUM_SHARDS; s++) {
                        if (!Files.isRegularFile(FlowersConverter.shardPath(dir, split, s))) yield false;
                    }
                }
                yield true;
            }
            default -> false;
        };
    }

    // ---- per data set ----------------------------------------------------------------------

    private static List<ConvertedFile> mnist(DatasetDescriptor d, Path dir, Options o, List<Path> temporary, PrintStream log) throws IOException {
        String src = o.source();
        Path idxDir;
        if (src == null || isUrl(src)) {
            // Download the four .gz files next to the output (removed afterwards, as TF-Slim does).
            List<String> bases = src == null ? null : List.of(src);
            for (RemoteFile f : MnistConverter.remoteFiles(d, bases)) {
                boolean existed = Files.exists(dir.resolve(f.name()));
                Path p = o.downloader().fetch(f, dir);
                if (!existed) temporary.add(p);
            }
            idxDir = dir;
        } else {
            Path p = localSource(src);
            if (Files.isDirectory(p)) {
                idxDir = findIdxDir(p);
                if (idxDir == null) {
                    throw new NoSuchFileException(p.toString(), null, "--source has no " + d.name() + " IDX files ("
                            + String.join(", ", MnistConverter.FILES) + ", plain or .gz)");
                }
            } else {
                Path out = extractTemp(p, dir, d.name(), temporary, log);
                idxDir = findIdxDir(out);
                if (idxDir == null) {
                    throw new NoSuchFileException(p.toString(), null, "the archive holds no " + d.name() + " IDX files ("
                            + String.join(", ", MnistConverter.FILES) + ")");
                }
            }
        }
        return MnistConverter.convert(d, idxDir, dir, o.numThreads(), log);
    }

    private static Path findIdxDir(Path root) throws IOException {
        if (MnistConverter.hasIdxFiles(root)) return root;
        try (Stream<Path> s = Files.walk(root, 3)) {
            return s.filter(Files::isDirectory).filter(MnistConverter::hasIdxFiles).findFirst().orElse(null);
        }
    }

    private static List<ConvertedFile> cifar10(Path dir, Options o, List<Path> temporary, PrintStream log) throws IOException {
        Path batches = sourceTree(o.source(), dir, Cifar10Converter.remoteFile(urlOrNull(o.source())), "cifar10", o, temporary, log);
        Path found = Cifar10Converter.findBatches(batches);
        if (found == null) {
            try (Stream<Path> s = Files.walk(batches, 3)) {
                found = s.filter(Files::isDirectory).filter(x -> Cifar10Converter.findBatches(x) != null).findFirst().orElse(null);
            }
        }
        if (found == null) {
            throw new NoSuchFileException(batches.toString(), null, "no CIFAR-10 batches (" + Cifar10Converter.PY_DIR + "/data_batch_1..5, test_batch)");
        }
        return Cifar10Converter.convert(found, dir, o.numThreads(), log);
    }

    private static List<ConvertedFile> flowers(Path dir, Options o, List<Path> temporary, PrintStream log) throws IOException {
        Path tree = sourceTree(o.source(), dir, FlowersConverter.remoteFile(urlOrNull(o.source())), "flowers", o, temporary, log);
        Path root = FlowersConverter.findRoot(tree);
        if (root == null) {
            throw new NoSuchFileException(tree.toString(), null, "no " + FlowersConverter.ROOT + "/ folder of class folders");
        }
        return FlowersConverter.convert(root, dir, FlowersConverter.NUM_VALIDATION, o.numThreads(), o.skipCorrupt(), log);
    }

    /**
     * The folder to convert from: {@code source} itself if it is a folder; else the archive (local,
     * downloaded from the URL, or the official download) extracted into {@code dir}.
     */
    private static Path sourceTree(String src, Path dir, RemoteFile remote, String name, Options o, List<Path> temporary,
                                   PrintStream log) throws IOException {
        Path archive;
        if (src == null || isUrl(src)) {
            boolean existed = Files.exists(dir.resolve(remote.name()));
            archive = o.downloader().fetch(remote, dir);
            if (!existed) temporary.add(archive);
        } else {
            Path p = localSource(src);
            if (Files.isDirectory(p)) return p;
            archive = p;
        }
        return extractTemp(archive, dir, name, temporary, log);
    }

    /** Extracts {@code archive} into a fresh {@code dir/.<name>-extract} folder, registered for clean-up. */
    private static Path extractTemp(Path archive, Path dir, String name, List<Path> temporary, PrintStream log) throws IOException {
        Path out = dir.resolve("." + name + "-extract");
        if (Files.exists(out)) deleteRecursively(out);
        temporary.add(out);
        say(log, "Extracting " + archive + " ...");
        Archives.extract(archive, out);
        return out;
    }

    private static boolean isUrl(String s) {
        String l = s.toLowerCase(Locale.ROOT);
        return l.startsWith("http://") || l.startsWith("https://") || l.startsWith("file:");
    }

    private static String urlOrNull(String src) {
        return src != null && isUrl(src) ? src : null;
    }

    private static Path localSource(String src) throws NoSuchFileException {
        Path p = Path.of(src);
        if (!Files.exists(p)) throw new NoSuchFileException(src, null, "--source does not exist");
        return p;
    }

    private static void cleanUp(List<Path> temporary) throws IOException {
        for (Path t : temporary) {
            if (Files.isDirectory(t)) deleteRecursively(t);
            else Files.deleteIfExists(t);
        }
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static void say(PrintStream log, String line) {
        if (log != null) log.println(line);
    }
}
