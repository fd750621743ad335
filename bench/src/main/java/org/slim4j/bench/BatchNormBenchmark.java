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
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Fused batch norm on NHWC activations of ResNet-50 / MobileNet layers, float32, all cores:
 * {@code train} = training forward (batch statistics) + training backward; {@code infer} =
 * inference forward with moving statistics. {@code shape} is {@code NxHxWxC}. Run:
 * {@code java -cp bench/target/slim4j-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/* org.openjdk.jmh.Main BatchNormBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", ForkOptions.LOOP_UNROLL, ForkOptions.NO_LATE_INLINE, "-Xmx6g"})
@State(Scope.Benchmark)
public class BatchNormBenchmark {
    @Param({"8x56x56x64", "8x56x56x256", "8x14x14x1024", "8x112x112x32"})
    public String shape;

    private final BatchNormKernels k = CpuBackend.INSTANCE.kernels(BatchNormKernels.class);
    private Tensor x;
    private Tensor dy;
    private Tensor scale;
    private Tensor offset;
    private Tensor mean;
    private Tensor variance;

    @Setup
    public void setup() {
        String[] d = shape.split("x");
        Shape s = Shape.of(Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2]), Integer.parseInt(d[3]));
        int c = s.dims()[3];
        x = Tensor.randomUniform(1, DType.FLOAT32, s, -1, 3);
        dy = Tensor.randomUniform(2, DType.FLOAT32, s, -1, 1);
        scale = Tensor.randomUniform(3, DType.FLOAT32, Shape.of(c), 0.5, 1.5);
        offset = Tensor.randomUniform(4, DType.FLOAT32, Shape.of(c), -0.5, 0.5);
        mean = Tensor.randomUniform(5, DType.FLOAT32, Shape.of(c), 0, 2);
        variance = Tensor.randomUniform(6, DType.FLOAT32, Shape.of(c), 0.5, 2);
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, dy, scale, offset, mean, variance}) t.close();
    }

    @Benchmark
    public float train() {
        BatchNormKernels.Training t = k.trainingForward(x, scale, offset, 1e-3f);
        BatchNormKernels.Grads g = k.trainingBackward(dy, x, scale, t.mean(), t.variance(), 1e-3f);
        float s = t.y().floatData()[0] + g.dx().floatData()[0] + g.dscale().floatData()[0];
        for (Tensor r : new Tensor[] {t.y(), t.mean(), t.variance(), g.dx(), g.dscale(), g.doffset()}) r.close();
        return s;
    }

    @Benchmark
    public float infer() {
        try (Tensor y = k.inferenceForward(x, scale, offset, mean, variance, 1e-3f)) {
            return y.floatData()[0];
        }
    }
}
