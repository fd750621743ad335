package org.slim4j.io.preprocessing;

import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Tensor;

/**
 * TF-Slim's vgg_preprocessing (used by VGG and ResNet). Output float32 [outHeight, outWidth, 3] in
 * pixel units (0–255) minus the ImageNet mean RGB (123.68, 116.78, 103.94); RGB order, not BGR.
 *
 * <p>Train: smallest side ~ uniform int in [256, 512]; aspect-preserving legacy-bilinear resize so the
 * smaller side equals it (new size = rint(dim · side / min(H, W)) in float32); random crop; random
 * left-right flip; mean subtraction. Eval: the same resize to 256, central crop (offset floor((dim −
 * out)/2)), mean subtraction.
 */
public final class VggPreprocessing implements ImagePreprocessor {
    public static final float R_MEAN = 123.68f;
    public static final float G_MEAN = 116.78f;
    public static final float B_MEAN = 103.94f;
    public static final int RESIZE_SIDE_MIN = 256;
    public static final int RESIZE_SIDE_MAX = 512;

    private final boolean training;
    private final int resizeSideMin;
    private final int resizeSideMax;

    public VggPreprocessing(boolean isTraining) {
        this(isTraining, RESIZE_SIDE_MIN, RESIZE_SIDE_MAX);
    }

    /** @param resizeSideMin the eval resize side, and the train lower bound; resizeSideMax the train upper bound */
    public VggPreprocessing(boolean isTraining, int resizeSideMin, int resizeSideMax) {
        if (resizeSideMin <= 0 || resizeSideMax < resizeSideMin) {
            throw new IllegalArgumentException("vgg: resize sides must satisfy 0 < min <= max, got [" + resizeSideMin + ", " + resizeSideMax + "]");
        }
        this.training = isTraining;
        this.resizeSideMin = resizeSideMin;
        this.resizeSideMax = resizeSideMax;
    }

    @Override
    public String name() {
        return "vgg";
    }

    @Override
    public boolean isTraining() {
        return training;
    }

    @Override
    public Tensor preprocess(Tensor image, int outHeight, int outWidth, SeededRandom rng, float[] boxes) {
        return training
                ? preprocessForTrain(image, outHeight, outWidth, resizeSideMin, resizeSideMax, rng)
                : preprocessForEval(image, outHeight, outWidth, resizeSideMin);
    }

    /**
     * TF-Slim's {@code _smallest_size_at_least}: {new height, new width} with the smaller side equal to
     * {@code side}; scale = side / width if height > width else side / height, all in float32, and the
     * sizes rounded half to even.
     */
    public static int[] smallestSizeAtLeast(int height, int width, int side) {
        float h = height;
        float w = width;
        float scale = h > w ? side / w : side / h;
        return new int[] {ImageOps.lrintf(h * scale), ImageOps.lrintf(w * scale)};
    }

    /** TF-Slim's {@code _aspect_preserving_resize}: legacy bilinear to {@link #smallestSizeAtLeast}; float32 out. */
    public static Tensor aspectPreservingResize(Tensor image, int smallestSide) {
        String op = "vgg aspectPreservingResize";
        ImageOps.checkImage(op, image);
        if (smallestSide <= 0) throw new IllegalArgumentException(op + ": smallest side " + smallestSide + " must be positive (image " + image.shape() + ")");
        int[] size = smallestSizeAtLeast(image.dim(0), image.dim(1), smallestSide);
        return ImageOps.resizeBilinear(image, size[0], size[1]);
    }

    /** TF-Slim's vgg {@code preprocess_for_train}. */
    public static Tensor preprocessForTrain(Tensor image, int outHeight, int outWidth, int resizeSideMin, int resizeSideMax,
            SeededRandom rng) {
        String op = "vgg train";
        check(op, image, outHeight, outWidth);
        if (rng == null) throw new IllegalArgumentException(op + ": training preprocessing needs a SeededRandom");
        if (resizeSideMin <= 0 || resizeSideMax < resizeSideMin) {
            throw new IllegalArgumentException(op + ": resize sides must satisfy 0 < min <= max, got [" + resizeSideMin + ", " + resizeSideMax + "]");
        }
        int side = resizeSideMin + rng.nextInt(resizeSideMax - resizeSideMin + 1);
        Tensor out;
        try (Tensor resized = aspectPreservingResize(image, side)) {
            checkCropFits(op, resized, outHeight, outWidth);
            int y = rng.nextInt(resized.dim(0) - outHeight + 1);
            int x = rng.nextInt(resized.dim(1) - outWidth + 1);
            out = ImageOps.crop(resized, y, x, outHeight, outWidth);
        }
        if (rng.nextFloat() < 0.5f) ImageOps.flipLeftRightInPlace(out.floatData(), out.offset(), outHeight, outWidth, 3);
        subtractMeans(out);
        return out;
    }

    /** TF-Slim's vgg {@code preprocess_for_eval}. */
    public static Tensor preprocessForEval(Tensor image, int outHeight, int outWidth, int resizeSide) {
        String op = "vgg eval";
        check(op, image, outHeight, outWidth);
        Tensor out;
        try (Tensor resized = aspectPreservingResize(image, resizeSide)) {
            checkCropFits(op, resized, outHeight, outWidth);
            out = ImageOps.crop(resized, (resized.dim(0) - outHeight) / 2, (resized.dim(1) - outWidth) / 2, outHeight, outWidth);
        }
        subtractMeans(out);
        return out;
    }

    private static void check(String op, Tensor image, int outHeight, int outWidth) {
        ImageOps.checkImage(op, image);
        ImageOps.checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        // _mean_image_subtraction: len(means) must match the number of channels.
        ImageOps.checkRgb(op, image);
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must be positive (image " + image.shape() + ")");
        }
    }

    private static void checkCropFits(String op, Tensor resized, int outHeight, int outWidth) {
        if (resized.dim(0) < outHeight || resized.dim(1) < outWidth) {
            throw new IllegalArgumentException(op + ": crop size " + outHeight + "x" + outWidth + " is greater than the resized image "
                    + resized.shape());
        }
    }

    /** Subtracts the mean RGB in place (float32 [H, W, 3]). */
    static void subtractMeans(Tensor image) {
        float[] a = image.floatData();
        int end = image.offset() + image.numel();
        for (int i = image.offset(); i < end; i += 3) {
            a[i] -= R_MEAN;
            a[i + 1] -= G_MEAN;
            a[i + 2] -= B_MEAN;
        }
    }
}
