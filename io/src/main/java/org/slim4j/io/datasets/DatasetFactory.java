package org.slim4j.io.datasets;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * TF-Slim's {@code dataset_factory.get_dataset(name, split_name, dataset_dir, file_pattern=None)}:
 * the built-in data sets of {@link Datasets}, or a custom one described by a
 * {@link CustomDataset#DESCRIPTOR_FILENAME dataset.json} in the dataset folder.
 *
 * <p>Unlike TF-Slim, which fails only when the reader opens the files, {@link #get} checks at once
 * that the folder exists, is not empty and has files for the split, and says what to do otherwise.
 */
public final class DatasetFactory {
    private DatasetFactory() {
    }

    /** Names of the built-in data sets, sorted. */
    public static List<String> names() {
        return List.copyOf(Datasets.BUILT_IN.keySet());
    }

    /**
     * The descriptor called {@code name}: a built-in one, or the dataset.json in {@code datasetDir}
     * (which may be null) whose name it is.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    public static DatasetDescriptor descriptor(String name, Path datasetDir) throws IOException {
        DatasetDescriptor builtIn = name == null ? null : Datasets.BUILT_IN.get(name);
        if (builtIn != null) return builtIn;
        Path custom = CustomDataset.find(datasetDir);
        if (custom != null) {
            DatasetDescriptor d = CustomDataset.read(custom);
            if (d.name().equals(name)) return d;
            throw new IllegalArgumentException("unknown dataset '" + name + "': " + custom + " describes dataset '" + d.name()
                    + "'; built-in: " + String.join(", ", names()));
        }
        throw new IllegalArgumentException("unknown dataset '" + name + "' (known: " + String.join(", ", names())
                + "; a custom dataset needs a " + CustomDataset.DESCRIPTOR_FILENAME + " in --dataset_dir"
                + (datasetDir == null ? "" : ", and " + datasetDir + " has none") + ")");
    }

    public static Dataset get(String name, String split, Path datasetDir) throws IOException {
        return get(name, split, datasetDir, null);
    }

    /**
     * One split of a data set, its files found and its labels.txt read.
     *
     * @param filePattern overrides the descriptor's pattern (TF-Slim's {@code file_pattern}; {@code %s} is
     *     replaced by the split name when present), or null
     * @throws IllegalArgumentException unknown dataset or split name
     * @throws IOException missing or empty folder, no files for the split, unreadable labels.txt
     */
    public static Dataset get(String name, String split, Path datasetDir, String filePattern) throws IOException {
        if (datasetDir == null || datasetDir.toString().isEmpty()) {
            throw new IllegalArgumentException("dataset " + name + ": --dataset_dir is required (the folder with the converted TFRecord files)");
        }
        DatasetDescriptor d = descriptor(name, Files.isDirectory(datasetDir) ? datasetDir : null);
        if (!d.splits().containsKey(split)) throw d.unknownSplit(split);
        checkFolder(d.name(), datasetDir);
        String pattern = filePattern != null ? filePattern.replace("%s", split) : d.patternFor(split);
        List<Path> files = glob(datasetDir, pattern);
        if (files.isEmpty()) {
            throw new NoSuchFileException(datasetDir.resolve(pattern).toString(), null,
                    "no files for split '" + split + "' of dataset " + d.name() + convertHint(d.name(), datasetDir));
        }
        Map<Integer, String> labels = d.name().equals("imagenet") && filePattern == null
                ? ImagenetLabels.forDatasetDir(datasetDir)
                : LabelsFile.has(datasetDir) ? LabelsFile.read(datasetDir) : null;
        return new Dataset(d, split, datasetDir, files, d.numSamples(split), labels);
    }

    private static void checkFolder(String name, Path dir) throws IOException {
        if (!Files.exists(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "dataset_dir does not exist" + convertHint(name, dir));
        }
        if (!Files.isDirectory(dir)) throw new NotDirectoryException(dir + " (--dataset_dir must be a folder)");
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isEmpty()) throw new IOException(dir + ": dataset_dir is empty" + convertHint(name, dir));
        }
    }

    private static String convertHint(String name, Path dir) {
        if (Datasets.BUILT_IN.containsKey(name) && !name.equals("imagenet")) {
            return " (create it with: slim4j download_and_convert_data --dataset_name=" + name + " --dataset_dir=" + dir + ")";
        }
        if (name.equals("imagenet")) return " (create it with: slim4j build_imagenet_data --output_directory=" + dir + ")";
        return "";
    }

    /**
     * Files of {@code dir} whose path relative to it matches {@code pattern} (shell wildcards
     * {@code * ? [...]}, which do not cross '/'), sorted by name.
     */
    public static List<Path> glob(Path dir, String pattern) throws IOException {
        String escaped = pattern.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}");
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + escaped);
        List<Path> out = new ArrayList<>();
        // The pattern may have folders ("train/part-*"); only its last segment is matched by listing.
        int slash = pattern.lastIndexOf('/');
        Path base = slash < 0 ? dir : dir.resolve(pattern.substring(0, slash));
        if (slash >= 0 && pattern.substring(0, slash).matches(".*[*?\\[].*")) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.filter(Files::isRegularFile).filter(p -> m.matches(dir.relativize(p))).forEach(out::add);
            }
        } else if (Files.isDirectory(base)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(base)) {
                for (Path p : s) {
                    if (Files.isRegularFile(p) && m.matches(dir.relativize(p))) out.add(p);
                }
            }
        }
        out.sort(null);
        return out;
    }
}
