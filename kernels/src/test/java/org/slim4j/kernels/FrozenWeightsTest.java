package org.slim4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/** The registry of frozen weights: what it keeps, for how long, and when it prepares again. */
class FrozenWeightsTest {
    private final AtomicInteger prepares = new AtomicInteger();

    /** A form that counts how often it is made: the weight's values doubled. */
    private Supplier<float[]> doubled(Tensor w) {
        return () -> {
            prepares.incrementAndGet();
            float[] v = w.toFloatArray();
            for (int i = 0; i < v.length; i++) v[i] *= 2;
            return v;
        };
    }

    @AfterEach
    void nothingStaysFrozen() {
        assertEquals(0, FrozenWeights.preparedFloats(), "prepared forms left after every scope closed");
    }

    @Test
    void aFrozenWeightsFormIsPreparedOnceAndDroppedWhenTheScopeCloses() {
        try (Tensor w = Tensor.randomUniform(1, -1, 1, 4, 5)) {
            assertNull(FrozenWeights.prepared(w.floatData(), w.offset(), "x2", doubled(w)), "not frozen: the caller prepares");
            assertEquals(0, prepares.get());
            float[] first;
            try (FrozenWeights frozen = FrozenWeights.freeze(List.of(w))) {
                assertTrue(FrozenWeights.isFrozen(w.floatData(), w.offset()));
                first = FrozenWeights.prepared(w.floatData(), w.offset(), "x2", doubled(w));
                assertSame(first, FrozenWeights.prepared(w.floatData(), w.offset(), "x2", doubled(w)), "kept");
                assertEquals(1, prepares.get());
                assertEquals(2 * w.toFloatArray()[7], first[7]);
                // Another key is another form.
                assertNotSame(first, FrozenWeights.prepared(w.floatData(), w.offset(), "x2 again", doubled(w)));
                assertEquals(2, prepares.get());
                assertEquals(40, FrozenWeights.preparedFloats());
            }
            assertFalse(FrozenWeights.isFrozen(w.floatData(), w.offset()));
            assertNull(FrozenWeights.prepared(w.floatData(), w.offset(), "x2", doubled(w)));
        }
    }

    @Test
    void overlappingScopesKeepTheFormUntilTheLastCloses() {
        try (Tensor w = Tensor.randomUniform(2, -1, 1, 8)) {
            FrozenWeights outer = FrozenWeights.freeze(List.of(w));
            float[] form;
            try (FrozenWeights inner = FrozenWeights.freeze(List.of(w))) {
                form = FrozenWeights.prepared(w.floatData(), w.offset(), "x2", doubled(w));
            }
            assertSame(form, FrozenWeights.prepared(w.floatData(), w.offset(), "x2", doubled(w)), "still frozen by the outer scope");
            outer.close();
            outer.close();  // closing twice is harmless
            assertFalse(FrozenWeights.isFrozen(w.floatData(), w.offset()));
        }
    }

    @Test
    void aWeightChangedWhileFrozenIsPreparedAgain() {
        try (Tensor w = Tensor.randomUniform(3, -1, 1, 300);
             FrozenWeights frozen = FrozenWeights.freeze(List.of(w))) {
            float[] before = FrozenWeights.prepared(w.floatData(), w.offset(), "x2", doubled(w));
            long refreshed = FrozenWeights.counters()[1];
            // A checkpoint restored into the frozen tensor: every value changes.
            try (Tensor other = Tensor.randomUniform(4, -1, 1, 300)) {
                w.copyFrom(other);
            }
            float[] after = FrozenWeights.prepared(w.floatData(), w.offset(), "x2", doubled(w));
            assertNotSame(before, after);
            assertEquals(2 * w.toFloatArray()[123], after[123]);
            assertEquals(refreshed + 1, FrozenWeights.counters()[1]);
        }
    }

    @Test
    void onlyTheFrozenRegionOfASharedArrayIsFrozen() {
        try (Tensor whole = Tensor.randomUniform(5, -1, 1, 10, 6); Tensor rows = whole.slice0(2, 5)) {
            try (FrozenWeights frozen = FrozenWeights.freeze(List.of(rows))) {
                assertTrue(FrozenWeights.isFrozen(whole.floatData(), rows.offset()));
                assertFalse(FrozenWeights.isFrozen(whole.floatData(), whole.offset()), "the array's other weights are not frozen");
            }
        }
    }

    @Test
    void float64TensorsAreNotFrozen() {
        try (Tensor d = Tensor.zeros(DType.FLOAT64, Shape.of(3));
             FrozenWeights frozen = FrozenWeights.freeze(List.of(d))) {
            assertEquals(0, FrozenWeights.preparedFloats());
            assertArrayEquals(new double[3], d.toDoubleArray());
        }
    }
}
