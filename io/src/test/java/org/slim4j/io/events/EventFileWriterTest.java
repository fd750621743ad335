package org.slim4j.io.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slim4j.io.proto.Event;
import org.slim4j.io.proto.HistogramProto;
import org.slim4j.io.tfrecord.TfRecord;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tensor.Tensor;
import org.slim4j.tensor.testing.GoldenData;

class EventFileWriterTest {
    private static List<Event> read(Path file) throws Exception {
        List<Event> events = new ArrayList<>();
        for (TfRecord r : TfRecordReader.readAll(file)) events.add(Event.parseFrom(r.data()));
        return events;
    }

    @Test
    void readsTensorFlowsEventFile() throws Exception {
        List<Event> events = read(GoldenData.goldenDir().resolve("events/events.out.tfevents.1700000000.golden.v2"));
        assertEquals(14, events.size());
        assertEquals("brain.Event:2", events.get(0).getFileVersion());
        Event first = events.get(1);
        assertEquals(0, first.getStep());
        assertEquals("total_loss", first.getSummary().getValue(0).getTag());
    }

    @Test
    void writesWhatTensorBoardReads(@TempDir Path dir) throws Exception {
        Path file;
        try (EventFileWriter w = EventFileWriter.create(dir)) {
            file = w.path();
            w.scalar(10, "total_loss", 1.5);
            w.histogram(10, "weights", new float[] {-1, 0, 0.5f, 0.5f, 3});
            try (Tensor img = Tensor.ofBytes(new byte[12], 2, 2, 3)) {
                w.image(10, "images", img);
            }
        }
        assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."));
        List<Event> events = read(file);
        assertEquals(4, events.size());
        assertEquals("brain.Event:2", events.get(0).getFileVersion());
        assertEquals(1.5f, events.get(1).getSummary().getValue(0).getSimpleValue());
        HistogramProto h = events.get(2).getSummary().getValue(0).getHisto();
        assertEquals(5, h.getNum());
        assertEquals(-1, h.getMin());
        assertEquals(3, h.getMax());
        assertEquals(3, h.getSum(), 1e-12);
        double counted = 0;
        for (double c : h.getBucketList()) counted += c;
        assertEquals(5, counted);
        assertEquals(2, events.get(3).getSummary().getValue(0).getImage().getHeight());
    }
}
