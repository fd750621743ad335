package org.slim4j.io.preprocessing;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

/**
 * TF-Slim's lenet_preprocessing, the same for training and eval: cast to float;
 * {@code resize_image_with_crop_or_pad(image, outWidth, outHeight)} (TF-Slim passes the width as the
 * target height, so the result is [outWidth, outHeight, C]); (x − 128) / 128. Any channel count.
 */
public final class LeNetPreprocessing implements ImagePreprocessor {
    private final boolean training;

    public LeNetPreprocessing(boolean isTraining) {
        this.training = isTraining;
    }

    @Override
    public String name() {
        return "lenet";
    }

    @Override
    public boolean isTraining() {
        return training;
    }

    @Override
    public Tensor preprocess(Tensor image, int outHeight, int outWidth, SeededRandom rng, float[] boxes) {
        return preprocessImage(image, outHeight, outWidth);
    }

    /** TF-Slim's lenet {@code preprocess_image}. */
    public static Tensor preprocessImage(Tensor image, int outHeight, int outWidth) {
        String op = "lenet";
        ImageOps.checkImage(op, image);
        ImageOps.checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must be positive (image " + image.shape() + ")");
        }
        Tensor out;
        try (Tensor f = ImageOps.toFloat(image)) {
            out = ImageOps.resizeWithCropOrPad(f, outWidth, outHeight);
        }
        float[] a = out.floatData();
        int end = out.offset() + out.numel();
        // tf.subtract then tf.div, both in float32.
        for (int i = out.offset(); i < end; i++) a[i] = (a[i] - 128.0f) / 128.0f;
        return out;
    }
}
