package org.slim4j.tensor;

/**
 * A device that timestamps its own work queue (a GPU stream's timing events): two marks queued
 * around some work measure the device's time for it without the host waiting in between, so a
 * profiler can time every kernel of a step and leave the queue's overlap with the host intact.
 */
public interface DeviceClock {
    /** Queues a timestamp after the work queued so far. */
    Mark mark();

    /** A queued timestamp; close it once read. */
    interface Mark extends AutoCloseable {
        /** Device milliseconds from {@code earlier} to this mark; waits until the work before this mark is done. */
        double millisSince(Mark earlier);

        @Override
        void close();
    }
}
