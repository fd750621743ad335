package org.slim4j.io.pipeline;

import org.slim4j.tensor.Tensor;

/**
 * One batch from a {@link DatasetDataProvider}: {@code images} FLOAT32 [B, H, W, C] (NHWC) and
 * {@code labels} INT32 [B] (labels_offset already subtracted). The caller owns both tensors and
 * closes them (closing the batch closes both).
 *
 * @param index   0-based number of this batch in the run
 */
public record Batch(Tensor images, Tensor labels, long index) implements AutoCloseable {
    public int size() {
        return labels.dim(0);
    }

    @Override
    public void close() {
        images.close();
        labels.close();
    }
}
