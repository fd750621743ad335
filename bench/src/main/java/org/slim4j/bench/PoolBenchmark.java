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
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Pooling on NHWC float32, all cores, forward + gradient per call: ResNet-50's 3x3 stride-2 max
 * pool after the stem ({@code max3x3s2_64ch_112x112_b8}) and Inception-v3's 3x3 stride-1 average
 * pool branch ({@code avg3x3s1_192ch_35x35_b8}). Run:
 * {@code java -cp bench/target/slim4j-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/* org.openjdk.jmh.Main PoolBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", ForkOptions.LOOP_UNROLL, ForkOptions.NO_LATE_INLINE, "-Xmx6g"})
@State(Scope.Benchmark)
public class PoolBenchmark {
    @Param({"max3x3s2_64ch_112x112_b8", "avg3x3s1_192ch_35x35_b8"})
    public String layer;

    private final PoolKernels k = CpuBackend.INSTANCE.kernels(PoolKernels.class);
    private boolean max;
    private PoolSpec spec;
    private Tensor x;
    private Tensor dy;

    @Setup
    public void setup() {
        max = layer.startsWith("max");
        int stride = layer.contains("s2") ? 2 : 1;
        spec = PoolSpec.of(3, stride, Padding.SAME);
        Shape s = max ? Shape.of(8, 112, 112, 64) : Shape.of(8, 35, 35, 192);
        x = Tensor.randomUniform(1, DType.FLOAT32, s, -1, 1);
        int oh = (s.dims()[1] + stride - 1) / stride;
        dy = Tensor.randomUniform(2, DType.FLOAT32, Shape.of(s.dims()[0], oh, oh, s.dims()[3]), -1, 1);
    }

    @TearDown
    public void tearDown() {
        x.close();
        dy.close();
    }

    @Benchmark
    public float fwdbwd() {
        if (max) {
            try (Tensor y = k.maxPool(x, spec); Tensor dx = k.maxPoolGrad(x, y, dy, spec)) {
                return y.floatData()[0] + dx.floatData()[0];
            }
        }
        try (Tensor y = k.avgPool(x, spec); Tensor dx = k.avgPoolGrad(x.shape(), dy, spec)) {
            return y.floatData()[0] + dx.floatData()[0];
        }
    }
}
