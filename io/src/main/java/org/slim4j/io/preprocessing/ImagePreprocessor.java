package org.slim4j.io.preprocessing;

import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

/**
 * One of TF-Slim's {@code preprocessing_fn(image, output_height, output_width, ...)}: turns one decoded
 * image into the network's input.
 *
 * <p>Implementations are immutable and thread-safe: input-pipeline workers share one instance and
 * call it concurrently, each with its own {@link SeededRandom} (so that a run's randomness depends on
 * its seed only, not on thread scheduling). Eval preprocessing draws nothing and accepts a null rng.
 *
 * <p>The input is a CPU image [height, width, channels], UINT8 (or FLOAT32 already in the range the
 * pipeline expects); it is neither closed nor retained. The result is a new FLOAT32 tensor
 * [outHeight, outWidth, channels] owned by the caller.
 */
public interface ImagePreprocessor {
    /**
     * @param boxes optional object boxes in the image as (ymin, xmin, ymax, xmax) quadruples in [0, 1]
     *     (TF-Slim's {@code bbox}); null or empty means the whole image. Only inception training uses them.
     */
    Tensor preprocess(Tensor image, int outHeight, int outWidth, SeededRandom rng, float[] boxes);

    default Tensor preprocess(Tensor image, int outHeight, int outWidth, SeededRandom rng) {
        return preprocess(image, outHeight, outWidth, rng, null);
    }

    /** The preprocessing module's name: inception, vgg, cifarnet or lenet. */
    String name();

    boolean isTraining();
}
