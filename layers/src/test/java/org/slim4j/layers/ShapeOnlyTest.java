package org.slim4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.slim4j.kernels.Padding.VALID;
import static org.slim4j.layers.Arg.normalizerFn;
import static org.slim4j.layers.Arg.padding;
import static org.slim4j.layers.Arg.rate;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;

/** Shape-only builds: the same shapes and names as real ones, multiply-adds counted, no memory. */
class ShapeOnlyTest {
    @Test
    void shapeOnlyBuildMatchesARealBuild() {
        long live = CpuDevice.INSTANCE.liveBytes();
        int[][] shapes = new int[2][];
        List<String> names = null;
        long[] macs = new long[2];
        for (int real = 0; real < 2; real++) {
            try (TensorScope ts = TensorScope.open();
                 VariableStore store = real == 1 ? new VariableStore(3) : VariableStore.shapeOnly();
                 Graph g = Graph.open(store)) {
                Var x = real == 1 ? Var.constant(Tensor.randomUniform(1, 0, 1, 2, 17, 13, 3)) : MetaDevice.placeholder(DType.FLOAT32, 2, 17, 13, 3);
                Var y = Layers.conv2d(x, 8, 3, 2, "c1", normalizerFn(Normalizer.BATCH_NORM));
                y = Layers.separableConv2d(y, null, 3, 2, "dw", rate(2));
                y = Layers.avgPool2d(y, 3, 1, "pool", padding(VALID));
                Var z = Ops.concat(List.of(y, Ops.relu6(y)), 3);
                z = Ops.pad(z, new int[][] {{0, 0}, {1, 1}, {0, 2}, {0, 0}});
                z = Layers.fullyConnected(Layers.flatten(Ops.reduceMean(z, new int[] {1, 2}, true)), 5, "fc");
                shapes[real] = z.value().dims();
                names = List.copyOf(store.asMap().keySet());
                macs[real] = g.multiplyAdds();
                if (real == 0) assertEquals(3 * 3 * 3 * 8 + 3 * 8 + 3 * 3 * 8 * 2 + 16 + 32 * 5 + 5, store.parameterCount());
            }
        }
        assertArrayEquals(shapes[1], shapes[0]);
        assertArrayEquals(new int[] {2, 5}, shapes[0]);
        assertEquals(List.of("c1/weights", "c1/BatchNorm/beta", "c1/BatchNorm/moving_mean", "c1/BatchNorm/moving_variance",
            "dw/depthwise_weights", "dw/biases", "fc/weights", "fc/biases"), names);
        // conv 9x7x8 outputs x 27, depthwise 9x7x16 x 9, fc 32x5, all times batch 2
        assertEquals(2L * (9 * 7 * 8 * 27 + 9 * 7 * 16 * 9 + 32 * 5), macs[0]);
        assertEquals(macs[0], macs[1], "real and shape-only builds count the same work");
        assertEquals(live, CpuDevice.INSTANCE.liveBytes());
    }

    @Test
    void shapeOnlyValuesCannotBeRead() {
        Var x = MetaDevice.placeholder(DType.FLOAT32, 1, 2);
        assertTrue(MetaDevice.isMeta(x));
        assertThrows(UnsupportedOperationException.class, () -> x.value().toDoubleArray());
        try (VariableStore store = VariableStore.shapeOnly()) {
            assertTrue(store.regularizationLosses().isEmpty());
        }
    }
}
