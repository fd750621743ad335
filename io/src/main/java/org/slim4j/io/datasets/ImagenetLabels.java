package org.slim4j.io.datasets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ImageNet's synset list ({@code imagenet_lsvrc_2015_synsets.txt}: one synset per line, 1000 lines)
 * and metadata ({@code imagenet_metadata.txt}: {@code synset<TAB>human readable name}), and
 * TF-Slim's {@code create_readable_names_for_imagenet_labels}: {0: background, i: the human name of
 * the i-th synset}.
 */
public final class ImagenetLabels {
    public static final String SYNSETS_FILENAME = "imagenet_lsvrc_2015_synsets.txt";
    public static final String METADATA_FILENAME = "imagenet_metadata.txt";

    private ImagenetLabels() {
    }

    /** The synsets, in file order (label i+1 is synsets[i]); blank lines are ignored. */
    public static List<String> readSynsets(Path file) throws IOException {
        List<String> synsets = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String s = line.strip();
            if (!s.isEmpty()) synsets.add(s);
        }
        if (synsets.isEmpty()) throw new IOException(file + ": no synsets (expected one per line, e.g. n01440764)");
        return synsets;
    }

    /** synset → human-readable name; each non-blank line must be {@code synset<TAB>name}. */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        Map<String, String> m = new HashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String[] parts = line.split("\t");
            if (parts.length != 2) throw new IOException(file + ":" + (i + 1) + ": expected 'synset<TAB>name', got '" + line + "'");
            m.put(parts[0], parts[1]);
        }
        return m;
    }

    /** {0: "background", 1..n: human names in synset order}. */
    public static Map<Integer, String> labelsToNames(List<String> synsets, Map<String, String> synsetToHuman) {
        Map<Integer, String> labels = new LinkedHashMap<>();
        labels.put(0, "background");
        for (int i = 0; i < synsets.size(); i++) {
            String human = synsetToHuman.get(synsets.get(i));
            if (human == null) throw new IllegalArgumentException("synset " + synsets.get(i) + " has no human-readable name in the metadata");
            labels.put(i + 1, human);
        }
        return labels;
    }

    /**
     * labels.txt of an imagenet folder: read when present, otherwise built from the synset and
     * metadata files in the folder (and written, as TF-Slim does); null when neither is there.
     */
    public static Map<Integer, String> forDatasetDir(Path datasetDir) throws IOException {
        if (LabelsFile.has(datasetDir)) return LabelsFile.read(datasetDir);
        Path synsets = datasetDir.resolve(SYNSETS_FILENAME);
        Path metadata = datasetDir.resolve(METADATA_FILENAME);
        if (!Files.isRegularFile(synsets) || !Files.isRegularFile(metadata)) return null;
        Map<Integer, String> labels = labelsToNames(readSynsets(synsets), readMetadata(metadata));
        LabelsFile.write(labels, datasetDir);
        return labels;
    }
}
