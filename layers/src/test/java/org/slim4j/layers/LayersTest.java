package org.slim4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.slim4j.kernels.Padding.SAME;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.activationFn;
import static org.slim4j.layers.Arg.biasesInitializer;
import static org.slim4j.layers.Arg.dataFormat;
import static org.slim4j.layers.Arg.isTraining;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.onValue;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.rate;
import static org.slim4j.layers.Arg.stride;
import static org.slim4j.layers.Arg.trainable;
import static org.slim4j.layers.Arg.weightsInitializer;
import static org.slim4j.layers.Arg.weightsRegularizer;
import static org.slim4j.layers.Layers.conv2d;
import static org.slim4j.layers.Layers.fullyConnected;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.GradCheck;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.OpProfiler;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/** The layers' arithmetic against plain loops, float32 against float64, errors, and memory. */
class LayersTest {
    private long liveBefore;

    @BeforeEach
    void rememberMemory() {
        liveBefore = CpuDevice.INSTANCE.liveBytes();
    }

    @AfterEach
    void noMemoryLeft() {
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), "bytes left allocated");
    }

    private static Var input(long seed, DType dtype, int... dims) {
        return Var.constant(Tensor.randomUniform(seed, dtype, Shape.of(dims), -1, 1));
    }

    @Test
    void conv2dIsConvPlusBiasPlusRelu() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(3); Graph g = Graph.open(store)) {
            Var x = input(1, DType.FLOAT32, 2, 9, 7, 3);
            // non-zero biases so that the bias path is exercised
            for (int stride : new int[] {1, 2}) {
                for (var pad : List.of(SAME, VALID)) {
                    String name = "conv_s" + stride + "_" + pad;
                    Var y = conv2d(x, 5, Layers.kernel(3, 2), stride, name, padding(pad), biasesInitializer(Initializers.constant(0.3)));
                    int[] od = new int[4];
                    double[] ref = Reference.conv2d(x.value().toDoubleArray(), x.value().dims(),
                        store.get(name + "/weights").value().toDoubleArray(), new int[] {3, 2, 3, 5}, stride, 1, pad, od);
                    Reference.biasRelu(ref, store.get(name + "/biases").value().toDoubleArray(), true);
                    assertArrayEquals(od, y.value().dims(), name);
                    Close.assertClose(ref, y.value().toDoubleArray(), 1e-5, name);
                }
            }
            // atrous, linear
            Var y = conv2d(x, 4, 3, "atrous", rate(2), activationFn(null));
            int[] od = new int[4];
            double[] ref = Reference.conv2d(x.value().toDoubleArray(), x.value().dims(), store.get("atrous/weights").value().toDoubleArray(),
                new int[] {3, 3, 3, 4}, 1, 2, SAME, od);
            Reference.biasRelu(ref, store.get("atrous/biases").value().toDoubleArray(), false);
            Close.assertClose(ref, y.value().toDoubleArray(), 1e-5, "atrous");
            assertTrue(java.util.Arrays.stream(y.value().toDoubleArray()).anyMatch(v -> v < 0), "linear output keeps negatives");
        }
    }

    @Test
    void separableConvIsDepthwiseThenPointwise() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(4); Graph g = Graph.open(store)) {
            Var x = input(2, DType.FLOAT32, 2, 7, 8, 3);
            Var y = Layers.separableConv2d(x, 6, 3, 2, "sep", stride(2), activationFn(null));
            int[] dd = new int[4];
            double[] dw = Reference.depthwise(x.value().toDoubleArray(), x.value().dims(), store.get("sep/depthwise_weights").value().toDoubleArray(),
                new int[] {3, 3, 3, 2}, 2, SAME, dd);
            int rows = dd[0] * dd[1] * dd[2];
            double[] ref = Reference.matmul(dw, store.get("sep/pointwise_weights").value().toDoubleArray(), rows, 6, 6);
            Reference.biasRelu(ref, store.get("sep/biases").value().toDoubleArray(), false);
            assertArrayEquals(new int[] {2, 4, 4, 6}, y.value().dims());
            assertArrayEquals(new int[] {1, 1, 6, 6}, store.get("sep/pointwise_weights").shape().dims());
            Close.assertClose(ref, y.value().toDoubleArray(), 1e-5, "separable");

            // num_outputs null: depthwise only, biases over C*M channels
            Var d = Layers.separableConv2d(x, null, 3, 2, "dw", activationFn(null));
            assertArrayEquals(new int[] {2, 7, 8, 6}, d.value().dims());
            assertFalse(store.contains("dw/pointwise_weights"));
            double[] dref = Reference.depthwise(x.value().toDoubleArray(), x.value().dims(), store.get("dw/depthwise_weights").value().toDoubleArray(),
                new int[] {3, 3, 3, 2}, 1, SAME, dd);
            Reference.biasRelu(dref, store.get("dw/biases").value().toDoubleArray(), false);
            Close.assertClose(dref, d.value().toDoubleArray(), 1e-5, "depthwise only");
        }
    }

    @Test
    void fullyConnectedWorksOnTheLastAxis() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(5); Graph g = Graph.open(store)) {
            Var x = input(3, DType.FLOAT32, 3, 11);
            Var y = fullyConnected(x, 7, "fc", biasesInitializer(Initializers.constant(-0.2)));
            double[] ref = Reference.matmul(x.value().toDoubleArray(), store.get("fc/weights").value().toDoubleArray(), 3, 11, 7);
            Reference.biasRelu(ref, store.get("fc/biases").value().toDoubleArray(), true);
            Close.assertClose(ref, y.value().toDoubleArray(), 1e-5, "fc");
            // rank 3: the same weights applied per row
            Var x3 = input(4, DType.FLOAT32, 2, 3, 11);
            Var y3 = fullyConnected(x3, 7, "fc3", activationFn(null));
            assertArrayEquals(new int[] {2, 3, 7}, y3.value().dims());
            double[] ref3 = Reference.matmul(x3.value().toDoubleArray(), store.get("fc3/weights").value().toDoubleArray(), 6, 11, 7);
            Close.assertClose(ref3, y3.value().toDoubleArray(), 1e-5, "fc rank 3");
        }
    }

    @Test
    void poolsDefaultToStrideTwoValid() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(5); Graph g = Graph.open(store)) {
            Var x = input(5, DType.FLOAT32, 2, 9, 8, 3);
            Var m = Layers.maxPool2d(x, 3, null);
            assertArrayEquals(new int[] {2, 4, 3, 3}, m.value().dims());
            Close.assertClose(Reference.maxPoolValid(x.value().toDoubleArray(), x.value().dims(), 3, 2), m.value().toDoubleArray(), 0, "max pool");
            Var a = Layers.avgPool2d(x, 2, null);
            assertArrayEquals(new int[] {2, 4, 4, 3}, a.value().dims());
            double[] xv = x.value().toDoubleArray();
            double first = (xv[0] + xv[3] + xv[8 * 3] + xv[8 * 3 + 3]) / 4;
            assertEquals(first, a.value().toDoubleArray()[0], 1e-6);
            assertArrayEquals(new int[] {2, 9, 8, 3}, Layers.avgPool2d(x, 3, 1, null, padding(SAME)).value().dims());
        }
    }

    @Test
    void float32LayersAgreeWithTheFloat64Reference() {
        // The same seed draws the same initial values in both stores, so the nets must agree.
        double[][] outs = new double[2][];
        DType[] types = {DType.FLOAT32, DType.FLOAT64};
        for (int t = 0; t < 2; t++) {
            try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(types[t], 21); Graph g = Graph.open(store)) {
                Var x = input(6, types[t], 3, 11, 9, 4);
                try (var s = ArgScope.of(Layers.CONV2D, Layers.SEPARABLE_CONV2D).set(normalizerFn(Normalizer.BATCH_NORM)).open()) {
                    Var y = conv2d(x, 8, 3, 2, "c1");
                    y = Layers.separableConv2d(y, 6, 3, 1, "s1");
                    y = Layers.maxPool2d(y, 2, "p1");
                    y = Layers.flatten(y);
                    y = fullyConnected(y, 5, "fc", activationFn(Activation.TANH));
                    y = Layers.batchNorm(y, "bn", isTraining(false), Arg.scale(true));
                    outs[t] = y.value().toDoubleArray();
                }
            }
        }
        Close.assertClose(outs[1], outs[0], 1e-5, "float32 vs float64 stack of layers");
    }

    @Test
    void convBiasReluAndInferenceBatchNormFuseWithTheSameValuesAndVariables() {
        // With gradient recording on, conv -> biases or batch norm -> relu run op by op; without it (inference)
        // they run as one fused convolution kernel, the inference batch norm folded into it.
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(dt, 5)) {
                Var x = input(7, dt, 2, 9, 8, 5);
                java.util.Map<String, Initializer> inits = java.util.Map.of("moving_mean", Initializers.truncatedNormal(0.5),
                    "moving_variance", Initializers.constant(2.5), "gamma", Initializers.truncatedNormal(1.0), "beta", Initializers.truncatedNormal(0.3));
                Args bn = Args.of(isTraining(false), Arg.scale(true), Arg.paramInitializers(inits));
                double[][] plain = new double[2][];
                double[][] fused = new double[2][];
                for (int pass = 0; pass < 2; pass++) {
                    OpProfiler prof = OpProfiler.start();
                    try (Graph g = Graph.open(store); org.slim4j.autograd.GradMode.Guard off = pass == 1 ? org.slim4j.autograd.GradMode.noGrad() : null) {
                        double[][] into = pass == 0 ? plain : fused;
                        into[0] = conv2d(x, 6, 3, 2, "bn", normalizerFn(Normalizer.BATCH_NORM), Arg.normalizerParams(bn)).value().toDoubleArray();
                        into[1] = conv2d(x, 4, 3, 1, "biased", biasesInitializer(Initializers.truncatedNormal(1.0))).value().toDoubleArray();
                    } finally {
                        prof.stop();
                    }
                    java.util.Set<String> ops = prof.stats().keySet();
                    assertEquals(pass == 1, ops.contains("FusedConvKernels.conv2dScaleShift") && !ops.contains("BatchNormKernels.inferenceForward")
                        && !ops.contains("BiasAddKernels.biasAdd"), dt + " pass " + pass + " ran " + ops);
                }
                Close.assertClose(plain[0], fused[0], dt == DType.FLOAT32 ? 1e-5 : 1e-12, dt + " conv + inference batch norm + relu");
                // conv + biases + relu fuses with or without gradients: compare with the three ops run one by one.
                Var w = store.get("biased/weights").var();
                Var b = store.get("biased/biases").var();
                double[] ref = Ops.relu(Ops.biasAdd(Ops.conv2d(x, w, org.slim4j.kernels.Conv2dSpec.of(1, SAME)), b)).value().toDoubleArray();
                Close.assertClose(ref, plain[1], dt == DType.FLOAT32 ? 1e-6 : 1e-12, dt + " conv + biases + relu, recording");
                Close.assertClose(ref, fused[1], dt == DType.FLOAT32 ? 1e-6 : 1e-12, dt + " conv + biases + relu, inference");
                assertEquals(List.of("bn/weights", "bn/BatchNorm/beta", "bn/BatchNorm/gamma", "bn/BatchNorm/moving_mean", "bn/BatchNorm/moving_variance",
                    "biased/weights", "biased/biases"), new java.util.ArrayList<>(store.asMap().keySet()));
            }
        }
    }

    @Test
    void depthwiseSeparableWithInferenceBatchNormFusesWithTheSameValuesAndVariables() {
        // MobileNet's depthwise layer: separable_conv2d(num_outputs=None) -> inference batch norm -> relu6. Op by op
        // with gradient recording on; one fused depthwise kernel without it.
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int stride : new int[] {1, 2}) {
                try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(dt, 11)) {
                    Var x = input(13, dt, 2, 11, 10, 16);
                    java.util.Map<String, Initializer> inits = java.util.Map.of("moving_mean", Initializers.truncatedNormal(0.5),
                        "moving_variance", Initializers.constant(1.5), "gamma", Initializers.truncatedNormal(1.0), "beta", Initializers.truncatedNormal(2.0));
                    Args bn = Args.of(isTraining(false), Arg.scale(true), Arg.paramInitializers(inits));
                    double[][] outs = new double[2][];
                    for (int pass = 0; pass < 2; pass++) {
                        OpProfiler prof = OpProfiler.start();
                        try (Graph g = Graph.open(store); org.slim4j.autograd.GradMode.Guard off = pass == 1 ? org.slim4j.autograd.GradMode.noGrad() : null) {
                            outs[pass] = Layers.separableConv2d(x, null, 3, 1, "dw", Arg.stride(stride), normalizerFn(Normalizer.BATCH_NORM),
                                Arg.normalizerParams(bn), activationFn(Activation.RELU6)).value().toDoubleArray();
                        } finally {
                            prof.stop();
                        }
                        java.util.Set<String> ops = prof.stats().keySet();
                        assertEquals(pass == 1, ops.contains("FusedDepthwiseConvKernels.depthwiseConv2dScaleShift")
                            && !ops.contains("BatchNormKernels.inferenceForward") && !ops.contains("DepthwiseConvKernels.depthwiseConv2d"),
                            dt + " pass " + pass + " ran " + ops);
                    }
                    Close.assertClose(outs[0], outs[1], dt == DType.FLOAT32 ? 1e-5 : 1e-12, dt + " stride " + stride + " depthwise + bn + relu6");
                    double clipped = java.util.Arrays.stream(outs[0]).filter(v -> v == 0 || v == 6).count();
                    assertTrue(clipped > 0 && clipped < outs[0].length, "relu6 clips some outputs, not all");
                    assertEquals(List.of("dw/depthwise_weights", "dw/BatchNorm/beta", "dw/BatchNorm/gamma", "dw/BatchNorm/moving_mean",
                        "dw/BatchNorm/moving_variance"), new java.util.ArrayList<>(store.asMap().keySet()));
                }
            }
        }
    }

    @Test
    void trainingBatchNormAndActivationFuseWithTheSameValuesGradientsAndStatistics() {
        // conv2d, separable_conv2d and fully_connected, each -> training batch norm -> relu / relu6: op by op (an
        // activation that is not the RELU / RELU6 constant does not fuse) and fused, from the same initial variables.
        for (Activation act : new Activation[] {Activation.RELU, Activation.RELU6}) {
            Activation opByOp = act == Activation.RELU ? x -> Ops.relu(x) : x -> Ops.relu6(x);
            String name = act == Activation.RELU ? "relu" : "relu6";
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                java.util.List<java.util.Map<String, double[]>> results = new java.util.ArrayList<>();
                for (int pass = 0; pass < 2; pass++) {
                    try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(dt, 21)) {
                        Var x = input(23, dt, 2, 7, 6, 5);
                        Args bn = Args.of(Arg.scale(true), Arg.paramInitializers(java.util.Map.of("beta", Initializers.truncatedNormal(1.0))));
                        Activation a = pass == 0 ? opByOp : act;
                        OpProfiler prof = OpProfiler.start();
                        java.util.Map<String, double[]> r = new java.util.TreeMap<>();
                        try {
                            Var y;
                            try (Graph g = Graph.open(store)) {
                                Var h = conv2d(x, 6, 3, "conv", normalizerFn(Normalizer.BATCH_NORM), Arg.normalizerParams(bn), activationFn(a));
                                h = Layers.separableConv2d(h, 4, 3, 1, "sep", normalizerFn(Normalizer.BATCH_NORM), Arg.normalizerParams(bn),
                                    activationFn(a));
                                y = fullyConnected(Layers.flatten(h), 3, "fc", normalizerFn(Normalizer.BATCH_NORM), Arg.normalizerParams(bn),
                                    activationFn(a));
                            }
                            r.put("y", y.value().toDoubleArray());
                            y.backward(Tensor.randomUniform(29, dt, y.value().shape(), -1, 1));
                        } finally {
                            prof.stop();
                        }
                        java.util.Set<String> ops = prof.stats().keySet();
                        boolean fused = ops.contains("FusedBatchNormKernels.trainingForward") && ops.contains("FusedBatchNormKernels.trainingBackward");
                        boolean separate = ops.contains("ElementwiseKernels.unary") || ops.contains("ElementwiseKernels.unaryGrad");
                        assertTrue(pass == 1 ? fused && !separate : !fused && separate, name + " " + dt + " pass " + pass + " ran " + ops);
                        for (var e : store.asMap().entrySet()) {
                            r.put(e.getKey(), e.getValue().value().toDoubleArray());
                            Tensor grad = e.getValue().grad();
                            if (grad != null) r.put(e.getKey() + ":grad", grad.toDoubleArray());
                        }
                        results.add(r);
                    }
                }
                assertEquals(results.get(0).keySet(), results.get(1).keySet());
                assertTrue(results.get(0).containsKey("sep/BatchNorm/gamma:grad") && results.get(0).containsKey("conv/weights:grad"));
                for (String k : results.get(0).keySet()) {
                    // moving_mean / moving_variance show the batch statistics; :grad the backward.
                    Close.assertClose(results.get(0).get(k), results.get(1).get(k), dt == DType.FLOAT32 ? 1e-5 : 1e-12, name + " " + dt + " " + k);
                }
                double[] y = results.get(1).get("y");
                long clipped = java.util.Arrays.stream(y).filter(v -> v == 0).count();
                assertTrue(clipped > 0 && clipped < y.length, name + ": the activation clips some outputs, not all");
            }
        }
    }

    @Test
    void layerGradientsMatchFiniteDifferences() {
        try (VariableStore store = new VariableStore(DType.FLOAT64, 8)) {
            Tensor x = Tensor.randomUniform(9, DType.FLOAT64, Shape.of(2, 5, 4, 3), -1, 1);
            GradCheck.Report r = GradCheck.check(in -> {
                try (Graph g = Graph.open(store)) {
                    Var y = conv2d(in.get(0), 4, 3, 2, "conv", normalizerFn(Normalizer.BATCH_NORM), activationFn(Activation.TANH));
                    y = Layers.separableConv2d(y, 3, 2, 1, "sep", activationFn(Activation.TANH));
                    return fullyConnected(Layers.flatten(y), 3, "fc", activationFn(null));
                }
            }, List.of(x), 1e-6, 3);
            x.close();
            assertTrue(r.maxError() < 1e-6, r.toString());
        }
    }

    @Test
    void regularizationLossIsScaleTimesHalfSumOfSquares() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(6)) {
            try (Graph g = Graph.open(store);
                 var s = ArgScope.of(Layers.CONV2D, Layers.FULLY_CONNECTED).set(weightsRegularizer(Regularizers.l2(0.04))).open()) {
                Var y = conv2d(input(1, DType.FLOAT32, 1, 4, 4, 2), 3, 2, "c");
                fullyConnected(Layers.flatten(y), 2, "f", weightsRegularizer(Regularizers.l2(0.5)));
                conv2d(y, 3, 1, "free", weightsRegularizer(null));
                conv2d(y, 3, 1, "zero", weightsRegularizer(Regularizers.l2(0.0)));
            }
            List<VariableStore.RegularizationLoss> losses = store.regularizationLosses();
            assertEquals(List.of("c/weights/Regularizer", "f/weights/Regularizer"), losses.stream().map(VariableStore.RegularizationLoss::name).toList());
            double expected = 0;
            double[] scales = {0.04, 0.5};
            String[] vars = {"c/weights", "f/weights"};
            for (int i = 0; i < 2; i++) {
                double ss = 0;
                for (double v : store.get(vars[i]).value().toDoubleArray()) ss += v * v;
                assertEquals(scales[i] * ss / 2, losses.get(i).loss().value().item(), 1e-6 * ss);
                expected += scales[i] * ss / 2;
            }
            Var total = store.regularizationLoss();
            assertEquals(expected, total.value().item(), 1e-6);
            total.backward();
            double[] w = store.get("c/weights").value().toDoubleArray();
            double[] gw = store.get("c/weights").var().grad().toDoubleArray();
            for (int i = 0; i < w.length; i++) assertEquals(0.04 * w[i], gw[i], 1e-7, "d(l2)/dw = scale * w");
        }
    }

    @Test
    void trainableFalseMakesConstants() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(6); Graph g = Graph.open(store)) {
            conv2d(input(1, DType.FLOAT32, 1, 4, 4, 2), 3, 1, "frozen", trainable(false), weightsInitializer(Initializers.ones()));
            assertFalse(store.get("frozen/weights").trainable());
            assertFalse(store.get("frozen/weights").var().requiresGrad());
            assertTrue(store.trainableVariables().isEmpty());
            assertEquals(0, store.trainableParameterCount());
            assertEquals(2 * 3 + 3, store.parameterCount());
            assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1}, store.get("frozen/weights").value().toDoubleArray());
        }
    }

    @Test
    void dropoutMasksInTrainingOnlyAndReproducibly() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(6)) {
            Var x = Var.constant(Tensor.fill(DType.FLOAT32, Shape.of(40, 50), 2.0));
            double[] a;
            double[] b;
            double[] c;
            try (Graph g = Graph.open(store, 1)) {
                assertSame(x, Layers.dropout(x, 0.3, "d", isTraining(false)), "inference dropout is the identity");
                a = Layers.dropout(x, 0.3, "d").value().toDoubleArray();
            }
            try (Graph g = Graph.open(store, 1)) {
                b = Layers.dropout(x, 0.3, "d").value().toDoubleArray();
            }
            try (Graph g = Graph.open(store, 2)) {
                c = Layers.dropout(x, 0.3, "d").value().toDoubleArray();
            }
            int kept = 0;
            for (double v : a) {
                assertTrue(v == 0 || Math.abs(v - 2 / 0.3) < 1e-5, "value " + v);
                if (v != 0) kept++;
            }
            assertEquals(0.3, kept / 2000.0, 0.04);
            assertArrayEquals(a, b, 0.0, "same graph seed, same mask");
            assertFalse(java.util.Arrays.equals(a, c), "another graph seed, another mask");
            assertThrows(IllegalArgumentException.class, () -> {
                try (Graph g = Graph.open(store)) {
                    Layers.dropout(x, 0.0, "d");
                }
            });
        }
    }

    @Test
    void flattenOneHotAndSoftmax() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(6); Graph g = Graph.open(store)) {
            Var x = input(1, DType.FLOAT32, 2, 3, 4, 5);
            Var f = Layers.flatten(x);
            assertArrayEquals(new int[] {2, 60}, f.value().dims());
            assertArrayEquals(x.value().toDoubleArray(), f.value().toDoubleArray(), 0.0);

            Var oh = Layers.oneHotEncoding(Tensor.of(new long[] {2, 0, 3, 7}, 4), 4, null, onValue(0.9));
            assertArrayEquals(new int[] {4, 4}, oh.value().dims());
            assertArrayEquals(new double[] {0, 0, 0.9, 0, 0.9, 0, 0, 0, 0, 0, 0, 0.9, 0, 0, 0, 0}, oh.value().toDoubleArray(), 1e-7);

            Var p = Layers.softmax(input(2, DType.FLOAT32, 3, 6), "Predictions");
            double[] pv = p.value().toDoubleArray();
            for (int r = 0; r < 3; r++) {
                double s = 0;
                for (int c = 0; c < 6; c++) s += pv[r * 6 + c];
                assertEquals(1, s, 1e-6);
            }
        }
    }

    @Test
    void badShapesAndArgumentsGiveClearErrors() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(6); Graph g = Graph.open(store)) {
            Var x3 = input(1, DType.FLOAT32, 4, 4, 3);
            Var x = input(1, DType.FLOAT32, 1, 4, 4, 3);
            assertMessage("conv2d: inputs must be rank 4 (NHWC), got shape [4, 4, 3]", () -> conv2d(x3, 2, 3, "a"));
            assertMessage("conv2d: num_outputs must be >= 1, got 0", () -> conv2d(x, 0, 3, "b"));
            assertMessage("conv2d: only one of rate or stride can be > 1 (stride [2, 2], rate [2, 2])", () -> conv2d(x, 2, 3, 2, "c", rate(2)));
            assertMessage("conv2d: data_format NCHW is not supported (only NHWC)", () -> conv2d(x, 2, 3, "d", dataFormat("NCHW")));
            assertMessage("conv2d: VALID window of effective size 5 does not fit input size 4 (input [1, 4, 4, 3], filter [5, 5, 3, 2])",
                () -> conv2d(x, 2, 5, "e", padding(VALID)));
            assertMessage("fully_connected: inputs must have at least 2 dimensions, got [3]", () -> fullyConnected(input(1, DType.FLOAT32, 3), 2, "f"));
            assertMessage("max_pool2d: kernel_size must have 2 elements {h, w}, got [3]", () -> Layers.maxPool2d(x, new int[] {3}, "g"));
            assertMessage("squeeze: can not squeeze dim[1], expected a dimension of 1, got 4 (shape [1, 4, 4, 3])", () -> Ops.squeeze(x, 1, 2));
            assertMessage("concat: dimension 1 differs along axis 3, shapes [[1, 4, 4, 3], [1, 5, 4, 3]]",
                () -> Ops.concat(List.of(x, input(2, DType.FLOAT32, 1, 5, 4, 3)), 3));
            assertMessage("matmul: inner dimensions differ, a [2, 3] and b [4, 5]",
                () -> Ops.matmul(input(1, DType.FLOAT32, 2, 3), input(1, DType.FLOAT32, 4, 5)));
            assertMessage("conv2d: mixed dtypes FLOAT64 and FLOAT32",
                () -> Ops.conv2d(input(1, DType.FLOAT64, 1, 4, 4, 3), input(2, DType.FLOAT32, 3, 3, 3, 2), org.slim4j.kernels.Conv2dSpec.of(1, SAME)));
            assertMessage("dropout() got an unexpected keyword argument 'padding'", () -> Layers.dropout(x, 0.5, "h", padding(SAME)));
        }
    }

    @Test
    void opsBroadcastConcatPadAndReduce() {
        try (TensorScope ts = TensorScope.open()) {
            Var a = input(1, DType.FLOAT32, 2, 3, 1);
            Var b = input(2, DType.FLOAT32, 4);
            Var s = Ops.add(a, b);
            assertArrayEquals(new int[] {2, 3, 4}, s.value().dims());
            assertEquals(a.value().toDoubleArray()[1] + b.value().toDoubleArray()[2], s.value().toDoubleArray()[6], 1e-6);
            Var c = Ops.concat(List.of(a, a, a), -1);
            assertArrayEquals(new int[] {2, 3, 3}, c.value().dims());
            Var p = Ops.pad(a, new int[][] {{0, 0}, {1, 2}, {0, 0}});
            assertArrayEquals(new int[] {2, 6, 1}, p.value().dims());
            Var m = Ops.reduceMean(Ops.reshape(input(3, DType.FLOAT32, 2, 4, 4, 3), 2, 4, 4, 3), new int[] {1, 2}, true);
            assertArrayEquals(new int[] {2, 1, 1, 3}, m.value().dims());
            assertArrayEquals(new int[] {2, 3}, Ops.squeeze(m, 1, 2).value().dims());
            List<Var> parts = Ops.split(c, 2, 1, 2);
            assertArrayEquals(new int[] {2, 3, 2}, parts.get(1).value().dims());
            assertArrayEquals(new int[] {1, 2, 3, 1}, Ops.expandDims(a, 0).value().dims());
            assertNull(Regularizers.l2(0).apply(a));
            assertNotEquals(0, ReduceOps.sum(s).value().item());
        }
    }

    @Test
    void argScopesCanNameLayersAsNasnetsFcScope() {
        try (VariableStore store = VariableStore.shapeOnly(); Graph g = Graph.open(store)) {
            Var x = MetaDevice.placeholder(DType.FLOAT32, 2, 6);
            try (var s = ArgScope.of(Layers.FULLY_CONNECTED).set(activationFn(null), Arg.scope("FC")).open()) {
                fullyConnected(x, 3);
                fullyConnected(x, 3, "explicit");
            }
            assertEquals(List.of("FC/weights", "FC/biases", "explicit/weights", "explicit/biases"), List.copyOf(store.asMap().keySet()));
        }
    }

    @Test
    void dropoutNoiseShapeSharesTheDrawAlongSizeOneDimensions() {
        try (TensorScope ts = TensorScope.open(); VariableStore store = new VariableStore(6); Graph g = Graph.open(store, 3)) {
            Var x = Var.param(Tensor.fill(DType.FLOAT32, Shape.of(64, 2, 3, 4), 1.0), "x");
            Var y = Layers.dropout(x, 0.5, "drop_path", Arg.noiseShape(64, 1, 1, 1));
            double[] v = y.value().toDoubleArray();
            int dropped = 0;
            for (int n = 0; n < 64; n++) {
                double first = v[n * 24];
                for (int i = 1; i < 24; i++) assertEquals(first, v[n * 24 + i], "one draw per example");
                assertTrue(first == 0 || first == 2);
                if (first == 0) dropped++;
            }
            assertTrue(dropped > 10 && dropped < 54, "about half the examples dropped, got " + dropped);
            ReduceOps.sum(y).backward();
            assertArrayEquals(v, x.grad().toDoubleArray(), 0.0, "gradient is the mask");
            x.zeroGrad();
            x.value().close();
            assertMessage("dropout: noise_shape [64, 2] must have the rank of the input [64, 2, 3, 4]",
                () -> Layers.dropout(x, 0.5, "d2", Arg.noiseShape(64, 2)));
        }
    }

    @Test
    void clipByValueClipsAndPassesGradientsInside() {
        try (TensorScope ts = TensorScope.open()) {
            Var x = Var.param(Tensor.of(new float[] {-9, -6.5f, -1, 0, 3, 5.9f, 7, 100}, 8), "x");
            Var y = Ops.clipByValue(x, -6, 6);
            assertArrayEquals(new double[] {-6, -6, -1, 0, 3, 5.9f, 6, 6}, y.value().toDoubleArray(), 0.0);
            ReduceOps.sum(y).backward();
            assertArrayEquals(new double[] {0, 0, 1, 1, 1, 1, 0, 0}, x.grad().toDoubleArray(), 0.0);
            x.zeroGrad();
            x.value().close();
        }
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(expected, e.getMessage());
    }
}
