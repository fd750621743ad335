package org.slim4j.tools.data;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slim4j.io.convert.ConvertedFile;
import org.slim4j.io.convert.ImagenetBuilder;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j build_imagenet_data}: TF-Slim's {@code build_imagenet_data.py} with its flags and
 * defaults, plus {@code --validation_labels_file} (flat validation images, as downloaded) and
 * {@code --skip_corrupt_records}. An empty {@code --train_directory} or
 * {@code --validation_directory} skips that split; an empty {@code --bounding_box_file} writes no
 * boxes.
 */
public final class BuildImagenetDataCommand implements Command {
    private final Flags flags = new Flags("build_imagenet_data");
    private final Flags.Flag<String> trainDirectory = flags.string("train_directory", "/tmp/", "Training data directory (<synset>/*.JPEG); empty: skip train");
    private final Flags.Flag<String> validationDirectory = flags.string("validation_directory", "/tmp/",
            "Validation data directory (<synset>/*.JPEG, or flat with --validation_labels_file); empty: skip validation");
    private final Flags.Flag<Path> outputDirectory = flags.path("output_directory", Path.of("/tmp/"), "Output data directory");
    private final Flags.Flag<Integer> trainShards = flags.integer("train_shards", 1024, "Number of shards in training TFRecord files.");
    private final Flags.Flag<Integer> validationShards = flags.integer("validation_shards", 128, "Number of shards in validation TFRecord files.");
    private final Flags.Flag<Integer> numThreads = flags.integer("num_threads", 8,
            "Number of threads to preprocess the images (must divide both shard counts).");
    private final Flags.Flag<Path> labelsFile = flags.path("labels_file", Path.of("imagenet_lsvrc_2015_synsets.txt"),
            "Labels file: one synset per line; label = line number (1-based), 0 = background");
    private final Flags.Flag<Path> metadataFile = flags.path("imagenet_metadata_file", Path.of("imagenet_metadata.txt"),
            "ImageNet metadata file: <synset><TAB><human readable label> per line");
    private final Flags.Flag<String> boundingBoxFile = flags.string("bounding_box_file", "./imagenet_2012_bounding_boxes.csv",
            "Bounding box file (<file>.JPEG,xmin,ymin,xmax,ymax per line); empty: no boxes");
    private final Flags.Flag<String> validationLabelsFile = flags.string("validation_labels_file", "",
            "imagenet_2012_validation_synset_labels.txt when the validation images lie flat in --validation_directory");
    private final Flags.Flag<Boolean> skipCorrupt = flags.bool("skip_corrupt_records", false,
            "skip (and report) images that cannot be decoded instead of failing");

    @Override
    public String name() {
        return "build_imagenet_data";
    }

    @Override
    public String description() {
        return "convert ImageNet's JPEG folders into TF-Slim's sharded TFRecord files (train-*-of-01024, validation-*-of-00128)";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        int threads = numThreads.get();
        if (threads < 1) throw new UsageException(name() + ": invalid value '" + threads + "' for flag --num_threads: must be >= 1");
        if (trainShards.get() < 1 || validationShards.get() < 1) throw new UsageException(name() + ": shard counts must be >= 1");
        if (trainShards.get() % threads != 0 || validationShards.get() % threads != 0) {
            throw new UsageException(name() + ": --num_threads=" + threads + " must divide --train_shards=" + trainShards.get()
                    + " and --validation_shards=" + validationShards.get());
        }
        Path train = pathOrNull(trainDirectory.get());
        Path validation = pathOrNull(validationDirectory.get());
        if (train == null && validation == null) throw new UsageException(name() + ": both --train_directory and --validation_directory are empty: nothing to do");
        Path boxes = pathOrNull(boundingBoxFile.get());
        if (boxes != null && !Files.isRegularFile(boxes)) {
            if (boundingBoxFile.isSet()) throw new UsageException(name() + ": --bounding_box_file=" + boxes + " does not exist");
            err.println(name() + ": no bounding box file " + boxes + "; writing no boxes (pass --bounding_box_file= to silence this)");
            boxes = null;
        }
        ImagenetBuilder.Options o = new ImagenetBuilder.Options(train, validation, outputDirectory.get(), trainShards.get(),
                validationShards.get(), threads, labelsFile.get(), metadataFile.get(), boxes,
                pathOrNull(validationLabelsFile.get()), skipCorrupt.get());
        long records = 0;
        for (ConvertedFile f : ImagenetBuilder.run(o, out)) records += f.records();
        out.println("build_imagenet_data: wrote " + records + " records to " + outputDirectory.get());
        return Main.EXIT_OK;
    }

    private static Path pathOrNull(String s) {
        return s == null || s.isEmpty() ? null : Path.of(s);
    }
}
