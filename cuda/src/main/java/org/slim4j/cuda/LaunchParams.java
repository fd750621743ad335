package org.slim4j.cuda;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Lays one launch's kernel parameters out in a native block for cuLaunchKernel: at offset 0 the
 * {@code kernelParams} array (one 8-byte address per parameter), from {@link #VALUES} on the values,
 * each 8-byte aligned. The driver follows each address and copies the value before cuLaunchKernel
 * returns, so one block serves every launch. Handing the block over as one raw pointer replaces a
 * {@code Pointer.to(array)} per parameter, each of which JCuda's JNI layer unpacks and pins as a
 * Java array on every launch.
 */
final class LaunchParams {
    /** Parameters a block has room for (slim4j's kernels take at most about 20). */
    static final int MAX_PARAMS = 64;
    /** Offset of the first value: after the address array. */
    static final int VALUES = MAX_PARAMS * 8;
    /** Size of a block. */
    static final int BYTES = 4096;

    private LaunchParams() {
    }

    /**
     * Writes {@code args} into {@code block}, whose first byte is at native address {@code address}.
     * False, with the block's contents undefined, when they do not fit (the caller then passes
     * them one by one).
     */
    static boolean pack(List<KernelArgs.Arg> args, ByteBuffer block, long address) {
        if (args.size() > MAX_PARAMS) return false;
        int at = VALUES;
        for (int i = 0; i < args.size(); i++) {
            KernelArgs.Arg a = args.get(i);
            int size = switch (a.kind()) {
                case KernelArgs.POINTER, KernelArgs.LONG, KernelArgs.DOUBLE -> 8;
                case KernelArgs.INT, KernelArgs.FLOAT -> 4;
                case KernelArgs.STRUCT -> 4 * ((int[]) a.value()).length;
                default -> throw new IllegalArgumentException("unknown kernel argument kind " + a.kind());
            };
            if (at + size > block.capacity()) return false;
            switch (a.kind()) {
                case KernelArgs.POINTER, KernelArgs.LONG -> block.putLong(at, (Long) a.value());
                case KernelArgs.DOUBLE -> block.putDouble(at, (Double) a.value());
                case KernelArgs.INT -> block.putInt(at, (Integer) a.value());
                case KernelArgs.FLOAT -> block.putFloat(at, (Float) a.value());
                default -> {
                    int[] fields = (int[]) a.value();
                    for (int f = 0; f < fields.length; f++) block.putInt(at + 4 * f, fields[f]);
                }
            }
            block.putLong(8 * i, address + at);
            at += (size + 7) & ~7;
        }
        return true;
    }
}
