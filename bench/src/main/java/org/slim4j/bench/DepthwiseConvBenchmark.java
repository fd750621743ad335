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
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.Tensor;

/**
 * Depthwise convolution (channel multiplier 1) on the CPU backend, NHWC float32, SAME padding:
 * {@code fwd} and {@code fwdbwd} (forward + input gradient + filter gradient), time per call on
 * all cores. Layers are MobileNet-v1's: the first 112x112 block (the peer harness's case), a
 * strided one and a deep 14x14 one. Run:
 * {@code java -cp bench/target/slim4j-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/* org.openjdk.jmh.Main DepthwiseConvBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", ForkOptions.LOOP_UNROLL, ForkOptions.NO_LATE_INLINE, "-Xmx6g"})
@State(Scope.Benchmark)
public class DepthwiseConvBenchmark {
    @Param({"dwconv3x3_32ch_112x112_b8", "dwconv3x3s2_64ch_112x112_b8", "dwconv3x3_512ch_14x14_b8"})
    public String layer;

    private final DepthwiseConvKernels k = CpuBackend.INSTANCE.kernels(DepthwiseConvKernels.class);
    private Conv2dSpec spec;
    private Tensor x;
    private Tensor w;
    private Tensor dy;

    @Setup
    public void setup() {
        LayerShape shape = LayerShape.parse(layer);
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
        try (Tensor y = k.depthwiseConv2d(x, w, spec)) {
            return y.floatData()[y.offset()];
        }
    }

    @Benchmark
    public float fwdbwd() {
        float s;
        try (Tensor y = k.depthwiseConv2d(x, w, spec)) {
            s = y.floatData()[y.offset()];
        }
        try (Tensor dx = k.depthwiseConv2dBackpropInput(x.shape(), w, dy, spec)) {
            s += dx.floatData()[dx.offset()];
        }
        try (Tensor dw = k.depthwiseConv2dBackpropFilter(x, w.shape(), dy, spec)) {
            s += dw.floatData()[dw.offset()];
        }
        return s;
    }
}
