package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.DropoutKernels;
import org.slim4j.kernels.ShapeKernels;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.CpuStorage;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/**
 * The CUDA shape ops (concat, split, pad, slice, transpose) against the CPU backend, bit for bit,
 * for every dtype, on odd shapes, on views with an element offset (which narrows the copy unit)
 * and on aligned tensors (which widens it to 16 bytes), zero-size edges included; their error
 * messages; and the dropout masks: Philox4x32-10 against Random123's known answers, the mask
 * against a Java Philox, reproducibility and keep-rate statistics. Everything runs in a scope that
 * must give back every byte. Subclasses supply the device (emulator or real GPU).
 */
abstract class CudaShapeContract {
    private static final DType[] ALL = DType.values();

    protected abstract CudaDevice device();

    private ShapeKernels gpu() {
        return Backends.forDevice(device()).kernels(ShapeKernels.class);
    }

    private static ShapeKernels cpu() {
        return CpuBackend.INSTANCE.kernels(ShapeKernels.class);
    }

    private DropoutKernels gpuDropout() {
        return Backends.forDevice(device()).kernels(DropoutKernels.class);
    }

    private void scoped(Runnable body) {
        long dev = device().liveBytes();
        long host = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope s = TensorScope.open()) {
            body.run();
        }
        assertEquals(dev, device().liveBytes(), "device memory left allocated");
        assertEquals(host, CpuDevice.INSTANCE.liveBytes(), "host memory left allocated");
    }

    // ---- data ----------------------------------------------------------------------------------

    /** A CPU tensor of any dtype with varied, finite values (raw bits for the 16-bit floats). */
    static Tensor random(DType dt, long seed, int... dims) {
        Shape s = Shape.of(dims);
        int n = s.numel();
        CudaKernelsContract.SplitMix r = new CudaKernelsContract.SplitMix(seed);
        Object a = switch (dt) {
            case FLOAT32 -> { float[] v = new float[n]; for (int i = 0; i < n; i++) v[i] = (r.nextInt(200001) - 100000) / 977f; yield v; }
            case FLOAT64 -> { double[] v = new double[n]; for (int i = 0; i < n; i++) v[i] = (r.nextInt(200001) - 100000) / 977.0; yield v; }
            case INT32 -> { int[] v = new int[n]; for (int i = 0; i < n; i++) v[i] = r.nextInt(Integer.MAX_VALUE) - (1 << 30); yield v; }
            case INT64 -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) v[i] = ((long) r.nextInt(Integer.MAX_VALUE) << 32) ^ r.nextInt(Integer.MAX_VALUE) ^ (i % 2 == 0 ? 0 : Long.MIN_VALUE);
                yield v;
            }
            case UINT8 -> { byte[] v = new byte[n]; for (int i = 0; i < n; i++) v[i] = (byte) r.nextInt(256); yield v; }
            case FLOAT16, BFLOAT16 -> { short[] v = new short[n]; for (int i = 0; i < n; i++) v[i] = (short) r.nextInt(0x7c00); yield v; }
        };
        Tensor t = Tensor.zeros(CpuDevice.INSTANCE, dt, s);
        CpuDevice.INSTANCE.copyFromHost(a, 0, t.storage(), 0, n);
        return t;
    }

    /** Every element's bits, widened to long (so any two dtypes compare alike). */
    static long[] bits(Tensor t) {
        int n = t.numel();
        long[] b = new long[n];
        try (Tensor h = t.toDevice(CpuDevice.INSTANCE)) {
            Object a = ((CpuStorage) h.storage()).array();
            int o = h.offset();
            for (int i = 0; i < n; i++) {
                if (a instanceof float[] f) b[i] = Float.floatToRawIntBits(f[o + i]);
                else if (a instanceof double[] d) b[i] = Double.doubleToRawLongBits(d[o + i]);
                else if (a instanceof int[] v) b[i] = v[o + i];
                else if (a instanceof long[] v) b[i] = v[o + i];
                else if (a instanceof byte[] v) b[i] = v[o + i] & 0xff;
                else b[i] = ((short[]) a)[o + i] & 0xffff;
            }
        }
        return b;
    }

    private Tensor up(Tensor cpu) {
        return cpu.toDevice(device());
    }

    /** A device view of {@code cpu}'s values that starts {@code skip} elements into its storage. */
    private Tensor upAt(Tensor cpu, int skip) {
        int n = cpu.numel();
        Tensor big = Tensor.zeros(device(), cpu.dtype(), Shape.of(n + skip + 2));
        device().copyFromHost(((CpuStorage) cpu.storage()).array(), cpu.offset(), big.storage(), skip, n);
        try (Tensor flat = big.slice0(skip, skip + n)) {
            big.close();
            return flat.reshape(cpu.shape());
        }
    }

    private static void same(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        assertEquals(expected.dtype(), actual.dtype(), what + ": dtype");
        assertArrayEquals(bits(expected), bits(actual), what);
    }

    private static void sameAll(List<Tensor> expected, List<Tensor> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": pieces");
        for (int i = 0; i < expected.size(); i++) same(expected.get(i), actual.get(i), what + " piece " + i);
    }

    // ---- concat / split ------------------------------------------------------------------------

    @Test
    void concatMatchesTheCpuForEveryDtypeAxisAndOffset() {
        scoped(() -> {
            for (DType dt : ALL) {
                for (int axis = 0; axis < 3; axis++) {
                    int[] sizes = {3, 1, 0, 4};
                    List<Tensor> host = new ArrayList<>();
                    for (int i = 0; i < sizes.length; i++) {
                        int[] d = {2, 5, 3};
                        d[axis] = sizes[i];
                        host.add(random(dt, 100 + 10 * axis + i, d));
                    }
                    Tensor expected = cpu().concat(host, axis);
                    for (int skip : new int[] {0, 3}) {
                        List<Tensor> dev = new ArrayList<>();
                        for (Tensor h : host) dev.add(skip == 0 ? up(h) : upAt(h, skip + dev.size()));
                        same(expected, gpu().concat(dev, axis), "concat " + dt + " axis " + axis + " skip " + skip);
                    }
                    same(expected, gpu().concat(host.stream().map(this::up).toList(), axis - 3), "concat negative axis");
                }
            }
        });
    }

    @Test
    void concatOfInceptionBranchesAndOfManyPiecesMatchesTheCpu() {
        scoped(() -> {
            // An Inception mixed block: four NHWC branches along channels (16-byte units for float32).
            List<Tensor> branches = new ArrayList<>();
            int[] channels = {64, 48, 96, 32};
            for (int i = 0; i < channels.length; i++) branches.add(random(DType.FLOAT32, 200 + i, 2, 5, 5, channels[i]));
            same(cpu().concat(branches, 3), gpu().concat(branches.stream().map(this::up).toList(), 3), "inception concat");
            // More pieces than one launch's table holds, with odd and empty ones among them.
            for (DType dt : new DType[] {DType.FLOAT32, DType.UINT8, DType.INT64}) {
                List<Tensor> many = new ArrayList<>();
                for (int i = 0; i < CudaShape.MAX_PIECES * 2 + 3; i++) many.add(random(dt, 300 + i, 3, i % 5, 2));
                same(cpu().concat(many, 1), gpu().concat(many.stream().map(this::up).toList(), 1), "concat of 35 pieces " + dt);
                same(cpu().concat(many, -2), gpu().concat(many.stream().map(t -> upAt(t, 1)).toList(), -2), "concat of 35 views " + dt);
            }
            // One piece, and all pieces empty.
            Tensor one = random(DType.INT32, 400, 4, 3);
            same(cpu().concat(List.of(one), 0), gpu().concat(List.of(up(one)), 0), "concat of one");
            Tensor e = random(DType.FLOAT32, 401, 2, 0, 3);
            same(cpu().concat(List.of(e, e), 1), gpu().concat(List.of(up(e), up(e)), 1), "concat of empties");
        });
    }

    @Test
    void splitMatchesTheCpuForEveryDtypeAxisAndOffset() {
        scoped(() -> {
            for (DType dt : ALL) {
                Tensor x = random(dt, 500, 4, 9, 6);
                int[][] sizes = {{1, 0, 3}, {2, 0, 4, 3}, {1, 5}};
                for (int axis = 0; axis < 3; axis++) {
                    List<Tensor> expected = cpu().split(x, axis, sizes[axis]);
                    sameAll(expected, gpu().split(up(x), axis, sizes[axis]), "split " + dt + " axis " + axis);
                    sameAll(expected, gpu().split(upAt(x, 5), axis - 3, sizes[axis]), "split view " + dt + " axis " + axis);
                }
            }
            Tensor wide = random(DType.FLOAT32, 501, 3, 4, 256);
            int[] many = new int[40];
            Arrays.fill(many, 4);
            many[0] = 100; // 16-byte pieces
            sameAll(cpu().split(wide, 2, many), gpu().split(up(wide), 2, many), "split into 40 pieces");
            Tensor empty = random(DType.FLOAT64, 502, 0, 4);
            sameAll(cpu().split(empty, 1, new int[] {1, 3}), gpu().split(up(empty), 1, new int[] {1, 3}), "split of an empty tensor");
        });
    }

    // ---- pad / slice ---------------------------------------------------------------------------

    @Test
    void padMatchesTheCpuForEveryDtypeValueAndOffset() {
        scoped(() -> {
            int[][][] cases = {
                {{0, 0}, {1, 2}, {3, 3}, {0, 0}},  // ResNet's conv2d_same on NHWC
                {{1, 0}, {0, 0}, {0, 2}, {1, 1}},
                {{0, 0}, {0, 0}, {0, 0}, {0, 0}},
                {{2, 1}, {2, 1}, {2, 1}, {2, 1}},
            };
            for (DType dt : ALL) {
                boolean half = dt == DType.FLOAT16 || dt == DType.BFLOAT16;
                Tensor x = random(dt, 600, 2, 5, 3, 4);
                for (int[][] p : cases) {
                    for (double value : half ? new double[] {0} : new double[] {0, -1.5, 7}) {
                        Tensor expected = cpu().pad(x, p, value);
                        String what = "pad " + dt + " " + Arrays.deepToString(p) + " value " + value;
                        same(expected, gpu().pad(up(x), p, value), what);
                        same(expected, gpu().pad(upAt(x, 1), p, value), what + " (view)");
                    }
                }
            }
            // Unit widening: 64 float32 channels pad with 16-byte units, an odd count with 4-byte ones.
            for (int c : new int[] {64, 7}) {
                Tensor x = random(DType.FLOAT32, 601, 2, 6, 5, c);
                int[][] p = {{0, 0}, {3, 3}, {3, 3}, {0, 0}};
                same(cpu().pad(x, p, 0.5), gpu().pad(up(x), p, 0.5), "conv2d_same pad, " + c + " channels");
            }
            Tensor empty = random(DType.INT32, 602, 2, 0, 3);
            int[][] p = {{1, 1}, {2, 0}, {0, 1}};
            same(cpu().pad(empty, p, 9), gpu().pad(up(empty), p, 9), "pad of an empty tensor");
            Tensor scalar = random(DType.FLOAT64, 603);
            same(cpu().pad(scalar, new int[0][], 1), gpu().pad(up(scalar), new int[0][], 1), "pad of a scalar");
            Tensor v = random(DType.UINT8, 604, 5);
            same(cpu().pad(v, new int[][] {{3, 4}}, 300), gpu().pad(up(v), new int[][] {{3, 4}}, 300), "uint8 value wraps as a cast");
        });
    }

    @Test
    void sliceMatchesTheCpuForEveryDtypeAndOffset() {
        scoped(() -> {
            int[][][] cases = {
                {{0, 0, 0, 0}, {2, 5, 6, 7}},      // everything
                {{1, 2, 0, 0}, {1, 3, 6, 7}},      // whole inner axes: one contiguous run
                {{0, 1, 2, 3}, {2, 3, 4, 4}},
                {{0, 0, 0, 2}, {2, 5, 6, 1}},      // one channel
                {{1, 4, 5, 6}, {-1, -1, -1, -1}},  // -1 takes the rest
                {{0, 2, 0, 0}, {2, 0, 6, 7}},      // empty
            };
            for (DType dt : ALL) {
                Tensor x = random(dt, 700, 2, 5, 6, 7);
                for (int[][] c : cases) {
                    Tensor expected = cpu().slice(x, c[0], c[1]);
                    String what = "slice " + dt + " begin " + Arrays.toString(c[0]) + " size " + Arrays.toString(c[1]);
                    same(expected, gpu().slice(up(x), c[0], c[1]), what);
                    same(expected, gpu().slice(upAt(x, 3), c[0], c[1]), what + " (view)");
                }
            }
            Tensor wide = random(DType.FLOAT32, 701, 3, 8, 64);
            same(cpu().slice(wide, new int[] {1, 2, 16}, new int[] {2, 5, 32}), gpu().slice(up(wide), new int[] {1, 2, 16}, new int[] {2, 5, 32}),
                    "slice with 16-byte units");
            Tensor scalar = random(DType.INT64, 702);
            same(cpu().slice(scalar, new int[0], new int[0]), gpu().slice(up(scalar), new int[0], new int[0]), "slice of a scalar");
        });
    }

    // ---- transpose -----------------------------------------------------------------------------

    @Test
    void transposeMatchesTheCpuOnTiledGatheredAndCopiedPaths() {
        scoped(() -> {
            Object[][] cases = {
                {new int[] {33, 65}, new int[] {1, 0}},                 // last-two-axes swap, partial tiles
                {new int[] {3, 40, 37}, new int[] {0, 2, 1}},           // batched swap
                {new int[] {2, 5, 7, 3}, new int[] {0, 3, 1, 2}},       // NHWC -> NCHW
                {new int[] {2, 3, 5, 7}, new int[] {0, 2, 3, 1}},       // NCHW -> NHWC
                {new int[] {4, 3, 5, 6}, new int[] {2, 0, 1, 3}},       // innermost stays: gather
                {new int[] {3, 1, 4, 1, 5}, new int[] {4, 3, 2, 1, 0}}, // size-1 axes dropped
                {new int[] {2, 3, 4, 5, 6}, new int[] {4, 1, 3, 0, 2}},
                {new int[] {5, 6}, new int[] {0, 1}},                   // identity: a copy
                {new int[] {1, 7, 1}, new int[] {2, 1, 0}},             // only size-1 axes move: a copy
                {new int[] {3, 0, 4}, new int[] {2, 1, 0}},             // empty
                {new int[] {}, new int[] {}},                           // scalar
            };
            for (DType dt : ALL) {
                for (Object[] c : cases) {
                    int[] dims = (int[]) c[0];
                    int[] perm = (int[]) c[1];
                    Tensor x = random(dt, 800, dims);
                    Tensor expected = cpu().transpose(x, perm);
                    String what = "transpose " + dt + " " + x.shape() + " perm " + Arrays.toString(perm);
                    same(expected, gpu().transpose(up(x), perm), what);
                    same(expected, gpu().transpose(upAt(x, 1), perm), what + " (view)");
                }
            }
        });
    }

    @Test
    void theCopyUnitIsTheWidestPowerOfTwoDividingEveryByteCount() {
        assertEquals(16, CudaShape.unit(0, 16, 4096, 1L << 40));
        assertEquals(8, CudaShape.unit(256, 24));
        assertEquals(4, CudaShape.unit(12, 256));
        assertEquals(2, CudaShape.unit(6));
        assertEquals(1, CudaShape.unit(16, 3));
    }

    @Test
    void fastDivisionMagicNumbersDivideEveryIndexExactly() {
        CudaKernelsContract.SplitMix r = new CudaKernelsContract.SplitMix(9);
        List<Integer> divisors = new ArrayList<>(List.of(1, 2, 3, 5, 7, 31, 32, 33, 641, 65535, 65536, 65537, (1 << 30) - 1,
                1 << 30, (1 << 30) + 1, Integer.MAX_VALUE - 1, Integer.MAX_VALUE));
        for (int i = 0; i < 200; i++) divisors.add(1 + r.nextInt(i % 2 == 0 ? 5000 : Integer.MAX_VALUE));
        for (int d : divisors) {
            int[] md = CudaShape.divider(d);
            long magic = md[0] & 0xffffffffL;
            List<Integer> ns = new ArrayList<>(List.of(0, 1, d - 1, Integer.MAX_VALUE, Integer.MAX_VALUE - 1));
            if (d < Integer.MAX_VALUE) ns.add(d);
            if (d < Integer.MAX_VALUE / 3) ns.addAll(List.of(2 * d - 1, 2 * d, 3 * d + 1));
            for (int i = 0; i < 50; i++) ns.add(r.nextInt(Integer.MAX_VALUE));
            for (int n : ns) {
                long t = (n * magic) >>> 32; // umulhi(n, magic)
                assertEquals(n / d, (t + n) >>> md[1], n + " / " + d);
            }
        }
    }

    // ---- errors --------------------------------------------------------------------------------

    private static void assertMessage(String expectedPart, Runnable r) {
        Throwable e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(expectedPart), "message '" + e.getMessage() + "' lacks '" + expectedPart + "'");
    }

    @Test
    void badArgumentsAreRejectedWithMessagesNamingOpArgumentAndShapes() {
        scoped(() -> {
            ShapeKernels g = gpu();
            Tensor a = up(Tensor.zeros(2, 3));
            Tensor b = up(Tensor.zeros(4, 5));
            Tensor i = up(Tensor.zeros(DType.INT32, Shape.of(2, 3)));
            Tensor h = Tensor.zeros(DType.FLOAT16, Shape.of(2, 3));
            Tensor hd = up(h);
            Tensor nine = up(Tensor.zeros(2, 3, 2, 3, 2, 3, 2, 3, 2));
            long before = device().liveBytes();
            assertMessage("concat: needs at least one tensor", () -> g.concat(List.of(), 0));
            assertMessage("concat: values[1] [4, 5] lives on cpu", () -> g.concat(List.of(a, Tensor.zeros(4, 5)), 0));
            assertMessage("concat: values[1] dtype INT32 != values[0] dtype FLOAT32", () -> g.concat(List.of(a, i), 0));
            assertMessage("concat: values[1] shape [4, 5] does not match values[0] shape [2, 3] outside axis 0", () -> g.concat(List.of(a, b), 0));
            assertMessage("concat: axis 2 out of range for input [2, 3]", () -> g.concat(List.of(a, a), 2));
            assertMessage("split: sizes [1, 1] add up to 2, not the size 3 of axis 1 of input [2, 3]", () -> g.split(a, 1, new int[] {1, 1}));
            assertMessage("split: negative size in [4, -1] (input [2, 3])", () -> g.split(a, 1, new int[] {4, -1}));
            assertMessage("pad: paddings has 1 rows but the input [2, 3] has rank 2", () -> g.pad(a, new int[][] {{1, 1}}, 0));
            assertMessage("pad: paddings[1] = [1, -1] must be {before, after} with both >= 0 (input [2, 3])",
                    () -> g.pad(a, new int[][] {{0, 0}, {1, -1}}, 0));
            assertMessage("pad: a non-zero fill value is not supported for FLOAT16", () -> g.pad(hd, new int[][] {{0, 0}, {1, 1}}, 1));
            assertMessage("pad: x [2, 3] lives on cpu", () -> g.pad(h, new int[][] {{0, 0}, {1, 1}}, 0));
            assertMessage("slice: begin [1, 2], size [1, 2] leave the input [2, 3] at axis 1", () -> g.slice(a, new int[] {1, 2}, new int[] {1, 2}));
            assertMessage("slice: begin [0] and size [1] must both have one entry per dimension of the input [2, 3]",
                    () -> g.slice(a, new int[] {0}, new int[] {1}));
            assertMessage("transpose: perm [0, 0] is not a permutation of the axes of input [2, 3]", () -> g.transpose(a, new int[] {0, 0}));
            assertMessage("transpose: perm [1] is not a permutation", () -> g.transpose(a, new int[] {1}));
            assertMessage("transpose: perm [8, 7, 6, 5, 4, 3, 2, 1, 0] of input [2, 3, 2, 3, 2, 3, 2, 3, 2] moves 9 groups of axes",
                    () -> g.transpose(nine, new int[] {8, 7, 6, 5, 4, 3, 2, 1, 0}));
            DropoutKernels d = gpuDropout();
            assertMessage("dropout mask: keepProb must be in (0, 1], got 0.0 (shape [2, 3])", () -> d.mask(Shape.of(2, 3), DType.FLOAT32, 0, 1));
            assertMessage("dropout mask: keepProb must be in (0, 1], got 1.5", () -> d.mask(Shape.of(2, 3), DType.FLOAT32, 1.5, 1));
            assertMessage("dropout mask: unsupported dtype INT32 (float32 or float64 only), shape [2, 3]",
                    () -> d.mask(Shape.of(2, 3), DType.INT32, 0.5, 1));
            assertEquals(before, device().liveBytes(), "rejected calls allocate nothing");
        });
    }

    // ---- dropout -------------------------------------------------------------------------------

    /** Philox4x32-10 in Java (the reference for the device's generator). */
    static int[] philox(int c0, int c1, int c2, int c3, int k0, int k1) {
        long m0 = 0xD2511F53L, m1 = 0xCD9E8D57L;
        for (int r = 0; r < 10; r++) {
            if (r > 0) {
                k0 += 0x9E3779B9;
                k1 += 0xBB67AE85;
            }
            long p0 = m0 * (c0 & 0xffffffffL);
            long p1 = m1 * (c2 & 0xffffffffL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c0 = n0;
            c1 = (int) p1;
            c2 = n2;
            c3 = (int) p0;
        }
        return new int[] {c0, c1, c2, c3};
    }

    @Test
    void philoxMatchesRandom123KnownAnswers() {
        // Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter[4], key[2] -> result[4].
        int[][] in = {
            {0, 0, 0, 0, 0, 0},
            {-1, -1, -1, -1, -1, -1},
            {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0},
        };
        int[][] expected = {
            {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
            {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
            {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
        };
        for (int i = 0; i < in.length; i++) {
            int[] r = in[i];
            assertArrayEquals(expected[i], philox(r[0], r[1], r[2], r[3], r[4], r[5]), "Java Philox, vector " + i);
        }
        scoped(() -> {
            CudaDropout d = (CudaDropout) gpuDropout();
            int[][] got = d.philox(in);
            for (int i = 0; i < in.length; i++) assertArrayEquals(expected[i], got[i], "device Philox, vector " + i);
        });
    }

    @Test
    void dropoutMasksAreTheJavaPhiloxMaskAndReproducible() {
        scoped(() -> {
            long seed = 0x1234_5678_9abc_def0L;
            for (double keep : new double[] {0.5, 0.8, 0.1}) {
                int[] dims = {3, 7, 11};
                Tensor m = gpuDropout().mask(Shape.of(dims), DType.FLOAT32, keep, seed);
                float[] got = m.toFloatArray();
                long threshold = CudaDropout.threshold(keep);
                for (int i = 0; i < got.length; i++) {
                    int w = philox(i / 4, 0, 0, 0, (int) seed, (int) (seed >>> 32))[i % 4];
                    float want = (w & 0xffffffffL) < threshold ? (float) (1.0 / keep) : 0f;
                    assertEquals(want, got[i], 0f, "keep " + keep + " element " + i);
                }
                // Reproducible, a prefix of any longer mask (independent of launch geometry), float64 alike.
                assertArrayEquals(got, gpuDropout().mask(Shape.of(dims), DType.FLOAT32, keep, seed).toFloatArray());
                float[] longer = gpuDropout().mask(Shape.of(5000), DType.FLOAT32, keep, seed).toFloatArray();
                assertArrayEquals(got, Arrays.copyOf(longer, got.length), "prefix of a longer mask");
                double[] d = gpuDropout().mask(Shape.of(dims), DType.FLOAT64, keep, seed).toDoubleArray();
                for (int i = 0; i < d.length; i++) assertEquals(got[i] == 0 ? 0 : 1.0 / keep, d[i], 0.0, "float64 element " + i);
                assertNotEquals(Arrays.toString(got), Arrays.toString(gpuDropout().mask(Shape.of(dims), DType.FLOAT32, keep, seed + 1).toFloatArray()),
                        "another seed, another mask");
            }
            for (double v : gpuDropout().mask(Shape.of(37), DType.FLOAT64, 1.0, 5).toDoubleArray()) assertEquals(1.0, v, 0.0, "keepProb 1");
            assertEquals(0, gpuDropout().mask(Shape.of(0, 4), DType.FLOAT32, 0.5, 5).numel());
            assertEquals(1, gpuDropout().mask(Shape.scalar(), DType.FLOAT32, 0.5, 5).numel());
        });
    }

    @Test
    void dropoutKeepRatesStayWithinBinomialBounds() {
        scoped(() -> {
            int n = 40_001;
            for (double keep : new double[] {0.1, 0.5, 0.9, 0.999}) {
                float[] m = gpuDropout().mask(Shape.of(n), DType.FLOAT32, keep, 77).toFloatArray();
                float[] other = gpuDropout().mask(Shape.of(n), DType.FLOAT32, keep, 78).toFloatArray();
                long kept = 0, agree = 0;
                long[] perWord = new long[4];
                for (int i = 0; i < n; i++) {
                    assertTrue(m[i] == 0f || m[i] == (float) (1.0 / keep), "value " + m[i]);
                    if (m[i] != 0) {
                        kept++;
                        perWord[i % 4]++;
                    }
                    if ((m[i] != 0) == (other[i] != 0)) agree++;
                }
                // 6 standard deviations: a correct generator fails this about once in 10^8 runs.
                double sd = Math.sqrt(n * keep * (1 - keep));
                assertTrue(Math.abs(kept - n * keep) <= 6 * sd + 1, "keep " + keep + ": kept " + kept + " of " + n);
                for (int w = 0; w < 4; w++) {
                    double nw = (n - w + 3) / 4;
                    assertTrue(Math.abs(perWord[w] - nw * keep) <= 6 * Math.sqrt(nw * keep * (1 - keep)) + 1,
                            "keep " + keep + ": word " + w + " kept " + perWord[w] + " of " + nw);
                }
                // Two seeds agree as two independent masks would: p^2 + (1 - p)^2.
                double pa = keep * keep + (1 - keep) * (1 - keep);
                assertTrue(Math.abs(agree - n * pa) <= 6 * Math.sqrt(n * pa * (1 - pa)) + 1, "keep " + keep + ": seeds agree on " + agree);
            }
        });
    }
}
