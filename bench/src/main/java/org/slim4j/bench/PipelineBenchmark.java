package org.slim4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.slim4j.io.datasets.Dataset;
import org.slim4j.io.datasets.DatasetDescriptor;
import org.slim4j.io.datasets.Datasets;
import org.slim4j.io.example.ExampleBuilder;
import org.slim4j.io.image.ImageDecoder;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.pipeline.Batch;
import org.slim4j.io.pipeline.DatasetDataProvider;
import org.slim4j.io.preprocessing.ImagePreprocessor;
import org.slim4j.io.preprocessing.PreprocessingFactory;
import org.slim4j.io.tfrecord.TfRecordWriter;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

/**
 * Input pipeline throughput in images per second (JMH "ops/s" = images/s: every benchmark declares
 * the images one call handles).
 *
 * <ul>
 *   <li>{@code decode*}: one thread, one image at a time: JPEG decode (ImageNet-sized, about 500x375)
 *       alone and followed by inception preprocessing to 224x224 (training: random crop, flip,
 *       colour distortion; eval: central crop and resize).</li>
 *   <li>{@code pipeline*}: the whole {@link DatasetDataProvider} (readers, shuffle buffer, decode and
 *       preprocessing on one worker per core, batching) delivering batches to a consumer that does
 *       nothing else: ImageNet-like JPEGs with inception training preprocessing at 224 (batch 32),
 *       CIFAR-10-like PNGs with cifarnet preprocessing at 32 (batch 128), MNIST-like PNGs with lenet
 *       preprocessing at 28 (batch 64).</li>
 * </ul>
 * The data is synthetic (smooth gradients plus noise, so the JPEGs compress like photos), written
 * to TFRecord shards in a temporary folder at setup.
 * Run: {@code java -cp bench/target/slim4j-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/* org.openjdk.jmh.Main PipelineBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 4)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", ForkOptions.LOOP_UNROLL, ForkOptions.NO_LATE_INLINE, "-Xmx4g"})
public class PipelineBenchmark {
    private static final int THREADS = Runtime.getRuntime().availableProcessors();

    /** A photo-like RGB image: two gradients and noise. */
    static byte[] photo(int h, int w, long seed) {
        SeededRandom r = new SeededRandom(seed);
        byte[] px = new byte[h * w * 3];
        double fx = 0.5 + r.nextDouble();
        double fy = 0.5 + r.nextDouble();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    double v = 128 + 60 * Math.sin(fx * x / 37.0 + c) * Math.cos(fy * y / 23.0 - c) + 25 * r.nextGaussian();
                    px[(y * w + x) * 3 + c] = (byte) Math.max(0, Math.min(255, (int) v));
                }
            }
        }
        return px;
    }

    /** 48 ImageNet-sized JPEGs (about 500x375, quality 90). */
    static List<byte[]> jpegs() {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < 48; i++) {
            int h = 375 + (i % 5) * 10;
            int w = 500 - (i % 7) * 10;
            try (Tensor t = Tensor.ofBytes(photo(h, w, i), h, w, 3)) {
                out.add(ImageEncoder.jpeg(t, 90));
            }
        }
        return out;
    }

    /** Encoded images for the one-thread benchmarks. */
    @State(Scope.Thread)
    public static class Images {
        List<byte[]> jpegs;
        int next;
        final SeededRandom rng = new SeededRandom(1);
        final ImagePreprocessor inceptionTrain = PreprocessingFactory.get("inception", true);
        final ImagePreprocessor inceptionEval = PreprocessingFactory.get("inception", false);

        @Setup(Level.Trial)
        public void setUp() {
            jpegs = jpegs();
        }

        byte[] nextJpeg() {
            byte[] b = jpegs.get(next);
            next = (next + 1) % jpegs.size();
            return b;
        }
    }

    /** TFRecord shards in a temporary folder and a provider reading them forever. */
    public abstract static class Pipeline {
        Path dir;
        DatasetDataProvider provider;

        abstract DatasetDataProvider build(Dataset d);

        abstract DatasetDescriptor descriptor();

        abstract byte[] record(int i);

        abstract int records();

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            dir = Files.createTempDirectory("slim4j-pipeline-bench");
            int shards = 3;
            int per = (records() + shards - 1) / shards;
            List<Path> files = new ArrayList<>();
            for (int s = 0; s < shards; s++) {
                Path f = dir.resolve(String.format("train-%05d-of-%05d", s, shards));
                try (TfRecordWriter w = TfRecordWriter.create(f)) {
                    for (int i = s * per; i < Math.min(records(), (s + 1) * per); i++) w.write(record(i));
                }
                files.add(f);
            }
            provider = build(new Dataset(descriptor(), "train", dir, files, records(), null));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            provider.close();
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    @State(Scope.Benchmark)
    public static class ImagenetPipeline extends Pipeline {
        List<byte[]> jpegs = jpegs();

        @Override
        DatasetDataProvider build(Dataset d) {
            return DatasetDataProvider.builder(d).numReaders(2).numThreads(THREADS).batchSize(32).commonQueue(64, 16)
                    .preprocessing(PreprocessingFactory.get("inception", true), 224, 224).build();
        }

        @Override
        DatasetDescriptor descriptor() {
            return Datasets.IMAGENET;
        }

        @Override
        byte[] record(int i) {
            return ExampleBuilder.image(jpegs.get(i), "jpeg", 0, 0, 1 + i % 1000).toByteArray();
        }

        @Override
        int records() {
            return jpegs.size();
        }
    }

    @State(Scope.Benchmark)
    public static class CifarPipeline extends Pipeline {
        @Override
        DatasetDataProvider build(Dataset d) {
            return DatasetDataProvider.builder(d).numReaders(2).numThreads(THREADS).batchSize(128)
                    .preprocessing(PreprocessingFactory.get("cifarnet", true), 32, 32).build();
        }

        @Override
        DatasetDescriptor descriptor() {
            return Datasets.CIFAR10;
        }

        @Override
        byte[] record(int i) {
            return ExampleBuilder.image(ImageEncoder.png(photo(32, 32, 1000 + i), 0, 32, 32, 3), "png", 32, 32, i % 10).toByteArray();
        }

        @Override
        int records() {
            return 1536;
        }
    }

    @State(Scope.Benchmark)
    public static class MnistPipeline extends Pipeline {
        @Override
        DatasetDataProvider build(Dataset d) {
            return DatasetDataProvider.builder(d).numReaders(2).numThreads(THREADS).batchSize(64)
                    .preprocessing(PreprocessingFactory.get("lenet", true), 28, 28).build();
        }

        @Override
        DatasetDescriptor descriptor() {
            return Datasets.MNIST;
        }

        @Override
        byte[] record(int i) {
            byte[] rgb = photo(28, 28, 5000 + i);
            byte[] gray = new byte[28 * 28];
            for (int k = 0; k < gray.length; k++) gray[k] = rgb[3 * k];
            return ExampleBuilder.image(ImageEncoder.png(gray, 0, 28, 28, 1), "png", 28, 28, i % 10).toByteArray();
        }

        @Override
        int records() {
            return 1536;
        }
    }

    @Benchmark
    public void decodeJpeg(Images s, Blackhole bh) {
        try (Tensor t = ImageDecoder.decode(s.nextJpeg(), 3, "bench")) {
            bh.consume(t.byteData());
        }
    }

    @Benchmark
    public void decodeInceptionTrain224(Images s, Blackhole bh) {
        try (Tensor t = ImageDecoder.decode(s.nextJpeg(), 3, "bench");
             Tensor p = s.inceptionTrain.preprocess(t, 224, 224, s.rng)) {
            bh.consume(p.floatData());
        }
    }

    @Benchmark
    public void decodeInceptionEval224(Images s, Blackhole bh) {
        try (Tensor t = ImageDecoder.decode(s.nextJpeg(), 3, "bench");
             Tensor p = s.inceptionEval.preprocess(t, 224, 224, null)) {
            bh.consume(p.floatData());
        }
    }

    @Benchmark
    @OperationsPerInvocation(32)
    public void pipelineInceptionTrain224(ImagenetPipeline s, Blackhole bh) throws IOException {
        try (Batch b = s.provider.next()) {
            bh.consume(b.images().floatData());
        }
    }

    @Benchmark
    @OperationsPerInvocation(128)
    public void pipelineCifarnetTrain32(CifarPipeline s, Blackhole bh) throws IOException {
        try (Batch b = s.provider.next()) {
            bh.consume(b.images().floatData());
        }
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public void pipelineLenet28(MnistPipeline s, Blackhole bh) throws IOException {
        try (Batch b = s.provider.next()) {
            bh.consume(b.images().floatData());
        }
    }
}
