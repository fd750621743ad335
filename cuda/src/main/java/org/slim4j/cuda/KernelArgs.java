package org.slim4j.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * A kernel's parameter list, in order, each with its kind: a device pointer, a 32-bit int, a
 * float, a double, a 64-bit int, or a struct passed by value (given as its ints, which is how every
 * slim4j kernel struct is laid out). The kinds let the emulator check each argument against the
 * kernel's C++ signature; the JCuda driver turns them into the kernelParams array.
 */
public final class KernelArgs {
    /** Kind codes, shared with the emulator (emu_registry.h). */
    public static final char POINTER = 'p';
    public static final char INT = 'i';
    public static final char LONG = 'l';
    public static final char FLOAT = 'f';
    public static final char DOUBLE = 'd';
    public static final char STRUCT = 's';

    /** One argument: its kind and value (Long, Integer, Float, Double or int[]). */
    public record Arg(char kind, Object value) {
    }

    private final List<Arg> args = new ArrayList<>();

    public KernelArgs ptr(long devicePointer) {
        args.add(new Arg(POINTER, devicePointer));
        return this;
    }

    public KernelArgs i32(int v) {
        args.add(new Arg(INT, v));
        return this;
    }

    public KernelArgs i32(boolean v) {
        return i32(v ? 1 : 0);
    }

    public KernelArgs i64(long v) {
        args.add(new Arg(LONG, v));
        return this;
    }

    public KernelArgs f32(double v) {
        args.add(new Arg(FLOAT, (float) v));
        return this;
    }

    public KernelArgs f64(double v) {
        args.add(new Arg(DOUBLE, v));
        return this;
    }

    /** A struct of ints passed by value (its fields in declaration order). */
    public KernelArgs struct(int... fields) {
        args.add(new Arg(STRUCT, fields.clone()));
        return this;
    }

    public List<Arg> list() {
        return args;
    }
}
