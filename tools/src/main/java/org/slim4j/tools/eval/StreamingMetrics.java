package org.slim4j.tools.eval;

/**
 * TF-Slim's evaluation metrics, accumulated over batches: {@code streaming_accuracy(argmax(logits),
 * labels)} and {@code streaming_recall_at_k(logits, labels, k)}, the fraction of examples whose label
 * is among the k largest logits with tf.nn.in_top_k's rule (a label is in the top k when fewer than k
 * classes have a strictly larger logit, so ties straddling the boundary count as in; a non-finite
 * logit for the label never does).
 */
public final class StreamingMetrics {
    private final int k;
    private long count;
    private long correct;
    private long inTopK;

    public StreamingMetrics(int k) {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        this.k = k;
    }

    /** Adds a batch: {@code logits} row-major [labels.length, numClasses]. */
    public void add(float[] logits, int[] labels, int numClasses) {
        if (logits.length != labels.length * numClasses) {
            throw new IllegalArgumentException("logits have " + logits.length + " values, expected " + labels.length + " x " + numClasses);
        }
        for (int i = 0; i < labels.length; i++) {
            int base = i * numClasses;
            int argmax = 0;
            for (int c = 1; c < numClasses; c++) if (logits[base + c] > logits[base + argmax]) argmax = c;
            if (argmax == labels[i]) correct++;
            float target = logits[base + labels[i]];
            if (Float.isFinite(target)) {
                int larger = 0;
                for (int c = 0; c < numClasses; c++) if (logits[base + c] > target) larger++;
                if (larger < k) inTopK++;
            }
            count++;
        }
    }

    public long count() {
        return count;
    }

    /** Accuracy so far (0 before any example, as TF's streaming metric). */
    public double accuracy() {
        return count == 0 ? 0 : (double) correct / count;
    }

    /** Recall at k so far. */
    public double recallAtK() {
        return count == 0 ? 0 : (double) inTopK / count;
    }
}
