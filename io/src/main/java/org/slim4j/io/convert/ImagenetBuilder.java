package org.slim4j.io.convert;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slim4j.io.datasets.ImagenetLabels;
import org.slim4j.io.datasets.LabelsFile;
import org.slim4j.io.example.ExampleBuilder;

/**
 * TF-Slim's {@code build_imagenet_data.py}: ImageNet's JPEGs into sharded TFRecords of tf.Examples.
 *
 * <p>Inputs: {@code <dir>/<synset>/*.JPEG} for each split (the validation images may instead lie flat
 * in their folder with {@code validationLabelsFile} = imagenet_2012_validation_synset_labels.txt,
 * line i naming the synset of ILSVRC2012_val_0000000i.JPEG: what preprocess_imagenet_validation_data.py
 * would have sorted into folders); the synset list (label = 1-based line number, 0 = background);
 * the synset → human-readable name metadata; the bounding-box CSV of process_bounding_boxes.py
 * ({@code <file>.JPEG,xmin,ymin,xmax,ymax}, relative coordinates).
 *
 * <p>Outputs, as TF-Slim: the file list of each split shuffled with Python 2's
 * {@code random.seed(12345); random.shuffle}, split into {@code numThreads} contiguous ranges
 * ({@code np.linspace}), each thread writing {@code shards / numThreads} shards
 * {@code validation-%05d-of-%05d} then {@code train-%05d-of-%05d}; features image/height, width,
 * colorspace 'RGB', channels 3, class/label, class/synset, class/text,
 * object/bbox/{xmin,xmax,ymin,ymax} (float lists), object/bbox/label, format 'JPEG', filename
 * (basename), encoded. PNG files and CMYK JPEGs (TF-Slim fixes 1 and 22 named files) are recognised
 * by their bytes and re-encoded as RGB JPEG at quality 100. Also writes labels.txt (1001 names,
 * background first), which TF-Slim's imagenet.py would otherwise create when reading.
 */
public final class ImagenetBuilder {
    public static final int RANDOM_SEED = 12345;
    private static final Pattern VAL_NAME = Pattern.compile("ILSVRC2012_val_(\\d{8})\\.JPEG");

    /**
     * TF-Slim's flags (plus {@code validationLabelsFile} and {@code skipCorrupt}). A null
     * train/validation directory skips that split; a null bounding-box file means no boxes.
     */
    public record Options(Path trainDirectory, Path validationDirectory, Path outputDirectory, int trainShards,
                          int validationShards, int numThreads, Path labelsFile, Path imagenetMetadataFile,
                          Path boundingBoxFile, Path validationLabelsFile, boolean skipCorrupt) {
        public static Options defaults() {
            return new Options(Path.of("/tmp/"), Path.of("/tmp/"), Path.of("/tmp/"), 1024, 128, 8,
                    Path.of("imagenet_lsvrc_2015_synsets.txt"), Path.of("imagenet_metadata.txt"),
                    Path.of("./imagenet_2012_bounding_boxes.csv"), null, false);
        }
    }

    /** One image to convert. */
    record Item(Path file, int label, String synset) {
    }

    private final Options o;
    private final PrintStream log;
    private final AtomicLong skipped = new AtomicLong();
    /** Set when a thread fails, so that the others stop instead of finishing their shards. */
    private final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();

    private ImagenetBuilder(Options o, PrintStream log) {
        this.o = o;
        this.log = log;
    }

    /** Runs the conversion; returns the shards written with their record counts. */
    public static List<ConvertedFile> run(Options o, PrintStream log) throws IOException {
        return new ImagenetBuilder(o, log).run();
    }

    private List<ConvertedFile> run() throws IOException {
        if (o.numThreads() < 1) throw new IllegalArgumentException("num_threads must be >= 1, got " + o.numThreads());
        if (o.trainShards() < 1 || o.validationShards() < 1) throw new IllegalArgumentException("train_shards and validation_shards must be >= 1");
        if (o.trainShards() % o.numThreads() != 0) {
            throw new IllegalArgumentException("Please make the num_threads (" + o.numThreads() + ") commensurate with train_shards (" + o.trainShards() + ")");
        }
        if (o.validationShards() % o.numThreads() != 0) {
            throw new IllegalArgumentException("Please make the num_threads (" + o.numThreads() + ") commensurate with validation_shards (" + o.validationShards() + ")");
        }
        requireFile(o.labelsFile(), "labels_file");
        requireFile(o.imagenetMetadataFile(), "imagenet_metadata_file");
        Files.createDirectories(o.outputDirectory());
        say("Saving results to " + o.outputDirectory());
        List<String> synsets = ImagenetLabels.readSynsets(o.labelsFile());
        Map<String, String> synsetToHuman = ImagenetLabels.readMetadata(o.imagenetMetadataFile());
        for (String s : synsets) {
            if (!synsetToHuman.containsKey(s)) throw new IOException(o.imagenetMetadataFile() + ": Failed to find: " + s + " (a synset of " + o.labelsFile() + ")");
        }
        Map<String, List<float[]>> boxes = Map.of();
        if (o.boundingBoxFile() != null) {
            requireFile(o.boundingBoxFile(), "bounding_box_file");
            boxes = readBoundingBoxes(o.boundingBoxFile());
            int count = 0;
            for (List<float[]> b : boxes.values()) count += b.size();
            say("Successfully read " + count + " bounding boxes across " + boxes.size() + " images.");
        }
        List<ConvertedFile> out = new ArrayList<>();
        if (o.validationDirectory() != null) {
            List<Item> items = o.validationLabelsFile() != null
                    ? findFlatValidationFiles(o.validationDirectory(), o.validationLabelsFile(), synsets)
                    : findImageFiles(o.validationDirectory(), synsets);
            out.addAll(processDataset("validation", items, o.validationShards(), synsetToHuman, boxes));
        }
        if (o.trainDirectory() != null) {
            out.addAll(processDataset("train", findImageFiles(o.trainDirectory(), synsets), o.trainShards(), synsetToHuman, boxes));
        }
        LabelsFile.write(ImagenetLabels.labelsToNames(synsets, synsetToHuman), o.outputDirectory());
        if (skipped.get() > 0) say("Skipped " + skipped.get() + " images that could not be decoded");
        return out;
    }

    /** Images skipped as undecodable (with skipCorrupt). */
    public long skipped() {
        return skipped.get();
    }

    private static void requireFile(Path p, String flag) throws NoSuchFileException {
        if (p == null || !Files.isRegularFile(p)) {
            throw new NoSuchFileException(String.valueOf(p), null, "--" + flag + " does not name a file");
        }
    }

    /** {@code dir/<synset>/*.JPEG} for each synset in order, each folder's files sorted; then shuffled as TF-Slim does. */
    static List<Item> findImageFiles(Path dir, List<String> synsets) throws IOException {
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "not a folder");
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < synsets.size(); i++) {
            Path sub = dir.resolve(synsets.get(i));
            if (!Files.isDirectory(sub)) continue;
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(sub, "*.JPEG")) {
                for (Path p : s) if (Files.isRegularFile(p)) files.add(p);
            }
            files.sort(null);
            for (Path p : files) items.add(new Item(p, i + 1, synsets.get(i)));
        }
        if (items.isEmpty()) {
            throw new IOException(dir + ": no <synset>/*.JPEG files for any of the " + synsets.size() + " synsets of the labels file");
        }
        return shuffled(items);
    }

    /** Flat validation images, their synsets taken from the validation labels file; grouped as if sorted into folders. */
    static List<Item> findFlatValidationFiles(Path dir, Path validationLabels, List<String> synsets) throws IOException {
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "not a folder");
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(validationLabels, StandardCharsets.UTF_8)) if (!l.isBlank()) lines.add(l.strip());
        Map<String, Integer> labelOf = new HashMap<>();
        for (int i = 0; i < synsets.size(); i++) labelOf.put(synsets.get(i), i + 1);
        Map<String, List<Path>> bySynset = new HashMap<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.JPEG")) {
            for (Path p : s) {
                Matcher m = VAL_NAME.matcher(p.getFileName().toString());
                if (!m.matches()) continue;
                int index = Integer.parseInt(m.group(1));
                if (index < 1 || index > lines.size()) {
                    throw new IOException(validationLabels + " has " + lines.size() + " lines; no synset for " + p.getFileName());
                }
                bySynset.computeIfAbsent(lines.get(index - 1), k -> new ArrayList<>()).add(p);
            }
        }
        List<Item> items = new ArrayList<>();
        for (String synset : synsets) {
            List<Path> files = bySynset.getOrDefault(synset, List.of());
            files.sort(null);
            for (Path p : files) items.add(new Item(p, labelOf.get(synset), synset));
        }
        if (items.isEmpty()) throw new IOException(dir + ": no ILSVRC2012_val_*.JPEG files of the labels file's synsets");
        return shuffled(items);
    }

    private static List<Item> shuffled(List<Item> items) {
        List<Integer> index = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) index.add(i);
        new PythonRandom(RANDOM_SEED).shufflePython2(index);
        List<Item> out = new ArrayList<>(items.size());
        for (int i : index) out.add(items.get(i));
        return out;
    }

    /** {@code <file>,xmin,ymin,xmax,ymax} lines → basename → boxes (xmin, ymin, xmax, ymax), in file order. */
    static Map<String, List<float[]>> readBoundingBoxes(Path csv) throws IOException {
        Map<String, List<float[]>> m = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.isEmpty()) continue;
            String[] parts = l.split(",");
            if (parts.length != 5) throw new IOException(csv + ":" + (i + 1) + ": Failed to parse: " + l + " (expected file,xmin,ymin,xmax,ymax)");
            float[] box = new float[4];
            try {
                for (int k = 0; k < 4; k++) box[k] = Float.parseFloat(parts[k + 1].strip());
            } catch (NumberFormatException e) {
                throw new IOException(csv + ":" + (i + 1) + ": Failed to parse: " + l + " (not a number)");
            }
            m.computeIfAbsent(parts[0].strip(), k -> new ArrayList<>()).add(box);
        }
        return m;
    }

    /** {@code np.linspace(start, stop, num).astype(int)}, with numpy's arithmetic. */
    static long[] linspaceInt(long start, long stop, int num) {
        long[] out = new long[num];
        if (num == 1) {
            out[0] = start;
            return out;
        }
        double step = (double) (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) out[i] = (long) (i * step + start);
        out[num - 1] = stop;
        return out;
    }

    private List<ConvertedFile> processDataset(String name, List<Item> items, int numShards, Map<String, String> synsetToHuman,
                                               Map<String, List<float[]>> boxes) throws IOException {
        int withBoxes = 0;
        for (Item it : items) if (boxes.containsKey(it.file().getFileName().toString())) withBoxes++;
        say("Found " + items.size() + " JPEG files inside " + (name.equals("train") ? o.trainDirectory() : o.validationDirectory()) + ".");
        say("Found " + withBoxes + " images with bboxes out of " + items.size() + " images");
        int threads = o.numThreads();
        long[] spacing = linspaceInt(0, items.size(), threads + 1);
        List<ConvertedFile> out = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int thread = t;
            Thread w = new Thread(() -> {
                try {
                    processBatch(thread, spacing[thread], spacing[thread + 1], name, items, numShards, synsetToHuman, boxes, out);
                } catch (Throwable e) {
                    if (failure.compareAndSet(null, e)) stop.set(true);
                }
            }, "build-imagenet-" + name + "-" + t);
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                for (Thread x : workers) x.interrupt();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        Throwable f = failure.get();
        if (f instanceof IOException io) throw io;
        if (f instanceof RuntimeException re) throw re;
        if (f instanceof Error err) throw err;
        say("Finished writing all " + items.size() + " images in data set.");
        List<ConvertedFile> sorted = new ArrayList<>(out);
        sorted.sort((a, b) -> a.path().compareTo(b.path()));
        return sorted;
    }

    private void processBatch(int thread, long from, long to, String name, List<Item> items, int numShards,
                              Map<String, String> synsetToHuman, Map<String, List<float[]>> boxes, List<ConvertedFile> out) throws IOException {
        int shardsPerBatch = numShards / o.numThreads();
        long[] shardRanges = linspaceInt(from, to, shardsPerBatch + 1);
        long counter = 0;
        for (int s = 0; s < shardsPerBatch; s++) {
            int shard = thread * shardsPerBatch + s;
            Path file = o.outputDirectory().resolve(String.format("%s-%05d-of-%05d", name, shard, numShards));
            final long first = shardRanges[s];
            final long last = shardRanges[s + 1];
            final long before = counter;
            ConvertedFile written = RecordFiles.write(file, name, writer -> {
                long done = before;
                for (long i = first; i < last; i++) {
                    if (stop.get()) throw new IOException("stopped: another thread failed");
                    Item it = items.get((int) i);
                    byte[] example = convert(it, synsetToHuman.get(it.synset()), boxes.getOrDefault(it.file().getFileName().toString(), List.of()));
                    if (example != null) writer.write(example);
                    done++;
                    if (done % 1000 == 0) {
                        say(LocalDateTime.now() + " [thread " + thread + "]: Processed " + done + " of " + (to - from) + " images in thread batch.");
                    }
                }
            });
            counter += last - first;
            say(LocalDateTime.now() + " [thread " + thread + "]: Wrote " + written.records() + " images to " + file);
            out.add(written);
        }
        say(LocalDateTime.now() + " [thread " + thread + "]: Wrote " + counter + " images to " + shardsPerBatch + " shards.");
    }

    /** One image's serialized tf.Example, or null when it is skipped as undecodable. */
    private byte[] convert(Item it, String human, List<float[]> bboxes) throws IOException {
        byte[] data = Files.readAllBytes(it.file());
        int[] hwc;
        try {
            if (ImageCodec.isPng(data)) {
                say("Converting PNG to JPEG for " + it.file());
                data = ImageCodec.toRgbJpeg(data, it.file().toString());
            } else if (ImageCodec.isCmykJpeg(data)) {
                say("Converting CMYK to RGB for " + it.file());
                data = ImageCodec.toRgbJpeg(data, it.file().toString());
            }
            hwc = ImageCodec.dimensions(data, it.file().toString());
        } catch (IOException e) {
            if (!o.skipCorrupt()) throw e;
            skipped.incrementAndGet();
            say("skipping " + it.file() + ": " + e.getMessage());
            return null;
        }
        int n = bboxes.size();
        float[] xmin = new float[n];
        float[] ymin = new float[n];
        float[] xmax = new float[n];
        float[] ymax = new float[n];
        long[] boxLabels = new long[n];
        for (int i = 0; i < n; i++) {
            float[] b = bboxes.get(i);
            xmin[i] = b[0];
            ymin[i] = b[1];
            xmax[i] = b[2];
            ymax[i] = b[3];
            boxLabels[i] = it.label();
        }
        return new ExampleBuilder()
                .int64("image/height", hwc[0])
                .int64("image/width", hwc[1])
                .string("image/colorspace", "RGB")
                .int64("image/channels", 3)
                .int64("image/class/label", it.label())
                .string("image/class/synset", it.synset())
                .string("image/class/text", human)
                .floats("image/object/bbox/xmin", xmin)
                .floats("image/object/bbox/xmax", xmax)
                .floats("image/object/bbox/ymin", ymin)
                .floats("image/object/bbox/ymax", ymax)
                .int64("image/object/bbox/label", boxLabels)
                .string("image/format", "JPEG")
                .string("image/filename", it.file().getFileName().toString())
                .bytes("image/encoded", data)
                .toByteArray();
    }

    private void say(String line) {
        if (log != null) {
            synchronized (log) {
                log.println(line);
            }
        }
    }
}
