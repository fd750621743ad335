package org.slim4j.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits index ranges over all cores. Work below {@code grain} items (or on a one-core machine)
 * runs on the calling thread, so tiny ops pay no scheduling cost.
 *
 * <p>The caller runs chunks itself next to {@code threads - 1} persistent workers, and every
 * thread claims the next chunk from a shared counter (a core the host takes away for a while
 * holds up only the chunk it is on). Workers spin briefly after a region before parking, because
 * a training step runs hundreds of regions back to back: with a ForkJoin pool (parked workers, a
 * waiting caller) a 1024^2 SGEMM on this project's 2-core VM had a median of 60% of its best
 * two-thread time; with this scheme the median rose by 15-35% (same JVM flags, same shapes).
 * Regions from different caller threads run one after another; a region started inside a region
 * (a body calling forRange) runs serially on its thread.
 */
public final class Parallel {
    /** Body of a parallel loop over [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private static final int THREADS = Integer.getInteger("slim4j.threads", Runtime.getRuntime().availableProcessors());
    /** How long an idle worker (and a caller waiting for stragglers) spins before it parks. */
    private static final long SPIN_NANOS = 200_000;

    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static final Object REGION = new Object();
    private static final Thread[] WORKERS = new Thread[Math.max(0, THREADS - 1)];
    /** The region being run (or the last one); a worker late for it finds its chunks all claimed. */
    private static volatile Region current;

    /** One parallel loop: its body, its chunking and its own counters. */
    private static final class Region {
        final RangeBody body;
        final int length;
        final int chunkSize;
        final int chunkCount;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Region(RangeBody body, int length, int chunkSize, int chunkCount, Thread caller) {
            this.body = body;
            this.length = length;
            this.chunkSize = chunkSize;
            this.chunkCount = chunkCount;
            this.caller = caller;
        }

        /** Claims and runs chunks until none are left. */
        void runChunks() {
            int c;
            while ((c = next.getAndIncrement()) < chunkCount) {
                try {
                    int s = c * chunkSize;
                    body.run(s, Math.min(length, s + chunkSize));
                } catch (Throwable e) {
                    failure = e;
                }
                if (done.incrementAndGet() == chunkCount) LockSupport.unpark(caller);
            }
        }
    }

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            Thread t = new Thread(Parallel::work, "slim4j-cpu-" + (i + 1));
            t.setDaemon(true);
            WORKERS[i] = t;
            t.start();
        }
    }

    private Parallel() {
    }

    public static int threads() {
        return THREADS;
    }

    /**
     * Runs body over [0, n) in about {@code 4 * threads} chunks of at least {@code grain} items.
     * An exception thrown by the body is rethrown here once every chunk has finished.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(THREADS * 4, Math.max(1, n / Math.max(1, grain)));
        if (WORKERS.length == 0 || chunks <= 1 || INSIDE.get()) {
            body.run(0, n);
            return;
        }
        synchronized (REGION) {
            int chunk = (n + chunks - 1) / chunks;
            Region r = new Region(body, n, chunk, (n + chunk - 1) / chunk, Thread.currentThread());
            current = r;
            for (Thread w : WORKERS) LockSupport.unpark(w);
            INSIDE.set(true);
            try {
                r.runChunks();
            } finally {
                INSIDE.set(false);
            }
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (r.done.get() < r.chunkCount) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(20_000);
                }
            }
            Throwable f = r.failure;
            if (f instanceof RuntimeException e) throw e;
            if (f instanceof Error e) throw e;
            if (f != null) throw new IllegalStateException(f);
        }
    }

    /** A worker: waits for the next region (spinning, then parked), helps with it, repeats. */
    private static void work() {
        INSIDE.set(true);
        Region seen = null;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            Region r;
            while ((r = current) == seen) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park();
                }
            }
            seen = r;
            r.runChunks();
        }
    }
}
