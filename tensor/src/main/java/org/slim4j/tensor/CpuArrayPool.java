package org.slim4j.tensor;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Arrays of released CPU storages, kept for the next allocation of the same dtype and length.
 *
 * <p>Why: a training or inference step allocates the same activation sizes step after step, and a
 * fresh multi-megabyte Java array costs its zeroing plus a first touch of cold memory (often a G1
 * humongous region): measured 3-5x the cost of an elementwise op writing into a recycled array that
 * is still in L3. Only arrays of at least {@link #MIN_LENGTH} elements are pooled (smaller ones come
 * cheaply from the thread's TLAB). The most recently released array is handed out first (warmest in
 * cache). The pool holds at most {@code -Dslim4j.cpuPoolBytes} bytes (default: a quarter of the
 * maximum heap; 0 turns pooling off) and is emptied when an allocation runs out of heap.
 *
 * <p>For tests: {@code -Dslim4j.cpuPoolMinLength=1} pools every size and
 * {@code -Dslim4j.cpuPoolPoison=true} fills each recycled array handed out uninitialised with NaN
 * (integers: -1), so a kernel that does not write all of an {@code empty} output fails its tests.
 */
final class CpuArrayPool {
    /** Smallest pooled array, in elements, by default. */
    static final int MIN_LENGTH = 1 << 14;

    private final long capBytes;
    private final int minLength;
    private final boolean poison;
    private final Map<Long, ArrayDeque<Object>> free = new HashMap<>();
    private long pooledBytes;

    CpuArrayPool(long capBytes) {
        this(capBytes, MIN_LENGTH, false);
    }

    CpuArrayPool(long capBytes, int minLength, boolean poison) {
        this.capBytes = capBytes;
        this.minLength = Math.max(1, minLength);
        this.poison = poison;
    }

    static CpuArrayPool fromSystemProperty() {
        return new CpuArrayPool(Long.getLong("slim4j.cpuPoolBytes", Runtime.getRuntime().maxMemory() / 4),
            Integer.getInteger("slim4j.cpuPoolMinLength", MIN_LENGTH), Boolean.getBoolean("slim4j.cpuPoolPoison"));
    }

    /** Whether recycled arrays handed out uninitialised are to be filled with {@link #poison(Object)}. */
    boolean poisons() {
        return poison;
    }

    private static long key(DType dtype, int length) {
        return ((long) dtype.ordinal() << 32) | length;
    }

    /** A recycled array of exactly this dtype and length with stale contents, or null. */
    synchronized Object take(DType dtype, int length) {
        if (length < minLength) return null;
        ArrayDeque<Object> q = free.get(key(dtype, length));
        if (q == null || q.isEmpty()) return null;
        pooledBytes -= dtype.byteSize() * (long) length;
        return q.pop();
    }

    /** Keeps a released array for reuse unless it is small or the pool is full. */
    synchronized void give(DType dtype, int length, Object array) {
        if (length < minLength) return;
        long bytes = dtype.byteSize() * (long) length;
        if (pooledBytes + bytes > capBytes) return;
        free.computeIfAbsent(key(dtype, length), k -> new ArrayDeque<>()).push(array);
        pooledBytes += bytes;
    }

    /** Drops every pooled array (the garbage collector reclaims them). */
    synchronized void clear() {
        free.clear();
        pooledBytes = 0;
    }

    synchronized long pooledBytes() {
        return pooledBytes;
    }

    /** Fills a recycled array with values no kernel output should keep: NaN, or -1 for integers. */
    static void poison(Object array) {
        if (array instanceof float[] a) Arrays.fill(a, Float.NaN);
        else if (array instanceof double[] a) Arrays.fill(a, Double.NaN);
        else if (array instanceof int[] a) Arrays.fill(a, -1);
        else if (array instanceof long[] a) Arrays.fill(a, -1L);
        else if (array instanceof byte[] a) Arrays.fill(a, (byte) -1);
        else if (array instanceof short[] a) Arrays.fill(a, (short) -1);
    }

    /** Sets every element of a recycled array to zero. */
    static void zero(Object array) {
        if (array instanceof float[] a) Arrays.fill(a, 0f);
        else if (array instanceof double[] a) Arrays.fill(a, 0.0);
        else if (array instanceof int[] a) Arrays.fill(a, 0);
        else if (array instanceof long[] a) Arrays.fill(a, 0L);
        else if (array instanceof byte[] a) Arrays.fill(a, (byte) 0);
        else if (array instanceof short[] a) Arrays.fill(a, (short) 0);
        else throw new IllegalArgumentException("not a storage array: " + array.getClass());
    }
}
