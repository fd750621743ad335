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
 * through {@link Backends#kernels} syncs the device before and after it and adds the wall time to
 * {@code Family.method}. Syncing serialises the device (a GPU loses its queue overlap), so profiled
 * steps are slower than unprofiled ones; the shares still show which ops dominate. Time between
 * kernel calls (autograd bookkeeping, host work, launches of ops not made through Backends) is what
 * is left of the step: {@link #table} reports it as "outside kernels".
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

    private final Map<String, Stat> stats = new ConcurrentHashMap<>();
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);

    private OpProfiler() {
    }

    /** Starts profiling (replacing any active profiler) and returns the new one. */
    public static OpProfiler start() {
        OpProfiler p = new OpProfiler();
        active = p;
        return p;
    }

    /** Stops profiling; the results stay readable. */
    public void stop() {
        if (active == this) active = null;
    }

    /** The family implementation, timed when a profiler is active. */
    static <K> K wrapIfActive(Class<K> family, K impl, Device device) {
        OpProfiler p = active;
        if (p == null || !family.isInterface()) return impl;
        return family.cast(Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family}, p.handler(family, impl, device)));
    }

    private InvocationHandler handler(Class<?> family, Object impl, Device device) {
        return (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) return invoke(method, impl, args);
            int[] d = depth.get();
            if (d[0] > 0) return invoke(method, impl, args); // a kernel calling another: counted in the outer one
            device.sync();
            long t0 = System.nanoTime();
            d[0]++;
            try {
                return invoke(method, impl, args);
            } finally {
                device.sync();
                d[0]--;
                Stat s = stats.computeIfAbsent(family.getSimpleName() + "." + method.getName(), k -> new Stat());
                synchronized (s) {
                    s.calls++;
                    s.nanos += System.nanoTime() - t0;
                }
            }
        };
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
        return Map.copyOf(stats);
    }

    /**
     * A markdown table of the ops by total time, largest first, with their share of {@code wallNanos}
     * (the profiled steps' wall time), and a last row for the time outside kernel calls.
     */
    public String table(long wallNanos, int steps) {
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
        sb.append(String.format(Locale.ROOT, "| (outside kernels) | | %.3f | %.1f |%n", outside / 1e6 / perStep, 100.0 * outside / Math.max(wallNanos, 1)));
        return sb.toString();
    }
}
