package io.enclave.core.internal;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import io.enclave.api.Slo;
import io.enclave.api.VersionStats;

/**
 * Counts and latencies of one model version: totals since install, and a sliding window of
 * one-second slots for the canary checks and {@code model:list}. Latencies land in log-scale bins
 * 10 % wide from 10 µs to about 40 s, so a percentile is within 10 % and a slot costs a fixed
 * 640 bytes whatever the load.
 */
final class VersionMeter {
    static final int BINS = 160;
    private static final double BASE_NANOS = 10_000;
    private static final double GROWTH = Math.log(1.1);

    private final LongSupplier clock;
    private final long[] slotSecond = new long[Slo.MAX_WINDOW_SECONDS];
    private final int[] slotCount = new int[Slo.MAX_WINDOW_SECONDS];
    private final int[] slotErrors = new int[Slo.MAX_WINDOW_SECONDS];
    /** Per slot: answered requests, and the sum of their batch sizes. */
    private final int[] slotAnswered = new int[Slo.MAX_WINDOW_SECONDS];
    private final long[] slotBatchSum = new long[Slo.MAX_WINDOW_SECONDS];
    private final int[][] slotBins = new int[Slo.MAX_WINDOW_SECONDS][];
    private final LongAdder requests = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder fallbacks = new LongAdder();
    private final LongAdder shadowCompared = new LongAdder();
    private final LongAdder shadowAgreed = new LongAdder();
    private final LongAdder shadowDropped = new LongAdder();
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();

    VersionMeter() {
        this(System::nanoTime);
    }

    /** @param clock nanoseconds, monotonic */
    VersionMeter(LongSupplier clock) {
        this.clock = clock;
        java.util.Arrays.fill(slotSecond, Long.MIN_VALUE);
    }

    /** One request this version was asked to answer, with how long it took and whether it failed. */
    void record(long nanos, boolean failed) {
        record(nanos, failed, 0);
    }

    /**
     * One request, as {@link #record(long, boolean)}, that the engine ran together with {@code batch - 1}
     * others (0: not known, as for a failure).
     */
    void record(long nanos, boolean failed, int batch) {
        requests.increment();
        if (failed) {
            errors.increment();
        }
        long second = clock.getAsLong() / 1_000_000_000L;
        int i = (int) Math.floorMod(second, (long) slotSecond.length);
        int bin = bin(nanos);
        synchronized (this) {
            if (slotSecond[i] != second) {
                slotSecond[i] = second;
                slotCount[i] = 0;
                slotErrors[i] = 0;
                slotAnswered[i] = 0;
                slotBatchSum[i] = 0;
                if (slotBins[i] == null) {
                    slotBins[i] = new int[BINS];
                } else {
                    java.util.Arrays.fill(slotBins[i], 0);
                }
            }
            slotCount[i]++;
            if (failed) {
                slotErrors[i]++;
            }
            slotBins[i][bin]++;
            if (batch > 0) {
                slotAnswered[i]++;
                slotBatchSum[i] += batch;
            }
        }
    }

    void enter() {
        inFlight.incrementAndGet();
    }

    void leave() {
        inFlight.decrementAndGet();
    }

    void fallback() {
        fallbacks.increment();
    }

    void shadow(boolean agreed) {
        shadowCompared.increment();
        if (agreed) {
            shadowAgreed.increment();
        }
    }

    void shadowDropped() {
        shadowDropped.increment();
    }

    static int bin(long nanos) {
        if (nanos <= BASE_NANOS) {
            return 0;
        }
        return (int) Math.min(BINS - 1, Math.floor(Math.log(nanos / BASE_NANOS) / GROWTH) + 1);
    }

    /** @return the upper edge of a bin, in milliseconds */
    static double upperMillis(int bin) {
        return BASE_NANOS * Math.pow(1.1, bin) / 1e6;
    }

    VersionStats snapshot(int windowSeconds) {
        int window = Math.max(1, Math.min(windowSeconds, slotSecond.length));
        long now = clock.getAsLong() / 1_000_000_000L;
        long count = 0;
        long failed = 0;
        long answered = 0;
        long batchSum = 0;
        int[] merged = new int[BINS];
        synchronized (this) {
            for (int i = 0; i < slotSecond.length; i++) {
                if (slotSecond[i] > now - window && slotSecond[i] <= now) {
                    count += slotCount[i];
                    failed += slotErrors[i];
                    answered += slotAnswered[i];
                    batchSum += slotBatchSum[i];
                    for (int b = 0; b < BINS; b++) {
                        merged[b] += slotBins[i][b];
                    }
                }
            }
        }
        return new VersionStats(requests.sum(), errors.sum(), fallbacks.sum(), window, count, failed,
                quantile(merged, count, 0.50), quantile(merged, count, 0.95), quantile(merged, count, 0.99), shadowCompared.sum(), shadowAgreed.sum(),
                shadowDropped.sum(), inFlight.get(), answered == 0 ? Double.NaN : (double) batchSum / answered);
    }

    private static double quantile(int[] bins, long count, double q) {
        if (count == 0) {
            return Double.NaN;
        }
        long rank = (long) Math.ceil(q * count);
        long seen = 0;
        for (int b = 0; b < bins.length; b++) {
            seen += bins[b];
            if (seen >= rank) {
                return upperMillis(b);
            }
        }
        return upperMillis(bins.length - 1);
    }
}
