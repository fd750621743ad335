package org.slim4j.io.preprocessing;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

/**
 * TF-Slim's inception_preprocessing (used by the Inception, Inception-ResNet, MobileNet and NASNet
 * families). Output float32 [outHeight, outWidth, 3] in [-1, 1].
 *
 * <p>Eval: convert to float [0, 1] (× float32(1/255)), {@code central_crop(0.875)}, legacy bilinear
 * resize, (x − 0.5) · 2. It reproduces TensorFlow's intermediate tensors (see {@link #evalSteps}).
 *
 * <p>Train: {@code sample_distorted_bounding_box} crop (min_object_covered 0.1, aspect ratio
 * [0.75, 1.33], area [0.05, 1], 100 attempts, whole image as fallback), resize to the output size
 * (bilinear in fast mode, else a random one of TF's four methods), random left-right flip,
 * {@code distort_color} (fast mode: ordering 0 — brightness ±32/255 then saturation [0.5, 1.5]; full
 * mode: one of four orderings that add hue ±0.2 and contrast [0.5, 1.5]), clip to [0, 1], scale to [-1, 1].
 */
public final class InceptionPreprocessing implements ImagePreprocessor {
    public static final double DEFAULT_CENTRAL_FRACTION = 0.875;
    public static final float MIN_OBJECT_COVERED = 0.1f;
    private static final float[] ASPECT_RATIO_RANGE = {0.75f, 1.33f};
    private static final float[] AREA_RANGE = {0.05f, 1.0f};
    public static final int MAX_ATTEMPTS = 100;
    /** 32/255 as the float32 TF's random_brightness receives. */
    static final float BRIGHTNESS_DELTA = (float) (32. / 255.);
    static final float SATURATION_LOWER = 0.5f;
    static final float SATURATION_UPPER = 1.5f;
    static final float HUE_DELTA = 0.2f;
    static final float CONTRAST_LOWER = 0.5f;
    static final float CONTRAST_UPPER = 1.5f;

    private final boolean training;
    private final boolean fastMode;
    private final boolean randomCrop;
    private final double centralFraction;

    /** TF-Slim's defaults: fast_mode, random crop, central fraction 0.875. */
    public InceptionPreprocessing(boolean isTraining) {
        this(isTraining, true, true, DEFAULT_CENTRAL_FRACTION);
    }

    /**
     * @param centralFraction eval only: the central crop fraction in (0, 1], or 0 for no crop
     */
    public InceptionPreprocessing(boolean isTraining, boolean fastMode, boolean randomCrop, double centralFraction) {
        if (!(centralFraction >= 0 && centralFraction <= 1)) {
            throw new IllegalArgumentException("inception: central_fraction must be in [0, 1] (0 = no crop), got " + centralFraction);
        }
        this.training = isTraining;
        this.fastMode = fastMode;
        this.randomCrop = randomCrop;
        this.centralFraction = centralFraction;
    }

    @Override
    public String name() {
        return "inception";
    }

    @Override
    public boolean isTraining() {
        return training;
    }

    public boolean fastMode() {
        return fastMode;
    }

    @Override
    public Tensor preprocess(Tensor image, int outHeight, int outWidth, SeededRandom rng, float[] boxes) {
        return training
                ? preprocessForTrain(image, outHeight, outWidth, boxes, fastMode, randomCrop, rng)
                : preprocessForEval(image, outHeight, outWidth, centralFraction);
    }

    // ---- eval ------------------------------------------------------------------------------------------

    /** The tensors TF's preprocess_for_eval produces on the way; close() closes all four. */
    public record EvalSteps(Tensor converted, Tensor cropped, Tensor resized, Tensor output) implements AutoCloseable {
        @Override
        public void close() {
            converted.close();
            cropped.close();
            resized.close();
            output.close();
        }
    }

    /**
     * TF-Slim's {@code preprocess_for_eval(image, outHeight, outWidth, central_fraction)} keeping the
     * intermediates: converted (float [0, 1]), cropped (central crop; a copy of converted when
     * centralFraction is 0 or 1), resized (legacy bilinear; a copy of cropped when outHeight or
     * outWidth is 0, as TF skips the resize then) and output ((x − 0.5) · 2).
     */
    public static EvalSteps evalSteps(Tensor image, int outHeight, int outWidth, double centralFraction) {
        String op = "inception eval";
        ImageOps.checkImage(op, image);
        ImageOps.checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        if (outHeight < 0 || outWidth < 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must not be negative (image " + image.shape() + ")");
        }
        Tensor converted = ImageOps.convertImageDtype(image);
        Tensor cropped = null;
        Tensor resized = null;
        try {
            cropped = centralFraction > 0 ? ImageOps.centralCrop(converted, centralFraction) : converted.copy();
            resized = outHeight > 0 && outWidth > 0 ? ImageOps.resizeBilinear(cropped, outHeight, outWidth) : cropped.copy();
            Tensor output = resized.copy();
            ImageOps.subMulInPlace(output.floatData(), output.offset(), output.numel(), 0.5f, 2.0f);
            return new EvalSteps(converted, cropped, resized, output);
        } catch (RuntimeException e) {
            converted.close();
            if (cropped != null) cropped.close();
            if (resized != null) resized.close();
            throw e;
        }
    }

    /** TF-Slim's {@code preprocess_for_eval}; float32 [outHeight, outWidth, C] in [-1, 1]. */
    public static Tensor preprocessForEval(Tensor image, int outHeight, int outWidth, double centralFraction) {
        String op = "inception eval";
        ImageOps.checkImage(op, image);
        ImageOps.checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        if (outHeight < 0 || outWidth < 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must not be negative (image " + image.shape() + ")");
        }
        // Crop before converting: the same pixels, without converting the border that is thrown away.
        ImageOps.CropWindow win = centralFraction > 0
                ? ImageOps.centralCropWindow(image.dim(0), image.dim(1), centralFraction)
                : new ImageOps.CropWindow(0, 0, image.dim(0), image.dim(1));
        Tensor out;
        try (Tensor cropped = ImageOps.crop(image, win);
             Tensor converted = ImageOps.convertImageDtype(cropped)) {
            out = outHeight > 0 && outWidth > 0 ? ImageOps.resizeBilinear(converted, outHeight, outWidth) : converted.copy();
        }
        ImageOps.subMulInPlace(out.floatData(), out.offset(), out.numel(), 0.5f, 2.0f);
        return out;
    }

    // ---- train -----------------------------------------------------------------------------------------

    /** TF-Slim's {@code preprocess_for_train}; float32 [outHeight, outWidth, 3] in [-1, 1]. */
    public static Tensor preprocessForTrain(Tensor image, int outHeight, int outWidth, float[] boxes, boolean fastMode,
            boolean randomCrop, SeededRandom rng) {
        String op = "inception train";
        ImageOps.checkImage(op, image);
        ImageOps.checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        ImageOps.checkRgb(op, image);
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must be positive (image " + image.shape() + ")");
        }
        if (rng == null) throw new IllegalArgumentException(op + ": training preprocessing needs a SeededRandom");
        ImageOps.CropWindow win = randomCrop
                ? distortedBoundingBox(image.dim(0), image.dim(1), boxes, rng)
                : new ImageOps.CropWindow(0, 0, image.dim(0), image.dim(1));
        ResizeMethod method = fastMode ? ResizeMethod.BILINEAR : ResizeMethod.values()[rng.nextInt(4)];
        Tensor out;
        try (Tensor cropped = ImageOps.crop(image, win);
             Tensor converted = ImageOps.convertImageDtype(cropped)) {
            out = ImageOps.resize(converted, outHeight, outWidth, method);
        }
        float[] a = out.floatData();
        int off = out.offset();
        if (rng.nextFloat() < 0.5f) ImageOps.flipLeftRightInPlace(a, off, outHeight, outWidth, 3);
        int ordering = fastMode ? 0 : rng.nextInt(4);
        distortColorInPlace(a, off, outHeight * outWidth, ordering, fastMode, rng);
        ImageOps.subMulInPlace(a, off, out.numel(), 0.5f, 2.0f);
        return out;
    }

    /** inception's distorted_bounding_box_crop window for an image of height × width. */
    public static ImageOps.CropWindow distortedBoundingBox(int height, int width, float[] boxes, SeededRandom rng) {
        return ImageOps.sampleDistortedBoundingBox(height, width, boxes, MIN_OBJECT_COVERED, ASPECT_RATIO_RANGE, AREA_RANGE,
                MAX_ATTEMPTS, true, rng);
    }

    /**
     * TF-Slim's {@code distort_color(image, ordering, fast_mode)} on a float32 RGB image in [0, 1];
     * returns a new tensor clipped to [0, 1].
     */
    public static Tensor distortColor(Tensor image, int ordering, boolean fastMode, SeededRandom rng) {
        String op = "distortColor";
        ImageOps.checkImage(op, image);
        ImageOps.checkDtype(op, image, DType.FLOAT32);
        ImageOps.checkRgb(op, image);
        if (rng == null) throw new IllegalArgumentException(op + ": rng is null");
        Tensor out = image.copy();
        try {
            distortColorInPlace(out.floatData(), 0, image.dim(0) * image.dim(1), ordering, fastMode, rng);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    static void distortColorInPlace(float[] a, int off, int pixels, int ordering, boolean fastMode, SeededRandom rng) {
        if (ordering < 0 || ordering > 3) throw new IllegalArgumentException("distortColor: color_ordering must be in [0, 3], got " + ordering);
        int n = 3 * pixels;
        if (fastMode) {
            if (ordering == 0) {
                brightness(a, off, n, rng);
                saturation(a, off, pixels, rng);
            } else {
                saturation(a, off, pixels, rng);
                brightness(a, off, n, rng);
            }
        } else {
            switch (ordering) {
                case 0 -> {
                    brightness(a, off, n, rng);
                    saturation(a, off, pixels, rng);
                    hue(a, off, pixels, rng);
                    contrast(a, off, pixels, rng);
                }
                case 1 -> {
                    saturation(a, off, pixels, rng);
                    brightness(a, off, n, rng);
                    contrast(a, off, pixels, rng);
                    hue(a, off, pixels, rng);
                }
                case 2 -> {
                    contrast(a, off, pixels, rng);
                    hue(a, off, pixels, rng);
                    brightness(a, off, n, rng);
                    saturation(a, off, pixels, rng);
                }
                default -> {
                    hue(a, off, pixels, rng);
                    saturation(a, off, pixels, rng);
                    contrast(a, off, pixels, rng);
                    brightness(a, off, n, rng);
                }
            }
        }
        // The random_* ops do not clamp.
        ImageOps.clipInPlace(a, off, n, 0f, 1f);
    }

    private static void brightness(float[] a, int off, int n, SeededRandom rng) {
        ImageOps.adjustBrightnessInPlace(a, off, n, ImageOps.uniform(rng, -BRIGHTNESS_DELTA, BRIGHTNESS_DELTA));
    }

    private static void saturation(float[] a, int off, int pixels, SeededRandom rng) {
        ImageOps.adjustSaturationInPlace(a, off, pixels, ImageOps.uniform(rng, SATURATION_LOWER, SATURATION_UPPER));
    }

    private static void hue(float[] a, int off, int pixels, SeededRandom rng) {
        ImageOps.adjustHueInPlace(a, off, pixels, ImageOps.uniform(rng, -HUE_DELTA, HUE_DELTA));
    }

    private static void contrast(float[] a, int off, int pixels, SeededRandom rng) {
        ImageOps.adjustContrastInPlace(a, off, pixels, 3, ImageOps.uniform(rng, CONTRAST_LOWER, CONTRAST_UPPER));
    }
}
