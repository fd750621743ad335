package org.slim4j.autograd.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.slim4j.autograd.Var;
import org.slim4j.autograd.ops.ElementwiseOps;
import org.slim4j.autograd.ops.ReduceOps;
import org.slim4j.tensor.Tensor;

/** Dynamic loss scaling: the scaled backward and the unscale give the plain gradients, and the scale backs off and grows. */
class LossScalerTest {
    private static Var param(float... v) {
        return Var.param(Tensor.of(v.clone(), v.length), "w");
    }

    /** loss = sum(c * w), so dloss/dw = c. */
    private static Var loss(Var w, float... c) {
        return ReduceOps.sum(ElementwiseOps.mul(w, Var.constant(Tensor.of(c, c.length))));
    }

    @Test
    void scaledBackwardThenUnscaleGivesThePlainGradientsExactly() {
        float[] c = {0.1f, -3e-6f, 7f, 1e-30f};
        Var plain = param(1, 2, 3, 4);
        loss(plain, c).backward();
        Var scaled = param(1, 2, 3, 4);
        LossScaler s = new LossScaler();
        Var l = loss(scaled, c);
        assertEquals(65536.0, s.scale());
        l.backward(s.scale());
        assertEquals(65536f * -3e-6f, scaled.grad().toFloatArray()[1], 1e-9f);
        assertTrue(s.unscale(List.of(scaled)));
        // A power-of-two scale and its inverse are exact in float.
        assertArrayEquals(plain.grad().toFloatArray(), scaled.grad().toFloatArray());
        assertEquals(65536.0, s.scale());
        assertEquals(0, s.skippedSteps());
    }

    @Test
    void overflowSkipsTheUpdateAndHalvesTheScaleAndGoodStepsDoubleIt() {
        LossScaler s = new LossScaler(1024, 3);
        Var w = param(1, 2);
        w.accumulateGrad(Tensor.of(new float[] {1f, Float.POSITIVE_INFINITY}, 2));
        assertFalse(s.unscale(List.of(w)));
        assertEquals(512.0, s.scale());
        assertEquals(1, s.skippedSteps());
        for (int i = 0; i < 2; i++) {
            w.zeroGrad();
            w.accumulateGrad(Tensor.of(new float[] {1f, 2f}, 2));
            assertTrue(s.unscale(List.of(w)));
            assertEquals(512.0, s.scale(), "after " + (i + 1) + " good steps");
        }
        w.zeroGrad();
        w.accumulateGrad(Tensor.of(new float[] {1f, Float.NaN}, 2));
        assertFalse(s.unscale(List.of(w)));  // a NaN resets the run of good steps
        assertEquals(256.0, s.scale());
        for (int i = 0; i < 3; i++) {
            w.zeroGrad();
            w.accumulateGrad(Tensor.of(new float[] {1f, 2f}, 2));
            assertTrue(s.unscale(List.of(w)));
        }
        assertEquals(512.0, s.scale(), "three good steps in a row double the scale");
        assertEquals(2, s.skippedSteps());
    }

    @Test
    void aScaleThatWouldFallBelowOneIsAnErrorNamingTheCause() {
        LossScaler s = new LossScaler(1, 2000);
        Var w = param(1);
        w.accumulateGrad(Tensor.of(new float[] {Float.NaN}, 1));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.unscale(List.of(w)));
        assertTrue(e.getMessage().contains("--precision=bf16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LossScaler(0.5, 10));
        LossScaler r = new LossScaler(1024, 10);
        r.restore(256, 9);
        assertEquals(256.0, r.scale());
        assertEquals(9, r.goodSteps());
        w.zeroGrad();
        w.accumulateGrad(Tensor.of(new float[] {2f}, 1));
        assertTrue(r.unscale(List.of(w)));
        assertEquals(512.0, r.scale(), "the restored run of good steps goes on");
        assertThrows(IllegalArgumentException.class, () -> r.restore(256, 10));
        assertThrows(IllegalArgumentException.class, () -> r.restore(Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> new LossScaler(1024, 0));
    }
}
