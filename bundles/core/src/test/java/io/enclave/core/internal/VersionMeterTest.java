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
    void binsCoverMicrosecondsToSeconds() {
        assertEquals(0, VersionMeter.bin(1));
        assertEquals(VersionMeter.BINS - 1, VersionMeter.bin(Long.MAX_VALUE));
        double edge = VersionMeter.upperMillis(VersionMeter.bin(1_000_000_000L));
        assertTrue(edge >= 1000 && edge < 1100, "1 s lands in a bin ending at " + edge);
    }
}
