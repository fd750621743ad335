package org.slim4j.tensor;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a step's time goes, per kernel: while a profiler is active, every kernel-family call made
 * through {@link Backends#kernels} is timed and its time added to {@code Family.method}. On a device
 * with a {@link DeviceClock} (a GPU) the time is the device's own, from marks queued around the call:
 * nothing waits, so the queue keeps its overlap with the host and the totals are what the device
 * spent in each op (when the host launches more slowly than the device runs, an op's time also holds
 * the device waiting for that op's launches). Elsewhere the device is synced before and after the
 * call and the wall time counted, which serialises a queued device (profiled steps are then slower
 * than unprofiled ones). Time between kernel calls (autograd bookkeeping, host work, ops not made
 * through Backends, a device waiting for work) is what is left of the step: {@link #table} reports
 * it as the last row.
 */
public final class OpProfiler {
    /** Calls and total nanoseconds of one op. */
    public static final class Stat {
        long calls;
        long nanos;

        public long calls() {
            return calls;
        }

        public long nanos() {
            return nanos;
        }
    }

    private static volatile OpProfiler active;

    /** Device-clock calls whose marks are not read yet (reading waits for the device). */
    private record Pending(Stat stat, DeviceClock.Mark start, DeviceClock.Mark end) {
    }

    /** Marks read in one go once this many calls are pending: bounds the events held on the device. */
    private static final int MAX_PENDING = 8192;

    private final Map<String, Stat> stats = new ConcurrentHashMap<>();
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);
    private final List<Pending> pending = new ArrayList<>();
    private final boolean byShape;
    private volatile boolean deviceClock;

    private OpProfiler(boolean byShape) {
        this.byShape = byShape;
    }

    /** Starts profiling (replacing any active profiler) and returns the new one. */
    public static OpProfiler start() {
        return start(false);
    }

    /**
     * Starts profiling; with {@code byShape} each op's calls are also split by the shapes of their
     * tensor arguments ({@code Family.method [64, 28, 28, 1] [5, 5, 1, 32]}), which tells the layers
     * of a network apart where one kernel serves them all.
     */
    public static OpProfiler start(boolean byShape) {
        OpProfiler p = new OpProfiler(byShape);
        active = p;
        return p;
    }

    /** The stats key of a call: the op's name, and with byShape its tensor arguments' shapes. */
    private String key(String op, Object[] args) {
        if (!byShape || args == null) return op;
        StringBuilder sb = new StringBuilder(op);
        for (Object a : args) {
            if (a instanceof Tensor t) sb.append(' ').append(t.shape());
        }
        return sb.toString();
    }

    /** Stops profiling; the results stay readable. */
    public void stop() {
        if (active == this) active = null;
        readMarks();
    }

    /** True when the times are device-clock times (see the class comment), false when wall times of synced calls. */
    public boolean deviceClock() {
        return deviceClock;
    }

    /** The family implementation, timed when a profiler is active. */
    static <K> K wrapIfActive(Class<K> family, K impl, Device device) {
        OpProfiler p = active;
        if (p == null || !family.isInterface()) return impl;
        return family.cast(Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family}, p.handler(family, impl, device)));
    }

    private InvocationHandler handler(Class<?> family, Object impl, Device device) {
        String name = family.getSimpleName() + ".";
        return (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) return invoke(method, impl, args);
            int[] d = depth.get();
            if (d[0] > 0) return invoke(method, impl, args); // a kernel calling another: counted in the outer one
            Stat s = stats.computeIfAbsent(key(name + method.getName(), args), k -> new Stat());
            d[0]++;
            if (device instanceof DeviceClock clock) {
                deviceClock = true;
                DeviceClock.Mark start = clock.mark();
                try {
                    return invoke(method, impl, args);
                } finally {
                    d[0]--;
                    addPending(new Pending(s, start, clock.mark()));
                }
            }
            device.sync();
            long t0 = System.nanoTime();
            try {
                return invoke(method, impl, args);
            } finally {
                device.sync();
                d[0]--;
                synchronized (s) {
                    s.calls++;
                    s.nanos += System.nanoTime() - t0;
                }
            }
        };
    }

    private void addPending(Pending p) {
        boolean full;
        synchronized (pending) {
            pending.add(p);
            full = pending.size() >= MAX_PENDING;
        }
        if (full) readMarks();
    }

    /** Reads the pending calls' device times into their stats (waits for the device to reach the marks). */
    private void readMarks() {
        List<Pending> done;
        synchronized (pending) {
            done = new ArrayList<>(pending);
            pending.clear();
        }
        for (Pending p : done) {
            long nanos = Math.round(p.end.millisSince(p.start) * 1e6);
            p.start.close();
            p.end.close();
            synchronized (p.stat) {
                p.stat.calls++;
                p.stat.nanos += nanos;
            }
        }
    }

    private static Object invoke(Method m, Object impl, Object[] args) throws Throwable {
        try {
            return m.invoke(impl, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Per-op totals so far. */
    public Map<String, Stat> stats() {
        readMarks();
        return Map.copyOf(stats);
    }

    /**
     * A markdown table of the ops by total time, largest first, with their share of {@code wallNanos}
     * (the profiled steps' wall time), and a last row for the time outside kernel calls.
     */
    public String table(long wallNanos, int steps) {
        readMarks();
        List<Map.Entry<String, Stat>> rows = new ArrayList<>(stats.entrySet());
        rows.sort((a, b) -> Long.compare(b.getValue().nanos, a.getValue().nanos));
        StringBuilder sb = new StringBuilder("| op | calls/step | ms/step | % of step |\n|---|---:|---:|---:|\n");
        long inKernels = 0;
        double perStep = Math.max(steps, 1);
        for (Map.Entry<String, Stat> e : rows) {
            Stat s = e.getValue();
            inKernels += s.nanos;
            sb.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f | %.1f |%n", e.getKey(), s.calls / perStep, s.nanos / 1e6 / perStep,
                100.0 * s.nanos / Math.max(wallNanos, 1)));
        }
        long outside = Math.max(0, wallNanos - inKernels);
        String rest = deviceClock ? "(rest of the step: device idle or outside kernel calls)" : "(outside kernels)";
        sb.append(String.format(Locale.ROOT, "| %s | | %.3f | %.1f |%n", rest, outside / 1e6 / perStep, 100.0 * outside / Math.max(wallNanos, 1)));
        return sb.toString();
    }
}
