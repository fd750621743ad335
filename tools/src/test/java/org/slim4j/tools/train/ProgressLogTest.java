package org.slim4j.tools.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The progress a user sees: TF-Slim's log line with lr, images/s and ETA; a live line only on a terminal. */
class ProgressLogTest {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

    private String text() {
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void plainOutputHasOnlyTheLogLines() {
        ProgressLog p = new ProgressLog(out, false, 100L, 10, 64);
        for (int s = 1; s <= 20; s++) p.step(s, 1.5, 0.01, 0.5);
        p.finish();
        String t = text();
        assertFalse(t.contains("\r"), t);
        String[] lines = t.split("\n");
        assertEquals(2, lines.length, t);
        assertEquals("global step 10: loss = 1.5000 (0.500 sec/step)  lr = 0.01  128.0 images/s  ETA 45s", lines[0]);
        assertEquals("global step 20: loss = 1.5000 (0.500 sec/step)  lr = 0.01  128.0 images/s  ETA 40s", lines[1]);
    }

    @Test
    void aTerminalGetsALiveLineThatLogLinesClear() throws InterruptedException {
        ProgressLog p = new ProgressLog(out, true, null, 3, 10);
        p.step(1, 2.0, 0.1, 1.0);
        Thread.sleep(120);
        p.step(2, 1.0, 0.1, 1.0);
        p.step(3, 0.5, 0.1, 1.0);
        String t = text();
        assertTrue(t.startsWith("\rstep 1  loss 2.0000  lr 0.1  10.0 images/s"), t);
        assertTrue(t.contains("\rstep 2  loss 1.0000"), t);
        assertTrue(t.contains("global step 3: loss = 0.5000 (1.000 sec/step)  lr = 0.1  10.0 images/s\n"), t);
        assertFalse(t.contains("ETA"), "no ETA without max_number_of_steps: " + t);
    }

    @Test
    void durationsAndNumbersReadNaturally() {
        assertEquals("45s", ProgressLog.duration(44.6));
        assertEquals("12m05s", ProgressLog.duration(725));
        assertEquals("3h07m", ProgressLog.duration(3 * 3600 + 7 * 60 + 30));
        assertEquals("0.0094", ProgressLog.number(0.0094));
        assertEquals("1", ProgressLog.number(1.0));
        assertEquals("1.0E-4", ProgressLog.number(1e-4));
    }
}
