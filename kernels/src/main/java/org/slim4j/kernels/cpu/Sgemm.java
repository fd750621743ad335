package org.slim4j.kernels.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slim4j.kernels.FrozenWeights;

/**
 * Single-precision GEMM on row-major arrays: C = alpha * op(A) * op(B) + beta * C, where op(A) is
 * M x K and op(B) is K x N. lda/ldb/ldc are row strides of the stored (untransposed) matrices.
 * The shared engine of matmul and convolution.
 *
 * <p>Large products use the Goto/BLIS scheme. op(B) is packed into NR-wide column panels (p-major:
 * NR values per k), op(A) into MC x KC blocks of MR-row panels (p-major, AS floats per k), and an
 * MR x NR register-tiled micro-kernel (MR = 5 rows x 2 vectors = 10 FloatVector accumulators, fma)
 * multiplies one A panel by one B panel. A KC x NR B panel is 16 KiB (half of L1) and stays there
 * while the A block's panels (MC x KC, ~200 KiB) stream from L2.
 *
 * <p>Why this exact shape (measured with C2 on AVX2, 16 vector registers): the inner loop indexes
 * the packed panels as {@code base + p * NR} and {@code base + p * AS} with power-of-two constants,
 * so C2 removes every range check and the loop is 10 FMAs + 2 vector loads + 5 broadcast loads
 * and a counter. 10 accumulators cover the FMA latency x 2 pipes; a 6 x 16 tile (12 accumulators)
 * or a source-unrolled loop makes C2 hoist more broadcasts than there are registers and spill an
 * accumulator, which halves the speed. MR = 5 is padded to an A stride of 8 because a stride of
 * 6 or 5 is strength-reduced into shifts and adds that defeat range-check elimination.
 *
 * <p>Packing is pluggable ({@link PackA}, {@link PackB}) so that convolutions can pack straight
 * from NHWC tensors (implicit im2col) into the same panels. op(B) is packed once per call into a
 * buffer shared by all threads (column blocks of at most {@link #NC} when it would be huge); the
 * M blocks (and, for short M, groups of B panels) are then shared out over {@link Parallel} with
 * each task running its whole K loop, so a call has two parallel regions and no per-block barrier.
 * When op(B) has at most {@link #ROW_MAJOR_A_MAX_PANELS} panels, an untransposed A is not packed
 * at all ({@link RowMajorA}): the micro-kernel broadcasts straight from its rows.
 * alpha is folded into A's packing; beta == 0 overwrites C (the first K block stores, later ones
 * add) and never reads it, so stale NaNs in C do not leak through. Small or skinny products
 * (e.g. M = 1 inference) skip packing and run direct vectorised row loops.
 */
public final class Sgemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /** Micro-tile rows (broadcast side). */
    static final int MR = 5;
    /** Packed A floats per k: MR rounded up to a power of two (see the class comment). */
    static final int AS = 8;
    /** AS lanes: one packed A step of a transposed A is one vector copy. */
    private static final VectorSpecies<Float> PACK_SPECIES = FloatVector.SPECIES_256;
    /** Micro-tile columns: two vectors. */
    static final int NR = 2 * VL;
    /** Depth of one K block: a KC x NR B panel is 16 KiB (half of L1). */
    static final int KC = Math.max(64, 4096 / NR);
    /** Rows of A per packed block: MC / MR panels x KC x AS floats ~ 200 KiB (L2). */
    static final int MC = 24 * MR;
    /** Most columns of op(B) packed at once by {@link #gemm} (a KC-deep slice stays in L3). */
    static final int NC = NR * 128;
    /** Cap (floats) on the shared packed-B buffer; a deeper K makes the column blocks narrower. */
    static final int B_CAP = 1 << 23;
    /** Rows of a stored B copied per strip by the untransposed B packer. */
    private static final int PACK_ROWS = 16;
    /** Below this many multiply-adds packing does not pay. */
    private static final long SMALL = 32 * 1024;

    private static final ThreadLocal<float[]> PACK_A = ThreadLocal.withInitial(() -> new float[Math.max(MC / MR * AS * KC, MC * KC)]);
    /** Per-thread B buffer: the packed op(B) of a call made on this thread, read by all the call's tasks. */
    private static final ThreadLocal<float[]> PACK_B = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread buffers of {@link #multiplyStreamed}: all of A and all of B for one K block. */
    private static final ThreadLocal<float[]> STREAM_A = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> STREAM_B = ThreadLocal.withInitial(() -> new float[0]);
    /** Target size (floats) of one K block of B in {@link #multiplyStreamed}: 256 KiB, L2. */
    private static final int STREAM_B_FLOATS = 1 << 16;
    /** Per-thread scratch: a ragged edge tile on its way to C. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[MR * NR]);

    private Sgemm() {
    }

    private static final VarHandle FLOATS = MethodHandles.arrayElementVarHandle(float[].class);

    /**
     * a[i], read with acquire order: the micro-kernels' broadcast loads. On x86 this is a plain
     * load (no fence), but C2 may not move later loads above it, so each broadcast stays next to
     * its two FMAs. Plain loads let C2 hoist all five broadcasts of an iteration to its top; with
     * ten accumulators and two B vectors that is 17 live vectors for 16 registers, and the spilled
     * accumulator (a store and reload per iteration) doubles the loop's time. JDK 25 did so every
     * time, JDK 17 in some compilations: the same kernel ran at 27-35 or 50-90 GFLOP/s on one core
     * depending on the JVM run.
     */
    private static float pinned(float[] a, int i) {
        return (float) FLOATS.getAcquire(a, i);
    }

    /**
     * Packs rows [i0, i0 + mc) x columns [p0, p0 + kc) of a (scaled) op(A) into ceil(mc / MR)
     * consecutive panels of kc * AS floats: panel t holds rows i0 + t*MR ..., value (row r, k p)
     * at {@code t * kc * AS + p * AS + r}. Rows past mc must be written as zeros; slots r >= MR
     * are never read.
     */
    interface PackA {
        void pack(int i0, int mc, int p0, int kc, float[] dst);
    }

    /**
     * Packs rows [p0, p0 + kc) x columns [j0, j0 + nc) of op(B) into ceil(nc / NR) consecutive
     * panels of kc * NR floats from {@code dst[off]} on: value (k p, column j) at
     * {@code off + t * kc * NR + p * NR + (j - t*NR)}. Columns past nc must be zeros.
     */
    interface PackB {
        void pack(int p0, int kc, int j0, int nc, float[] dst, int off);
    }

    /**
     * Applied to each finished block of C (rows [row0, row0 + rows) x columns [col0, col0 + cols))
     * right after its last K block, while the block is still in cache: a fused bias / batch-norm /
     * activation costs no extra pass over memory.
     */
    interface Epilogue {
        void apply(float[] c, int cOff, int ldc, int row0, int rows, int col0, int cols);
    }

    /**
     * An untransposed, unscaled op(A) read in place: row i, column p at {@code a[off + i * lda + p]}.
     * {@link #multiply} hands its rows straight to {@link #kernelRowsAt} instead of packing
     * them. That pays when op(B) has few panels: each A value then feeds only a few micro-kernel
     * calls, and packing it (a scalar strided store per value) would cost a large share of the
     * FMAs it feeds (a 1x1 convolution to 64 channels packed its whole input for 4 panels).
     */
    record RowMajorA(float[] a, int off, int lda) implements PackA {
        @Override
        public void pack(int i0, int mc, int p0, int kc, float[] dst) {
            packerA(false, 1f, a, off, lda).pack(i0, mc, p0, kc, dst);
        }
    }

    /**
     * An untransposed, unscaled op(A) that {@link #multiply} copies block by block into row panels
     * (row r of a panel at r * {@link #KR}, contiguous vector copies) for {@link #kernelRows5},
     * instead of transposing it into [k][row] panels with a scalar strided store per value. Other
     * drivers pack it as any PackA. Alternated in one JVM (two threads, medians of 25): ResNet's
     * 1x1 shapes [25085 x 256] x [256 x 64] 7.66 / 7.99 -> 6.90 / 7.41 ms, [1570 x 1024] x
     * [1024 x 256] 7.20 / 6.72 -> 6.44 / 6.10, [3135 x 512] x [512 x 512] 13.85 / 11.31 -> 12.42 /
     * 11.33, [6270 x 128] x [128 x 512] 6.12 / 7.37 -> 5.93 / 7.10; the same sums in the same order.
     */
    record RowPanelsA(float[] a, int off, int lda) implements PackA {
        @Override
        public void pack(int i0, int mc, int p0, int kc, float[] dst) {
            packerA(false, 1f, a, off, lda).pack(i0, mc, p0, kc, dst);
        }

        /** Rows [i0, i0 + mc) x columns [p0, p0 + kc) into dst, row r at r * KR. */
        void copyRows(int i0, int mc, int p0, int kc, float[] dst) {
            int vecEnd = kc - kc % VL;
            for (int r = 0; r < mc; r++) {
                int src = off + (i0 + r) * lda + p0;
                int d = r * KR;
                for (int p = 0; p < vecEnd; p += VL) FloatVector.fromArray(S, a, src + p).intoArray(dst, d + p);
                for (int p = vecEnd; p < kc; p++) dst[d + p] = a[src + p];
            }
        }
    }

    /** Row stride of {@link RowPanelsA}'s copied rows: the deepest K block (PACK_A holds MC such rows). */
    static final int KR = KC;

    /** Most B panels for which an untransposed A is read in place rather than packed. */
    static final int ROW_MAJOR_A_MAX_PANELS = 8;

    /**
     * The A side for a row-major, unscaled op(A) (row stride lda, k columns) multiplied by an op(B)
     * of n columns: read in place when op(B) has at most 2 panels, or at most 8 and K spans more
     * than one K block; else packed. Alternated in one JVM (best of 8, two threads): packing won
     * for every K <= 256 with 4-8 panels ([25088 x 256] x [256 x 64], ResNet's 1x1 256->64 at
     * 56x56: 12.6 / 11.3 ms in place, 10.4 / 9.7 packed; 64 -> 64 3.6 / 2.5 against 2.7 / 2.2;
     * [100352 x 32] x [32 x 64] 9.9 / 8.5 against 7.6 / 7.8; 128 -> 128 at 56x56 12.9 / 8.6
     * against 9.4 / 7.2), reading in place for K >= 512 (512 -> 64 at 28x28 3.4 / 5.3 against
     * 5.2 / 7.0; 1024 -> 128 at 14x14 3.1 / 3.9 against 3.3 / 4.4) and for 2 panels (the 1x1
     * input gradient of 32 -> 64 at 112x112: 5.7-6.8 ms in place, 7.5-8.6 packed).
     */
    static PackA rowMajorA(float[] a, int off, int lda, int n, int k) {
        int p = panels(n);
        boolean inPlace = p <= 2 || (p <= ROW_MAJOR_A_MAX_PANELS && k > KC);
        return inPlace ? new RowMajorA(a, off, lda) : new RowPanelsA(a, off, lda);
    }

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("sgemm: negative size m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        long work = (long) m * n * k;
        // Skinny M (FC layers at small batch): packing B would cost as much as using it.
        if (work < SMALL || m <= DIRECT_ROWS || n < VL) {
            direct(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        if (beta != 0f && beta != 1f) scaleC(m, n, beta, c, cOff, ldc);
        boolean accumulate = beta != 0f;
        PackA pa = !transA && alpha == 1f ? rowMajorA(a, aOff, lda, n, k) : packerA(transA, alpha, a, aOff, lda);
        float[] kept = transB || ldb != n ? null : keptWeights(b, bOff, k, n);
        if (kept != null) {
            // A frozen weight (inference): its panels are packed once and kept. Same sums as below.
            if (m <= SHORT_M) {
                multiplyPackedByPanelGroups(m, n, k, pa, kept, c, cOff, ldc, accumulate);
            } else {
                multiplyParallel(m, n, k, pa, kept, c, cOff, ldc, accumulate, null);
            }
            return;
        }
        PackB pb = packerB(transB, b, bOff, ldb);
        if (m <= SHORT_M && !transB) {
            multiplyByPanelGroups(m, n, k, pa, pb, c, cOff, ldc, accumulate);
            return;
        }
        int ncMax = Math.max(NR, Math.min(NC, B_CAP / k / NR * NR));
        for (int jc = 0; jc < n; jc += ncMax) {
            int nc = Math.min(ncMax, n - jc);
            float[] bp = packAllB(k, jc, nc, pb);
            multiplyParallel(m, nc, k, pa, bp, c, cOff + jc, ldc, accumulate, null);
        }
    }

    /** C = beta * C (beta 0 writes zeros without reading C). */
    private static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        if (beta == 1f) return;
        Parallel.forRange(m, Math.max(1, 65536 / n), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int row = cOff + i * ldc;
                if (beta == 0f) {
                    Arrays.fill(c, row, row + n, 0f);
                } else {
                    for (int j = 0; j < n; j++) c[row + j] *= beta;
                }
            }
        });
    }

    static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    /** Panels needed for n columns. */
    static int panels(int n) {
        return ceilDiv(n, NR);
    }

    // ---- packed-B driver ------------------------------------------------------------------------

    /**
     * Packs op(B) rows [0, k) x columns [j0, j0 + nc) with pb into this thread's B buffer (panel t
     * at t * k * NR), in parallel over panels. The buffer stays valid until this thread's next
     * call that packs B.
     */
    static float[] packAllB(int k, int j0, int nc, PackB pb) {
        return packAllB(k, j0, nc, () -> pb);
    }

    /**
     * A stored [k x n] B (row stride n) packed whole as {@link #packAllB} packs it: kept across
     * calls when B is a frozen weight ({@link FrozenWeights}), else in this thread's B buffer.
     */
    static float[] packWeights(float[] b, int bOff, int k, int n) {
        float[] kept = keptWeights(b, bOff, k, n);
        return kept != null ? kept : packAllB(k, 0, n, packerB(false, b, bOff, n));
    }

    /** {@link #packWeights}'s kept panels of a frozen weight, made on first use; null when B is not frozen. */
    private static float[] keptWeights(float[] b, int bOff, int k, int n) {
        return FrozenWeights.prepared(b, bOff, new FilterForm("gemm b panels", 1, 1, k, n),
                () -> Arrays.copyOf(packAllB(k, 0, n, packerB(false, b, bOff, n)), panels(n) * k * NR));
    }

    /**
     * {@link #packAllB(int, int, int, PackB)} for packers that are not thread-safe: each parallel
     * task packs its panels with its own packer from {@code perTask}.
     */
    static float[] packAllB(int k, int j0, int nc, java.util.function.Supplier<PackB> perTask) {
        int np = panels(nc);
        float[] bp = PACK_B.get();
        if (bp.length < np * k * NR) {
            bp = new float[np * k * NR];
            PACK_B.set(bp);
        }
        float[] dst = bp;
        int grain = Math.max(1, (1 << 15) / Math.max(1, k * NR));
        Parallel.forRange(np, grain, (t0, t1) ->
                perTask.get().pack(0, k, j0 + t0 * NR, Math.min(nc, t1 * NR) - t0 * NR, dst, t0 * k * NR));
        return dst;
    }

    /**
     * C[0..m, 0..n) (+)= op(A) * B over both cores, B already packed by {@link #packAllB}. Work is
     * split into M blocks; when there are too few of them for the cores, the B panels are also
     * split into column groups.
     */
    static void multiplyParallel(int m, int n, int k, PackA pa, float[] bp, float[] c, int cOff, int ldc, boolean accumulate,
                                 Epilogue epi) {
        int threads = Parallel.threads();
        int np = panels(n);
        int mBlocks = ceilDiv(m, MC);
        // Parallel.forRange cuts [0, units) into at most 4 x threads equal chunks and halves them
        // recursively: a unit count that is a multiple of that keeps every core equally busy
        // (10 blocks on 2 cores would split 6 / 4).
        int chunks = 4 * threads;
        if (mBlocks % chunks != 0 && m >= chunks * 2 * MR) mBlocks += chunks - mBlocks % chunks;
        int mcStep = ceilDiv(ceilDiv(m, mBlocks), MR) * MR;
        int mb = ceilDiv(m, mcStep);
        int groups = Math.max(1, Math.min(np, Math.max(ceilDiv(2 * threads, mb), cBlockGroups(k, np, pa))));
        int perGroup = ceilDiv(np, groups);
        groups = ceilDiv(np, perGroup);
        int units = mb * groups;
        int g = groups;
        Parallel.forRange(units, 1, (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int blk = u / g;
                int grp = u % g;
                int i0 = blk * mcStep;
                int q0 = grp * perGroup;
                multiply(i0, Math.min(m, i0 + mcStep), q0, Math.min(np, q0 + perGroup), n, k, pa, bp, c, cOff, ldc, accumulate, epi);
            }
        });
    }

    /**
     * Most B panels one task of {@link #multiplyParallel} sweeps per M block when K spans several K
     * blocks: each K block revisits the task's C block (MC rows x its panels), and at 8 panels that
     * block is 60 KiB and stays in L2 between visits, where all of a 1024-wide C (480 KiB, the whole
     * L2 with the A block beside it) came back from L3. Alternated in one JVM (two class loaders, two
     * threads, medians of 10 rounds, four runs): 2048^3 81-102 -> 98-113 GFLOP/s, 1024^3 80-111 ->
     * 80-116.
     */
    static final int C_GROUP_PANELS = 8;

    /**
     * The fewest panel groups {@link #multiplyParallel} should cut B into: enough to keep a task's C
     * block to {@link #C_GROUP_PANELS} panels when K spans several K blocks and the A block is
     * copied rows ({@link RowPanelsA}, cheap to copy once per group). Other packers (im2col) cost
     * more to repeat than C's trips to L3.
     */
    private static int cBlockGroups(int k, int np, PackA pa) {
        return k > KC && pa instanceof RowPanelsA ? ceilDiv(np, C_GROUP_PANELS) : 1;
    }

    /**
     * Serial: rows [i0, i1) x B panels [q0, q1) of C (+)= op(A) * B, with B fully packed (panel t
     * at t * k * NR). K is walked in even blocks of at most KC; the first block stores into C
     * unless {@code accumulate}.
     */
    static void multiply(int i0, int i1, int q0, int q1, int n, int k, PackA pa, float[] bp,
                         float[] c, int cOff, int ldc, boolean accumulate, Epilogue epi) {
        float[] ap = PACK_A.get();
        float[] scratch = SCRATCH.get();
        RowMajorA inPlace = pa instanceof RowMajorA r ? r : null;
        RowPanelsA rows = pa instanceof RowPanelsA r ? r : null;
        int kBlocks = ceilDiv(k, KC);
        int kcStep = ceilDiv(k, kBlocks);
        for (int ic = i0; ic < i1; ic += MC) {
            int mc = Math.min(MC, i1 - ic);
            for (int pc = 0; pc < k; pc += kcStep) {
                int kc = Math.min(kcStep, k - pc);
                boolean add = accumulate || pc > 0;
                if (rows != null) {
                    rows.copyRows(ic, mc, pc, kc, ap);
                } else if (inPlace == null) {
                    pa.pack(ic, mc, pc, kc, ap);
                }
                for (int q = q0; q < q1; q++) {
                    int jr = q * NR;
                    int nr = Math.min(NR, n - jr);
                    int bo = q * k * NR + pc * NR;
                    // One B panel stays in L1 while the A block's rows stream from L2.
                    if (rows != null) {
                        // A ragged last panel reads stale rows past mc; their results are clipped away.
                        for (int ir = 0; ir < mc; ir += MR) {
                            kernelRows5(kc, ap, ir * KR, bp, bo, c, cOff + (ic + ir) * ldc + jr, ldc,
                                    Math.min(MR, mc - ir), nr, add, scratch);
                        }
                    } else if (inPlace != null) {
                        int lda = inPlace.lda();
                        for (int ir = 0; ir < mc; ir += MR) {
                            // Rows past a ragged panel's last repeat it; their results are clipped away.
                            int mr = Math.min(MR, mc - ir);
                            int a0 = inPlace.off() + (ic + ir) * lda + pc;
                            kernelRowsAt(kc, inPlace.a(), a0, a0 + Math.min(1, mr - 1) * lda, a0 + Math.min(2, mr - 1) * lda,
                                    a0 + Math.min(3, mr - 1) * lda, a0 + Math.min(4, mr - 1) * lda, mr,
                                    bp, bo, c, cOff + (ic + ir) * ldc + jr, ldc, nr, add, scratch);
                        }
                    } else {
                        for (int ir = 0; ir < mc; ir += MR) {
                            kernel(kc, ap, ir / MR * kc * AS, bp, bo, c, cOff + (ic + ir) * ldc + jr, ldc,
                                    Math.min(MR, mc - ir), nr, add, scratch);
                        }
                    }
                }
            }
            if (epi != null) epi.apply(c, cOff, ldc, ic, mc, q0 * NR, Math.min(n, q1 * NR) - q0 * NR);
        }
    }

    /** Most rows of op(A) for which {@link #gemm} packs B a group of panels at a time inside each task. */
    static final int SHORT_M = MC;

    /**
     * Packed floats of one K block of a {@link #multiplyByPanelGroups} group: 512 KiB (L2; 32 panels
     * of 256 at 16 floats). Alternated in one JVM, two threads, medians of 25 over 6-10 rounds, two
     * groups per thread before -> now: [64 x 3136] x [3136 x 1024] (LeNet's fc3, one group per thread
     * now) about 8.1 -> 7.2 ms, faster in 10 of 10 rounds; [100 x 1024] x [1024 x 1024] 4.1 -> 3.8
     * (6 of 8); [32 x 4096] x [4096 x 4096] (four groups per thread now) 26.1 -> 24.3 (6 of 6), where
     * groups of half that size (eight per thread) were slower.
     */
    static final int GROUP_B_FLOATS = 1 << 17;

    /** Per-thread buffer of {@link #multiplyByPanelGroups}: one K block of a group of B panels. */
    private static final ThreadLocal<float[]> GROUP_B = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * C (+)= op(A) * op(B) for a short op(A) (m <= {@link #SHORT_M}: one M block), in parallel over
     * groups of B panels. Each B value then feeds exactly one task, so instead of packing all of
     * op(B) out to memory and reading it back ({@link #packAllB}), a task packs one K block of its
     * panels into an L2-sized buffer right before multiplying it: op(B) passes through the caches
     * once. The A block is packed (or read in place) by each task per K block; it is small.
     * Measured (best of 8, alternated in one JVM, two threads, a slow hour of the VM): [64 x 3136] x
     * [3136 x 1024] 7.5 / 8.9 -> 6.3 / 7.8 ms, [100 x 1024] x [1024 x 1024] 3.6 / 2.7 -> 2.8 / 2.4.
     * Used for an untransposed B only: the transposed packer reads each stored row in K-block
     * pieces here, and was 5% slower than packing whole rows.
     */
    static void multiplyByPanelGroups(int m, int n, int k, PackA pa, PackB pb, float[] c, int cOff, int ldc,
                                      boolean accumulate) {
        int np = panels(n);
        int kBlocks = ceilDiv(k, KC);
        int kcStep = ceilDiv(k, kBlocks);
        // Groups of at most GROUP_B_FLOATS per K block, as many per thread.
        int threads = Parallel.threads();
        int groups = ceilDiv(ceilDiv(np, Math.max(1, GROUP_B_FLOATS / (kcStep * NR))), threads) * threads;
        int perGroup = ceilDiv(np, Math.min(np, groups));
        groups = ceilDiv(np, perGroup);
        Parallel.forRange(groups, 1, (g0, g1) -> {
            float[] bp = ThreadBuffers.floats(GROUP_B, perGroup * kcStep * NR);
            for (int g = g0; g < g1; g++) {
                int j0 = g * perGroup * NR;
                int nc = Math.min(n - j0, perGroup * NR);
                for (int pc = 0; pc < k; pc += kcStep) {
                    int kc = Math.min(kcStep, k - pc);
                    pb.pack(pc, kc, j0, nc, bp, 0);
                    multiply(0, m, 0, panels(nc), nc, kc, shiftedK(pa, pc), bp, c, cOff + j0, ldc, accumulate || pc > 0, null);
                }
            }
        });
    }

    /**
     * C (+)= op(A) * B for a short op(A) (m <= {@link #SHORT_M}) and a B already packed whole (a
     * frozen weight's kept panels), in parallel over groups of B panels, every task taking all m
     * rows: B, which comes from memory, is read once. ({@link #multiplyParallel} would cut the rows
     * into a few M blocks for the cores, each streaming all of B: LeNet's fc3 at batch 100, 12.8 MB
     * of weights read 7 times, took 13-14 ms a step against 12 repacking it.)
     */
    static void multiplyPackedByPanelGroups(int m, int n, int k, PackA pa, float[] bp, float[] c, int cOff, int ldc,
                                            boolean accumulate) {
        int np = panels(n);
        int perGroup = ceilDiv(np, Math.min(np, 2 * Parallel.threads()));
        int groups = ceilDiv(np, perGroup);
        Parallel.forRange(groups, 1, (g0, g1) -> {
            for (int g = g0; g < g1; g++) {
                multiply(0, m, g * perGroup, Math.min(np, (g + 1) * perGroup), n, k, pa, bp, c, cOff, ldc, accumulate, null);
            }
        });
    }

    /** op(A) with its columns shifted by pc: column p of the result is column pc + p of pa's. */
    private static PackA shiftedK(PackA pa, int pc) {
        if (pc == 0) return pa;
        if (pa instanceof RowMajorA r) return new RowMajorA(r.a(), r.off() + pc, r.lda());
        if (pa instanceof RowPanelsA r) return new RowPanelsA(r.a(), r.off() + pc, r.lda());
        return (i0, mc, p0, kc, dst) -> pa.pack(i0, mc, pc + p0, kc, dst);
    }

    /**
     * Serial, for a deep K and a B too big to pack whole (e.g. a filter gradient summed over all
     * pixels, where M and N are small and K is huge): C[0..m, 0..n) (+)= op(A) * op(B). Per K
     * block, all of op(A) and all of op(B) are packed (the block is sized so that B's panels,
     * ~256 KiB, stay in L2; packing B for all panels at once lets an implicit-im2col packer read
     * each input row sequentially), then every A panel passes over each B panel while that panel
     * sits in L1.
     */
    static void multiplyStreamed(int m, int n, int k, PackA pa, PackB pb, float[] c, int cOff, int ldc, boolean accumulate) {
        int np = panels(n);
        int kcMax = Math.max(32, Math.min(KC, STREAM_B_FLOATS / (np * NR)));
        int kBlocks = ceilDiv(k, kcMax);
        int kcStep = ceilDiv(k, kBlocks);
        int mPanels = ceilDiv(m, MR);
        float[] ap = STREAM_A.get();
        if (ap.length < mPanels * kcStep * AS) {
            ap = new float[mPanels * kcStep * AS];
            STREAM_A.set(ap);
        }
        float[] bp = STREAM_B.get();
        if (bp.length < np * kcStep * NR) {
            bp = new float[np * kcStep * NR];
            STREAM_B.set(bp);
        }
        float[] scratch = SCRATCH.get();
        for (int pc = 0; pc < k; pc += kcStep) {
            int kc = Math.min(kcStep, k - pc);
            boolean add = accumulate || pc > 0;
            pa.pack(0, m, pc, kc, ap);
            pb.pack(pc, kc, 0, n, bp, 0);
            for (int q = 0; q < np; q++) {
                int jr = q * NR;
                int nr = Math.min(NR, n - jr);
                int bo = q * kc * NR;
                for (int ir = 0; ir < m; ir += MR) {
                    kernel(kc, ap, ir / MR * kc * AS, bp, bo, c, cOff + ir * ldc + jr, ldc,
                            Math.min(MR, m - ir), nr, add, scratch);
                }
            }
        }
    }

    // ---- row-major A panels (Winograd) ----------------------------------------------------------

    /**
     * Rows of a row-major A panel: row r, column p at {@code base + r * KS + p}. The Winograd
     * input transform produces its matrices this way with contiguous vector stores, where the
     * [k][row] panels of {@link PackA} would need a scalar transpose.
     */
    static final int MR4 = 4;
    /**
     * Stride between the rows of a row-major A panel, and the deepest K block over one: a
     * constant, so C2 can hoist the range checks. 64 keeps a Winograd tile block (16 matrices of
     * tiles x 64 channels) in L2.
     */
    static final int KS = 64;

    /**
     * The MR4 x NR micro-kernel over a row-major A panel: 8 accumulators, 4 broadcasts at constant
     * distance KS. Five rows this way make C2 hoist all five broadcasts and spill an accumulator;
     * four always fit the 16 registers.
     */
    static void kernelRows(int kc, float[] ap, int ao, float[] bp, int bo,
                           float[] c, int co, int ldc, int mr, int nr, boolean add, float[] scratch) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            int ai = ao + p;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(S, pinned(ap, ai));
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, pinned(ap, ai + KS));
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, pinned(ap, ai + 2 * KS));
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, pinned(ap, ai + 3 * KS));
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
        }
        if (mr == MR4 && nr == NR) {
            if (add) {
                c00 = c00.add(FloatVector.fromArray(S, c, co));
                c01 = c01.add(FloatVector.fromArray(S, c, co + VL));
                c10 = c10.add(FloatVector.fromArray(S, c, co + ldc));
                c11 = c11.add(FloatVector.fromArray(S, c, co + ldc + VL));
                c20 = c20.add(FloatVector.fromArray(S, c, co + 2 * ldc));
                c21 = c21.add(FloatVector.fromArray(S, c, co + 2 * ldc + VL));
                c30 = c30.add(FloatVector.fromArray(S, c, co + 3 * ldc));
                c31 = c31.add(FloatVector.fromArray(S, c, co + 3 * ldc + VL));
            }
            c00.intoArray(c, co);
            c01.intoArray(c, co + VL);
            c10.intoArray(c, co + ldc);
            c11.intoArray(c, co + ldc + VL);
            c20.intoArray(c, co + 2 * ldc);
            c21.intoArray(c, co + 2 * ldc + VL);
            c30.intoArray(c, co + 3 * ldc);
            c31.intoArray(c, co + 3 * ldc + VL);
            return;
        }
        c00.intoArray(scratch, 0);
        c01.intoArray(scratch, VL);
        c10.intoArray(scratch, NR);
        c11.intoArray(scratch, NR + VL);
        c20.intoArray(scratch, 2 * NR);
        c21.intoArray(scratch, 2 * NR + VL);
        c30.intoArray(scratch, 3 * NR);
        c31.intoArray(scratch, 3 * NR + VL);
        clip(scratch, c, co, ldc, mr, nr, add);
    }

    /**
     * The MR x NR micro-kernel over row panels ({@link RowPanelsA}): row r, column p at
     * {@code ao + r * KR + p}. The five broadcasts sit at constant distances like the packed
     * kernel's, and acquire loads keep C2 from hoisting them (see {@link #pinned}), so the ten
     * accumulators stay in registers.
     */
    static void kernelRows5(int kc, float[] ap, int ao, float[] bp, int bo,
                            float[] c, int co, int ldc, int mr, int nr, boolean add, float[] scratch) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            int ai = ao + p;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(S, pinned(ap, ai));
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, pinned(ap, ai + KR));
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, pinned(ap, ai + 2 * KR));
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, pinned(ap, ai + 3 * KR));
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, pinned(ap, ai + 4 * KR));
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
        }
        // The tile's way to C, as in kernel (inline: a helper taking ten vectors could box them).
        if (mr == MR && nr == NR) {
            if (add) {
                c00 = c00.add(FloatVector.fromArray(S, c, co));
                c01 = c01.add(FloatVector.fromArray(S, c, co + VL));
                c10 = c10.add(FloatVector.fromArray(S, c, co + ldc));
                c11 = c11.add(FloatVector.fromArray(S, c, co + ldc + VL));
                c20 = c20.add(FloatVector.fromArray(S, c, co + 2 * ldc));
                c21 = c21.add(FloatVector.fromArray(S, c, co + 2 * ldc + VL));
                c30 = c30.add(FloatVector.fromArray(S, c, co + 3 * ldc));
                c31 = c31.add(FloatVector.fromArray(S, c, co + 3 * ldc + VL));
                c40 = c40.add(FloatVector.fromArray(S, c, co + 4 * ldc));
                c41 = c41.add(FloatVector.fromArray(S, c, co + 4 * ldc + VL));
            }
            c00.intoArray(c, co);
            c01.intoArray(c, co + VL);
            c10.intoArray(c, co + ldc);
            c11.intoArray(c, co + ldc + VL);
            c20.intoArray(c, co + 2 * ldc);
            c21.intoArray(c, co + 2 * ldc + VL);
            c30.intoArray(c, co + 3 * ldc);
            c31.intoArray(c, co + 3 * ldc + VL);
            c40.intoArray(c, co + 4 * ldc);
            c41.intoArray(c, co + 4 * ldc + VL);
            return;
        }
        c00.intoArray(scratch, 0);
        c01.intoArray(scratch, VL);
        c10.intoArray(scratch, NR);
        c11.intoArray(scratch, NR + VL);
        c20.intoArray(scratch, 2 * NR);
        c21.intoArray(scratch, 2 * NR + VL);
        c30.intoArray(scratch, 3 * NR);
        c31.intoArray(scratch, 3 * NR + VL);
        c40.intoArray(scratch, 4 * NR);
        c41.intoArray(scratch, 4 * NR + VL);
        clip(scratch, c, co, ldc, mr, nr, add);
    }

    private static void clip(float[] scratch, float[] c, int co, int ldc, int mr, int nr, boolean add) {
        for (int r = 0; r < mr; r++) {
            int row = co + r * ldc;
            if (add) {
                for (int j = 0; j < nr; j++) c[row + j] += scratch[r * NR + j];
            } else {
                System.arraycopy(scratch, r * NR, c, row, nr);
            }
        }
    }

    // ---- standard packers -----------------------------------------------------------------------

    /** Packer for a stored row-major A (M x K, or K x M when transposed), alpha folded in. */
    static PackA packerA(boolean transA, float alpha, float[] a, int aOff, int lda) {
        if (transA) {
            return (i0, mc, p0, kc, dst) -> {
                for (int ir = 0; ir < mc; ir += MR) {
                    int mr = Math.min(MR, mc - ir);
                    int base = ir / MR * kc * AS;
                    // Stored A is K x M: the MR values of one k are contiguous in row k.
                    int src = aOff + p0 * lda + i0 + ir;
                    if (mr == MR) {
                        for (int p = 0; p < kc; p++, src += lda) {
                            int d = base + p * AS;
                            if (src + AS <= a.length) {
                                // One AS-wide copy: the slots past MR are never read, so the
                                // three extra values may land there (1x1 filter gradients).
                                FloatVector.fromArray(PACK_SPECIES, a, src).mul(alpha).intoArray(dst, d);
                                continue;
                            }
                            dst[d] = alpha * a[src];
                            dst[d + 1] = alpha * a[src + 1];
                            dst[d + 2] = alpha * a[src + 2];
                            dst[d + 3] = alpha * a[src + 3];
                            dst[d + 4] = alpha * a[src + 4];
                        }
                    } else {
                        for (int p = 0; p < kc; p++, src += lda) {
                            int d = base + p * AS;
                            for (int r = 0; r < MR; r++) dst[d + r] = r < mr ? alpha * a[src + r] : 0f;
                        }
                    }
                }
            };
        }
        return (i0, mc, p0, kc, dst) -> {
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int base = ir / MR * kc * AS;
                for (int r = 0; r < MR; r++) {
                    if (r < mr) {
                        scatterRow(a, aOff + (i0 + ir + r) * lda + p0, alpha, dst, base + r, kc);
                    } else {
                        zeroRow(dst, base + r, kc);
                    }
                }
            }
        };
    }

    /** dst[d + p * AS] = alpha * src[s + p] for p in [0, len): one row of an A panel. */
    static void scatterRow(float[] src, int s, float alpha, float[] dst, int d, int len) {
        if (alpha == 1f) {
            for (int p = 0; p < len; p++) dst[d + p * AS] = src[s + p];
        } else {
            for (int p = 0; p < len; p++) dst[d + p * AS] = alpha * src[s + p];
        }
    }

    /** Zeroes one row of an A panel: dst[d + p * AS] for p in [0, len). */
    static void zeroRow(float[] dst, int d, int len) {
        for (int p = 0; p < len; p++) dst[d + p * AS] = 0f;
    }

    /** Packer for a stored row-major B (K x N, or N x K when transposed). */
    static PackB packerB(boolean transB, float[] b, int bOff, int ldb) {
        if (!transB) {
            // Rows are walked in strips of PACK_ROWS across all panels rather than panel by panel:
            // one panel's column of a wide B touches a new page every row, a strip touches each
            // source page once per strip and writes PACK_ROWS * NR contiguous floats per panel.
            return (p0, kc, j0, nc, dst, off) -> {
                int np = panels(nc);
                for (int ps = 0; ps < kc; ps += PACK_ROWS) {
                    int pe = Math.min(kc, ps + PACK_ROWS);
                    for (int t = 0; t < np; t++) {
                        int nr = Math.min(NR, nc - t * NR);
                        int d = off + t * kc * NR + ps * NR;
                        int src = bOff + (p0 + ps) * ldb + j0 + t * NR;
                        for (int p = ps; p < pe; p++, src += ldb, d += NR) {
                            if (nr == NR) {
                                // Two vector moves: System.arraycopy's call costs more than 64 bytes.
                                FloatVector.fromArray(S, b, src).intoArray(dst, d);
                                FloatVector.fromArray(S, b, src + VL).intoArray(dst, d + VL);
                            } else {
                                System.arraycopy(b, src, dst, d, nr);
                                Arrays.fill(dst, d + nr, d + NR, 0f);
                            }
                        }
                    }
                }
            };
        }
        return (p0, kc, j0, nc, dst, off) -> {
            for (int t = 0, np = panels(nc); t < np; t++) {
                int j = j0 + t * NR;
                int nr = Math.min(NR, nc - t * NR);
                int d = off + t * kc * NR;
                // Stored B is N x K: panel column jj is the contiguous row j + jj.
                for (int jj = 0; jj < nr; jj++) {
                    int src = bOff + (j + jj) * ldb + p0;
                    for (int p = 0; p < kc; p++) dst[d + p * NR + jj] = b[src + p];
                }
                for (int jj = nr; jj < NR; jj++) {
                    for (int p = 0; p < kc; p++) dst[d + p * NR + jj] = 0f;
                }
            }
        };
    }

    // ---- micro-kernel ---------------------------------------------------------------------------

    /**
     * The MR x NR micro-kernel: C tile (+)= packed A panel x packed B panel. The 10 vector
     * accumulators stay in registers over kc rank-1 updates; full tiles go straight to C, ragged
     * ones through scratch and are clipped.
     */
    static void kernel(int kc, float[] ap, int ao, float[] bp, int bo,
                       float[] c, int co, int ldc, int mr, int nr, boolean add, float[] scratch) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        // Indices are affine in p with constant power-of-two scales: C2 hoists all range checks.
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            int ai = ao + p * AS;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(S, pinned(ap, ai));
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, pinned(ap, ai + 1));
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, pinned(ap, ai + 2));
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, pinned(ap, ai + 3));
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, pinned(ap, ai + 4));
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
        }
        if (mr == MR && nr == NR) {
            if (add) {
                c00 = c00.add(FloatVector.fromArray(S, c, co));
                c01 = c01.add(FloatVector.fromArray(S, c, co + VL));
                c10 = c10.add(FloatVector.fromArray(S, c, co + ldc));
                c11 = c11.add(FloatVector.fromArray(S, c, co + ldc + VL));
                c20 = c20.add(FloatVector.fromArray(S, c, co + 2 * ldc));
                c21 = c21.add(FloatVector.fromArray(S, c, co + 2 * ldc + VL));
                c30 = c30.add(FloatVector.fromArray(S, c, co + 3 * ldc));
                c31 = c31.add(FloatVector.fromArray(S, c, co + 3 * ldc + VL));
                c40 = c40.add(FloatVector.fromArray(S, c, co + 4 * ldc));
                c41 = c41.add(FloatVector.fromArray(S, c, co + 4 * ldc + VL));
            }
            c00.intoArray(c, co);
            c01.intoArray(c, co + VL);
            c10.intoArray(c, co + ldc);
            c11.intoArray(c, co + ldc + VL);
            c20.intoArray(c, co + 2 * ldc);
            c21.intoArray(c, co + 2 * ldc + VL);
            c30.intoArray(c, co + 3 * ldc);
            c31.intoArray(c, co + 3 * ldc + VL);
            c40.intoArray(c, co + 4 * ldc);
            c41.intoArray(c, co + 4 * ldc + VL);
            return;
        }
        c00.intoArray(scratch, 0);
        c01.intoArray(scratch, VL);
        c10.intoArray(scratch, NR);
        c11.intoArray(scratch, NR + VL);
        c20.intoArray(scratch, 2 * NR);
        c21.intoArray(scratch, 2 * NR + VL);
        c30.intoArray(scratch, 3 * NR);
        c31.intoArray(scratch, 3 * NR + VL);
        c40.intoArray(scratch, 4 * NR);
        c41.intoArray(scratch, 4 * NR + VL);
        clip(scratch, c, co, ldc, mr, nr, add);
    }

    /**
     * The MR x NR micro-kernel over an A stored transposed where it lies, KS floats per k: A's row
     * r, column p at {@code ap[ao + p * KS + r]} (a Winograd filter gradient's V, tiles x channels,
     * read as channels x tiles without packing). Otherwise {@link #kernel}; rows past a ragged
     * panel's last read the next values of the same KS run (inside the array) and are clipped.
     */
    static void kernelTransposedA(int kc, float[] ap, int ao, float[] bp, int bo,
                                  float[] c, int co, int ldc, int mr, int nr, boolean add, float[] scratch) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            int ai = ao + p * KS;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(S, pinned(ap, ai));
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, pinned(ap, ai + 1));
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, pinned(ap, ai + 2));
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, pinned(ap, ai + 3));
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, pinned(ap, ai + 4));
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
        }
        if (mr == MR && nr == NR) {
            if (add) {
                c00 = c00.add(FloatVector.fromArray(S, c, co));
                c01 = c01.add(FloatVector.fromArray(S, c, co + VL));
                c10 = c10.add(FloatVector.fromArray(S, c, co + ldc));
                c11 = c11.add(FloatVector.fromArray(S, c, co + ldc + VL));
                c20 = c20.add(FloatVector.fromArray(S, c, co + 2 * ldc));
                c21 = c21.add(FloatVector.fromArray(S, c, co + 2 * ldc + VL));
                c30 = c30.add(FloatVector.fromArray(S, c, co + 3 * ldc));
                c31 = c31.add(FloatVector.fromArray(S, c, co + 3 * ldc + VL));
                c40 = c40.add(FloatVector.fromArray(S, c, co + 4 * ldc));
                c41 = c41.add(FloatVector.fromArray(S, c, co + 4 * ldc + VL));
            }
            c00.intoArray(c, co);
            c01.intoArray(c, co + VL);
            c10.intoArray(c, co + ldc);
            c11.intoArray(c, co + ldc + VL);
            c20.intoArray(c, co + 2 * ldc);
            c21.intoArray(c, co + 2 * ldc + VL);
            c30.intoArray(c, co + 3 * ldc);
            c31.intoArray(c, co + 3 * ldc + VL);
            c40.intoArray(c, co + 4 * ldc);
            c41.intoArray(c, co + 4 * ldc + VL);
            return;
        }
        c00.intoArray(scratch, 0);
        c01.intoArray(scratch, VL);
        c10.intoArray(scratch, NR);
        c11.intoArray(scratch, NR + VL);
        c20.intoArray(scratch, 2 * NR);
        c21.intoArray(scratch, 2 * NR + VL);
        c30.intoArray(scratch, 3 * NR);
        c31.intoArray(scratch, 3 * NR + VL);
        c40.intoArray(scratch, 4 * NR);
        c41.intoArray(scratch, 4 * NR + VL);
        clip(scratch, c, co, ldc, mr, nr, add);
    }

    /**
     * The MR x NR micro-kernel over five rows of A read where they lie: row r's kc values at
     * {@code a[ar + p]} (see {@link RowMajorA} and {@link ImplicitGemmConv}, whose
     * rows are not evenly spaced). The same loop as {@link #kernel} with the five broadcasts taken
     * from five streams. A ragged panel (mr < MR) repeats its last row and is clipped.
     */
    static void kernelRowsAt(int kc, float[] a, int a0, int a1, int a2, int a3, int a4, int mr, float[] bp, int bo,
                             float[] c, int co, int ldc, int nr, boolean add, float[] scratch) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(S, pinned(a, a0 + p));
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, pinned(a, a1 + p));
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, pinned(a, a2 + p));
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, pinned(a, a3 + p));
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, pinned(a, a4 + p));
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
        }
        // The store is kernel()'s, repeated: as a shared method C2 does not inline it and boxes the ten vectors.
        if (mr == MR && nr == NR) {
            if (add) {
                c00 = c00.add(FloatVector.fromArray(S, c, co));
                c01 = c01.add(FloatVector.fromArray(S, c, co + VL));
                c10 = c10.add(FloatVector.fromArray(S, c, co + ldc));
                c11 = c11.add(FloatVector.fromArray(S, c, co + ldc + VL));
                c20 = c20.add(FloatVector.fromArray(S, c, co + 2 * ldc));
                c21 = c21.add(FloatVector.fromArray(S, c, co + 2 * ldc + VL));
                c30 = c30.add(FloatVector.fromArray(S, c, co + 3 * ldc));
                c31 = c31.add(FloatVector.fromArray(S, c, co + 3 * ldc + VL));
                c40 = c40.add(FloatVector.fromArray(S, c, co + 4 * ldc));
                c41 = c41.add(FloatVector.fromArray(S, c, co + 4 * ldc + VL));
            }
            c00.intoArray(c, co);
            c01.intoArray(c, co + VL);
            c10.intoArray(c, co + ldc);
            c11.intoArray(c, co + ldc + VL);
            c20.intoArray(c, co + 2 * ldc);
            c21.intoArray(c, co + 2 * ldc + VL);
            c30.intoArray(c, co + 3 * ldc);
            c31.intoArray(c, co + 3 * ldc + VL);
            c40.intoArray(c, co + 4 * ldc);
            c41.intoArray(c, co + 4 * ldc + VL);
            return;
        }
        c00.intoArray(scratch, 0);
        c01.intoArray(scratch, VL);
        c10.intoArray(scratch, NR);
        c11.intoArray(scratch, NR + VL);
        c20.intoArray(scratch, 2 * NR);
        c21.intoArray(scratch, 2 * NR + VL);
        c30.intoArray(scratch, 3 * NR);
        c31.intoArray(scratch, 3 * NR + VL);
        c40.intoArray(scratch, 4 * NR);
        c41.intoArray(scratch, 4 * NR + VL);
        clip(scratch, c, co, ldc, mr, nr, add);
    }

    // ---- direct path: small or skinny products, no packing ---------------------------------------

    private static void direct(boolean transA, boolean transB, int m, int n, int k, float alpha,
                               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                               float beta, float[] c, int cOff, int ldc) {
        long work = (long) m * n * k;
        // Split the longer of M and N so that skinny products (M = 1 inference) still use both cores.
        if (work < 4 * SMALL) {
            directRange(transA, transB, 0, m, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else if (m >= n) {
            int grain = (int) Math.max(1, 4 * SMALL / ((long) n * k));
            Parallel.forRange(m, grain, (i0, i1) ->
                    directRange(transA, transB, i0, i1, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
        } else {
            int blocks = (n + VL - 1) / VL;
            int grain = (int) Math.max(1, 4 * SMALL / ((long) m * k * VL));
            Parallel.forRange(blocks, grain, (j0, j1) ->
                    directRange(transA, transB, 0, m, j0 * VL, Math.min(n, j1 * VL), k, alpha,
                            a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
        }
    }

    private static final ThreadLocal<float[]> DIRECT_ACC = ThreadLocal.withInitial(() -> new float[256]);
    private static final ThreadLocal<float[]> DIRECT_ROW = ThreadLocal.withInitial(() -> new float[256]);

    private static float[] grow(ThreadLocal<float[]> tl, int size) {
        float[] v = tl.get();
        if (v.length < size) {
            v = new float[Math.max(size, 2 * v.length)];
            tl.set(v);
        }
        return v;
    }

    /** Rows of C the direct path computes together, so that each row of B is read once for all of them. */
    private static final int DIRECT_ROWS = 8;
    /** Columns of C per pass of the direct path: DIRECT_ROWS accumulator rows of this width stay in L1. */
    private static final int DIRECT_COLS = 512;

    /**
     * Rows [i0, i1) x columns [j0, j1) of C. Untransposed B: up to DIRECT_ROWS rows at a time,
     * column chunk by column chunk, C rows += A[i, p] * B row p, so each row of B is read once
     * per group of rows (an FC layer at batch 4 reads its weights once, not four times).
     * Transposed B: each C entry is a dot product of two contiguous rows, B's row outermost.
     */
    private static void directRange(boolean transA, boolean transB, int i0, int i1, int j0, int j1, int k,
                                    float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                    float beta, float[] c, int cOff, int ldc) {
        int rows = Math.min(DIRECT_ROWS, i1 - i0);
        float[] arow = transA ? grow(DIRECT_ROW, rows * k) : null;
        for (int g0 = i0; g0 < i1; g0 += DIRECT_ROWS) {
            int g1 = Math.min(i1, g0 + DIRECT_ROWS);
            int gr = g1 - g0;
            // Rows g0.. of op(A), contiguous: in place, or gathered from columns of stored A.
            float[] ar;
            int ao;
            int as;
            if (transA) {
                for (int r = 0; r < gr; r++) {
                    for (int p = 0; p < k; p++) arow[r * k + p] = a[aOff + p * lda + g0 + r];
                }
                ar = arow;
                ao = 0;
                as = k;
            } else {
                ar = a;
                ao = aOff + g0 * lda;
                as = lda;
            }
            if (transB) {
                // op(B) column j is stored row j: one pass over row j serves the whole row group.
                for (int j = j0; j < j1; j++) {
                    int bRow = bOff + j * ldb;
                    for (int r = 0; r < gr; r++) {
                        int ci = cOff + (g0 + r) * ldc + j;
                        float v = alpha * dot(ar, ao + r * as, b, bRow, k);
                        c[ci] = beta == 0f ? v : v + beta * c[ci];
                    }
                }
                continue;
            }
            float[] acc = grow(DIRECT_ACC, gr * DIRECT_COLS);
            for (int jc = j0; jc < j1; jc += DIRECT_COLS) {
                int w = Math.min(DIRECT_COLS, j1 - jc);
                Arrays.fill(acc, 0, gr * DIRECT_COLS, 0f);
                for (int p = 0; p < k; p++) {
                    int bRow = bOff + p * ldb + jc;
                    for (int r = 0; r < gr; r++) axpy(ar[ao + r * as + p], b, bRow, acc, r * DIRECT_COLS, w);
                }
                for (int r = 0; r < gr; r++) storeRow(acc, r * DIRECT_COLS, alpha, beta, c, cOff + (g0 + r) * ldc + jc, w);
            }
        }
    }

    private static float dot(float[] x, int xo, float[] y, int yo, int len) {
        int p = 0;
        float s = 0f;
        if (len >= 2 * VL) {
            FloatVector s0 = FloatVector.zero(S);
            FloatVector s1 = FloatVector.zero(S);
            for (; p <= len - 2 * VL; p += 2 * VL) {
                s0 = FloatVector.fromArray(S, x, xo + p).fma(FloatVector.fromArray(S, y, yo + p), s0);
                s1 = FloatVector.fromArray(S, x, xo + p + VL).fma(FloatVector.fromArray(S, y, yo + p + VL), s1);
            }
            s = LaneSum.ordered(s0.add(s1));
        }
        for (; p < len; p++) s += x[xo + p] * y[yo + p];
        return s;
    }

    /** c[co..co+len) = alpha * acc[ao..ao+len) + beta * c[co..co+len) (beta 0: C is not read). */
    private static void storeRow(float[] acc, int ao, float alpha, float beta, float[] c, int co, int len) {
        if (alpha == 1f && beta == 0f) {
            System.arraycopy(acc, ao, c, co, len);
            return;
        }
        int j = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (; j <= len - VL; j += VL) {
            FloatVector v = FloatVector.fromArray(S, acc, ao + j).mul(va);
            if (beta != 0f) v = FloatVector.fromArray(S, c, co + j).fma(FloatVector.broadcast(S, beta), v);
            v.intoArray(c, co + j);
        }
        for (; j < len; j++) {
            float v = alpha * acc[ao + j];
            c[co + j] = beta == 0f ? v : v + beta * c[co + j];
        }
    }

    /** acc[ao..ao+len) += alpha * y[yo..yo+len). */
    private static void axpy(float alpha, float[] y, int yo, float[] acc, int ao, int len) {
        int j = 0;
        if (len >= VL) {
            FloatVector va = FloatVector.broadcast(S, alpha);
            for (; j <= len - VL; j += VL) {
                va.fma(FloatVector.fromArray(S, y, yo + j), FloatVector.fromArray(S, acc, ao + j)).intoArray(acc, ao + j);
            }
        }
        for (; j < len; j++) acc[ao + j] += alpha * y[yo + j];
    }
}
