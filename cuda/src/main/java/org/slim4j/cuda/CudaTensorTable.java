package org.slim4j.cuda;

import java.util.ArrayList;
import java.util.List;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * The table of a multi-tensor launch (multi_tensor.cuh): an entry per tensor, with up to three
 * device pointers, the element count, the first grid block that works on it and one float
 * parameter, uploaded as one int32 block. Each tensor gets ceil(n / {@link #CHUNK}) consecutive
 * blocks (at least one), so one kernel covers a whole list of tensors of any sizes.
 */
final class CudaTensorTable {
    /** Elements per block: multi_tensor.cuh's MULTI_CHUNK. */
    static final int CHUNK = 4096;
    /** Ints per entry: three 64-bit pointers, n, first block, parameter, padding (40 bytes). */
    static final int ENTRY_INTS = 10;

    private final List<int[]> entries = new ArrayList<>();
    private int blocks;

    /** Adds a tensor of n elements at the given device addresses (0 for unused ones) with its parameter. */
    CudaTensorTable add(int n, float param, long... pointers) {
        if (pointers.length > 3) throw new IllegalArgumentException("a table entry holds at most 3 pointers, not " + pointers.length);
        int[] e = new int[ENTRY_INTS];
        for (int k = 0; k < pointers.length; k++) {
            e[2 * k] = (int) pointers[k];
            e[2 * k + 1] = (int) (pointers[k] >>> 32);
        }
        e[6] = n;
        e[7] = blocks;
        e[8] = Float.floatToRawIntBits(param);
        entries.add(e);
        long next = (long) blocks + Math.max(1, (n + (long) CHUNK - 1) / CHUNK);
        if (next > Integer.MAX_VALUE) throw new IllegalArgumentException("a multi-tensor launch of more than 2^31 blocks");
        blocks = (int) next;
        return this;
    }

    int count() {
        return entries.size();
    }

    /** Grid blocks the entries need. */
    int blocks() {
        return blocks;
    }

    /** The table as an int32 tensor on {@code device} (little-endian pointers, as the GPU reads them). */
    Tensor upload(CudaDevice device) {
        int[] all = new int[entries.size() * ENTRY_INTS];
        for (int i = 0; i < entries.size(); i++) System.arraycopy(entries.get(i), 0, all, i * ENTRY_INTS, ENTRY_INTS);
        try (Tensor host = Tensor.of(all, all.length)) {
            return host.toDevice(device);
        }
    }

    /** Shape of the per-block scratch a reduction over the table writes. */
    Shape perBlock() {
        return Shape.of(blocks);
    }
}
