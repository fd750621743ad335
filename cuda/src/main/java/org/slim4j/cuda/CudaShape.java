package org.slim4j.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slim4j.kernels.ShapeKernels;
import org.slim4j.kernels.TransposePlan;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * Concat, split, pad, slice and transpose on the GPU (shape.cu), for every dtype, with the CPU
 * backend's semantics and messages. The kernels move untyped units of 1 to 16 bytes: each call
 * first merges the axes that move together (as the CPU backend does), then picks the widest unit
 * that divides every byte count, offset and address involved, so a float32 concat along 64
 * channels moves 16-byte units and a uint8 slice moves single bytes.
 *
 * <p>Concat and split handle up to {@value #MAX_PIECES} pieces per launch (blockIdx.y picks the
 * piece; their addresses travel in the by-value table); transposes that keep the innermost axis
 * and slices are gathers; transposes that move it go through 32x32 shared-memory tiles.
 */
final class CudaShape implements ShapeKernels {
    private static final String MODULE = "shape";
    /** Axes a kernel handles after merging (SLIM4J_MAX_RANK). */
    static final int MAX_RANK = 8;
    /** Pieces per concat/split launch (SHAPE_MAX_PIECES). */
    static final int MAX_PIECES = 16;
    private static final int TILE = 32;

    private final CudaOps ops;

    CudaShape(CudaOps ops) {
        this.ops = ops;
    }

    // ---- concat / split --------------------------------------------------------------------------

    @Override
    public Tensor concat(List<Tensor> values, int axis) {
        String op = "concat";
        if (values == null || values.isEmpty()) throw new IllegalArgumentException(op + ": needs at least one tensor");
        for (int i = 0; i < values.size(); i++) ops.checkDevice(op, "values[" + i + "]", values.get(i));
        Tensor first = values.get(0);
        int rank = first.rank();
        int ax = first.shape().normalizeAxis(op, axis);
        int[] outDims = first.dims();
        outDims[ax] = 0;
        for (int i = 0; i < values.size(); i++) {
            Tensor t = values.get(i);
            if (t.dtype() != first.dtype()) {
                throw new IllegalArgumentException(op + ": values[" + i + "] dtype " + t.dtype() + " != values[0] dtype " + first.dtype());
            }
            boolean ok = t.rank() == rank;
            for (int d = 0; ok && d < rank; d++) ok = d == ax || t.dim(d) == first.dim(d);
            if (!ok) {
                throw new IllegalArgumentException(op + ": values[" + i + "] shape " + t.shape() + " does not match values[0] shape "
                        + first.shape() + " outside axis " + ax);
            }
            outDims[ax] += t.dim(ax);
        }
        Tensor out = ops.device.empty(first.dtype(), Shape.of(outDims));
        if (out.numel() == 0) return out;
        int es = first.dtype().byteSize();
        int rows = 1;
        for (int d = 0; d < ax; d++) rows *= outDims[d];
        long innerBytes = (long) first.shape().strideOf(ax) * es;
        List<long[]> pieces = new ArrayList<>();
        long off = 0;
        for (Tensor t : values) {
            long run = t.dim(ax) * innerBytes;
            if (run > 0) pieces.add(new long[] {CudaOps.ptr(t), run, off});
            off += run;
        }
        launchPieces("concat", CudaOps.ptr(out), rows, off, pieces);
        return out;
    }

    @Override
    public List<Tensor> split(Tensor x, int axis, int[] sizes) {
        String op = "split";
        ops.checkDevice(op, "x", x);
        int ax = x.shape().normalizeAxis(op, axis);
        if (sizes == null) throw new IllegalArgumentException(op + ": sizes is null (input " + x.shape() + ")");
        int sum = 0;
        for (int s : sizes) {
            if (s < 0) throw new IllegalArgumentException(op + ": negative size in " + Arrays.toString(sizes) + " (input " + x.shape() + ")");
            sum += s;
        }
        if (sum != x.dim(ax)) {
            throw new IllegalArgumentException(op + ": sizes " + Arrays.toString(sizes) + " add up to " + sum + ", not the size "
                    + x.dim(ax) + " of axis " + ax + " of input " + x.shape());
        }
        int es = x.dtype().byteSize();
        int rows = 1;
        for (int d = 0; d < ax; d++) rows *= x.dim(d);
        long innerBytes = (long) x.shape().strideOf(ax) * es;
        List<Tensor> out = new ArrayList<>(sizes.length);
        List<long[]> pieces = new ArrayList<>();
        long off = 0;
        for (int size : sizes) {
            Tensor piece = ops.device.empty(x.dtype(), x.shape().withDim(ax, size));
            out.add(piece);
            long run = size * innerBytes;
            if (piece.numel() > 0) pieces.add(new long[] {CudaOps.ptr(piece), run, off});
            off += run;
        }
        if (!pieces.isEmpty()) launchPieces("split", CudaOps.ptr(x), rows, off, pieces);
        return out;
    }

    /**
     * Launches concat_uN / split_uN over the pieces {address, bytes per row, byte offset in a row}
     * of a whole of {@code rows} rows of {@code totalBytes}, {@value #MAX_PIECES} pieces at a time.
     */
    private void launchPieces(String kernel, long whole, int rows, long totalBytes, List<long[]> pieces) {
        int unit = unit(whole, totalBytes);
        for (long[] p : pieces) unit = Math.min(unit, unit(p[0], p[1], p[2]));
        for (int start = 0; start < pieces.size(); start += MAX_PIECES) {
            int count = Math.min(MAX_PIECES, pieces.size() - start);
            int[] table = new int[3 + 6 * MAX_PIECES];
            table[0] = count;
            table[1] = rows;
            table[2] = (int) (totalBytes / unit);
            long most = 0;
            for (int k = 0; k < count; k++) {
                long[] p = pieces.get(start + k);
                table[3 + k] = (int) (p[1] / unit);
                table[3 + MAX_PIECES + k] = (int) (p[2] / unit);
                table[3 + 2 * MAX_PIECES + k] = (int) p[0];
                table[3 + 3 * MAX_PIECES + k] = (int) (p[0] >>> 32);
                int[] div = divider(table[3 + k]);
                table[3 + 4 * MAX_PIECES + k] = div[0];
                table[3 + 5 * MAX_PIECES + k] = div[1];
                most = Math.max(most, (long) rows * table[3 + k]);
            }
            ops.launch(MODULE, kernel + "_u" + unit, CudaOps.blocks(most, CudaOps.THREADS), count, CudaOps.THREADS,
                    new KernelArgs().ptr(whole).struct(table));
        }
    }

    // ---- pad / slice -----------------------------------------------------------------------------

    @Override
    public Tensor pad(Tensor x, int[][] paddings, double value) {
        String op = "pad";
        ops.checkDevice(op, "x", x);
        int rank = x.rank();
        int[] dims = x.dims();
        if (paddings == null || paddings.length != rank) {
            throw new IllegalArgumentException(op + ": paddings has " + (paddings == null ? 0 : paddings.length)
                    + " rows but the input " + x.shape() + " has rank " + rank);
        }
        int[] outDims = new int[rank];
        for (int d = 0; d < rank; d++) {
            if (paddings[d] == null || paddings[d].length != 2 || paddings[d][0] < 0 || paddings[d][1] < 0) {
                throw new IllegalArgumentException(op + ": paddings[" + d + "] = " + Arrays.toString(paddings[d])
                        + " must be {before, after} with both >= 0 (input " + x.shape() + ")");
            }
            outDims[d] = dims[d] + paddings[d][0] + paddings[d][1];
        }
        int[] fill = fillPattern(op, x.dtype(), value);
        // Merge every unpadded axis into its outer neighbour: [out, before, in] per merged axis.
        List<long[]> axes = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            boolean unpadded = paddings[d][0] == 0 && paddings[d][1] == 0;
            if (d > 0 && unpadded) {
                long[] a = axes.get(axes.size() - 1);
                a[0] *= dims[d];
                a[1] *= dims[d];
                a[2] *= dims[d];
            } else {
                axes.add(new long[] {outDims[d], paddings[d][0], dims[d]});
            }
        }
        if (axes.isEmpty()) axes.add(new long[] {1, 0, 1}); // a scalar
        if (axes.size() > MAX_RANK) {
            throw new IllegalArgumentException(op + ": padding " + x.shape() + " to " + Shape.of(outDims) + " needs " + axes.size()
                    + " axes after merging unpadded ones; the cuda kernel handles at most " + MAX_RANK);
        }
        Tensor out = ops.device.empty(x.dtype(), Shape.of(outDims));
        if (out.numel() == 0) return out;
        int es = x.dtype().byteSize();
        long[] inner = axes.get(axes.size() - 1);
        int unit = unit(CudaOps.ptr(out), inner[0] * es, inner[1] * es, inner[2] * es);
        if (x.numel() > 0) unit = Math.min(unit, unit(CudaOps.ptr(x)));
        int r = axes.size();
        int[] g = new int[1 + 5 * MAX_RANK]; // rank, dims, magic, shift, before, inDims
        g[0] = r;
        for (int i = 0; i < r; i++) {
            long[] a = axes.get(i);
            boolean innermost = i == r - 1; // only the innermost axis is counted in units
            for (int k = 0; k < 3; k++) g[1 + (k == 0 ? 0 : k + 2) * MAX_RANK + i] = (int) (innermost ? a[k] * es / unit : a[k]);
            int[] div = divider(g[1 + i]);
            g[1 + MAX_RANK + i] = div[0];
            g[1 + 2 * MAX_RANK + i] = div[1];
        }
        int n = (int) ((long) out.numel() * es / unit);
        ops.launch1d(MODULE, "pad_u" + unit, n, new KernelArgs().i32(n).ptr(CudaOps.ptr(out)).ptr(x.numel() > 0 ? CudaOps.ptr(x) : 0)
                .struct(g).struct(fill));
        return out;
    }

    @Override
    public Tensor slice(Tensor x, int[] begin, int[] size) {
        String op = "slice";
        ops.checkDevice(op, "x", x);
        int rank = x.rank();
        int[] dims = x.dims();
        if (begin == null || size == null || begin.length != rank || size.length != rank) {
            throw new IllegalArgumentException(op + ": begin " + Arrays.toString(begin) + " and size " + Arrays.toString(size)
                    + " must both have one entry per dimension of the input " + x.shape());
        }
        int[] sz = size.clone();
        for (int d = 0; d < rank; d++) {
            if (sz[d] == -1) sz[d] = dims[d] - begin[d]; // TF: -1 takes the rest of the dimension
            if (begin[d] < 0 || sz[d] < 0 || begin[d] + sz[d] > dims[d]) {
                throw new IllegalArgumentException(op + ": begin " + Arrays.toString(begin) + ", size " + Arrays.toString(size)
                        + " leave the input " + x.shape() + " at axis " + d);
            }
        }
        // Merge every axis taken whole into its outer neighbour: [size, input stride] per merged axis.
        int[] inStride = new int[rank];
        long start = 0;
        for (int d = rank - 1, s = 1; d >= 0; d--) {
            inStride[d] = s;
            s *= dims[d];
            start += (long) begin[d] * inStride[d];
        }
        List<long[]> axes = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            boolean whole = begin[d] == 0 && sz[d] == dims[d];
            if (d > 0 && whole && !axes.isEmpty()) {
                long[] a = axes.get(axes.size() - 1);
                a[0] *= sz[d];
                a[1] = inStride[d];
            } else {
                axes.add(new long[] {sz[d], inStride[d]});
            }
        }
        int[][] geom = dropUnitAxes(axes);
        if (geom[0].length > MAX_RANK) {
            throw new IllegalArgumentException(op + ": slicing " + x.shape() + " at begin " + Arrays.toString(begin) + ", size "
                    + Arrays.toString(size) + " needs " + geom[0].length + " axes after merging; the cuda kernel handles at most " + MAX_RANK);
        }
        Tensor out = ops.device.empty(x.dtype(), Shape.of(sz));
        if (out.numel() == 0) return out;
        gather(out, CudaOps.ptr(x) + start * x.dtype().byteSize(), geom[0], geom[1]);
        return out;
    }

    // ---- transpose -------------------------------------------------------------------------------

    @Override
    public Tensor transpose(Tensor x, int[] perm) {
        String op = "transpose";
        ops.checkDevice(op, "x", x);
        int[] outDims = TransposePlan.outputDims(op, x.shape(), perm);
        TransposePlan plan = TransposePlan.of(x.dims(), perm);
        int m = plan.rank();
        if (m > MAX_RANK) {
            throw new IllegalArgumentException(op + ": perm " + Arrays.toString(perm) + " of input " + x.shape() + " moves " + m
                    + " groups of axes; the cuda kernel handles at most " + MAX_RANK);
        }
        Tensor out = ops.device.empty(x.dtype(), Shape.of(outDims));
        int n = out.numel();
        if (n == 0) return out;
        if (m <= 1) {
            ops.device.copy(x.storage(), x.offset(), out.storage(), 0, n);
            return out;
        }
        int[] md = plan.inDims();
        int[] od = plan.outDims();
        int[] sso = plan.inStrideOfOut(); // input stride of each output axis
        if (plan.innermostStays()) {
            gather(out, CudaOps.ptr(x), od, sso); // the innermost axis stays innermost: contiguous runs
            return out;
        }
        int[] outStride = plan.outStrides();
        int qb = plan.outPositionOfInnermostInput();
        int[] g = new int[1 + 3 * (MAX_RANK - 2) + 6];
        int restRank = 0;
        long restCount = 1;
        g[0] = m - 2;
        for (int a = 0; a < m - 1; a++) {
            if (a == qb) continue;
            g[1 + restRank] = od[a];
            g[1 + (MAX_RANK - 2) + restRank] = sso[a];
            g[1 + 2 * (MAX_RANK - 2) + restRank] = outStride[a];
            restCount *= od[a];
            restRank++;
        }
        int sizeA = od[m - 1];
        int sizeB = md[m - 1];
        int tilesA = (sizeA + TILE - 1) / TILE;
        int tilesB = (sizeB + TILE - 1) / TILE;
        int base = 1 + 3 * (MAX_RANK - 2);
        g[base] = sizeA;
        g[base + 1] = sizeB;
        g[base + 2] = sso[m - 1];
        g[base + 3] = outStride[qb];
        g[base + 4] = tilesA;
        g[base + 5] = tilesB;
        int tiles = (int) (restCount * tilesA * tilesB);
        ops.launch(MODULE, "transpose_tiled_u" + x.dtype().byteSize(), Math.min(tiles, CudaOps.MAX_BLOCKS), 1, CudaOps.THREADS,
                new KernelArgs().i32(tiles).ptr(CudaOps.ptr(out)).ptr(CudaOps.ptr(x)).struct(g));
        return out;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /**
     * out[i] = src[sum idx_a * strides[a]] over the multi-index of dims (element strides; out is
     * contiguous). When the innermost axis has stride 1 the copy moves the widest unit that divides
     * its bytes, the outer strides' bytes and both addresses.
     */
    private void gather(Tensor out, long src, int[] dims, int[] strides) {
        int es = out.dtype().byteSize();
        int r = dims.length;
        int unit = es;
        if (strides[r - 1] == 1) {
            unit = unit(CudaOps.ptr(out), src, (long) dims[r - 1] * es);
            for (int a = 0; a < r - 1; a++) unit = Math.min(unit, unit((long) strides[a] * es));
        }
        int[] g = new int[1 + 4 * MAX_RANK]; // rank, dims, magic, shift, strides
        g[0] = r;
        for (int a = 0; a < r; a++) {
            boolean innermost = a == r - 1;
            g[1 + a] = innermost ? (int) ((long) dims[a] * es / unit) : dims[a];
            int[] div = divider(g[1 + a]);
            g[1 + MAX_RANK + a] = div[0];
            g[1 + 2 * MAX_RANK + a] = div[1];
            g[1 + 3 * MAX_RANK + a] = innermost && strides[a] == 1 ? 1 : (int) ((long) strides[a] * es / unit);
        }
        int n = (int) ((long) out.numel() * es / unit);
        ops.launch1d(MODULE, "gather_u" + unit, n, new KernelArgs().i32(n).ptr(CudaOps.ptr(out)).ptr(src).struct(g));
    }

    /** {dims, strides} of the axes {size, stride} without size-1 axes (one axis of size 1 if none is left). */
    private static int[][] dropUnitAxes(List<long[]> axes) {
        List<long[]> left = new ArrayList<>();
        for (long[] a : axes) if (a[0] != 1) left.add(a);
        if (left.isEmpty()) left.add(new long[] {1, 1});
        int[][] g = new int[2][left.size()];
        for (int i = 0; i < left.size(); i++) {
            g[0][i] = (int) left.get(i)[0];
            g[1][i] = (int) left.get(i)[1];
        }
        return g;
    }

    /**
     * {magic, shift} with n / d = (umulhi(n, magic) + n) >>> shift for every 0 <= n < 2^31
     * (fast_div in shape.cu): shift = ceil(log2 d), magic = floor(2^32 (2^shift - d) / d) + 1.
     * A size-0 axis never divides anything (its tensor is empty), so it gets d = 1's pair.
     */
    static int[] divider(int d) {
        if (d <= 1) return new int[] {1, 0};
        int shift = 32 - Integer.numberOfLeadingZeros(d - 1);
        long magic = ((1L << 32) * ((1L << shift) - d)) / d + 1;
        return new int[] {(int) magic, shift};
    }

    /** The widest unit (16, 8, 4, 2 or 1 bytes) that divides every value. */
    static int unit(long... bytes) {
        int u = 16;
        for (long b : bytes) while (b % u != 0) u >>= 1;
        return u;
    }

    /** The pad value's bits in {@code dtype}, repeated over 16 bytes (little-endian ints). */
    private static int[] fillPattern(String op, DType dtype, double value) {
        if (value == 0) return new int[4]; // as the CPU: zero-filled, so -0.0 pads with +0.0
        long bits;
        int width;
        switch (dtype) {
            case FLOAT32 -> { bits = Float.floatToRawIntBits((float) value) & 0xffffffffL; width = 4; }
            case FLOAT64 -> { bits = Double.doubleToRawLongBits(value); width = 8; }
            case INT32 -> { bits = ((int) value) & 0xffffffffL; width = 4; }
            case INT64 -> { bits = (long) value; width = 8; }
            case UINT8 -> { bits = ((byte) (int) value) & 0xffL; width = 1; }
            default -> throw new IllegalArgumentException(op + ": a non-zero fill value is not supported for " + dtype);
        }
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) b[i] = (byte) (bits >>> (8 * (i % width)));
        int[] words = new int[4];
        for (int w = 0; w < 4; w++) {
            for (int k = 0; k < 4; k++) words[w] |= (b[4 * w + k] & 0xff) << (8 * k);
        }
        return words;
    }
}
