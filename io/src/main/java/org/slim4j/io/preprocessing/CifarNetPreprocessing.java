package org.slim4j.io.preprocessing;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

/**
 * TF-Slim's cifarnet_preprocessing. Pixels stay in 0–255 until the final per-image standardisation.
 * Works for any channel count (CIFAR's 3, MNIST's 1).
 *
 * <p>Train: cast to float; zero-pad 4 pixels on each side; random crop [outHeight, outWidth]; random
 * left-right flip; random brightness (delta uniform in [−63, 63)); random contrast (factor uniform
 * in [0.2, 1.8)); per-image standardisation. No clipping, as in TF-Slim.
 *
 * <p>Eval: cast to float; {@code resize_image_with_crop_or_pad(image, outWidth, outHeight)} (TF-Slim
 * passes the width as the target height, so the result is [outWidth, outHeight, C]; the same for the
 * square sizes nets use); per-image standardisation.
 */
public final class CifarNetPreprocessing implements ImagePreprocessor {
    public static final int PADDING = 4;
    static final float BRIGHTNESS_DELTA = 63f;
    static final float CONTRAST_LOWER = 0.2f;
    static final float CONTRAST_UPPER = 1.8f;

    private final boolean training;

    public CifarNetPreprocessing(boolean isTraining) {
        this.training = isTraining;
    }

    @Override
    public String name() {
        return "cifarnet";
    }

    @Override
    public boolean isTraining() {
        return training;
    }

    @Override
    public Tensor preprocess(Tensor image, int outHeight, int outWidth, SeededRandom rng, float[] boxes) {
        return training ? preprocessForTrain(image, outHeight, outWidth, PADDING, rng) : preprocessForEval(image, outHeight, outWidth);
    }

    /** TF-Slim's cifarnet {@code preprocess_for_train}. */
    public static Tensor preprocessForTrain(Tensor image, int outHeight, int outWidth, int padding, SeededRandom rng) {
        String op = "cifarnet train";
        check(op, image, outHeight, outWidth);
        if (rng == null) throw new IllegalArgumentException(op + ": training preprocessing needs a SeededRandom");
        if (padding < 0) throw new IllegalArgumentException(op + ": padding " + padding + " must be >= 0");
        int c = image.dim(2);
        int paddedH = image.dim(0) + 2 * padding;
        int paddedW = image.dim(1) + 2 * padding;
        if (paddedH < outHeight || paddedW < outWidth) {
            throw new IllegalArgumentException(op + ": crop size " + outHeight + "x" + outWidth + " is greater than the padded image ["
                    + paddedH + ", " + paddedW + ", " + c + "] (image " + image.shape() + ")");
        }
        // tf.random_crop: offsets uniform in [0, padded - out].
        int y = rng.nextInt(paddedH - outHeight + 1);
        int x = rng.nextInt(paddedW - outWidth + 1);
        Tensor out = cropOfPadded(image, padding, y, x, outHeight, outWidth);
        float[] a = out.floatData();
        int n = out.numel();
        if (rng.nextFloat() < 0.5f) ImageOps.flipLeftRightInPlace(a, 0, outHeight, outWidth, c);
        ImageOps.adjustBrightnessInPlace(a, 0, n, ImageOps.uniform(rng, -BRIGHTNESS_DELTA, BRIGHTNESS_DELTA));
        ImageOps.adjustContrastInPlace(a, 0, outHeight * outWidth, c, ImageOps.uniform(rng, CONTRAST_LOWER, CONTRAST_UPPER));
        ImageOps.perImageStandardizationInPlace(a, 0, n);
        return out;
    }

    /**
     * float32 window (y, x, h, w) of the image zero-padded by {@code pad} on every side, without
     * building the padded image.
     */
    private static Tensor cropOfPadded(Tensor image, int pad, int y0, int x0, int h, int w) {
        int ih = image.dim(0);
        int iw = image.dim(1);
        int c = image.dim(2);
        Tensor out = Tensor.zeros(DType.FLOAT32, org.slim4j.tensor.Shape.of(h, w, c));
        float[] y = out.floatData();
        boolean u8 = image.dtype() == DType.UINT8;
        byte[] bytes = u8 ? image.byteData() : null;
        float[] floats = u8 ? null : image.floatData();
        int off = image.offset();
        for (int r = 0; r < h; r++) {
            int sy = y0 + r - pad;
            if (sy < 0 || sy >= ih) continue;
            for (int col = 0; col < w; col++) {
                int sx = x0 + col - pad;
                if (sx < 0 || sx >= iw) continue;
                int src = off + (sy * iw + sx) * c;
                int dst = (r * w + col) * c;
                for (int ch = 0; ch < c; ch++) y[dst + ch] = u8 ? bytes[src + ch] & 0xff : floats[src + ch];
            }
        }
        return out;
    }

    /** TF-Slim's cifarnet {@code preprocess_for_eval}: result [outWidth, outHeight, C] (see class comment). */
    public static Tensor preprocessForEval(Tensor image, int outHeight, int outWidth) {
        String op = "cifarnet eval";
        check(op, image, outHeight, outWidth);
        Tensor out;
        try (Tensor f = ImageOps.toFloat(image)) {
            out = ImageOps.resizeWithCropOrPad(f, outWidth, outHeight);
        }
        ImageOps.perImageStandardizationInPlace(out.floatData(), out.offset(), out.numel());
        return out;
    }

    private static void check(String op, Tensor image, int outHeight, int outWidth) {
        ImageOps.checkImage(op, image);
        ImageOps.checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must be positive (image " + image.shape() + ")");
        }
    }
}
