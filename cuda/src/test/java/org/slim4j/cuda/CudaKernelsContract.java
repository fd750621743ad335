package org.slim4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.slim4j.kernels.BatchNormKernels;
import org.slim4j.kernels.BiasAddKernels;
import org.slim4j.kernels.BinaryOp;
import org.slim4j.kernels.ConvKernels;
import org.slim4j.kernels.DepthwiseConvKernels;
import org.slim4j.kernels.ElementwiseKernels;
import org.slim4j.kernels.FusedBatchNormKernels;
import org.slim4j.kernels.FusedConvKernels;
import org.slim4j.kernels.MatMulKernels;
import org.slim4j.kernels.OptimizerKernels;
import org.slim4j.kernels.Padding;
import org.slim4j.kernels.PoolKernels;
import org.slim4j.kernels.PoolSpec;
import org.slim4j.kernels.ReduceKernels;
import org.slim4j.kernels.SoftmaxKernels;
import org.slim4j.kernels.UnaryOp;
import org.slim4j.kernels.cpu.CpuBackend;
import org.slim4j.tensor.Backend;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;
import org.slim4j.tensor.testing.GoldenData;

/**
 * Every implemented CUDA op against the CPU backend's float64 reference path, on random inputs with
 * odd sizes and batch > 1, plus TensorFlow's golden cases of these ops, the error messages of bad
 * arguments, and memory accounting. Subclasses supply the device: {@link EmulatedKernelsTest} runs
 * the kernels in the CPU emulator (every build), {@link GpuKernelsTest} on a real GPU (tag gpu).
 * The kernels are reached through {@link Backends#forDevice}, i.e. through the ServiceLoader entry.
 */
abstract class CudaKernelsContract {
    /** max |gpu - reference| <= TOL * max(1, max |reference|): float32 rounding of the op, nothing more. */
    static final double TOL = 1e-5;

    protected abstract CudaDevice device();

    private Backend gpu() {
        return Backends.forDevice(device());
    }

    private <K> K gpu(Class<K> family) {
        return gpu().kernels(family);
    }

    private static <K> K cpu(Class<K> family) {
        return CpuBackend.INSTANCE.kernels(family);
    }

    private Tensor up(Tensor cpu) {
        return cpu.toDevice(device());
    }

    private static Tensor f64(Tensor t) {
        return t.cast(DType.FLOAT64);
    }

    private static Tensor rand(long seed, double lo, double hi, int... dims) {
        return Tensor.randomUniform(seed, DType.FLOAT32, Shape.of(dims), lo, hi);
    }

    private static void close(Tensor expected, Tensor actual, String what) {
        Close.assertClose(expected, actual, TOL, what);
    }

    /** Runs body in a scope, then checks that neither the device nor the host holds more memory than before. */
    private void scoped(Runnable body) {
        long dev = device().liveBytes();
        long host = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope s = TensorScope.open()) {
            body.run();
        }
        assertEquals(dev, device().liveBytes(), "device memory left allocated");
        assertEquals(host, CpuDevice.INSTANCE.liveBytes(), "host memory left allocated");
    }

    // =============================================================================================
    // elementwise
    // =============================================================================================

    private static final int[][][] BROADCASTS = {
        {{3, 5, 7}, {3, 5, 7}}, {{3, 5, 7}, {1}}, {{1}, {3, 5, 7}}, {{2, 3, 5, 7}, {5, 1}}, {{4, 1, 6}, {1, 5, 1}},
        {{7}, {3, 7}}, {{2, 1, 3, 1, 5}, {2, 4, 1, 6, 1}}, {{}, {2, 3}}, {{1, 1}, {1}},
    };

    @Test
    void binaryOpsWithBroadcastingMatchTheCpu() {
        scoped(() -> {
            for (BinaryOp op : BinaryOp.values()) {
                int s = 0;
                for (int[][] shapes : BROADCASTS) {
                    Tensor a = rand(10 + s, -2, 2, shapes[0]);
                    // Divisors away from zero.
                    Tensor b = op == BinaryOp.DIV ? rand(20 + s, 0.5, 2, shapes[1]) : rand(20 + s, -2, 2, shapes[1]);
                    Tensor expected = cpu(ElementwiseKernels.class).binary(op, f64(a), f64(b));
                    Tensor actual = gpu(ElementwiseKernels.class).binary(op, up(a), up(b));
                    close(expected, actual, op + " " + a.shape() + " with " + b.shape());
                    s++;
                }
            }
        });
    }

    private static Tensor unaryInput(UnaryOp op, long seed, int... dims) {
        return switch (op) {
            case SQRT, RSQRT, LOG, RECIPROCAL -> rand(seed, 0.25, 3, dims);
            case RELU6 -> rand(seed, -3, 9, dims);
            default -> rand(seed, -3, 3, dims);
        };
    }

    @Test
    void unaryOpsAndGradientsMatchTheCpu() {
        scoped(() -> {
            for (UnaryOp op : UnaryOp.values()) {
                Tensor x = unaryInput(op, 31, 3, 5, 7);
                Tensor dy = rand(32, -1, 1, 3, 5, 7);
                Tensor y64 = cpu(ElementwiseKernels.class).unary(op, f64(x));
                Tensor y = gpu(ElementwiseKernels.class).unary(op, up(x));
                close(y64, y, "unary " + op);
                // Gradient given both x and y (y as float32, as an autograd step would hold it).
                Tensor y32 = y64.cast(DType.FLOAT32);
                Tensor g64 = cpu(ElementwiseKernels.class).unaryGrad(op, f64(x), f64(y32), f64(dy));
                Tensor g = gpu(ElementwiseKernels.class).unaryGrad(op, up(x), up(y32), up(dy));
                close(g64, g, "unaryGrad " + op);
            }
            // y-based gradient with only x given: y is recomputed.
            Tensor x = rand(33, -3, 3, 4, 9);
            Tensor dy = rand(34, -1, 1, 4, 9);
            close(cpu(ElementwiseKernels.class).unaryGrad(UnaryOp.SIGMOID, f64(x), null, f64(dy)),
                    gpu(ElementwiseKernels.class).unaryGrad(UnaryOp.SIGMOID, up(x), null, up(dy)), "sigmoid grad from x");
        });
    }

    @Test
    void scalarAndInPlaceOpsMatchTheCpu() {
        scoped(() -> {
            ElementwiseKernels c = cpu(ElementwiseKernels.class);
            ElementwiseKernels g = gpu(ElementwiseKernels.class);
            Tensor x = rand(41, 0.1, 3, 5, 11);
            Tensor s = rand(42, -1, 1, 5, 11);
            close(c.affine(f64(x), 1.5, -0.25), g.affine(up(x), 1.5, -0.25), "affine");
            close(c.pow(f64(x), 2.0), g.pow(up(x), 2.0), "pow 2");
            close(c.pow(f64(x), -1.7), g.pow(up(x), -1.7), "pow -1.7");
            Tensor d64 = f64(x);
            Tensor d = up(x);
            c.addInPlace(d64, f64(s), -0.5);
            g.addInPlace(d, up(s), -0.5);
            close(d64, d, "addInPlace");
            c.scaleInPlace(d64, 3.0);
            g.scaleInPlace(d, 3.0);
            close(d64, d, "scaleInPlace");
            g.fillInPlace(d, 2.5);
            for (double v : d.toDoubleArray()) assertEquals(2.5, v, 0.0);
            // Batch norm's moving statistics: one pass, the same floats as affine, SUB and addInPlace in a row.
            for (double factor : new double[] {1.0, 1.0 + 1.0 / 63}) {
                Tensor moving = up(rand(43, 0.5, 2, 37));
                Tensor threeOps = moving.copy();
                Tensor batch = up(rand(44, 0.5, 2, 37));
                Tensor m64 = f64(moving);
                c.movingAverageInPlace(m64, f64(batch), factor, 0.997);
                g.movingAverageInPlace(moving, batch, factor, 0.997);
                close(m64, moving, "movingAverageInPlace, factor " + factor);
                Tensor value = factor == 1.0 ? batch : g.affine(batch, factor, 0);
                g.addInPlace(threeOps, g.binary(BinaryOp.SUB, threeOps, value), -(1.0 - 0.997));
                assertArrayEquals(threeOps.toFloatArray(), moving.toFloatArray(), "movingAverageInPlace = affine, SUB, addInPlace; factor " + factor);
            }
            // In-place ops on a view touch only the view.
            Tensor whole = up(Tensor.zeros(6, 4));
            try (Tensor rows = whole.slice0(2, 4)) {
                g.fillInPlace(rows, 1.0);
            }
            double[] w = whole.toDoubleArray();
            for (int i = 0; i < w.length; i++) assertEquals(i >= 8 && i < 16 ? 1.0 : 0.0, w[i], 0.0, "element " + i);
        });
    }

    /** A run of n elements starting {@code offset} elements into a fresh device block (a view when offset > 0). */
    private Tensor run(long seed, int n, int offset) {
        Tensor whole = up(rand(seed, -3, 3, n + offset, 1));
        return offset == 0 ? whole : whole.slice0(offset, offset + n);
    }

    /**
     * The float4 kernels (every operand 16-byte aligned) and the scalar ones (any operand not), with
     * lengths that leave 0-3 elements past the last whole float4, against the CPU; and the fused
     * add + activation equal, bit for bit, to add then activation.
     */
    @Test
    void runsOfEveryLengthAndAlignmentMatchTheCpu() {
        scoped(() -> {
            ElementwiseKernels c = cpu(ElementwiseKernels.class);
            ElementwiseKernels g = gpu(ElementwiseKernels.class);
            int[][] offsets = {{0, 0, 0}, {4, 8, 0}, {1, 0, 0}, {0, 3, 0}, {0, 0, 2}, {1, 1, 1}};
            for (int n : new int[] {1, 3, 4, 5, 8, 13, 1029, 4096}) {
                for (int[] o : offsets) {
                    String what = " of " + n + " elements at offsets " + java.util.Arrays.toString(o);
                    Tensor a = run(61 + n, n, o[0]);
                    Tensor b = run(62 + n, n, o[1]);
                    Tensor dst = run(63 + n, n, o[2]);
                    close(c.binary(BinaryOp.MUL, f64(a), f64(b)), g.binary(BinaryOp.MUL, a, b), "binary MUL" + what);
                    close(c.unary(UnaryOp.TANH, f64(a)), g.unary(UnaryOp.TANH, a), "unary TANH" + what);
                    close(c.unaryGrad(UnaryOp.RELU6, f64(a), null, f64(b)), g.unaryGrad(UnaryOp.RELU6, a, null, b), "unaryGrad RELU6" + what);
                    close(c.unaryGrad(UnaryOp.NEG, null, null, f64(b)), g.unaryGrad(UnaryOp.NEG, null, null, b), "unaryGrad NEG" + what);
                    for (UnaryOp act : new UnaryOp[] {UnaryOp.RELU, UnaryOp.RELU6, UnaryOp.SIGMOID}) {
                        Tensor fused = g.addActivation(a, b, act);
                        Tensor twoOps = g.unary(act, g.binary(BinaryOp.ADD, a, b));
                        assertTrue(java.util.Arrays.equals(twoOps.toFloatArray(), fused.toFloatArray()), "addActivation " + act + what);
                        close(c.unary(act, c.binary(BinaryOp.ADD, f64(a), f64(b))), fused, "addActivation " + act + what);
                    }
                    Tensor d64 = f64(dst);
                    c.addInPlace(d64, f64(a), 0.75);
                    g.addInPlace(dst, a, 0.75);
                    close(d64, dst, "addInPlace" + what);
                }
            }
            // Broadcasting operands take the two ops.
            Tensor a = rand(71, -2, 2, 3, 5);
            Tensor b = rand(72, -2, 2, 5);
            close(c.unary(UnaryOp.RELU, c.binary(BinaryOp.ADD, f64(a), f64(b))), g.addActivation(up(a), up(b), UnaryOp.RELU),
                    "addActivation RELU broadcast");
        });
    }

    // =============================================================================================
    // bias add, reductions
    // =============================================================================================

    @Test
    void biasAddAndItsGradientMatchTheCpu() {
        scoped(() -> {
            for (int[] dims : new int[][] {{2, 3, 4, 5}, {37, 9}, {1000, 3}, {5}, {3, 1, 1, 70}}) {
                Tensor x = rand(51, -2, 2, dims);
                Tensor b = rand(52, -1, 1, dims[dims.length - 1]);
                close(cpu(BiasAddKernels.class).biasAdd(f64(x), f64(b)), gpu(BiasAddKernels.class).biasAdd(up(x), up(b)),
                        "biasAdd " + x.shape());
                close(cpu(BiasAddKernels.class).biasAddGrad(f64(x)), gpu(BiasAddKernels.class).biasAddGrad(up(x)),
                        "biasAddGrad " + x.shape());
            }
        });
    }

    @Test
    void sumsAndMeansOverAnyAxesMatchTheCpu() {
        scoped(() -> {
            ReduceKernels c = cpu(ReduceKernels.class);
            ReduceKernels g = gpu(ReduceKernels.class);
            int[][] shapes = {{2, 3, 4, 5}, {3, 100}, {100, 3}, {2, 50, 7}, {2, 37, 33}, {3}};
            int[][] axesSets = {{}, {0}, {1}, {-1}, {1, 2}, {0, 2}, {0, 1, 2, 3}, {0, 3}};
            for (int[] dims : shapes) {
                Tensor x = rand(61, -2, 2, dims);
                for (int[] axes : axesSets) {
                    boolean fits = true;
                    for (int a : axes) fits &= (a < 0 ? -a : a + 1) <= dims.length;
                    if (!fits) continue;
                    String what = java.util.Arrays.toString(axes) + " of " + x.shape();
                    close(c.sum(f64(x), axes, false), g.sum(up(x), axes, false), "sum " + what);
                    close(c.mean(f64(x), axes, true), g.mean(up(x), axes, true), "mean keepDims " + what);
                }
            }
            Tensor x = rand(62, -2, 2, 2, 3, 4, 5);
            for (int[] t : new int[][] {{3, 1, 5}, {5}, {1}, {2, 3, 4, 5}, {2, 1, 4, 1}, {}}) {
                close(c.sumToShape(f64(x), Shape.of(t)), g.sumToShape(up(x), Shape.of(t)), "sumToShape " + Shape.of(t));
            }
            Tensor w = rand(63, -2, 2, 3, 3, 4, 5);
            close(c.l2Loss(f64(w)), g.l2Loss(up(w)), "l2Loss");
            // Long rows cut into slices of 4096, a block each (a weight's l2Loss, a full sum, few long rows).
            Tensor big = rand(64, -2, 2, 3, 3, 5, 700);
            close(c.l2Loss(f64(big)), g.l2Loss(up(big)), "l2Loss " + big.shape());
            close(c.sum(f64(big), new int[] {}, false), g.sum(up(big), new int[] {}, false), "full sum " + big.shape());
            // Many weights' L2 in one reduction: tensors of one block, several blocks (31500 elements: 8
            // blocks, the last partial), and an empty one; against the CPU's per-tensor sum.
            List<Tensor> ws = List.of(w, big, rand(66, -1, 1, 7), Tensor.zeros(0, 3), rand(67, -3, 3, 4096));
            double[] d = {4e-5, 1e-3, 0.5, 2.0, 1.0};
            close(c.l2LossSum(ws.stream().map(CudaKernelsContract::f64).toList(), d),
                    g.l2LossSum(ws.stream().map(this::up).toList(), d), "l2LossSum");
            Tensor rows = rand(65, -2, 2, 3, 9000);
            close(c.sum(f64(rows), new int[] {1}, false), g.sum(up(rows), new int[] {1}, false), "row sums " + rows.shape());
        });
    }

    @Test
    void argmaxAndTopKMatchTheCpuIncludingTies() {
        scoped(() -> {
            ReduceKernels c = cpu(ReduceKernels.class);
            ReduceKernels g = gpu(ReduceKernels.class);
            // Small integers: many ties.
            double[] v = new double[4 * 6 * 9];
            SplitMix r = new SplitMix(7);
            for (int i = 0; i < v.length; i++) v[i] = r.nextInt(5);
            Tensor x = Tensor.fromDoubles(DType.FLOAT32, Shape.of(4, 6, 9), v);
            for (int axis : new int[] {0, 1, 2, -1}) {
                Tensor e = c.argmax(x, axis);
                Tensor a = g.argmax(up(x), axis);
                assertEquals(DType.INT64, a.dtype());
                assertArrayEquals(e.toLongArray(), a.toLongArray(), "argmax axis " + axis);
            }
            for (int k : new int[] {0, 1, 3, 9}) {
                ReduceKernels.TopK e = c.topK(x, k);
                ReduceKernels.TopK a = g.topK(up(x), k);
                assertEquals(DType.INT32, a.indices().dtype());
                assertArrayEquals(e.indices().toIntArray(), a.indices().toIntArray(), "topK indices k=" + k);
                assertArrayEquals(e.values().toDoubleArray(), a.values().toDoubleArray(), 0.0, "topK values k=" + k);
            }
        });
    }

    // =============================================================================================
    // softmax
    // =============================================================================================

    @Test
    void softmaxFamilyMatchesTheCpu() {
        scoped(() -> {
            SoftmaxKernels c = cpu(SoftmaxKernels.class);
            SoftmaxKernels g = gpu(SoftmaxKernels.class);
            for (int[] dims : new int[][] {{5, 7}, {3, 2, 40}, {9, 1}, {2, 1001}}) {
                Tensor x = rand(71, -4, 4, dims);
                Tensor big = rand(72, -100, 100, dims);
                close(c.softmax(f64(x)), g.softmax(up(x)), "softmax " + x.shape());
                close(c.logSoftmax(f64(x)), g.logSoftmax(up(x)), "logSoftmax " + x.shape());
                close(c.softmax(f64(big)), g.softmax(up(big)), "softmax of large logits " + x.shape());
                // Label rows: random probabilities (each row sums to 1).
                Tensor p = c.softmax(rand(73, -2, 2, dims));
                SoftmaxKernels.CrossEntropy e = c.softmaxCrossEntropy(f64(x), f64(p));
                SoftmaxKernels.CrossEntropy a = g.softmaxCrossEntropy(up(x), up(p));
                close(e.loss(), a.loss(), "xent loss " + x.shape());
                close(e.backprop(), a.backprop(), "xent backprop " + x.shape());
                int rows = x.numel() / dims[dims.length - 1];
                int[] lead = java.util.Arrays.copyOf(dims, dims.length - 1);
                SplitMix r = new SplitMix(dims[dims.length - 1]);
                int[] labels = new int[rows];
                long[] labels64 = new long[rows];
                for (int i = 0; i < rows; i++) labels64[i] = labels[i] = r.nextInt(dims[dims.length - 1]);
                for (Tensor lab : new Tensor[] {Tensor.of(labels, lead), Tensor.of(labels64, lead)}) {
                    SoftmaxKernels.CrossEntropy se = c.sparseSoftmaxCrossEntropy(f64(x), lab);
                    SoftmaxKernels.CrossEntropy sa = g.sparseSoftmaxCrossEntropy(up(x), up(lab));
                    close(se.loss(), sa.loss(), "sparse xent loss " + lab.dtype() + " " + x.shape());
                    close(se.backprop(), sa.backprop(), "sparse xent backprop " + lab.dtype() + " " + x.shape());
                }
            }
        });
    }

    // =============================================================================================
    // optimizers
    // =============================================================================================

    /** Runs one update rule 3 times on the CPU (float64) and the GPU; compares var and every slot. */
    private void optimizerCase(String name, int slots, boolean positiveSlots, UpdateRule rule) {
        int[] dims = {7, 13};
        List<Tensor> ref = new ArrayList<>();
        List<Tensor> dev = new ArrayList<>();
        for (int i = 0; i <= slots; i++) {
            Tensor t = i > 0 && positiveSlots ? rand(80 + i, 0.1, 1, dims) : rand(80 + i, -1, 1, dims);
            ref.add(f64(t));
            dev.add(up(t));
        }
        for (int step = 0; step < 3; step++) {
            Tensor grad = rand(90 + step, -1, 1, dims);
            rule.apply(cpu(OptimizerKernels.class), ref, f64(grad), step + 1);
            rule.apply(gpu(OptimizerKernels.class), dev, up(grad), step + 1);
        }
        for (int i = 0; i <= slots; i++) close(ref.get(i), dev.get(i), name + (i == 0 ? " variable" : " slot " + i));
    }

    @FunctionalInterface
    private interface UpdateRule {
        void apply(OptimizerKernels k, List<Tensor> t, Tensor grad, int step);
    }

    @Test
    void optimizerUpdatesMatchTheCpu() {
        scoped(() -> {
            optimizerCase("sgd", 0, false, (k, t, g, s) -> k.applyGradientDescent(t.get(0), g, 0.1));
            optimizerCase("momentum", 1, false, (k, t, g, s) -> k.applyMomentum(t.get(0), t.get(1), g, 0.1, 0.9, false, 0));
            optimizerCase("nesterov", 1, false, (k, t, g, s) -> k.applyMomentum(t.get(0), t.get(1), g, 0.1, 0.9, true, 0));
            optimizerCase("momentum, weight decay", 1, false, (k, t, g, s) -> k.applyMomentum(t.get(0), t.get(1), g, 0.1, 0.9, false, 0.05));
            optimizerCase("nesterov, weight decay", 1, false, (k, t, g, s) -> k.applyMomentum(t.get(0), t.get(1), g, 0.1, 0.9, true, 0.05));
            optimizerCase("adam", 2, true, (k, t, g, s) -> k.applyAdam(t.get(0), t.get(1), t.get(2), g, 0.01, 0.9, 0.999,
                    Math.pow(0.9, s), Math.pow(0.999, s), 1e-8));
            optimizerCase("adagrad", 1, true, (k, t, g, s) -> k.applyAdagrad(t.get(0), t.get(1), g, 0.1));
            optimizerCase("adadelta", 2, true, (k, t, g, s) -> k.applyAdadelta(t.get(0), t.get(1), t.get(2), g, 1.0, 0.95, 1e-6));
            optimizerCase("rmsprop", 2, true, (k, t, g, s) -> k.applyRmsProp(t.get(0), t.get(1), t.get(2), g, 0.01, 0.9, 0.9, 1e-10));
            optimizerCase("ftrl", 2, true, (k, t, g, s) -> k.applyFtrl(t.get(0), t.get(1), t.get(2), g, 0.1, 0.01, 0.02, -0.5));
            optimizerCase("moving average", 1, false, (k, t, g, s) -> k.applyMovingAverage(t.get(1), t.get(0), 0.99));
        });
    }

    /**
     * The batched momentum update (one launch for all the variables) equals one call per variable
     * bit for bit, with and without Nesterov and weight decay; sizes of one and several blocks.
     */
    @Test
    void batchedMomentumEqualsOneCallPerVariable() {
        scoped(() -> {
            OptimizerKernels g = gpu(OptimizerKernels.class);
            int[][] shapes = {{3, 3, 4, 5}, {9000}, {1}, {4096}, {2, 4097}};
            for (boolean nesterov : new boolean[] {false, true}) {
                List<OptimizerKernels.MomentumUpdate> batch = new ArrayList<>();
                List<Tensor[]> single = new ArrayList<>();
                for (int i = 0; i < shapes.length; i++) {
                    Tensor var = rand(80 + i, -1, 1, shapes[i]);
                    Tensor accum = rand(90 + i, -1, 1, shapes[i]);
                    Tensor grad = up(rand(100 + i, -1, 1, shapes[i]));
                    double decay = i % 2 == 0 ? 0.0 : 4e-5 * i;
                    batch.add(new OptimizerKernels.MomentumUpdate(up(var), up(accum), grad, decay));
                    Tensor v1 = up(var), a1 = up(accum);
                    g.applyMomentum(v1, a1, grad, 0.1, 0.9, nesterov, decay);
                    single.add(new Tensor[] {v1, a1});
                }
                g.applyMomentum(batch, 0.1, 0.9, nesterov);
                for (int i = 0; i < shapes.length; i++) {
                    String what = "variable " + i + " " + Shape.of(shapes[i]) + (nesterov ? ", Nesterov" : "");
                    assertArrayEquals(single.get(i)[0].toFloatArray(), batch.get(i).var().toFloatArray(), "var of " + what);
                    assertArrayEquals(single.get(i)[1].toFloatArray(), batch.get(i).accum().toFloatArray(), "accum of " + what);
                }
            }
        });
    }

    /**
     * Loss scaling's unscale-and-check: every gradient (one and several blocks, an empty one) scaled
     * as the CPU does, bit for bit (one float multiply), and the flag set by an infinity in one
     * gradient, by a NaN, and by a product that overflows, but not by finite values.
     */
    @Test
    void unscaleGradientsMatchesTheCpuAndFlagsNonFiniteValues() {
        scoped(() -> {
            OptimizerKernels c = cpu(OptimizerKernels.class);
            OptimizerKernels g = gpu(OptimizerKernels.class);
            int[][] shapes = {{3, 3, 4, 5}, {9000}, {0}, {4097}};
            List<Tensor> host = new ArrayList<>();
            List<Tensor> dev = new ArrayList<>();
            for (int i = 0; i < shapes.length; i++) {
                Tensor t = rand(120 + i, -100, 100, shapes[i]);
                host.add(t.copy());
                dev.add(up(t));
            }
            assertEquals(0.0, c.unscaleGradients(host, 1.0 / 1024).item());
            assertEquals(0.0, g.unscaleGradients(dev, 1.0 / 1024).item());
            for (int i = 0; i < shapes.length; i++) {
                assertArrayEquals(host.get(i).toFloatArray(), dev.get(i).toFloatArray(), "gradient " + i + " " + Shape.of(shapes[i]));
            }
            float[][] poison = {{Float.POSITIVE_INFINITY}, {Float.NaN}, {3e38f}};
            double[] inv = {0.5, 0.5, 4.0};  // 3e38 * 4 overflows
            for (int p = 0; p < poison.length; p++) {
                float[] v = rand(130, -1, 1, 9000).toFloatArray();
                v[4321] = poison[p][0];
                List<Tensor> hs = List.of(rand(131, -1, 1, 7), Tensor.of(v, 9000));
                List<Tensor> ds = List.of(up(hs.get(0)), up(hs.get(1)));
                assertEquals(1.0, c.unscaleGradients(hs, inv[p]).item(), "cpu, poison " + poison[p][0]);
                assertEquals(1.0, g.unscaleGradients(ds, inv[p]).item(), "gpu, poison " + poison[p][0]);
            }
        });
    }

    // =============================================================================================
    // pooling
    // =============================================================================================

    private static final PoolSpec[] POOLS = {
        PoolSpec.of(2, 2, Padding.VALID), PoolSpec.of(3, 2, Padding.SAME), PoolSpec.of(3, 1, Padding.SAME),
        PoolSpec.of(3, 2, Padding.VALID), PoolSpec.of(1, 1, Padding.VALID), new PoolSpec(3, 2, 2, 1, Padding.SAME),
    };

    @Test
    void poolingForwardAndBackwardMatchTheCpu() {
        scoped(() -> {
            PoolKernels c = cpu(PoolKernels.class);
            PoolKernels g = gpu(PoolKernels.class);
            // 5 and 3 channels: one per thread; 8 and 4: the 4-channel kernels.
            Tensor x = rand(101, -2, 2, 2, 9, 7, 5);
            Tensor x8 = rand(103, -2, 2, 2, 9, 7, 8);
            // Integer values: ties decide where MaxPoolGrad sends the gradient.
            SplitMix r = new SplitMix(3);
            Tensor[] ties = new Tensor[2];
            for (int t = 0; t < 2; t++) {
                int chans = t == 0 ? 3 : 4;
                double[] v = new double[2 * 8 * 6 * chans];
                for (int i = 0; i < v.length; i++) v[i] = r.nextInt(3);
                ties[t] = Tensor.fromDoubles(DType.FLOAT32, Shape.of(2, 8, 6, chans), v);
            }
            for (Tensor in : new Tensor[] {x, ties[0], x8, ties[1]}) {
                for (PoolSpec spec : POOLS) {
                    String what = spec + " on " + in.shape();
                    Tensor ymax = c.maxPool(f64(in), spec);
                    close(ymax, g.maxPool(up(in), spec), "maxPool " + what);
                    Tensor dy = rand(102, -1, 1, ymax.dims());
                    close(c.maxPoolGrad(f64(in), ymax, f64(dy), spec),
                            g.maxPoolGrad(up(in), up(ymax.cast(DType.FLOAT32)), up(dy), spec), "maxPoolGrad " + what);
                    close(c.avgPool(f64(in), spec), g.avgPool(up(in), spec), "avgPool " + what);
                    close(c.avgPoolGrad(in.shape(), f64(dy), spec), g.avgPoolGrad(in.shape(), up(dy), spec), "avgPoolGrad " + what);
                }
            }
        });
    }

    // =============================================================================================
    // batch norm
    // =============================================================================================

    @Test
    void batchNormMatchesTheCpu() {
        scoped(() -> {
            BatchNormKernels c = cpu(BatchNormKernels.class);
            BatchNormKernels g = gpu(BatchNormKernels.class);
            // Means far from zero (the one-pass statistics must not cancel); many rows (several slices);
            // channels in multiples of 4 (the float4 apply passes) and not.
            for (int[] dims : new int[][] {{2, 5, 6, 7}, {2000, 5}, {3, 70}, {2, 3, 3, 12}, {500, 8}}) {
                int ch = dims[dims.length - 1];
                Tensor x = rand(111, 9, 11, dims);
                Tensor dy = rand(112, -1, 1, dims);
                Tensor scale = rand(113, 0.5, 1.5, ch);
                Tensor offset = rand(114, -0.5, 0.5, ch);
                Tensor mean = rand(115, 9.5, 10.5, ch);
                Tensor var = rand(116, 0.05, 0.2, ch);
                float eps = 0.001f;
                for (boolean affine : new boolean[] {true, false}) {
                    Tensor sc = affine ? scale : null;
                    Tensor of = affine ? offset : null;
                    String what = java.util.Arrays.toString(dims) + (affine ? "" : " without scale/offset");
                    BatchNormKernels.Training e = c.trainingForward(f64(x), sc == null ? null : f64(sc), of == null ? null : f64(of), eps);
                    BatchNormKernels.Training a = g.trainingForward(up(x), sc == null ? null : up(sc), of == null ? null : up(of), eps);
                    close(e.y(), a.y(), "training y " + what);
                    close(e.mean(), a.mean(), "training mean " + what);
                    close(e.variance(), a.variance(), "training variance " + what);
                    close(c.inferenceForward(f64(x), sc == null ? null : f64(sc), of == null ? null : f64(of), f64(mean), f64(var), eps),
                            g.inferenceForward(up(x), sc == null ? null : up(sc), of == null ? null : up(of), up(mean), up(var), eps),
                            "inference y " + what);
                    Tensor bm = e.mean().cast(DType.FLOAT32);
                    Tensor bv = e.variance().cast(DType.FLOAT32);
                    BatchNormKernels.Grads ge = c.trainingBackward(f64(dy), f64(x), sc == null ? null : f64(sc), f64(bm), f64(bv), eps);
                    BatchNormKernels.Grads ga = g.trainingBackward(up(dy), up(x), sc == null ? null : up(sc), up(bm), up(bv), eps);
                    close(ge.dx(), ga.dx(), "training dx " + what);
                    close(ge.dscale(), ga.dscale(), "training dscale " + what);
                    close(ge.doffset(), ga.doffset(), "training doffset " + what);
                    BatchNormKernels.Grads ie = c.inferenceBackward(f64(dy), f64(x), sc == null ? null : f64(sc), f64(mean), f64(var), eps);
                    BatchNormKernels.Grads ia = g.inferenceBackward(up(dy), up(x), sc == null ? null : up(sc), up(mean), up(var), eps);
                    close(ie.dx(), ia.dx(), "inference dx " + what);
                    close(ie.dscale(), ia.dscale(), "inference dscale " + what);
                    close(ie.doffset(), ia.doffset(), "inference doffset " + what);
                }
            }
        });
    }

    /**
     * Training batch norm with a fused relu / relu6 equals the two ops in a row on this device, bit for
     * bit: the forward, and the backward's dx, dscale and doffset (the mask comes from z recomputed
     * with the forward's own constants). z spreads across 0 and 6 so both masks cut.
     */
    @Test
    void fusedBatchNormActivationEqualsBatchNormThenActivationBitForBit() {
        scoped(() -> {
            BatchNormKernels bn = gpu(BatchNormKernels.class);
            FusedBatchNormKernels fused = gpu(FusedBatchNormKernels.class);
            ElementwiseKernels el = gpu(ElementwiseKernels.class);
            for (int[] dims : new int[][] {{2, 5, 6, 7}, {2000, 5}, {3, 70}, {2, 3, 3, 12}}) {
                int ch = dims[dims.length - 1];
                Tensor x = up(rand(121, 9, 11, dims));
                Tensor dy = up(rand(122, -1, 1, dims));
                Tensor scale = up(rand(123, 1, 4, ch));
                Tensor offset = up(rand(124, -1, 3, ch));
                float eps = 0.001f;
                for (FusedConvKernels.Activation act : FusedConvKernels.Activation.values()) {
                    UnaryOp op = act == FusedConvKernels.Activation.RELU ? UnaryOp.RELU : UnaryOp.RELU6;
                    for (boolean withAffine : new boolean[] {true, false}) {
                        Tensor sc = withAffine ? scale : null;
                        Tensor of = withAffine ? offset : null;
                        String what = act + " " + java.util.Arrays.toString(dims) + (withAffine ? "" : " without scale/offset");
                        FusedBatchNormKernels.Training f = fused.trainingForward(x, sc, of, eps, act);
                        BatchNormKernels.Training u = bn.trainingForward(x, sc, of, eps);
                        Tensor y = act == FusedConvKernels.Activation.NONE ? u.y() : el.unary(op, u.y());
                        assertArrayEquals(y.toFloatArray(), f.y().toFloatArray(), "fused forward y " + what);
                        assertArrayEquals(u.mean().toFloatArray(), f.mean().toFloatArray(), "fused forward mean " + what);
                        assertArrayEquals(u.variance().toFloatArray(), f.variance().toFloatArray(), "fused forward variance " + what);
                        Tensor g = act == FusedConvKernels.Activation.NONE ? dy : el.unaryGrad(op, u.y(), y, dy);
                        BatchNormKernels.Grads ue = bn.trainingBackward(g, x, sc, u.mean(), u.variance(), eps);
                        BatchNormKernels.Grads fe = fused.trainingBackward(dy, x, sc, f.mean(), f.variance(), f.affine(), eps, act);
                        assertArrayEquals(ue.dx().toFloatArray(), fe.dx().toFloatArray(), "fused backward dx " + what);
                        assertArrayEquals(ue.dscale().toFloatArray(), fe.dscale().toFloatArray(), "fused backward dscale " + what);
                        assertArrayEquals(ue.doffset().toFloatArray(), fe.doffset().toFloatArray(), "fused backward doffset " + what);
                        if (act != FusedConvKernels.Activation.NONE) {
                            float[] gv = g.toFloatArray();
                            int zeros = 0;
                            for (float v : gv) if (v == 0f) zeros++;
                            assertTrue(zeros > gv.length / 10 && zeros < gv.length, "the " + act + " mask cuts " + zeros + " of " + gv.length);
                        }
                    }
                }
                Tensor wrong = up(rand(125, 0, 1, 4, ch));
                assertMessage(IllegalArgumentException.class, "fusedBatchNorm trainingBackward: affine shape [4, " + ch + "] != [2, " + ch + "]",
                        () -> fused.trainingBackward(dy, x, scale, up(rand(126, 0, 1, ch)), up(rand(127, 1, 2, ch)), wrong, 1e-3f,
                                FusedConvKernels.Activation.RELU));
            }
        });
    }

    // =============================================================================================
    // matmul
    // =============================================================================================

    @Test
    void matmulMatchesTheCpuForEveryTransposeAndEdgeSize() {
        scoped(() -> {
            int[][] mkn = {{37, 45, 29}, {1, 7, 1}, {130, 9, 131}, {5, 0, 3}, {3, 300, 2}};
            for (int[] s : mkn) {
                for (boolean ta : new boolean[] {false, true}) {
                    for (boolean tb : new boolean[] {false, true}) {
                        Tensor a = ta ? rand(121, -1, 1, s[1], s[0]) : rand(121, -1, 1, s[0], s[1]);
                        Tensor b = tb ? rand(122, -1, 1, s[2], s[1]) : rand(122, -1, 1, s[1], s[2]);
                        close(cpu(MatMulKernels.class).matmul(f64(a), f64(b), ta, tb), gpu(MatMulKernels.class).matmul(up(a), up(b), ta, tb),
                                "matmul m,k,n=" + java.util.Arrays.toString(s) + " ta=" + ta + " tb=" + tb);
                    }
                }
            }
        });
    }

    // =============================================================================================
    // TensorFlow golden cases of the implemented ops
    // =============================================================================================

    private Tensor golden(String c, String f) {
        Tensor cpu = GoldenData.opTensor(c, f);
        try {
            return up(cpu);
        } finally {
            cpu.close();
        }
    }

    private void goldenCheck(String c, String outFile, Tensor actual) {
        try (Tensor expected = GoldenData.opTensor(c, outFile)) {
            close(expected, actual, c + "/" + outFile);
        }
    }

    @Test
    void tensorflowGoldenCasesPass() {
        java.nio.file.Path dir;
        try {
            dir = GoldenData.goldenDir();
        } catch (IllegalStateException e) {
            dir = null;  // a device machine without ../shared
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(dir != null && java.nio.file.Files.isDirectory(dir.resolve("ops")),
                "TensorFlow golden data (../shared/golden) not found");
        scoped(() -> {
            ElementwiseKernels el = gpu(ElementwiseKernels.class);
            goldenCheck("relu", "out_activations.npy", el.unary(UnaryOp.RELU, golden("relu", "in_features.npy")));
            goldenCheck("relu6", "out_activations.npy", el.unary(UnaryOp.RELU6, golden("relu6", "in_features.npy")));
            SoftmaxKernels sm = gpu(SoftmaxKernels.class);
            for (String c : new String[] {"softmax", "softmax_large_logits"}) {
                goldenCheck(c, "out_softmax.npy", sm.softmax(golden(c, "in_logits.npy")));
            }
            goldenCheck("log_softmax", "out_logsoftmax.npy", sm.logSoftmax(golden("log_softmax", "in_logits.npy")));
            SoftmaxKernels.CrossEntropy xe = sm.softmaxCrossEntropy(golden("softmax_cross_entropy_with_logits", "in_features.npy"),
                    golden("softmax_cross_entropy_with_logits", "in_labels.npy"));
            goldenCheck("softmax_cross_entropy_with_logits", "out_loss.npy", xe.loss());
            goldenCheck("softmax_cross_entropy_with_logits", "out_backprop.npy", xe.backprop());
            SoftmaxKernels.CrossEntropy sxe = sm.sparseSoftmaxCrossEntropy(golden("sparse_softmax_cross_entropy_with_logits", "in_features.npy"),
                    golden("sparse_softmax_cross_entropy_with_logits", "in_labels.npy"));
            goldenCheck("sparse_softmax_cross_entropy_with_logits", "out_loss.npy", sxe.loss());
            goldenCheck("sparse_softmax_cross_entropy_with_logits", "out_backprop.npy", sxe.backprop());
            MatMulKernels mm = gpu(MatMulKernels.class);
            goldenCheck("matmul", "out_product.npy", mm.matmul(golden("matmul", "in_a.npy"), golden("matmul", "in_b.npy"), false, false));
            goldenCheck("matmul_large_k", "out_product.npy",
                    mm.matmul(golden("matmul_large_k", "in_a.npy"), golden("matmul_large_k", "in_b.npy"), false, false));
            goldenCheck("matmul_transpose_a", "out_product.npy",
                    mm.matmul(golden("matmul_transpose_a", "in_a.npy"), golden("matmul_transpose_a", "in_b.npy"), true, false));
            goldenCheck("matmul_transpose_b", "out_product.npy",
                    mm.matmul(golden("matmul_transpose_b", "in_a.npy"), golden("matmul_transpose_b", "in_b.npy"), false, true));
            BiasAddKernels ba = gpu(BiasAddKernels.class);
            for (String c : new String[] {"bias_add_2d", "bias_add_nhwc"}) {
                goldenCheck(c, "out_output.npy", ba.biasAdd(golden(c, "in_value.npy"), golden(c, "in_bias.npy")));
            }
            goldenCheck("bias_add_grad", "out_output.npy", ba.biasAddGrad(golden("bias_add_grad", "in_out_backprop.npy")));
            ReduceKernels rd = gpu(ReduceKernels.class);
            goldenCheck("l2_loss", "out_output.npy", rd.l2Loss(golden("l2_loss", "in_t.npy")));
            goldenCheck("mean_global_avg_pool", "out_output.npy", rd.mean(golden("mean_global_avg_pool", "in_input.npy"), new int[] {1, 2}, true));
            PoolKernels pk = gpu(PoolKernels.class);
            String[][] pools = {{"maxpool_2x2_s2_valid", "2", "2", "VALID"}, {"maxpool_3x3_s2_same", "3", "2", "SAME"},
                {"maxpool_3x3_s1_same", "3", "1", "SAME"}, {"maxpool_3x3_s2_valid", "3", "2", "VALID"},
                {"maxpool_3x3_s2_same_negative", "3", "2", "SAME"}, {"maxpool_3x3_s2_same_ties", "3", "2", "SAME"}};
            for (String[] p : pools) {
                PoolSpec spec = PoolSpec.of(Integer.parseInt(p[1]), Integer.parseInt(p[2]), Padding.parse(p[3]));
                goldenCheck(p[0], "out_output.npy", pk.maxPool(golden(p[0], "in_input.npy"), spec));
                String gc = p[0] + "_grad";
                goldenCheck(gc, "out_output.npy", pk.maxPoolGrad(golden(gc, "in_orig_input.npy"), golden(gc, "in_orig_output.npy"),
                        golden(gc, "in_grad.npy"), spec));
                String ac = p[0].replace("maxpool", "avgpool");
                if (ac.endsWith("_negative") || ac.endsWith("_ties")) continue;
                goldenCheck(ac, "out_output.npy", pk.avgPool(golden(ac, "in_value.npy"), spec));
                try (Tensor shape = GoldenData.opTensor(ac + "_grad", "in_orig_input_shape.npy")) {
                    goldenCheck(ac + "_grad", "out_output.npy", pk.avgPoolGrad(Shape.of(shape.toIntArray()), golden(ac + "_grad", "in_grad.npy"), spec));
                }
            }
            goldenCheck("avgpool_3x3_s1_same_ones", "out_output.npy",
                    pk.avgPool(golden("avgpool_3x3_s1_same_ones", "in_value.npy"), PoolSpec.of(3, 1, Padding.SAME)));
            BatchNormKernels bn = gpu(BatchNormKernels.class);
            String t = "fused_batch_norm_v3_training";
            BatchNormKernels.Training tr = bn.trainingForward(golden(t, "in_x.npy"), golden(t, "in_scale.npy"), golden(t, "in_offset.npy"), 0.001f);
            goldenCheck(t, "out_y.npy", tr.y());
            goldenCheck(t, "out_batch_mean.npy", tr.mean());
            goldenCheck(t, "out_reserve_space_2.npy", tr.variance());
            String i = "fused_batch_norm_v3_inference";
            goldenCheck(i, "out_y.npy", bn.inferenceForward(golden(i, "in_x.npy"), golden(i, "in_scale.npy"), golden(i, "in_offset.npy"),
                    golden(i, "in_mean.npy"), golden(i, "in_variance.npy"), 0.001f));
            for (String gc : new String[] {"fused_batch_norm_grad_v3_training", "fused_batch_norm_grad_v3_inference"}) {
                BatchNormKernels.Grads gr = gc.endsWith("training")
                        ? bn.trainingBackward(golden(gc, "in_y_backprop.npy"), golden(gc, "in_x.npy"), golden(gc, "in_scale.npy"),
                                golden(gc, "in_reserve_space_1.npy"), golden(gc, "in_reserve_space_2.npy"), 0.001f)
                        : bn.inferenceBackward(golden(gc, "in_y_backprop.npy"), golden(gc, "in_x.npy"), golden(gc, "in_scale.npy"),
                                golden(gc, "in_reserve_space_1.npy"), golden(gc, "in_reserve_space_2.npy"), 0.001f);
                goldenCheck(gc, "out_x_backprop.npy", gr.dx());
                goldenCheck(gc, "out_scale_backprop.npy", gr.dscale());
                goldenCheck(gc, "out_offset_backprop.npy", gr.doffset());
            }
        });
    }

    // =============================================================================================
    // errors, families not written yet, memory
    // =============================================================================================

    private static void assertMessage(Class<? extends Throwable> type, String expectedPart, Runnable r) {
        Throwable e = assertThrows(type, r::run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(expectedPart), "message '" + e.getMessage() + "' lacks '" + expectedPart + "'");
    }

    @Test
    void badArgumentsAreRejectedWithMessagesNamingOpArgumentAndShapes() {
        scoped(() -> {
            ElementwiseKernels el = gpu(ElementwiseKernels.class);
            Tensor a = up(Tensor.zeros(2, 3));
            Tensor b = up(Tensor.zeros(4, 3));
            assertMessage(IllegalArgumentException.class, "binary ADD: shapes [2, 3] and [4, 3] are not broadcast-compatible",
                    () -> el.binary(BinaryOp.ADD, a, b));
            assertMessage(IllegalArgumentException.class, "addInPlace: src shape [4, 3] != dst shape [2, 3]", () -> el.addInPlace(a, b, 1));
            Tensor host = Tensor.zeros(2, 3);
            assertMessage(IllegalArgumentException.class, "lives on cpu", () -> el.binary(BinaryOp.ADD, a, host));
            Tensor d64 = up(Tensor.zeros(DType.FLOAT64, Shape.of(2, 3)));
            assertMessage(IllegalArgumentException.class, "unsupported dtype FLOAT64 for b [2, 3]", () -> el.binary(BinaryOp.MUL, a, d64));
            assertMessage(IllegalArgumentException.class, "biasAdd: bias must be [3] to match the last axis of x (x [2, 3], bias [4, 3])",
                    () -> gpu(BiasAddKernels.class).biasAdd(a, b));
            assertMessage(IllegalArgumentException.class, "matmul: inner dimensions differ, op(a) is 2x3 but op(b) is 4x3",
                    () -> gpu(MatMulKernels.class).matmul(a, b, false, false));
            assertMessage(IllegalArgumentException.class, "sum: axis 2 out of range for input [2, 3]",
                    () -> gpu(ReduceKernels.class).sum(a, new int[] {2}, false));
            assertMessage(IllegalArgumentException.class, "maxPool: input must be rank 4 NHWC, got shape [2, 3]",
                    () -> gpu(PoolKernels.class).maxPool(a, PoolSpec.of(2, 2, Padding.VALID)));
            assertMessage(IllegalArgumentException.class, "batchNorm trainingForward: scale shape [4, 3] != [3] (x [2, 3])",
                    () -> gpu(BatchNormKernels.class).trainingForward(a, b, null, 1e-3f));
            assertMessage(IllegalArgumentException.class, "applyMomentum: argument 1 is FLOAT32[4, 3] but the variable is FLOAT32[2, 3]",
                    () -> gpu(OptimizerKernels.class).applyMomentum(a, b, a, 0.1, 0.9, false, 0));
            Tensor logits = up(Tensor.zeros(3, 4));
            Tensor badLabels = up(Tensor.of(new int[] {1, 4, 0}, 3));
            long before = device().liveBytes();
            assertMessage(IllegalArgumentException.class, "sparseSoftmaxCrossEntropy: label 4 of row 1 is out of range [0, 4)",
                    () -> gpu(SoftmaxKernels.class).sparseSoftmaxCrossEntropy(logits, badLabels));
            assertEquals(before, device().liveBytes(), "a rejected label leaks nothing");
        });
    }

    @Test
    void everyCpuFamilyIsOnCudaAndAnUnknownOneSaysWhatIsMissing() {
        Backend b = gpu();
        assertInstanceOf(CudaBackend.class, b);
        List<Class<?>> cpuFamilies = List.of(org.slim4j.kernels.FusedConvKernels.class, OptimizerKernels.class, MatMulKernels.class,
            ElementwiseKernels.class, BiasAddKernels.class, org.slim4j.kernels.DropoutKernels.class, SoftmaxKernels.class,
            ReduceKernels.class, org.slim4j.kernels.ShapeKernels.class, org.slim4j.kernels.ResizeKernels.class, PoolKernels.class,
            BatchNormKernels.class, org.slim4j.kernels.LrnKernels.class, ConvKernels.class, DepthwiseConvKernels.class);
        for (Class<?> f : cpuFamilies) {
            assertTrue(CpuBackend.INSTANCE.supports(f), f.getSimpleName());
            assertTrue(b.supports(f), f.getSimpleName() + " is on the CPU backend but not on cuda");
        }
        assertTrue(!b.supports(NoSuchKernels.class));
        assertMessage(UnsupportedOperationException.class, "NoSuchKernels is not implemented on cuda yet",
                () -> b.kernels(NoSuchKernels.class));
    }

    /** A kernel family no backend implements. */
    interface NoSuchKernels {
    }

    @Test
    void explicitCloseReturnsEveryByteAndAWarmLoopStopsCallingTheDriverAllocator() {
        CudaDevice d = device();
        long dev = d.liveBytes();
        long devAllocs = d.liveAllocations();
        long host = CpuDevice.INSTANCE.liveBytes();
        // No scope here: every tensor is closed by hand, so a temporary the backend forgot would show.
        Supplier<Long> driverAllocs = d::driverAllocations;
        long afterFirst = -1;
        for (int step = 0; step < 3; step++) {
            try (Tensor xh = rand(131 + step, -1, 1, 6, 10);
                 Tensor wh = rand(132, -0.3, 0.3, 10, 4);
                 Tensor bh = rand(133, -0.1, 0.1, 4);
                 Tensor lh = Tensor.of(new int[] {0, 1, 2, 3, 0, 1}, 6);
                 Tensor x = up(xh); Tensor w = up(wh); Tensor bias = up(bh); Tensor labels = up(lh);
                 Tensor h = gpu(MatMulKernels.class).matmul(x, w, false, false);
                 Tensor z = gpu(BiasAddKernels.class).biasAdd(h, bias);
                 Tensor act = gpu(ElementwiseKernels.class).unary(UnaryOp.RELU, z)) {
                SoftmaxKernels.CrossEntropy ce = gpu(SoftmaxKernels.class).sparseSoftmaxCrossEntropy(act, labels);
                try (Tensor loss = ce.loss(); Tensor bp = ce.backprop();
                     Tensor dz = gpu(ElementwiseKernels.class).unaryGrad(UnaryOp.RELU, z, act, bp);
                     Tensor db = gpu(BiasAddKernels.class).biasAddGrad(dz);
                     Tensor dw = gpu(MatMulKernels.class).matmul(x, dz, true, false);
                     Tensor mean = gpu(ReduceKernels.class).mean(loss, new int[0], false)) {
                    gpu(OptimizerKernels.class).applyGradientDescent(w, dw, 0.1);
                    gpu(OptimizerKernels.class).applyGradientDescent(bias, db, 0.1);
                    assertTrue(Double.isFinite(mean.item()));
                }
            }
            if (step == 0) afterFirst = driverAllocs.get();
        }
        assertEquals(afterFirst, d.driverAllocations(), "steps after the first allocate nothing from the driver");
        assertEquals(dev, d.liveBytes(), "device bytes");
        assertEquals(devAllocs, d.liveAllocations(), "device allocations");
        assertEquals(host, CpuDevice.INSTANCE.liveBytes(), "host bytes");
    }

    /** A tiny deterministic generator for test data (ties, labels). */
    static final class SplitMix {
        private long s;

        SplitMix(long seed) {
            s = seed;
        }

        int nextInt(int bound) {
            s += 0x9E3779B97F4A7C15L;
            long z = s;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            return (int) Long.remainderUnsigned(z, bound);
        }
    }
}
