package org.slim4j.io.datasets;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TF-Slim's {@code labels.txt} ({@code dataset_utils.write_label_file / has_labels / read_label_file}):
 * one line {@code <int id>:<class name>\n} per class, UTF-8; a line splits at its first ':' (names may
 * contain more colons), blank lines are ignored. Written in the map's order.
 */
public final class LabelsFile {
    public static final String LABELS_FILENAME = "labels.txt";

    private LabelsFile() {
    }

    public static boolean has(Path datasetDir) {
        return Files.isRegularFile(datasetDir.resolve(LABELS_FILENAME));
    }

    /** Reads {@code datasetDir/labels.txt} into id → name, in file order. */
    public static Map<Integer, String> read(Path datasetDir) throws IOException {
        return readFile(datasetDir.resolve(LABELS_FILENAME));
    }

    public static Map<Integer, String> readFile(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Map<Integer, String> labels = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1); // written on Windows
            if (line.isEmpty()) continue;
            int colon = line.indexOf(':');
            if (colon < 0) throw new IOException(file + ":" + (i + 1) + ": expected '<id>:<class name>', got '" + line + "'");
            int id;
            try {
                id = Integer.parseInt(line.substring(0, colon).trim());
            } catch (NumberFormatException e) {
                throw new IOException(file + ":" + (i + 1) + ": '" + line.substring(0, colon) + "' is not an integer class id");
            }
            if (labels.put(id, line.substring(colon + 1)) != null) {
                throw new IOException(file + ":" + (i + 1) + ": class id " + id + " appears twice");
            }
        }
        return labels;
    }

    /** Writes {@code datasetDir/labels.txt} (atomically: a reader never sees half a file). */
    public static Path write(Map<Integer, String> labelsToNames, Path datasetDir) throws IOException {
        Files.createDirectories(datasetDir);
        Path file = datasetDir.resolve(LABELS_FILENAME);
        Path tmp = datasetDir.resolve(LABELS_FILENAME + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (Map.Entry<Integer, String> e : labelsToNames.entrySet()) {
                if (e.getValue().indexOf('\n') >= 0) throw new IllegalArgumentException("class name with a newline: " + e.getValue());
                w.write(e.getKey() + ":" + e.getValue() + "\n");
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /** {@code {0: names[0], 1: names[1], ...}}. */
    public static Map<Integer, String> fromList(List<String> names) {
        Map<Integer, String> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) m.put(i, names.get(i));
        return m;
    }
}
