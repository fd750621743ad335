package org.slim4j.bench;

/** JVM options the benchmarks' JMH forks share with the {@code ./slim4j} launcher. */
final class ForkOptions {
    /**
     * Lets C2 unroll the GEMM micro-kernel loops (their bodies exceed its default budget of 60
     * nodes): as the launcher runs them, so the benchmarks measure what users get.
     */
    static final String LOOP_UNROLL = "-XX:LoopUnrollLimit=250";
    /**
     * Keeps JDK 17's C2 from inlining Vector API calls late, where some of them stop being
     * intrinsics (the launcher's comment says more).
     */
    static final String NO_LATE_INLINE = "-XX:-IncrementalInline";

    private ForkOptions() {
    }
}
