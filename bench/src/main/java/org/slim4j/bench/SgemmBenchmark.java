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
import org.openjdk.jmh.annotations.Warmup;
import org.slim4j.kernels.cpu.Sgemm;
import org.slim4j.tensor.SeededRandom;

/**
 * Single-precision GEMM, C = A x B (row-major, no transposes), time per call on all cores.
 * {@code shape} is {@code MxKxN}: the squares the peers report (torch.mm) and the tall-skinny
 * products a convolution makes (M = batch x H x W pixels, K = 9 x Cin or Cin, N = Cout).
 * GFLOP/s = 2 M N K / time. Run:
 * {@code java -cp bench/target/slim4j-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/* org.openjdk.jmh.Main SgemmBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", ForkOptions.LOOP_UNROLL, ForkOptions.NO_LATE_INLINE, "-Xmx6g"})
@State(Scope.Benchmark)
public class SgemmBenchmark {
    /** M x K x N. */
    @Param({"1024x1024x1024", "2048x2048x2048", "512x512x512", "50176x576x64", "25088x256x64", "25088x64x256"})
    public String shape;

    private int m;
    private int k;
    private int n;
    private float[] a;
    private float[] b;
    private float[] c;

    @Setup
    public void setup() {
        String[] d = shape.split("x");
        m = Integer.parseInt(d[0]);
        k = Integer.parseInt(d[1]);
        n = Integer.parseInt(d[2]);
        a = random(1, m * k);
        b = random(2, k * n);
        c = new float[m * n];
    }

    static float[] random(long seed, int size) {
        SeededRandom r = new SeededRandom(seed);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) (2 * r.nextDouble() - 1);
        return v;
    }

    @Benchmark
    public float[] sgemm() {
        Sgemm.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        return c;
    }
}
