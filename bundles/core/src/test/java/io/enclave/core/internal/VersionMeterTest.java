package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.enclave.api.VersionStats;

class VersionMeterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
    private final VersionMeter meter = new VersionMeter(now::get);

    @Test
    void percentilesAreWithinTenPercentAndTheWindowForgets() {
        for (int i = 1; i <= 1000; i++) {
            meter.record(i * 100_000L, i % 50 == 0);
        }
        VersionStats s = meter.snapshot(10);
        assertEquals(1000, s.windowRequests());
        assertEquals(20, s.windowErrors());
        assertTrue(Math.abs(s.p50Millis() - 50) <= 5.5, "p50 of 0.1..100 ms: " + s.p50Millis());
        assertTrue(Math.abs(s.p99Millis() - 99) <= 10, "p99: " + s.p99Millis());

        now.addAndGet(11_000_000_000L);
        meter.record(2_000_000, false);
        VersionStats later = meter.snapshot(10);
        assertEquals(1, later.windowRequests(), "older slots left the window");
        assertEquals(1001, later.requests(), "totals stay");
        assertEquals(20, later.errors());
        assertTrue(Math.abs(later.p99Millis() - 2) <= 0.2, later.toString());
    }

    @Test
    void theMeanBatchCoversTheWindowsAnsweredRequestsOnly() {
        assertTrue(Double.isNaN(meter.snapshot(10).windowMeanBatch()), "nothing answered yet");
        // a batch of 8 (each of its 8 requests records 8) and two lone requests: 66 / 10
        for (int i = 0; i < 8; i++) {
            meter.record(3_000_000, false, 8);
        }
        meter.record(1_000_000, false, 1);
        meter.record(1_000_000, false, 1);
        meter.record(500_000, true);
        VersionStats s = meter.snapshot(10);
        assertEquals(11, s.windowRequests());
        assertEquals(6.6, s.windowMeanBatch(), 1e-9, "a failure has no batch and does not count");

        now.addAndGet(11_000_000_000L);
        meter.record(1_000_000, false, 2);
        assertEquals(2.0, meter.snapshot(10).windowMeanBatch(), 1e-9, "older slots left the window");
        assertEquals(68.0 / 11, meter.snapshot(300).windowMeanBatch(), 1e-9, "a longer window still holds them");
    }

    @Test
    void theCumulativeSumsKeepBatchSizesApartUpToABoundAndCountEveryBatchInTheTotals() {
        // two batches of 3 rows (3 requests of 1 row each), one of 5 (a request of 5 rows)
        for (int batch = 0; batch < 2; batch++) {
            for (int r = 0; r < 3; r++) {
                meter.answered(4_000, 1_000, 1, 3, 100, 2_000, 200, r == 0);
            }
        }
        meter.answered(9_000, 0, 5, 5, 0, 7_000, 0, true);
        meter.failedAfter(500);
        io.enclave.api.CumulativeStats s = meter.cumulative();
        assertEquals(11, s.inferenceCount());
        assertEquals(3, s.executionCount());
        assertEquals(new io.enclave.api.CumulativeStats.Timed(7, 33_000), s.success());
        assertEquals(new io.enclave.api.CumulativeStats.Timed(1, 500), s.fail());
        assertEquals(new io.enclave.api.CumulativeStats.Timed(7, 6_000), s.queue());
        assertEquals(new io.enclave.api.CumulativeStats.Timed(7, 19_000), s.computeInfer(), "each request counts its batch");
        assertEquals(java.util.List.of(
                new io.enclave.api.CumulativeStats.Batch(3, new io.enclave.api.CumulativeStats.Timed(2, 200),
                        new io.enclave.api.CumulativeStats.Timed(2, 4_000), new io.enclave.api.CumulativeStats.Timed(2, 400)),
                new io.enclave.api.CumulativeStats.Batch(5, new io.enclave.api.CumulativeStats.Timed(1, 0),
                        new io.enclave.api.CumulativeStats.Timed(1, 7_000), new io.enclave.api.CumulativeStats.Timed(1, 0))),
                s.batches(), "each batch once, by size");

        // a caller's own row counts make any number of sizes: past the bound they count only in the totals
        VersionMeter many = new VersionMeter();
        for (int rows = 1; rows <= VersionMeter.MAX_BATCH_SIZES + 100; rows++) {
            many.answered(1, 0, rows, rows, 0, 1, 0, true);
        }
        io.enclave.api.CumulativeStats m = many.cumulative();
        assertEquals(VersionMeter.MAX_BATCH_SIZES, m.batches().size());
        assertEquals(VersionMeter.MAX_BATCH_SIZES + 100, m.executionCount());
    }

    @Test
    void binsCoverMicrosecondsToSeconds() {
        assertEquals(0, VersionMeter.bin(1));
        assertEquals(VersionMeter.BINS - 1, VersionMeter.bin(Long.MAX_VALUE));
        double edge = VersionMeter.upperMillis(VersionMeter.bin(1_000_000_000L));
        assertTrue(edge >= 1000 && edge < 1100, "1 s lands in a bin ending at " + edge);
    }
}
