package org.slim4j.io.pipeline;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.preprocessing.ImagePreprocessor;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * The input pipeline of TF-Slim's training and evaluation scripts: {@code DatasetDataProvider}
 * (parallel readers over the shards, a shuffling queue with a minimum fill) followed by the
 * decode + {@code preprocessing_fn} threads and {@code tf.train.batch} with its prefetch queue.
 *
 * <pre>
 *  reader 0..R-1 ──▶ mixer: round robin, ──▶ workers 0..T-1: parse Example, ──▶ assembler: in order, ──▶ prefetch ──▶ next()
 *  (files of each     shuffle buffer,         decode image, preprocess         fill [B,H,W,C] + [B]      queue
 *   epoch, CRCs)      sequence numbers        (seeded per record)
 * </pre>
 *
 * <ul>
 *   <li><b>Readers</b> ({@code numReaders}) read TFRecord files and verify their CRCs; the files of
 *       each epoch (shuffled per epoch when {@code shuffle}) are dealt round robin to the readers,
 *       as slim's readers share one filename queue.</li>
 *   <li><b>The mixer</b> takes one record from each reader in turn, passes them through a shuffle
 *       buffer that releases a random record only while it holds more than {@code minAfterDequeue}
 *       (TF's RandomShuffleQueue {@code min_after_dequeue}; drained at the end), and numbers them. It
 *       only moves references.</li>
 *   <li><b>Workers</b> ({@code numThreads}) do the expensive part: Example parsing, image decoding
 *       and preprocessing, each record with its own {@link SeededRandom} derived from the seed and
 *       the record's number.</li>
 *   <li><b>The assembler</b> copies the results, in record order, into batch tensors; finished
 *       batches wait in a prefetch queue of {@code prefetchBatches}.</li>
 * </ul>
 * Because records are numbered deterministically and every random draw depends only on the seed
 * and that number, a given seed gives the same batches on every run, whatever the thread timing.
 *
 * <p>Bad data: a corrupt TFRecord, a record that is not a valid Example, an undecodable image
 * fail {@link #next()} with an IOException naming the file, record index and byte offset. With
 * {@code skipCorruptRecords}, they are skipped, counted ({@link #skippedRecords()}) and reported to
 * the log instead. Memory is bounded: at most about {@code prefetchBatches + 1} batches plus a few
 * records per thread are in flight. {@link #close()} stops every thread and frees every tensor the
 * caller has not taken.
 */
public final class DatasetDataProvider implements AutoCloseable, Iterable<Batch> {
    /** Settings; {@link #builder(Dataset)} documents the defaults. */
    public record Options(int numReaders, boolean shuffle, long seed, int commonQueueCapacity, int commonQueueMin,
                          int numEpochs, int batchSize, int numThreads, int prefetchBatches, ImagePreprocessor preprocessor,
                          int outputHeight, int outputWidth, int labelsOffset, boolean skipCorruptRecords,
                          boolean allowSmallerFinalBatch, boolean useObjectBoxes, PrintStream log) {
    }

    /** Builder with TF-Slim's train_image_classifier defaults where they exist. */
    public static final class Builder {
        private final Dataset dataset;
        private int numReaders = 4;
        private boolean shuffle = true;
        private long seed = 0;
        private int batchSize = 32;
        private int commonQueueCapacity = -1;
        private int commonQueueMin = -1;
        private int numEpochs = 0;
        private int numThreads = 4;
        private int prefetchBatches = 5;
        private ImagePreprocessor preprocessor;
        private int outputHeight;
        private int outputWidth;
        private int labelsOffset;
        private boolean skipCorruptRecords;
        private boolean allowSmallerFinalBatch;
        private boolean useObjectBoxes;
        private PrintStream log = System.err;

        private Builder(Dataset dataset) {
            this.dataset = dataset;
        }

        /** Parallel TFRecord readers (train_image_classifier's --num_readers, default 4). */
        public Builder numReaders(int n) {
            numReaders = n;
            return this;
        }

        /** Shuffle file order and records (default true; evaluation uses false). */
        public Builder shuffle(boolean s) {
            shuffle = s;
            return this;
        }

        /** Seed of every random choice in the pipeline (default 0). */
        public Builder seed(long s) {
            seed = s;
            return this;
        }

        /** Shuffle buffer capacity and minimum fill (defaults 20 and 10 batches, as train_image_classifier). */
        public Builder commonQueue(int capacity, int minAfterDequeue) {
            commonQueueCapacity = capacity;
            commonQueueMin = minAfterDequeue;
            return this;
        }

        /** Passes over the data; 0 = forever (default). */
        public Builder numEpochs(int n) {
            numEpochs = n;
            return this;
        }

        public Builder batchSize(int n) {
            batchSize = n;
            return this;
        }

        /** Decode + preprocessing threads (--num_preprocessing_threads, default 4). */
        public Builder numThreads(int n) {
            numThreads = n;
            return this;
        }

        /** Finished batches kept ready (tf.train.batch's capacity 5 * batch_size: 5). */
        public Builder prefetchBatches(int n) {
            prefetchBatches = n;
            return this;
        }

        /**
         * The per-image preprocessing and its output size. Without one, images keep their decoded
         * size (which must then be the same for all) and are only cast to float32 (0..255).
         */
        public Builder preprocessing(ImagePreprocessor p, int height, int width) {
            preprocessor = p;
            outputHeight = height;
            outputWidth = width;
            return this;
        }

        /** Subtracted from every label (--labels_offset). */
        public Builder labelsOffset(int offset) {
            labelsOffset = offset;
            return this;
        }

        /** Skip and count corrupt records and undecodable images instead of failing (--skip_corrupt_records). */
        public Builder skipCorruptRecords(boolean skip) {
            skipCorruptRecords = skip;
            return this;
        }

        /** Emit the last, smaller batch of a finite run instead of dropping it (default false, as TF). */
        public Builder allowSmallerFinalBatch(boolean allow) {
            allowSmallerFinalBatch = allow;
            return this;
        }

        /** Pass the records' object boxes (imagenet) to the preprocessing (default false, as train_image_classifier). */
        public Builder useObjectBoxes(boolean use) {
            useObjectBoxes = use;
            return this;
        }

        /** Where skipped records are reported (default System.err; null: silent). */
        public Builder log(PrintStream out) {
            log = out;
            return this;
        }

        public DatasetDataProvider build() {
            int cap = commonQueueCapacity >= 0 ? commonQueueCapacity : 20 * batchSize;
            int min = commonQueueMin >= 0 ? commonQueueMin : 10 * batchSize;
            Options o = new Options(numReaders, shuffle, seed, cap, min, numEpochs, batchSize, numThreads, prefetchBatches,
                    preprocessor, outputHeight, outputWidth, labelsOffset, skipCorruptRecords, allowSmallerFinalBatch, useObjectBoxes, log);
            return new DatasetDataProvider(dataset, o);
        }
    }

    public static Builder builder(Dataset dataset) {
        return new Builder(dataset);
    }

    // ---- messages between the stages -------------------------------------------------------

    /** A record read from a file. */
    private record Rec(byte[] data, String source) {
    }

    /** A failure that ends the run, at its place in the record order. */
    private record Failure(IOException error) {
    }

    /** A record skipped as corrupt. */
    private record Skipped(String why) {
    }

    /** A preprocessed image. */
    private record Image(Tensor pixels, int label, String source) {
    }

    private record Task(long seq, Object item) {
    }

    private static final Object END = new Object();
    /** A reader finished a file: its turn in the round robin, so that empty files cannot stall the mixer. */
    private static final Object FILE_DONE = new Object();
    private static final Task POISON = new Task(-1, null);

    // ---- state --------------------------------------------------------------------------------

    private final Dataset dataset;
    private final Options o;
    private final ExampleDecoder decoder;
    private final List<Path> files;
    private final List<BlockingQueue<Object>> readerQueues = new ArrayList<>();
    private final BlockingQueue<Task> tasks;
    private final Semaphore permits;
    private final Object[] ring;
    private final ReentrantLock ringLock = new ReentrantLock();
    private final Condition arrived = ringLock.newCondition();
    private final BlockingQueue<Object> output;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private volatile boolean closed;
    private volatile IOException crash;
    private boolean finished;

    private DatasetDataProvider(Dataset dataset, Options o) {
        check(o.numReaders() >= 1, "numReaders must be >= 1, got " + o.numReaders());
        check(o.numThreads() >= 1, "numThreads must be >= 1, got " + o.numThreads());
        check(o.batchSize() >= 1, "batchSize must be >= 1, got " + o.batchSize());
        check(o.prefetchBatches() >= 1, "prefetchBatches must be >= 1, got " + o.prefetchBatches());
        check(o.numEpochs() >= 0, "numEpochs must be >= 0 (0 = forever), got " + o.numEpochs());
        check(o.commonQueueCapacity() >= 1, "common queue capacity must be >= 1, got " + o.commonQueueCapacity());
        check(o.commonQueueMin() >= 0 && o.commonQueueMin() < o.commonQueueCapacity(),
                "common queue minimum " + o.commonQueueMin() + " must be in [0, capacity " + o.commonQueueCapacity() + ")");
        if (o.preprocessor() != null) {
            check(o.outputHeight() >= 1 && o.outputWidth() >= 1, "preprocessing output size must be >= 1, got " + o.outputHeight() + "x" + o.outputWidth());
        } else {
            check(dataset.descriptor().imageShape() != null, "dataset " + dataset.name()
                    + " has images of varying size: give a preprocessing (and output size) so that they can be batched");
        }
        check(!dataset.dataSources().isEmpty(), "dataset " + dataset.name() + " split " + dataset.split() + " has no files");
        this.dataset = dataset;
        this.o = o;
        this.decoder = new ExampleDecoder(dataset.descriptor(), o.useObjectBoxes());
        this.files = dataset.dataSources();
        int inFlight = (o.prefetchBatches() + 1) * o.batchSize() + 4 * o.numThreads();
        this.tasks = new ArrayBlockingQueue<>(2 * o.numThreads() + o.numThreads() + 1);
        this.permits = new Semaphore(inFlight);
        this.ring = new Object[inFlight];
        this.output = new ArrayBlockingQueue<>(o.prefetchBatches());
        for (int r = 0; r < o.numReaders(); r++) {
            readerQueues.add(new ArrayBlockingQueue<>(64));
            final int reader = r;
            start("slim4j-reader-" + r, () -> readLoop(reader));
        }
        start("slim4j-mixer", this::mixLoop);
        for (int t = 0; t < o.numThreads(); t++) start("slim4j-preprocess-" + t, this::workLoop);
        start("slim4j-batcher", this::assembleLoop);
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("DatasetDataProvider: " + message);
    }

    private void start(String name, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                // A bug in a stage must not hang the consumer: next() reports it once the batches
                // already made are taken (the queue may be full, so it is not queued).
                if (crash == null) crash = new IOException(Thread.currentThread().getName() + " failed: " + e, e);
            }
        }, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    // ---- consumer side -----------------------------------------------------------------------

    /**
     * The next batch, or null when the epochs are done. Blocks until a batch is ready.
     *
     * @throws IOException a corrupt record, an undecodable image (naming file, record and offset),
     *     or a failed stage; the provider is finished afterwards
     */
    public Batch next() throws IOException {
        if (closed) throw new IllegalStateException("DatasetDataProvider is closed");
        if (finished) return null;
        Object item;
        try {
            while ((item = output.poll(50, TimeUnit.MILLISECONDS)) == null) {
                IOException c = crash;
                if (c != null && output.isEmpty()) {
                    finished = true;
                    throw c;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a batch", e);
        }
        if (item instanceof Batch b) {
            delivered.incrementAndGet();
            return b;
        }
        finished = true;
        if (item instanceof Failure f) throw f.error();
        return null;
    }

    /** Iterates over the batches; errors surface as UncheckedIOException. */
    @Override
    public Iterator<Batch> iterator() {
        return new Iterator<>() {
            private Batch ahead;

            @Override
            public boolean hasNext() {
                if (ahead == null && !finished) {
                    try {
                        ahead = DatasetDataProvider.this.next();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return ahead != null;
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                Batch b = ahead;
                ahead = null;
                return b;
            }
        };
    }

    public Dataset dataset() {
        return dataset;
    }

    public Options options() {
        return o;
    }

    /** Records (or corrupt stretches of a file) skipped so far with skipCorruptRecords. */
    public long skippedRecords() {
        return skipped.get();
    }

    /** Batches handed out so far. */
    public long batchesDelivered() {
        return delivered.get();
    }

    /** Stops every thread and frees the tensors that were not handed out. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Thread t : threads) t.interrupt();
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Object item;
        while ((item = output.poll()) != null) {
            if (item instanceof Batch b) b.close();
        }
        ringLock.lock();
        try {
            for (int i = 0; i < ring.length; i++) {
                if (ring[i] instanceof Image img) img.pixels().close();
                ring[i] = null;
            }
        } finally {
            ringLock.unlock();
        }
    }

    // ---- readers ------------------------------------------------------------------------------

    /** The files of one epoch, in order: shuffled by a generator of (seed, epoch) when shuffling. */
    private List<Path> epochFiles(long epoch) {
        List<Path> order = new ArrayList<>(files);
        if (o.shuffle()) {
            SeededRandom rng = new SeededRandom(mix(o.seed(), 0x5EED_F11E5L + epoch));
            for (int i = order.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                Path t = order.get(i);
                order.set(i, order.get(j));
                order.set(j, t);
            }
        }
        return order;
    }

    private void readLoop(int reader) {
        BlockingQueue<Object> q = readerQueues.get(reader);
        int nFiles = files.size();
        try {
            List<Path> order = null;
            long orderEpoch = -1;
            for (long p = reader; ; p += o.numReaders()) {
                long epoch = p / nFiles;
                if (o.numEpochs() > 0 && epoch >= o.numEpochs()) break;
                if (epoch != orderEpoch) {
                    order = epochFiles(epoch);
                    orderEpoch = epoch;
                }
                Path file = order.get((int) (p % nFiles));
                TfRecordReader.Options ro = TfRecordReader.Options.defaults().skipCorrupt(o.skipCorruptRecords())
                        .onCorrupt(msg -> {
                            skipped.incrementAndGet();
                            report(msg);
                        });
                try (TfRecordReader r = TfRecordReader.open(file, ro)) {
                    TfRecord rec;
                    while ((rec = r.next()) != null) {
                        q.put(new Rec(rec.data(), rec.describe(file)));
                    }
                } catch (IOException e) {
                    q.put(new Failure(e));
                    return;
                }
                q.put(FILE_DONE);
            }
            q.put(END);
        } catch (InterruptedException e) {
            // closed
        }
    }

    // ---- mixer --------------------------------------------------------------------------------

    private long seq;

    private void mixLoop() {
        try {
            SeededRandom rng = new SeededRandom(mix(o.seed(), 0x5AFF1EL));
            int nReaders = o.numReaders();
            boolean[] done = new boolean[nReaders];
            int alive = nReaders;
            int r = 0;
            ArrayList<Object> buffer = new ArrayList<>();
            int cap = o.commonQueueCapacity();
            int min = o.commonQueueMin();
            // Turns that yielded only end-of-file markers: past 2 epochs' worth (plus the tails of
            // the files being read), every file of an epoch was empty, and reading forever would hang.
            long emptyTurns = 0;
            long emptyLimit = 2L * files.size() + nReaders;
            while (alive > 0) {
                while (done[r]) r = (r + 1) % nReaders;
                Object item = readerQueues.get(r).take();
                if (item == END) {
                    done[r] = true;
                    alive--;
                    continue;
                }
                r = (r + 1) % nReaders;
                if (item == FILE_DONE) {
                    if (o.numEpochs() == 0 && ++emptyTurns >= emptyLimit) {
                        dispatch(new Failure(new IOException("dataset " + dataset.name() + " split " + dataset.split() + ": no readable records in any of its "
                                + files.size() + " files " + files)));
                        stopWorkers();
                        return;
                    }
                    continue;
                }
                emptyTurns = 0;
                if (item instanceof Failure) {
                    dispatch(item); // the run ends at this record
                    stopWorkers();
                    return;
                }
                if (!o.shuffle()) {
                    dispatch(item);
                    continue;
                }
                buffer.add(item);
                // RandomShuffleQueue: a dequeue waits until more than min_after_dequeue are queued.
                while (buffer.size() > min || buffer.size() >= cap) dispatch(removeRandom(buffer, rng));
            }
            while (!buffer.isEmpty()) dispatch(removeRandom(buffer, rng));
            dispatch(END);
            stopWorkers();
        } catch (InterruptedException e) {
            // closed
        }
    }

    private static Object removeRandom(ArrayList<Object> buffer, SeededRandom rng) {
        int i = rng.nextInt(buffer.size());
        Object x = buffer.get(i);
        int last = buffer.size() - 1;
        buffer.set(i, buffer.get(last));
        buffer.remove(last);
        return x;
    }

    private void dispatch(Object item) throws InterruptedException {
        permits.acquire();
        tasks.put(new Task(seq++, item));
    }

    private void stopWorkers() throws InterruptedException {
        for (int i = 0; i < o.numThreads(); i++) tasks.put(POISON);
    }

    // ---- workers ------------------------------------------------------------------------------

    private void workLoop() {
        try {
            while (true) {
                Task t = tasks.take();
                if (t == POISON) return;
                Object result = t.item() instanceof Rec rec ? process(t.seq(), rec) : t.item();
                try {
                    publish(t.seq(), result);
                } catch (InterruptedException e) {
                    if (result instanceof Image img) img.pixels().close();
                    throw e;
                }
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** Decodes and preprocesses one record: an Image, a Skipped or a Failure. */
    private Object process(long seq, Rec rec) {
        ExampleDecoder.Item item;
        try {
            item = decoder.decode(rec.data(), rec.source());
        } catch (IOException e) {
            if (o.skipCorruptRecords()) return new Skipped(e.getMessage());
            return new Failure(e);
        }
        long label = item.label() - o.labelsOffset();
        try (Tensor image = item.image()) {
            if (label != (int) label) return new Failure(new IOException(rec.source() + ": label " + item.label() + " does not fit an int32"));
            Tensor out;
            if (o.preprocessor() != null) {
                SeededRandom rng = new SeededRandom(mix(o.seed(), seq));
                out = o.preprocessor().preprocess(image, o.outputHeight(), o.outputWidth(), rng, item.boxes());
            } else {
                out = toFloat(image);
            }
            return new Image(out, (int) label, rec.source());
        } catch (RuntimeException e) {
            return new Failure(new IOException(rec.source() + ": preprocessing failed: " + e, e));
        }
    }

    /** uint8 → float32 without scaling (tf.to_float). */
    private static Tensor toFloat(Tensor image) {
        Tensor out = Tensor.zeros(DType.FLOAT32, image.shape());
        byte[] src = image.byteData();
        float[] dst = out.floatData();
        int so = image.offset();
        int n = image.numel();
        for (int i = 0; i < n; i++) dst[i] = src[so + i] & 0xff;
        return out;
    }

    private void publish(long s, Object result) throws InterruptedException {
        ringLock.lockInterruptibly();
        try {
            if (closed) {
                if (result instanceof Image img) img.pixels().close();
                return;
            }
            ring[(int) (s % ring.length)] = result;
            arrived.signalAll();
        } finally {
            ringLock.unlock();
        }
    }

    private Object take(long s) throws InterruptedException {
        int slot = (int) (s % ring.length);
        ringLock.lockInterruptibly();
        try {
            while (ring[slot] == null) arrived.await();
            Object r = ring[slot];
            ring[slot] = null;
            return r;
        } finally {
            ringLock.unlock();
        }
    }

    // ---- assembler ----------------------------------------------------------------------------

    private void assembleLoop() {
        int b = o.batchSize();
        Tensor images = null;
        int[] labels = new int[b];
        int[] shape = null;
        int fill = 0;
        long batchIndex = 0;
        try {
            for (long s = 0; ; s++) {
                Object r = take(s);
                permits.release();
                if (r instanceof Image img) {
                    try (Tensor px = img.pixels()) {
                        if (shape == null) {
                            shape = px.dims();
                        } else if (!Arrays.equals(shape, px.dims())) {
                            output.put(new Failure(new IOException(img.source() + ": image of shape " + px.shape() + " cannot join a batch of "
                                    + Arrays.toString(shape) + " images (give a preprocessing that resizes them)")));
                            return;
                        }
                        if (images == null) images = Tensor.zeros(DType.FLOAT32, Shape.of(b, shape[0], shape[1], shape[2]));
                        int per = px.numel();
                        System.arraycopy(px.floatData(), px.offset(), images.floatData(), images.offset() + fill * per, per);
                    }
                    labels[fill++] = img.label();
                    if (fill == b) {
                        Batch batch = new Batch(images, Tensor.of(labels.clone(), b), batchIndex++);
                        images = null;
                        fill = 0;
                        putOrClose(batch);
                    }
                } else if (r instanceof Skipped sk) {
                    skipped.incrementAndGet();
                    report("skipped " + sk.why());
                } else if (r instanceof Failure f) {
                    output.put(f);
                    return;
                } else if (r == END) {
                    if (fill > 0 && o.allowSmallerFinalBatch()) {
                        Tensor small = Tensor.zeros(DType.FLOAT32, Shape.of(fill, shape[0], shape[1], shape[2]));
                        System.arraycopy(images.floatData(), images.offset(), small.floatData(), small.offset(), small.numel());
                        putOrClose(new Batch(small, Tensor.of(Arrays.copyOf(labels, fill), fill), batchIndex++));
                    }
                    output.put(END);
                    return;
                }
            }
        } catch (InterruptedException e) {
            // closed
        } finally {
            if (images != null) images.close();
        }
    }

    private void putOrClose(Batch batch) throws InterruptedException {
        try {
            output.put(batch);
        } catch (InterruptedException e) {
            batch.close();
            throw e;
        }
        if (closed) {
            // close() may have drained the queue already; take back what is left.
            Object x;
            while ((x = output.poll()) != null) if (x instanceof Batch bb) bb.close();
        }
    }

    private void report(String message) {
        PrintStream log = o.log();
        if (log != null) {
            synchronized (log) {
                log.println("slim4j input pipeline: " + message);
            }
        }
    }

    /** A well-mixed 64-bit function of two values (SplitMix64's finaliser). */
    static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
