package org.slim4j.io.image;

/**
 * Encoded image data that cannot be decoded: unknown format, corrupt or truncated data, an
 * unsupported variant, or a size beyond TensorFlow's limits. The message starts with the source
 * the caller named (typically "FILE record N (byte offset X)").
 */
public class ImageDecodeException extends RuntimeException {
    private final String source;

    public ImageDecodeException(String source, String problem) {
        this(source, problem, null);
    }

    public ImageDecodeException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
    }

    public String source() {
        return source;
    }
}
