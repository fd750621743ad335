package org.slim4j.tools.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Accuracy and Recall_5 on hand-made logits, including in_top_k's tie rule. */
class StreamingMetricsTest {
    @Test
    void accuracyAndRecallAtFiveOnAKnownCase() {
        StreamingMetrics m = new StreamingMetrics(5);
        // 7 classes; rows: label is argmax / 2nd / 6th / tied for 5th / last.
        float[] logits = {
            9, 1, 2, 3, 4, 5, 6,      // label 0: argmax            -> correct, top5
            1, 9, 8, 2, 2, 2, 2,      // label 2: second largest    -> wrong, top5
            7, 6, 5, 4, 3, 2, 1,      // label 5: sixth largest     -> wrong, not top5
            5, 5, 5, 5, 5, 1, 0,      // label 4: tied for the top  -> argmax is 0 (first), top5
        };
        m.add(logits, new int[] {0, 2, 5, 4}, 7);
        assertEquals(4, m.count());
        assertEquals(0.25, m.accuracy(), 1e-12);
        assertEquals(0.75, m.recallAtK(), 1e-12);
        // A second batch accumulates: label among six equal logits counts as in the top 5 (in_top_k ties).
        m.add(new float[] {3, 3, 3, 3, 3, 3, 0}, new int[] {5}, 7);
        assertEquals(0.2, m.accuracy(), 1e-12);
        assertEquals(0.8, m.recallAtK(), 1e-12);
        m.add(new float[] {Float.NaN, 0, 0, 0, 0, 0, 0}, new int[] {0}, 7);
        assertEquals(4.0 / 6, m.recallAtK(), 1e-12, "a NaN logit for the label is never in the top k");
    }

    @Test
    void emptyIsZeroAndShapesAreChecked() {
        StreamingMetrics m = new StreamingMetrics(5);
        assertEquals(0, m.accuracy());
        assertThrows(IllegalArgumentException.class, () -> m.add(new float[5], new int[] {0, 1}, 3));
        assertThrows(IllegalArgumentException.class, () -> new StreamingMetrics(0));
    }
}
