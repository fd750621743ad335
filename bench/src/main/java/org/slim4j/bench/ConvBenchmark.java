package org.slim4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.Tensor;

/**
 * 2-D convolution on the CPU backend, NHWC float32, SAME padding, time per call on all cores.
 * {@code fwd} is the forward pass; {@code fwdbwd} is forward + input gradient + filter gradient
 * (the stem, with 3 input channels, skips the input gradient like the peers do). Layers are from
 * ResNet-50 (56x56 and 14x14 stages, the 7x7 stem, a strided 3x3), Inception-v3 (the 147x147 3x3,
 * a 35x35 1x1, the 17x17 1x7) and MobileNet-v1 (pointwise convolutions); names follow the peer
 * harness ({@link LayerShape}). Results include allocating (and the JVM zeroing) the outputs.
 * Run: {@code java -cp bench/target/slim4j-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/* org.openjdk.jmh.Main ConvBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", ForkOptions.LOOP_UNROLL, ForkOptions.NO_LATE_INLINE, "-Xmx6g"})
@State(Scope.Benchmark)
public class ConvBenchmark {
    @Param({"conv3x3_64to64_56x56_b8", "conv1x1_256to64_56x56_b8", "conv1x1_64to256_56x56_b8",
            "conv7x7s2_3to64_224x224_b8", "conv3x3s2_128to128_56x56_b8", "conv3x3_256to256_14x14_b8",
            "conv1x1_1024to256_14x14_b8", "conv3x3_32to64_147x147_b4", "conv1x1_192to64_35x35_b4",
            "conv1x7_128to128_17x17_b4", "conv1x1_32to64_112x112_b8", "conv1x1_512to512_14x14_b8"})
    public String layer;

    private final ConvKernels k = CpuBackend.INSTANCE.kernels(ConvKernels.class);
    private LayerShape shape;
    private Conv2dSpec spec;
    private Tensor x;
    private Tensor w;
    private Tensor dy;

    @Setup
    public void setup() {
        shape = LayerShape.parse(layer);
        spec = shape.spec();
        x = shape.input(1);
        w = shape.filter(2);
        dy = shape.outGrad(3);
    }

    @TearDown
    public void tearDown() {
        x.close();
        w.close();
        dy.close();
    }

    @Benchmark
    public float fwd() {
        try (Tensor y = k.conv2d(x, w, spec)) {
            return y.floatData()[y.offset()];
        }
    }

    @Benchmark
    public float fwdbwd() {
        float s;
        try (Tensor y = k.conv2d(x, w, spec)) {
            s = y.floatData()[y.offset()];
        }
        if (shape.needsInputGrad()) {
            try (Tensor dx = k.conv2dBackpropInput(x.shape(), w, dy, spec)) {
                s += dx.floatData()[dx.offset()];
            }
        }
        try (Tensor dw = k.conv2dBackpropFilter(x, w.shape(), dy, spec)) {
            s += dw.floatData()[dw.offset()];
        }
        return s;
    }
}
