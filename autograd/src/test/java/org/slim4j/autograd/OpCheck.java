package org.slim4j.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.TensorScope;
import org.slim4j.tensor.testing.Close;

/**
 * The generic op test: one row of the op table (an op, sample input shapes and an input range)
 * is checked for (1) float32 forward against float64 forward, (2) float64 autograd gradients
 * against central finite differences, (3) float32 gradients against float64 gradients, and
 * (4) no memory left allocated afterwards.
 */
final class OpCheck {
    /** One table row. {@code op} must be deterministic (fixed seeds, constant side inputs). */
    record Case(String name, List<int[]> shapes, double lo, double hi, Function<List<Var>, Var> op) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(name).append(' ');
            for (int[] s : shapes) sb.append(Arrays.toString(s));
            return sb.toString();
        }
    }

    static Case of(String name, Function<List<Var>, Var> op, int[]... shapes) {
        return new Case(name, List.of(shapes), -1, 1, op);
    }

    static Case of(String name, double lo, double hi, Function<List<Var>, Var> op, int[]... shapes) {
        return new Case(name, List.of(shapes), lo, hi, op);
    }

    static int[] s(int... dims) {
        return dims;
    }

    private OpCheck() {
    }

    static void run(Case c) {
        long liveBefore = CpuDevice.INSTANCE.liveBytes();
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> in64 = new ArrayList<>();
            long seed = c.name().hashCode();
            for (int[] s : c.shapes()) in64.add(Tensor.randomUniform(seed++, DType.FLOAT64, Shape.of(s), c.lo(), c.hi()));
            List<Tensor> in32 = new ArrayList<>();
            for (Tensor t : in64) in32.add(t.cast(DType.FLOAT32));

            // 1. float32 forward against float64 forward.
            Gradients g64 = forwardBackward(c, in64);
            Gradients g32 = forwardBackward(c, in32);
            assertArrayEquals(g64.output.dims(), g32.output.dims(), c + ": output shape");
            Close.assertClose(g64.output.toDoubleArray(), g32.output.toDoubleArray(), 1e-4, c + ": float32 forward vs float64");

            // 2. float64 gradients against finite differences.
            GradCheck.Report r = GradCheck.check(c.op(), in64, 1e-6, 99);
            assertTrue(r.maxError() < 1e-5, c + ": finite differences: " + r);

            // 3. float32 gradients against float64 gradients.
            for (int i = 0; i < in64.size(); i++) {
                Close.assertClose(g64.grads.get(i), g32.grads.get(i), 2e-4, c + ": float32 gradient of input " + i);
            }
        }
        assertEquals(liveBefore, CpuDevice.INSTANCE.liveBytes(), c + ": memory left allocated");
    }

    private record Gradients(Tensor output, List<double[]> grads) {
    }

    /** Output and the gradients of sum(output * w) for a fixed w, in the inputs' dtype. */
    private static Gradients forwardBackward(Case c, List<Tensor> inputs) {
        List<Var> leaves = new ArrayList<>();
        for (Tensor t : inputs) leaves.add(Var.param(t, "x"));
        Var out = c.op().apply(leaves);
        Tensor w = Tensor.randomUniform(7, out.value().dtype(), out.value().shape(), -1, 1);
        out.backward(w);
        List<double[]> grads = new ArrayList<>();
        for (Var v : leaves) {
            grads.add(v.grad() == null ? new double[v.value().numel()] : v.grad().toDoubleArray());
            v.zeroGrad();
        }
        return new Gradients(out.value(), grads);
    }
}
