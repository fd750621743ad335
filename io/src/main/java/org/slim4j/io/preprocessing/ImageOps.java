package org.slim4j.io.preprocessing;

import java.util.Arrays;
import java.util.StringJoiner;
import org.slim4j.kernels.ResizeKernels;
import org.slim4j.kernels.ResizeMode;
import org.slim4j.tensor.Backends;
import org.slim4j.tensor.CpuDevice;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.SeededRandom;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TensorFlow's single-image ops ({@code tf.image.*}, {@code tf.slice}, {@code tf.pad}) that TF-Slim's
 * preprocessing uses, on one CPU image laid out [height, width, channels] (HWC, row-major).
 *
 * <p>Geometry ops (crop, pad, flip) keep the dtype (UINT8 or FLOAT32). Colour ops take FLOAT32 and
 * reproduce TF's float32 CPU kernels, including their order of operations, so eval pipelines match
 * TF to rounding. Every public op returns a new tensor that the caller closes and never closes or
 * retains its input. The {@code ...InPlace} variants are for pipelines that own their buffer.
 *
 * <p>Work per image is single-threaded on purpose: the input pipeline runs one image per worker
 * thread, so nesting a parallel loop here would only add contention (bilinear resizing goes through
 * the CPU {@link ResizeKernels}, which parallelises large images itself).
 */
public final class ImageOps {
    /** float32(1/255): tf.image.convert_image_dtype multiplies uint8 pixels by it (it does not divide). */
    public static final float UINT8_TO_UNIT = (float) (1.0 / 255.0);

    private ImageOps() {
    }

    /** A crop window in pixels, as {@code tf.slice(image, [offsetY, offsetX, 0], [height, width, -1])}. */
    public record CropWindow(int offsetY, int offsetX, int height, int width) {
        public int area() {
            return height * width;
        }
    }

    // ---- checks ------------------------------------------------------------------------------------

    static void checkImage(String op, Tensor image) {
        if (image == null) throw new IllegalArgumentException(op + ": image is null");
        if (image.rank() != 3) {
            throw new IllegalArgumentException(op + ": image must be [height, width, channels], got shape " + image.shape());
        }
        if (image.dim(0) <= 0 || image.dim(1) <= 0 || image.dim(2) <= 0) {
            throw new IllegalArgumentException(op + ": image " + image.shape() + " has no pixels");
        }
    }

    static void checkDtype(String op, Tensor image, DType... allowed) {
        for (DType d : allowed) {
            if (image.dtype() == d) return;
        }
        StringJoiner j = new StringJoiner(" or ");
        for (DType d : allowed) j.add(d.tfName());
        throw new IllegalArgumentException(op + ": image dtype " + image.dtype().tfName() + " is not supported (" + j
                + "), image shape " + image.shape());
    }

    static void checkRgb(String op, Tensor image) {
        if (image.dim(2) != 3) {
            throw new IllegalArgumentException(op + ": image must have 3 (RGB) channels, got shape " + image.shape());
        }
    }

    private static void checkFloatImage(String op, Tensor image) {
        checkImage(op, image);
        checkDtype(op, image, DType.FLOAT32);
    }

    // ---- dtype conversion --------------------------------------------------------------------------

    /**
     * {@code tf.image.convert_image_dtype(image, tf.float32)}: uint8 → float32 in [0, 1] as
     * {@code float(x) * float32(1/255)}; a float32 image is copied unchanged.
     */
    public static Tensor convertImageDtype(Tensor image) {
        return toFloat("convertImageDtype", image, UINT8_TO_UNIT);
    }

    /** {@code tf.to_float}: uint8 → float32 with the same values (0..255); float32 is copied. */
    public static Tensor toFloat(Tensor image) {
        return toFloat("toFloat", image, 1f);
    }

    private static Tensor toFloat(String op, Tensor image, float scale) {
        checkImage(op, image);
        checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        if (image.dtype() == DType.FLOAT32) return image.copy();
        Tensor out = Tensor.zeros(DType.FLOAT32, image.shape());
        byte[] a = image.byteData();
        int off = image.offset();
        float[] y = out.floatData();
        if (scale == 1f) {
            for (int i = 0; i < y.length; i++) y[i] = a[off + i] & 0xff;
        } else {
            for (int i = 0; i < y.length; i++) y[i] = (a[off + i] & 0xff) * scale;
        }
        return out;
    }

    // ---- geometry ----------------------------------------------------------------------------------

    /** {@code tf.slice(image, [offsetY, offsetX, 0], [height, width, -1])}; uint8 or float32, same dtype out. */
    public static Tensor crop(Tensor image, int offsetY, int offsetX, int height, int width) {
        String op = "crop";
        checkImage(op, image);
        checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        int h = image.dim(0);
        int w = image.dim(1);
        int c = image.dim(2);
        if (offsetY < 0 || offsetX < 0 || height <= 0 || width <= 0 || offsetY + height > h || offsetX + width > w) {
            throw new IllegalArgumentException(op + ": window (offset " + offsetY + ", " + offsetX + ", size " + height + "x" + width
                    + ") does not fit in image " + image.shape());
        }
        Tensor out = Tensor.zeros(image.dtype(), Shape.of(height, width, c));
        Object src = backing(image);
        Object dst = backing(out);
        int row = width * c;
        for (int y = 0; y < height; y++) {
            System.arraycopy(src, image.offset() + ((offsetY + y) * w + offsetX) * c, dst, y * row, row);
        }
        return out;
    }

    public static Tensor crop(Tensor image, CropWindow window) {
        return crop(image, window.offsetY(), window.offsetX(), window.height(), window.width());
    }

    /**
     * The window of {@code tf.image.central_crop(image, fraction)}: start = int((dim − dim·fraction)/2)
     * computed in float64, size = dim − 2·start; fraction 1 is the whole image.
     */
    public static CropWindow centralCropWindow(int height, int width, double fraction) {
        if (!(fraction > 0.0 && fraction <= 1.0)) {
            throw new IllegalArgumentException("centralCrop: central_fraction must be within (0, 1], got " + fraction);
        }
        if (fraction == 1.0) return new CropWindow(0, 0, height, width);
        int y = (int) ((height - height * fraction) / 2);
        int x = (int) ((width - width * fraction) / 2);
        return new CropWindow(y, x, height - 2 * y, width - 2 * x);
    }

    /** {@code tf.image.central_crop(image, fraction)}. */
    public static Tensor centralCrop(Tensor image, double fraction) {
        checkImage("centralCrop", image);
        return crop(image, centralCropWindow(image.dim(0), image.dim(1), fraction));
    }

    /**
     * {@code tf.image.pad_to_bounding_box}: places the image at (offsetY, offsetX) in a zero image of
     * targetHeight × targetWidth.
     */
    public static Tensor padToBoundingBox(Tensor image, int offsetY, int offsetX, int targetHeight, int targetWidth) {
        String op = "padToBoundingBox";
        checkImage(op, image);
        checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        int h = image.dim(0);
        int w = image.dim(1);
        int c = image.dim(2);
        if (offsetY < 0 || offsetX < 0 || targetHeight < offsetY + h || targetWidth < offsetX + w) {
            throw new IllegalArgumentException(op + ": image " + image.shape() + " at offset (" + offsetY + ", " + offsetX
                    + ") does not fit in the target " + targetHeight + "x" + targetWidth);
        }
        Tensor out = Tensor.zeros(image.dtype(), Shape.of(targetHeight, targetWidth, c));
        Object src = backing(image);
        Object dst = backing(out);
        int row = w * c;
        for (int y = 0; y < h; y++) {
            System.arraycopy(src, image.offset() + y * row, dst, ((offsetY + y) * targetWidth + offsetX) * c, row);
        }
        return out;
    }

    /** Zero-pads {@code pad} pixels on each side: {@code tf.pad(image, [[p, p], [p, p], [0, 0]])}. */
    public static Tensor pad(Tensor image, int pad) {
        checkImage("pad", image);
        if (pad < 0) throw new IllegalArgumentException("pad: padding " + pad + " must be >= 0 (image " + image.shape() + ")");
        return padToBoundingBox(image, pad, pad, image.dim(0) + 2 * pad, image.dim(1) + 2 * pad);
    }

    /**
     * {@code tf.image.resize_image_with_crop_or_pad(image, targetHeight, targetWidth)}: centrally
     * crops each too-large dimension (offset floor((in − target)/2)) and centrally zero-pads each
     * too-small one (offset floor((target − in)/2)).
     */
    public static Tensor resizeWithCropOrPad(Tensor image, int targetHeight, int targetWidth) {
        String op = "resizeWithCropOrPad";
        checkImage(op, image);
        checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        if (targetHeight <= 0 || targetWidth <= 0) {
            throw new IllegalArgumentException(op + ": target size " + targetHeight + "x" + targetWidth + " must be positive (image "
                    + image.shape() + ")");
        }
        int h = image.dim(0);
        int w = image.dim(1);
        int cropY = Math.max((h - targetHeight) / 2, 0);
        int cropX = Math.max((w - targetWidth) / 2, 0);
        int padY = Math.max((targetHeight - h) / 2, 0);
        int padX = Math.max((targetWidth - w) / 2, 0);
        try (Tensor cropped = crop(image, cropY, cropX, Math.min(targetHeight, h), Math.min(targetWidth, w))) {
            return padToBoundingBox(cropped, padY, padX, targetHeight, targetWidth);
        }
    }

    /** {@code tf.image.flip_left_right}: mirrors the columns. */
    public static Tensor flipLeftRight(Tensor image) {
        String op = "flipLeftRight";
        checkImage(op, image);
        checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        Tensor out = image.copy();
        int h = image.dim(0);
        int w = image.dim(1);
        int c = image.dim(2);
        if (out.dtype() == DType.FLOAT32) {
            flipLeftRightInPlace(out.floatData(), 0, h, w, c);
        } else {
            byte[] a = out.byteData();
            for (int y = 0; y < h; y++) {
                int row = y * w * c;
                for (int l = 0, r = w - 1; l < r; l++, r--) {
                    for (int ch = 0; ch < c; ch++) {
                        byte t = a[row + l * c + ch];
                        a[row + l * c + ch] = a[row + r * c + ch];
                        a[row + r * c + ch] = t;
                    }
                }
            }
        }
        return out;
    }

    static void flipLeftRightInPlace(float[] a, int off, int h, int w, int c) {
        for (int y = 0; y < h; y++) {
            int row = off + y * w * c;
            for (int l = 0, r = w - 1; l < r; l++, r--) {
                for (int ch = 0; ch < c; ch++) {
                    float t = a[row + l * c + ch];
                    a[row + l * c + ch] = a[row + r * c + ch];
                    a[row + r * c + ch] = t;
                }
            }
        }
    }

    /**
     * {@code tf.image.resize_images(image, [outHeight, outWidth], method)} with TF1's legacy
     * coordinates; uint8 or float32 in, float32 out. Bilinear runs on the CPU {@link ResizeKernels}.
     */
    public static Tensor resize(Tensor image, int outHeight, int outWidth, ResizeMethod method) {
        String op = "resize";
        checkImage(op, image);
        checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        if (method == null) throw new IllegalArgumentException(op + ": method is null");
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException(op + ": output size " + outHeight + "x" + outWidth + " must be positive (image "
                    + image.shape() + ")");
        }
        if (method == ResizeMethod.BILINEAR) return resizeBilinear(image, outHeight, outWidth);
        try (Tensor f = image.dtype() == DType.FLOAT32 ? null : toFloat(image)) {
            Tensor src = f == null ? image : f;
            return switch (method) {
                case NEAREST_NEIGHBOR -> ImageResizers.nearest(src, outHeight, outWidth);
                case BICUBIC -> ImageResizers.bicubic(src, outHeight, outWidth);
                case AREA -> ImageResizers.area(src, outHeight, outWidth);
                case BILINEAR -> throw new AssertionError();
            };
        }
    }

    /** {@code tf.image.resize_bilinear(image[None], size, align_corners=False)[0]}: legacy bilinear. */
    public static Tensor resizeBilinear(Tensor image, int outHeight, int outWidth) {
        String op = "resizeBilinear";
        checkImage(op, image);
        checkDtype(op, image, DType.UINT8, DType.FLOAT32);
        int c = image.dim(2);
        try (Tensor batch = image.reshape(1, image.dim(0), image.dim(1), c);
             Tensor resized = ResizeHolder.KERNELS.resizeBilinear(batch, outHeight, outWidth, ResizeMode.LEGACY)) {
            return resized.reshape(outHeight, outWidth, c);
        }
    }

    /** Looked up on first use, so that merely loading ImageOps needs no backend. */
    private static final class ResizeHolder {
        static final ResizeKernels KERNELS = Backends.forDevice(CpuDevice.INSTANCE).kernels(ResizeKernels.class);
    }

    // ---- colour (float32) --------------------------------------------------------------------------

    /** {@code tf.image.adjust_brightness}: x + delta (no clipping). */
    public static Tensor adjustBrightness(Tensor image, float delta) {
        checkFloatImage("adjustBrightness", image);
        Tensor out = image.copy();
        adjustBrightnessInPlace(out.floatData(), 0, out.numel(), delta);
        return out;
    }

    static void adjustBrightnessInPlace(float[] a, int off, int n, float delta) {
        for (int i = off; i < off + n; i++) a[i] += delta;
    }

    /**
     * {@code tf.image.adjust_contrast} (AdjustContrastv2): per channel, (x − mean) · factor + mean,
     * with the mean over height and width. No clipping.
     */
    public static Tensor adjustContrast(Tensor image, float factor) {
        checkFloatImage("adjustContrast", image);
        Tensor out = image.copy();
        adjustContrastInPlace(out.floatData(), 0, image.dim(0) * image.dim(1), image.dim(2), factor);
        return out;
    }

    static void adjustContrastInPlace(float[] a, int off, int pixels, int c, float factor) {
        double[] sum = new double[c];
        for (int p = 0; p < pixels; p++) {
            int base = off + p * c;
            for (int ch = 0; ch < c; ch++) sum[ch] += a[base + ch];
        }
        float[] mean = new float[c];
        for (int ch = 0; ch < c; ch++) mean[ch] = (float) (sum[ch] / pixels);
        for (int p = 0; p < pixels; p++) {
            int base = off + p * c;
            for (int ch = 0; ch < c; ch++) a[base + ch] = (a[base + ch] - mean[ch]) * factor + mean[ch];
        }
    }

    /**
     * {@code tf.image.adjust_saturation} (TF's AdjustSaturation kernel): RGB → HSV, s ← clamp(s · factor,
     * 0, 1), HSV → RGB. Needs 3 channels.
     */
    public static Tensor adjustSaturation(Tensor image, float factor) {
        String op = "adjustSaturation";
        checkFloatImage(op, image);
        checkRgb(op, image);
        Tensor out = image.copy();
        adjustSaturationInPlace(out.floatData(), 0, image.dim(0) * image.dim(1), factor);
        return out;
    }

    static void adjustSaturationInPlace(float[] a, int off, int pixels, float factor) {
        float[] hsv = new float[3];
        for (int p = 0; p < pixels; p++) {
            int i = off + 3 * p;
            rgbToHsv(a[i], a[i + 1], a[i + 2], hsv);
            float s = Math.min(1f, Math.max(0f, hsv[1] * factor));
            hsvToRgb(hsv[0], s, hsv[2], a, i);
        }
    }

    /**
     * TF's rgb_to_hsv (AdjustSaturation): h in [0, 1), s = range / max (0 for black), v = max.
     * Writes {h, s, v} into {@code hsv}.
     */
    public static void rgbToHsv(float r, float g, float b, float[] hsv) {
        float v = Math.max(r, Math.max(g, b));
        float range = v - Math.min(r, Math.min(g, b));
        float s = v > 0 ? range / v : 0f;
        float norm = 1.0f / (6.0f * range);
        float h;
        // The constants are doubles in TF's C++, so these sums round once, from double to float.
        if (r == v) {
            h = norm * (g - b);
        } else if (g == v) {
            h = (float) (norm * (b - r) + 2.0 / 6.0);
        } else {
            h = (float) (norm * (r - g) + 4.0 / 6.0);
        }
        if (range <= 0.0f) h = 0f;
        if (h < 0.0f) h = h + 1;
        hsv[0] = h;
        hsv[1] = s;
        hsv[2] = v;
    }

    /** TF's hsv_to_rgb (AdjustSaturation): writes r, g, b at out[o..o+2]. */
    public static void hsvToRgb(float h, float s, float v, float[] out, int o) {
        float c = s * v;
        float m = v - c;
        float dh = h * 6;
        int category = (int) dh;
        float fmodu = dh;
        while (fmodu <= 0) fmodu += 2.0f;
        while (fmodu >= 2.0f) fmodu -= 2.0f;
        float x = c * (1 - Math.abs(fmodu - 1));
        float rr;
        float gg;
        float bb;
        switch (category) {
            case 0 -> {
                rr = c;
                gg = x;
                bb = 0;
            }
            case 1 -> {
                rr = x;
                gg = c;
                bb = 0;
            }
            case 2 -> {
                rr = 0;
                gg = c;
                bb = x;
            }
            case 3 -> {
                rr = 0;
                gg = x;
                bb = c;
            }
            case 4 -> {
                rr = x;
                gg = 0;
                bb = c;
            }
            case 5 -> {
                rr = c;
                gg = 0;
                bb = x;
            }
            default -> {
                rr = 0;
                gg = 0;
                bb = 0;
            }
        }
        out[o] = rr + m;
        out[o + 1] = gg + m;
        out[o + 2] = bb + m;
    }

    /**
     * {@code tf.image.adjust_hue} (TF's AdjustHue kernel): rotates the hue by {@code delta} (in turns,
     * [-1, 1]) keeping each pixel's min and max channel. Needs 3 channels.
     */
    public static Tensor adjustHue(Tensor image, float delta) {
        String op = "adjustHue";
        checkFloatImage(op, image);
        checkRgb(op, image);
        if (!(delta >= -1f && delta <= 1f)) {
            throw new IllegalArgumentException(op + ": delta " + delta + " must be in [-1, 1] (image " + image.shape() + ")");
        }
        Tensor out = image.copy();
        adjustHueInPlace(out.floatData(), 0, image.dim(0) * image.dim(1), delta);
        return out;
    }

    static void adjustHueInPlace(float[] a, int off, int pixels, float delta) {
        float shift = delta * 6;
        for (int p = 0; p < pixels; p++) {
            int i = off + 3 * p;
            float r = a[i];
            float g = a[i + 1];
            float b = a[i + 2];
            // Hue as a position in [0, 6) between the sorted channels (TF's rgb_to_hv_range).
            float vMin;
            float vMax;
            float vMid;
            int category;
            if (r < g) {
                if (b < r) {
                    vMax = g;
                    vMid = r;
                    vMin = b;
                    category = 1;
                } else if (b > g) {
                    vMax = b;
                    vMid = g;
                    vMin = r;
                    category = 3;
                } else {
                    vMax = g;
                    vMid = b;
                    vMin = r;
                    category = 2;
                }
            } else {
                if (b < g) {
                    vMax = r;
                    vMid = g;
                    vMin = b;
                    category = 0;
                } else if (b > r) {
                    vMax = b;
                    vMid = r;
                    vMin = g;
                    category = 4;
                } else {
                    vMax = r;
                    vMid = b;
                    vMin = g;
                    category = 5;
                }
            }
            float h;
            if (vMax == vMin) {
                h = 0;
            } else {
                float ratio = (vMid - vMin) / (vMax - vMin);
                h = category + ((category & 1) == 0 ? ratio : 1 - ratio);
            }
            h += shift;
            while (h < 0) h += 6;
            while (h >= 6) h -= 6;
            // Back to RGB (TF's hv_range_to_rgb).
            int cat = (int) h;
            float ratio = h - cat;
            if ((cat & 1) != 0) ratio = 1 - ratio;
            float mid = vMin + ratio * (vMax - vMin);
            switch (cat) {
                case 0 -> set(a, i, vMax, mid, vMin);
                case 1 -> set(a, i, mid, vMax, vMin);
                case 2 -> set(a, i, vMin, vMax, mid);
                case 3 -> set(a, i, vMin, mid, vMax);
                case 4 -> set(a, i, mid, vMin, vMax);
                default -> set(a, i, vMax, vMin, mid);
            }
        }
    }

    private static void set(float[] a, int i, float r, float g, float b) {
        a[i] = r;
        a[i + 1] = g;
        a[i + 2] = b;
    }

    /**
     * {@code tf.image.per_image_standardization}: (x − mean) / max(stddev, 1/√N) over all N elements
     * (statistics accumulated in double).
     */
    public static Tensor perImageStandardization(Tensor image) {
        checkFloatImage("perImageStandardization", image);
        Tensor out = image.copy();
        perImageStandardizationInPlace(out.floatData(), 0, out.numel());
        return out;
    }

    static void perImageStandardizationInPlace(float[] a, int off, int n) {
        double sum = 0;
        for (int i = off; i < off + n; i++) sum += a[i];
        double mean = sum / n;
        double sq = 0;
        for (int i = off; i < off + n; i++) {
            double d = a[i] - mean;
            sq += d * d;
        }
        double std = Math.sqrt(sq / n);
        float adjusted = (float) Math.max(std, 1.0 / Math.sqrt(n));
        float m = (float) mean;
        for (int i = off; i < off + n; i++) a[i] = (a[i] - m) / adjusted;
    }

    /** {@code tf.clip_by_value(image, lo, hi)}. */
    public static Tensor clip(Tensor image, float lo, float hi) {
        checkFloatImage("clip", image);
        if (!(lo <= hi)) throw new IllegalArgumentException("clip: lo " + lo + " > hi " + hi);
        Tensor out = image.copy();
        clipInPlace(out.floatData(), 0, out.numel(), lo, hi);
        return out;
    }

    static void clipInPlace(float[] a, int off, int n, float lo, float hi) {
        for (int i = off; i < off + n; i++) a[i] = Math.min(Math.max(a[i], lo), hi);
    }

    /** a ← (a − sub) · mul, elementwise in float (TF's tf.subtract then tf.multiply). */
    static void subMulInPlace(float[] a, int off, int n, float sub, float mul) {
        for (int i = off; i < off + n; i++) a[i] = (a[i] - sub) * mul;
    }

    // ---- random ops ----------------------------------------------------------------------------------

    /** Uniform float in [lo, hi), as tf.random_uniform computes it. */
    static float uniform(SeededRandom rng, float lo, float hi) {
        return rng.nextFloat() * (hi - lo) + lo;
    }

    /**
     * TF's {@code sample_distorted_bounding_box} (SampleDistortedBoundingBox kernel): up to
     * {@code maxAttempts} times, draws an aspect ratio w/h uniformly from {@code aspectRatioRange},
     * a height so that the area lies in {@code areaRange} × the image area (width = round(h·ratio)),
     * and a position; accepts the first crop that covers at least {@code minObjectCovered} of one of
     * the boxes (pixel boxes truncated from the relative ones, boxes with no area ignored). Falls back
     * to the whole image. {@code boxes} holds (ymin, xmin, ymax, xmax) quadruples in [0, 1]; null or
     * empty means the whole image when {@code useImageIfNoBoxes}.
     *
     * <p>TF's quirks are kept: the offset is uniform in [0, dim − size) (never the last position), and
     * with the whole image as the only box the crop must cover ≥ minObjectCovered of the image, so
     * inception's effective minimum area is max(area_range[0], min_object_covered).
     */
    public static CropWindow sampleDistortedBoundingBox(int height, int width, float[] boxes, float minObjectCovered,
            float[] aspectRatioRange, float[] areaRange, int maxAttempts, boolean useImageIfNoBoxes, SeededRandom rng) {
        String op = "sampleDistortedBoundingBox";
        if (height <= 0 || width <= 0) throw new IllegalArgumentException(op + ": image size " + height + "x" + width + " must be positive");
        if (!(minObjectCovered >= 0)) throw new IllegalArgumentException(op + ": min_object_covered must be non-negative: " + minObjectCovered);
        if (aspectRatioRange == null || aspectRatioRange.length != 2 || !(aspectRatioRange[0] > 0) || !(aspectRatioRange[1] > 0)) {
            throw new IllegalArgumentException(op + ": aspect_ratio_range must be two positive values, got " + Arrays.toString(aspectRatioRange));
        }
        if (areaRange == null || areaRange.length != 2 || !(areaRange[0] > 0) || !(areaRange[1] > 0) || areaRange[0] > 1 || areaRange[1] > 1) {
            throw new IllegalArgumentException(op + ": area_range must be two values in (0, 1], got " + Arrays.toString(areaRange));
        }
        if (maxAttempts <= 0) throw new IllegalArgumentException(op + ": max_attempts must be positive: " + maxAttempts);
        if (rng == null) throw new IllegalArgumentException(op + ": rng is null");
        int nBoxes = boxes == null ? 0 : boxes.length / 4;
        if (boxes != null && boxes.length % 4 != 0) {
            throw new IllegalArgumentException(op + ": boxes must be (ymin, xmin, ymax, xmax) quadruples, got " + boxes.length + " values");
        }
        // Pixel rectangles {minX, minY, maxX, maxY}, truncated as TF's static_cast<int32>.
        int[][] rects = new int[Math.max(nBoxes, 1)][];
        for (int b = 0; b < nBoxes; b++) {
            for (int i = 0; i < 4; i++) {
                float v = boxes[4 * b + i];
                if (!(v >= 0f && v <= 1f)) {
                    throw new IllegalArgumentException(op + ": all bounding box coordinates must be in [0.0, 1.0], box " + b + " has " + v);
                }
            }
            rects[b] = new int[] {(int) (boxes[4 * b + 1] * width), (int) (boxes[4 * b] * height),
                (int) (boxes[4 * b + 3] * width), (int) (boxes[4 * b + 2] * height)};
        }
        if (nBoxes == 0) {
            if (!useImageIfNoBoxes) {
                throw new IllegalArgumentException(op + ": no bounding boxes given and use_image_if_no_bounding_boxes is false");
            }
            rects[0] = new int[] {0, 0, width, height};
        }
        float minArea = areaRange[0];
        float maxArea = areaRange[1];
        float minRatio = aspectRatioRange[0];
        float maxRatio = aspectRatioRange[1];
        for (int attempt = 0; attempt < maxAttempts; attempt++) {
            float ratio = rng.nextFloat() * (maxRatio - minRatio) + minRatio;
            CropWindow crop = generateRandomCrop(width, height, minArea, maxArea, ratio, rng);
            if (crop != null && coversEnough(crop, minObjectCovered, rects)) return crop;
        }
        return new CropWindow(0, 0, height, width);
    }

    /** TF's GenerateRandomCrop, in its float arithmetic; null when the constraints cannot be met. */
    private static CropWindow generateRandomCrop(int originalWidth, int originalHeight, float minRelativeArea,
            float maxRelativeArea, float aspectRatio, SeededRandom rng) {
        if (maxRelativeArea <= 0 || aspectRatio <= 0 || minRelativeArea > maxRelativeArea) return null;
        float minArea = minRelativeArea * originalWidth * originalHeight;
        float maxArea = maxRelativeArea * originalWidth * originalHeight;
        int height = lrintf((float) Math.sqrt(minArea / aspectRatio));
        int maxHeight = lrintf((float) Math.sqrt(maxArea / aspectRatio));
        if (lrintf(maxHeight * aspectRatio) > originalWidth) {
            // The largest height whose rounded width still fits.
            final float eps = 0.0000001f;
            maxHeight = (int) ((originalWidth + 0.5 - eps) / aspectRatio);
            if (lrintf(maxHeight * aspectRatio) > originalWidth) maxHeight -= 1;
        }
        if (maxHeight > originalHeight) maxHeight = originalHeight;
        if (height >= maxHeight) height = maxHeight;
        if (height < maxHeight) height += rng.nextInt(maxHeight - height + 1);
        int width = lrintf(height * aspectRatio);
        // Rounding may leave the area just outside the range: try one row more, then one less.
        float area = (float) (width * height);
        if (area < minArea) {
            height += 1;
            width = lrintf(height * aspectRatio);
            area = (float) (width * height);
        }
        if (area > maxArea) {
            height -= 1;
            width = lrintf(height * aspectRatio);
            area = (float) (width * height);
        }
        if (area < minArea || area > maxArea || width > originalWidth || height > originalHeight || width <= 0 || height <= 0) {
            return null;
        }
        int y = height < originalHeight ? rng.nextInt(originalHeight - height) : 0;
        int x = width < originalWidth ? rng.nextInt(originalWidth - width) : 0;
        return new CropWindow(y, x, height, width);
    }

    /** TF's SatisfiesOverlapConstraints: the crop covers ≥ minCovered of at least one non-empty box. */
    private static boolean coversEnough(CropWindow crop, float minCovered, int[][] rects) {
        if ((float) crop.area() < 1f) return false;
        int cMinX = crop.offsetX();
        int cMinY = crop.offsetY();
        int cMaxX = cMinX + crop.width();
        int cMaxY = cMinY + crop.height();
        for (int[] r : rects) {
            float objectArea = (float) ((r[2] - r[0]) * (r[3] - r[1]));
            if (objectArea < 1f) continue;
            int minX = Math.max(cMinX, r[0]);
            int minY = Math.max(cMinY, r[1]);
            int maxX = Math.min(cMaxX, r[2]);
            int maxY = Math.min(cMaxY, r[3]);
            float inter = minX > maxX || minY > maxY ? 0f : (float) ((maxX - minX) * (maxY - minY));
            if (inter / objectArea >= minCovered) return true;
        }
        return false;
    }

    /** C's lrintf under the default rounding mode: round half to even. */
    static int lrintf(float v) {
        return (int) Math.rint(v);
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private static Object backing(Tensor t) {
        return t.dtype() == DType.UINT8 ? t.byteData() : t.floatData();
    }
}
