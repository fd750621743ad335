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
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.Conv2dSpec;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Inference conv -> batch norm -> relu, ResNet-50 layers, batch 8: {@code fused} is the one-pass
 * {@link FusedConvKernels} kernel with the batch norm folded into a per-channel scale and shift;
 * {@code unfused} is the three separate kernels (conv2d, batch-norm inference, relu). Run:
 * {@code java -cp bench/target/slim4j-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/* org.openjdk.jmh.Main FusedConvBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", ForkOptions.LOOP_UNROLL, ForkOptions.NO_LATE_INLINE, "-Xmx6g"})
@State(Scope.Benchmark)
public class FusedConvBenchmark {
    @Param({"conv3x3_64to64_56x56_b8", "conv1x1_256to64_56x56_b8"})
    public String layer;

    private final FusedConvKernels fused = CpuBackend.INSTANCE.kernels(FusedConvKernels.class);
    private final ConvKernels conv = CpuBackend.INSTANCE.kernels(ConvKernels.class);
    private final BatchNormKernels bn = CpuBackend.INSTANCE.kernels(BatchNormKernels.class);
    private final ElementwiseKernels ew = CpuBackend.INSTANCE.kernels(ElementwiseKernels.class);
    private Conv2dSpec spec;
    private Tensor x;
    private Tensor w;
    private Tensor gamma;
    private Tensor beta;
    private Tensor mean;
    private Tensor variance;
    private Tensor scale;
    private Tensor shift;

    @Setup
    public void setup() {
        LayerShape shape = LayerShape.parse(layer);
        spec = shape.spec();
        x = shape.input(1);
        w = shape.filter(2);
        int c = shape.cout();
        gamma = Tensor.randomUniform(3, DType.FLOAT32, Shape.of(c), 0.5, 1.5);
        beta = Tensor.randomUniform(4, DType.FLOAT32, Shape.of(c), -0.5, 0.5);
        mean = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(c), -0.5, 0.5);
        variance = Tensor.randomUniform(6, DType.FLOAT32, Shape.of(c), 0.5, 2);
        float[] sc = new float[c];
        float[] sh = new float[c];
        for (int i = 0; i < c; i++) {
            sc[i] = (float) (gamma.floatData()[i] / Math.sqrt(variance.floatData()[i] + 1e-3));
            sh[i] = beta.floatData()[i] - mean.floatData()[i] * sc[i];
        }
        scale = Tensor.of(sc, c);
        shift = Tensor.of(sh, c);
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, w, gamma, beta, mean, variance, scale, shift}) t.close();
    }

    @Benchmark
    public float fused() {
        try (Tensor y = fused.conv2dScaleShift(x, w, scale, shift, spec, FusedConvKernels.Activation.RELU)) {
            return y.floatData()[0];
        }
    }

    @Benchmark
    public float unfused() {
        try (Tensor c = conv.conv2d(x, w, spec);
             Tensor b = bn.inferenceForward(c, gamma, beta, mean, variance, 1e-3f);
             Tensor y = ew.unary(UnaryOp.RELU, b)) {
            return y.floatData()[0];
        }
    }
}
