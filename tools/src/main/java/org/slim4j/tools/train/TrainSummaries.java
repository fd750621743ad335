package org.slim4j.tools.train;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slim4j.autograd.Var;
import org.slim4j.io.events.EventFileWriter;
import org.slim4j.layers.Variable;
import org.slim4j.tensor.Tensor;

/**
 * The TensorBoard summaries train_image_classifier writes to train_dir, under TF-Slim's tags:
 * scalars {@code total_loss}, {@code learning_rate}, {@code losses/<loss op>} for each loss of the
 * first clone, {@code Losses/[clone_i/]clone_loss}, {@code Losses/regularization_loss}; for every end
 * point of the first clone the histogram {@code activations/<end point>} and the scalar
 * {@code sparsity/<end point>} (fraction of zeros); a histogram per model variable (tagged with its
 * name); and the first three input images ({@code input_images/image/i}).
 */
final class TrainSummaries implements Closeable {
    static final int MAX_IMAGES = 3;

    private final EventFileWriter writer;

    TrainSummaries(Path dir) throws IOException {
        writer = EventFileWriter.create(dir);
    }

    Path path() {
        return writer.path();
    }

    void write(long step, Map<String, Double> scalars, Map<String, Var> endPoints, List<Variable> modelVariables, Tensor images)
            throws IOException {
        for (Map.Entry<String, Double> s : scalars.entrySet()) writer.scalar(step, s.getKey(), s.getValue());
        for (Map.Entry<String, Var> e : endPoints.entrySet()) {
            float[] v = e.getValue().value().toFloatArray();
            writer.histogram(step, "activations/" + e.getKey(), v);
            writer.scalar(step, "sparsity/" + e.getKey(), zeroFraction(v));
        }
        for (Variable v : modelVariables) writer.histogram(step, v.name(), v.value().toFloatArray());
        if (images != null) {
            int n = Math.min(MAX_IMAGES, images.dim(0));
            for (int i = 0; i < n; i++) {
                try (Tensor one = images.slice0(i, i + 1); Tensor img = toUint8(one)) {
                    writer.image(step, "input_images/image/" + i, img);
                }
            }
        }
        writer.flush();
    }

    /** tf.nn.zero_fraction. */
    static double zeroFraction(float[] v) {
        if (v.length == 0) return 0;
        long zeros = 0;
        for (float x : v) if (x == 0f) zeros++;
        return (double) zeros / v.length;
    }

    /**
     * A float image [1, H, W, C] as uint8 [H, W, C] the way TF's image summary normalises float
     * images: all non-negative values are scaled so the largest is 255; otherwise 0 maps to 128 and
     * the largest magnitude to the edge of the range.
     */
    static Tensor toUint8(Tensor image) {
        float[] v = image.toFloatArray();
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float x : v) {
            if (!Float.isFinite(x)) continue;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        double scale;
        double offset;
        if (min >= 0) {
            scale = max > 0 ? 255.0 / max : 0;
            offset = 0;
        } else {
            double m = Math.max(-min, max);
            scale = m > 0 ? 127.0 / m : 0;
            offset = 128;
        }
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            double p = Float.isFinite(v[i]) ? v[i] * scale + offset : 0;
            b[i] = (byte) Math.max(0, Math.min(255, Math.round(p)));
        }
        int[] d = image.dims();
        return Tensor.ofBytes(b, d[1], d[2], d[3]);
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }
}
