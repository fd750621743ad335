package org.slim4j.io.pipeline;

import java.io.IOException;
import java.util.Locale;
import org.slim4j.io.convert.ImageCodec;
import org.slim4j.io.datasets.DatasetDescriptor;
import org.slim4j.io.example.ExampleException;
import org.slim4j.io.example.ExampleFeatures;
import org.slim4j.io.image.ImageDecodeException;
import org.slim4j.tensor.DType;
import org.slim4j.tensor.Shape;
import org.slim4j.tensor.Tensor;

/**
 * TF-Slim's {@code TFExampleDecoder} for the image classification data sets: from a serialized
 * tf.Example, the image ({@code image/encoded} in {@code image/format}, the descriptor's default
 * format when absent; "raw" = the bytes as a uint8 array of the descriptor's fixed shape, anything
 * else is decoded as PNG/JPEG by its magic bytes, like {@code tf.image.decode_image}), the label
 * ({@code image/class/label}, or the descriptor's default) and, for imagenet, the object boxes
 * ({@code image/object/bbox/{ymin,xmin,ymax,xmax}}). Thread-safe.
 */
public final class ExampleDecoder {
    /** A decoded record: image UINT8 [H, W, C] (owned by the caller), label, boxes (ymin, xmin, ymax, xmax)* or null. */
    public record Item(Tensor image, long label, float[] boxes) {
    }

    private final DatasetDescriptor descriptor;
    private final boolean withBoxes;

    public ExampleDecoder(DatasetDescriptor descriptor, boolean withBoxes) {
        this.descriptor = descriptor;
        this.withBoxes = withBoxes && descriptor.hasObjectBoxes();
    }

    /**
     * Decodes one record; {@code source} (e.g. "FILE record 12 (byte offset 3456)") names it in errors.
     *
     * @throws IOException when the record is not a valid Example, lacks a key, or its image does not decode
     */
    public Item decode(byte[] record, String source) throws IOException {
        ExampleFeatures f;
        byte[] encoded;
        String format;
        long label;
        float[] boxes = null;
        try {
            f = ExampleFeatures.parse(record, source);
            encoded = f.bytes(DatasetDescriptor.IMAGE_KEY);
            format = f.string(DatasetDescriptor.FORMAT_KEY, descriptor.defaultFormat()).toLowerCase(Locale.ROOT);
            label = descriptor.labelDefault() != null
                    ? f.int64(DatasetDescriptor.LABEL_KEY, descriptor.labelDefault())
                    : f.int64(DatasetDescriptor.LABEL_KEY);
            if (withBoxes && f.has(DatasetDescriptor.BBOX_YMIN_KEY)) boxes = boxes(f);
        } catch (ExampleException e) {
            throw new IOException(e.getMessage(), e);
        }
        Tensor image;
        if (format.equals("raw")) {
            image = raw(encoded, source);
        } else {
            try {
                image = ImageCodec.decode(encoded, descriptor.channels(), source);
            } catch (ImageDecodeException e) {
                throw new IOException("undecodable image in " + e.getMessage(), e);
            }
        }
        return new Item(image, label, boxes);
    }

    /** A "raw" image: the bytes are the uint8 pixels of the descriptor's fixed shape. */
    private Tensor raw(byte[] data, String source) throws IOException {
        int[] shape = descriptor.imageShape();
        if (shape == null) throw new IOException(source + ": raw image but dataset " + descriptor.name() + " has no fixed image shape");
        long n = (long) shape[0] * shape[1] * shape[2];
        if (data.length != n) {
            throw new IOException("undecodable image in " + source + ": raw image of " + data.length + " bytes, expected "
                    + n + " for shape " + java.util.Arrays.toString(shape));
        }
        Tensor t = Tensor.zeros(DType.UINT8, Shape.of(shape));
        System.arraycopy(data, 0, t.byteData(), t.offset(), data.length);
        return t;
    }

    private static float[] boxes(ExampleFeatures f) throws IOException {
        float[] ymin = f.floatList(DatasetDescriptor.BBOX_YMIN_KEY);
        float[] xmin = f.floatList(DatasetDescriptor.BBOX_XMIN_KEY);
        float[] ymax = f.floatList(DatasetDescriptor.BBOX_YMAX_KEY);
        float[] xmax = f.floatList(DatasetDescriptor.BBOX_XMAX_KEY);
        int n = ymin.length;
        if (xmin.length != n || ymax.length != n || xmax.length != n) {
            throw new IOException(f.source() + ": box coordinate lists differ in length (ymin " + n + ", xmin " + xmin.length
                    + ", ymax " + ymax.length + ", xmax " + xmax.length + ")");
        }
        if (n == 0) return null;
        float[] b = new float[4 * n];
        for (int i = 0; i < n; i++) {
            b[4 * i] = ymin[i];
            b[4 * i + 1] = xmin[i];
            b[4 * i + 2] = ymax[i];
            b[4 * i + 3] = xmax[i];
        }
        return b;
    }
}
