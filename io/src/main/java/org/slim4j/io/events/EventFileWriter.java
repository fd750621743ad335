package org.slim4j.io.events;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slim4j.io.tfrecord.TfRecordFraming;
import org.slim4j.io.image.ImageEncoder;
import org.slim4j.io.proto.Event;
import org.slim4j.io.proto.Summary;
import org.slim4j.tensor.Tensor;

/**
 * A TensorBoard event file, {@code events.out.tfevents.<seconds>.<host>}, written as TensorFlow's
 * EventsWriter does: TFRecord framing, a first event holding {@code file_version: "brain.Event:2"},
 * then summaries. Unlike data shards it is appended in place and flushed as training runs, so
 * TensorBoard can follow it live.
 */
public final class EventFileWriter implements Closeable {
    private final Path path;
    private final OutputStream out;

    private EventFileWriter(Path path) throws IOException {
        this.path = path;
        this.out = new BufferedOutputStream(Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        write(Event.newBuilder().setWallTime(now()).setFileVersion("brain.Event:2").build());
        flush();
    }

    /** Creates a new event file in {@code logDir} (made if missing). */
    public static EventFileWriter create(Path logDir) throws IOException {
        Files.createDirectories(logDir);
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        long secs = System.currentTimeMillis() / 1000;
        Path p = logDir.resolve("events.out.tfevents." + secs + "." + host);
        for (int i = 1; Files.exists(p); i++) p = logDir.resolve("events.out.tfevents." + secs + "." + host + "." + i);
        return new EventFileWriter(p);
    }

    public Path path() {
        return path;
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    public synchronized void write(Event event) throws IOException {
        byte[] data = event.toByteArray();
        TfRecordFraming.write(out, data, 0, data.length);
    }

    public void writeSummary(long step, Summary summary) throws IOException {
        write(Event.newBuilder().setWallTime(now()).setStep(step).setSummary(summary).build());
    }

    public void scalar(long step, String tag, double value) throws IOException {
        writeSummary(step, Summary.newBuilder().addValue(Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) value)).build());
    }

    public void histogram(long step, String tag, float[] values) throws IOException {
        writeSummary(step, Summary.newBuilder().addValue(Summary.Value.newBuilder().setTag(tag).setHisto(Histogram.of(values).toProto())).build());
    }

    /** An image summary of a UINT8 [H, W, C] tensor (C = 1, 3 or 4), PNG-encoded. */
    public void image(long step, String tag, Tensor image) throws IOException {
        Summary.Image img = Summary.Image.newBuilder().setHeight(image.dim(0)).setWidth(image.dim(1)).setColorspace(image.dim(2))
            .setEncodedImageString(com.google.protobuf.ByteString.copyFrom(ImageEncoder.png(image))).build();
        writeSummary(step, Summary.newBuilder().addValue(Summary.Value.newBuilder().setTag(tag).setImage(img)).build());
    }

    public synchronized void flush() throws IOException {
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
