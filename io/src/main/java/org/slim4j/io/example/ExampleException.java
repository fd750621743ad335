package org.slim4j.io.example;

/**
 * A record that is not a usable tf.Example: it does not parse, or a feature the caller needs is
 * missing, of another type, or has the wrong number of values. The message names the record
 * (file, record index, byte offset when known) and the feature key.
 */
public class ExampleException extends RuntimeException {
    private final String source;

    public ExampleException(String source, String problem) {
        this(source, problem, null);
    }

    public ExampleException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
    }

    /** Which record this is about, e.g. "/data/flowers_train-00000-of-00005.tfrecord record 17 (byte offset 123456)". */
    public String source() {
        return source;
    }
}
