package org.slim4j.io.convert;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.io.datasets.LabelsFile;
import org.slim4j.io.download.RemoteFile;
import org.slim4j.io.example.ExampleBuilder;

/**
 * TF-Slim's {@code download_and_convert_cifar10.py}: the five training batches (in order) into
 * {@code cifar10_train.tfrecord}, {@code test_batch} into {@code cifar10_test.tfrecord}, each image
 * turned from CIFAR's channel planes (R, G, B, each 32x32 row-major) into HWC and PNG-encoded
 * (format {@code png}, height/width 32); then labels.txt.
 *
 * <p>Reads the Python version ({@code cifar-10-batches-py/}, pickled dicts with {@code data} and
 * {@code labels}, via the code-free {@link PickleReader}) or, failing that, the binary version
 * ({@code cifar-10-batches-bin/}: records of 1 label byte + 3072 pixel bytes).
 */
public final class Cifar10Converter {
    public static final String ARCHIVE = "cifar-10-python.tar.gz";
    public static final String URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz";
    public static final String PY_DIR = "cifar-10-batches-py";
    public static final String BIN_DIR = "cifar-10-batches-bin";
    static final int SIZE = 32;
    static final int PIXELS = SIZE * SIZE * 3;

    private Cifar10Converter() {
    }

    /** The archive TF-Slim downloads, with its published size and MD5. */
    public static RemoteFile remoteFile(String url) {
        if (url != null) return new RemoteFile(archiveName(url), List.of(URI.create(url)), -1, null, null);
        return new RemoteFile(ARCHIVE, List.of(URI.create(URL)), 170498071L, null, "c58f30108f718f92721af3b95e74349a");
    }

    private static String archiveName(String url) {
        String path = URI.create(url).getPath();
        String name = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
        return name.isEmpty() ? ARCHIVE : name;
    }

    /** One batch: labels[n] and pixels[n * 3072] in CIFAR's planar layout. */
    record Batch(int[] labels, byte[] planar) {
    }

    /**
     * The folder holding the batches: {@code dir} itself, or its {@code cifar-10-batches-py} /
     * {@code cifar-10-batches-bin} subfolder; null if none has them.
     */
    public static Path findBatches(Path dir) {
        for (Path p : new Path[] {dir, dir.resolve(PY_DIR), dir.resolve(BIN_DIR)}) {
            if (Files.isRegularFile(p.resolve("data_batch_1")) || Files.isRegularFile(p.resolve("data_batch_1.bin"))) return p;
        }
        return null;
    }

    public static List<ConvertedFile> convert(Path batchesDir, Path outDir, int threads, PrintStream log) throws IOException {
        Path dir = findBatches(batchesDir);
        if (dir == null) {
            throw new NoSuchFileException(batchesDir.toString(), null, "no CIFAR-10 batches (data_batch_1..5, test_batch) in "
                    + batchesDir + ", " + batchesDir.resolve(PY_DIR) + " or " + batchesDir.resolve(BIN_DIR));
        }
        Files.createDirectories(outDir);
        List<ConvertedFile> out = new ArrayList<>();
        try (OrderedParallel pool = new OrderedParallel(threads, "png-encode")) {
            List<Path> train = new ArrayList<>();
            for (int i = 1; i <= 5; i++) train.add(batchFile(dir, "data_batch_" + i));
            out.add(convertSplit("train", train, outDir, pool, log));
            out.add(convertSplit("test", List.of(batchFile(dir, "test_batch")), outDir, pool, log));
        }
        LabelsFile.write(LabelsFile.fromList(Datasets.CIFAR10_CLASSES), outDir);
        return out;
    }

    private static Path batchFile(Path dir, String name) throws NoSuchFileException {
        for (Path p : new Path[] {dir.resolve(name), dir.resolve(name + ".bin")}) {
            if (Files.isRegularFile(p)) return p;
        }
        throw new NoSuchFileException(dir.resolve(name).toString(), null, "missing CIFAR-10 batch " + name);
    }

    private static ConvertedFile convertSplit(String split, List<Path> files, Path outDir, OrderedParallel pool, PrintStream log) throws IOException {
        Path target = outDir.resolve(Datasets.CIFAR10.patternFor(split));
        return RecordFiles.write(target, split, writer -> {
            long offset = 0;
            for (Path f : files) {
                Batch b = readBatch(f);
                int n = b.labels().length;
                ConsoleCounter counter = new ConsoleCounter(log, ">> Reading file [" + f + "] image %d/%d", offset + n);
                final long base = offset;
                byte[] planar = b.planar();
                pool.run(0, n, i -> ImageCodec.encodePng(planarToHwc(planar, i), 0, SIZE, SIZE, 3), (i, png) -> {
                    writer.write(ExampleBuilder.image(png, "png", SIZE, SIZE, b.labels()[i]).toByteArray());
                    counter.step(base + i + 1);
                });
                counter.done();
                offset += n;
            }
        });
    }

    /** Image i of a planar batch (3 planes of 32x32) as interleaved HWC bytes: numpy's transpose((1, 2, 0)). */
    static byte[] planarToHwc(byte[] planar, int i) {
        byte[] hwc = new byte[PIXELS];
        int base = i * PIXELS;
        int plane = SIZE * SIZE;
        for (int p = 0; p < plane; p++) {
            hwc[3 * p] = planar[base + p];
            hwc[3 * p + 1] = planar[base + plane + p];
            hwc[3 * p + 2] = planar[base + 2 * plane + p];
        }
        return hwc;
    }

    /** Reads a batch file, pickled (Python version) or binary (.bin). */
    static Batch readBatch(Path file) throws IOException {
        byte[] data = Files.readAllBytes(file);
        if (data.length > 0 && (data[0] & 0xff) == 0x80) return fromPickle(data, file);
        return fromBinary(data, file);
    }

    /** Binary version: n records of {label byte, 3072 pixel bytes}. */
    static Batch fromBinary(byte[] data, Path file) throws IOException {
        int rec = 1 + PIXELS;
        if (data.length == 0 || data.length % rec != 0) {
            throw new IOException(file + ": " + data.length + " bytes is not a whole number of " + rec
                    + "-byte CIFAR-10 binary records (truncated, or not a CIFAR-10 batch)");
        }
        int n = data.length / rec;
        int[] labels = new int[n];
        byte[] planar = new byte[n * PIXELS];
        for (int i = 0; i < n; i++) {
            labels[i] = data[i * rec] & 0xff;
            if (labels[i] > 9) throw new IOException(file + ": record " + i + " has label " + labels[i] + ", outside 0..9");
            System.arraycopy(data, i * rec + 1, planar, i * PIXELS, PIXELS);
        }
        return new Batch(labels, planar);
    }

    /** Python version: a pickled dict {data: uint8 ndarray [n, 3072], labels: list of n ints, ...}. */
    static Batch fromPickle(byte[] bytes, Path file) throws IOException {
        Object root = PickleReader.load(bytes, file.toString());
        if (!(root instanceof Map<?, ?> dict)) throw new IOException(file + ": expected a pickled dict, got " + PickleReader.typeName(root));
        Object data = dict.get("data");
        Object labelsObj = dict.containsKey("labels") ? dict.get("labels") : dict.get("fine_labels");
        if (data == null || labelsObj == null) {
            throw new IOException(file + ": the pickled dict has no 'data' and 'labels' entries (keys: " + dict.keySet() + ")");
        }
        byte[] planar = ndarrayBytes(data, file);
        if (!(labelsObj instanceof List<?> labelList)) throw new IOException(file + ": 'labels' is not a list");
        int n = labelList.size();
        if ((long) n * PIXELS != planar.length) {
            throw new IOException(file + ": " + n + " labels but " + planar.length + " pixel bytes (expected " + (long) n * PIXELS + ")");
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            Object l = labelList.get(i);
            if (!(l instanceof Long v) || v < 0 || v > 9) throw new IOException(file + ": label " + i + " is " + l + ", not an integer in 0..9");
            labels[i] = (int) (long) v;
        }
        return new Batch(labels, planar);
    }

    /**
     * The raw bytes of a pickled C-ordered uint8 numpy array: {@code _reconstruct(ndarray, (0,), b'b')}
     * with state {@code (version, shape, dtype, is_fortran, raw bytes)}.
     */
    static byte[] ndarrayBytes(Object o, Path file) throws IOException {
        if (!(o instanceof PickleReader.Call c) || !(c.callable instanceof PickleReader.Global g) || !g.name().equals("_reconstruct")
                || !(c.state instanceof Object[] state) || state.length != 5) {
            throw new IOException(file + ": 'data' is not a pickled numpy array (" + o + ")");
        }
        if (!(state[1] instanceof Object[] shape) || shape.length != 2 || !(shape[1] instanceof Long cols) || cols != PIXELS) {
            throw new IOException(file + ": 'data' must have shape [n, " + PIXELS + "], got " + java.util.Arrays.deepToString(state[1] instanceof Object[] s ? s : new Object[] {state[1]}));
        }
        if (!(state[2] instanceof PickleReader.Call dt) || dt.args.length < 1 || !isUint8(dt.args[0])) {
            throw new IOException(file + ": 'data' must be a uint8 array, got dtype " + state[2]);
        }
        if (Boolean.TRUE.equals(state[3])) throw new IOException(file + ": 'data' is a Fortran-ordered array; expected C order");
        Object raw = state[4];
        if (raw instanceof byte[] b) return b;
        if (raw instanceof String s) return s.getBytes(StandardCharsets.ISO_8859_1); // Python 2 str re-read as latin-1 text
        throw new IOException(file + ": 'data' has no raw bytes (" + PickleReader.typeName(raw) + ")");
    }

    private static boolean isUint8(Object dtypeName) {
        String s = dtypeName instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1) : String.valueOf(dtypeName);
        return s.equals("u1") || s.equals("uint8");
    }
}
