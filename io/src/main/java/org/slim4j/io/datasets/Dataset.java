package org.slim4j.io.datasets;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One split of a data set, ready to read: TF-Slim's {@code slim.dataset.Dataset} as returned by
 * {@code dataset_factory.get_dataset(name, split_name, dataset_dir)}.
 *
 * @param descriptor    how the data set is laid out and decoded
 * @param split         the split name
 * @param datasetDir    the folder holding the files
 * @param dataSources   the TFRecord files of this split, sorted by name
 * @param numSamples    the descriptor's sample count for this split
 * @param labelsToNames labels.txt's contents, or null when the folder has none
 */
public record Dataset(DatasetDescriptor descriptor, String split, Path datasetDir, List<Path> dataSources,
                      long numSamples, Map<Integer, String> labelsToNames) {
    public Dataset {
        dataSources = List.copyOf(dataSources);
        labelsToNames = labelsToNames == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(labelsToNames));
    }

    public String name() {
        return descriptor.name();
    }

    public int numClasses() {
        return descriptor.numClasses();
    }
}
