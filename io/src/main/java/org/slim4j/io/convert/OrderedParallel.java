package org.slim4j.io.convert;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs an expensive step (decoding, PNG encoding) on worker threads while handing the results to a
 * single consumer in input order (the TFRecord writer, which must keep TF-Slim's record order). At
 * most {@code window} results are in flight, so memory stays bounded however long the input.
 */
public final class OrderedParallel implements AutoCloseable {
    /** The parallel step; may throw. */
    @FunctionalInterface
    public interface Step<R> {
        R apply(int index) throws Exception;
    }

    /** The ordered consumer. */
    @FunctionalInterface
    public interface Sink<R> {
        void accept(int index, R result) throws IOException;
    }

    private final ExecutorService pool;
    private final int window;

    /** {@code threads} &lt;= 0 means one per available processor. */
    public OrderedParallel(int threads, String name) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        AtomicInteger count = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.window = Math.max(4 * n, 16);
    }

    /**
     * Computes {@code step(i)} for i in [from, to) in parallel and passes each result to
     * {@code sink} in order of i. The first failure (of a step or of the sink) cancels what is left
     * and is rethrown: an IOException as is, anything else wrapped in one.
     */
    public <R> void run(int from, int to, Step<R> step, Sink<R> sink) throws IOException {
        ArrayDeque<Future<R>> inFlight = new ArrayDeque<>();
        int next = from;
        try {
            for (int i = from; i < to; i++) {
                while (next < to && next - i < window) {
                    final int k = next++;
                    inFlight.add(pool.submit(() -> step.apply(k)));
                }
                R r = get(inFlight.poll());
                sink.accept(i, r);
            }
        } finally {
            for (Future<R> f : inFlight) f.cancel(true);
        }
    }

    private static <R> R get(Future<R> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) throw io;
            if (c instanceof UncheckedIOException u) throw u.getCause();
            if (c instanceof RuntimeException re && re.getMessage() != null) throw new IOException(re.getMessage(), re);
            if (c instanceof Error err) throw err;
            throw new IOException(String.valueOf(c), c);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
