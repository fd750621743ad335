package org.slim4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.tensor.DType;

/** The ops a build emits for graph export: TF's op types, the scopes they run in, their inputs and attributes. */
class TracedOpTest {
    private static List<String> describe(List<TracedOp> ops) {
        List<String> out = new ArrayList<>();
        for (TracedOp op : ops) out.add(op.scope() + ":" + op.type());
        return out;
    }

    @Test
    void layersEmitTheOpsTensorFlowUses() {
        List<TracedOp> ops = new ArrayList<>();
        try (VariableStore store = VariableStore.shapeOnly(DType.FLOAT32); Graph g = Graph.open(store)) {
            g.trace(ops::add);
            Var x = MetaDevice.placeholder(DType.FLOAT32, 2, 8, 8, 3);
            Var y;
            try (VariableScope sc = VariableScope.open("net", null)) {
                y = Layers.conv2d(x, 4, 3, 2, "conv", Arg.normalizerFn(Normalizer.BATCH_NORM),
                    Arg.normalizerParams(Args.of(Arg.isTraining(false))), Arg.activationFn(Activation.RELU6));
                y = Layers.maxPool2d(y, 2, "pool");
                y = Ops.squeeze(Ops.reduceMean(y, new int[] {1, 2}, true), 1, 2);
                y = Layers.fullyConnected(y, 5, "fc", Arg.activationFn(null));
                y = Layers.softmax(y, "Predictions");
            }
            assertEquals(List.of("net/conv:Conv2D", "net/conv/BatchNorm:FusedBatchNormV3", "net/conv:Relu6", "net/pool:MaxPool", "net:Mean", "net:Squeeze",
                "net/fc:MatMul", "net/fc:BiasAdd", "net/Predictions:Reshape", "net/Predictions:Softmax", "net/Predictions:Reshape"), describe(ops));
            TracedOp conv = ops.get(0);
            assertSame(x, conv.inputs().get(0));
            assertSame(store.get("net/conv/weights").var(), conv.inputs().get(1));
            assertArrayEquals(new int[] {1, 2, 2, 1}, (int[]) conv.attrs().get("strides"));
            assertEquals("SAME", conv.attrs().get("padding"));
            TracedOp bn = ops.get(1);
            assertEquals(false, bn.attrs().get("is_training"));
            // no gamma (scale off): TF feeds a constant of ones
            TracedOp.Const gamma = (TracedOp.Const) bn.inputs().get(1);
            assertArrayEquals(new float[] {1, 1, 1, 1}, gamma.floats());
            assertSame(store.get("net/conv/BatchNorm/beta").var(), bn.inputs().get(2));
            assertSame(store.get("net/conv/BatchNorm/moving_variance").var(), bn.inputs().get(4));
            assertArrayEquals(new int[] {1, 2}, (int[]) ops.get(5).attrs().get("squeeze_dims"));
            assertArrayEquals(new int[] {1, 2}, ((TracedOp.Const) ops.get(4).inputs().get(1)).ints());
            assertSame(y, ops.get(ops.size() - 1).output());
        }
    }

    @Test
    void trainingBatchNormAndUntracedGraphsRecordNothing() {
        List<TracedOp> ops = new ArrayList<>();
        try (VariableStore store = VariableStore.shapeOnly(DType.FLOAT32); Graph g = Graph.open(store)) {
            g.trace(ops::add);
            Layers.batchNorm(MetaDevice.placeholder(DType.FLOAT32, 2, 4, 4, 3), "bn", Arg.isTraining(true));
            assertEquals(List.of(), ops);
            g.trace(null);
            Ops.relu(MetaDevice.placeholder(DType.FLOAT32, 2, 3));
            assertEquals(List.of(), ops);
        }
    }
}
