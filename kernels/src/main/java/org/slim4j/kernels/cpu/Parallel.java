package org.slim4j.kernels.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Splits index ranges over all cores. Work below {@code grain} items (or on a one-core machine)
 * runs on the calling thread, so tiny ops pay no scheduling cost.
 */
public final class Parallel {
    /** Body of a parallel loop over [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private static final int THREADS = Integer.getInteger("slim4j.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;

    private Parallel() {
    }

    public static int threads() {
        return THREADS;
    }

    /**
     * Runs body over [0, n) in about {@code 4 * threads} chunks of at least {@code grain} items.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(THREADS * 4, Math.max(1, n / Math.max(1, grain)));
        if (POOL == null || chunks <= 1 || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        int chunk = (n + chunks - 1) / chunks;
        POOL.invoke(new Split(body, 0, n, chunk));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int start;
        private final int end;
        private final int chunk;

        Split(RangeBody body, int start, int end, int chunk) {
            this.body = body;
            this.start = start;
            this.end = end;
            this.chunk = chunk;
        }

        @Override
        protected void compute() {
            if (end - start <= chunk) {
                body.run(start, end);
                return;
            }
            int mid = start + ((end - start) / chunk / 2) * chunk;
            if (mid <= start) mid = start + chunk;
            invokeAll(new Split(body, start, mid, chunk), new Split(body, mid, end, chunk));
        }
    }
}
