package io.enclave.core.internal;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import io.enclave.api.CumulativeStats;
import io.enclave.api.CumulativeStats.Timed;
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

    /**
     * How many batch sizes the sums keep apart: a version's sizes are bounded by its batching, but a request may
     * bring any number of rows, and each new size would otherwise add an entry for good. Sizes past this many
     * still count in every other sum.
     */
    static final int MAX_BATCH_SIZES = 1024;
    // the sums of Triton's statistics extension (CumulativeStats), since the version was first installed
    private final LongAdder inferences = new LongAdder();
    private final LongAdder executions = new LongAdder();
    private final LongAdder succeeded = new LongAdder();
    private final LongAdder successNanos = new LongAdder();
    private final LongAdder failedCount = new LongAdder();
    private final LongAdder failNanos = new LongAdder();
    private final LongAdder queueNanos = new LongAdder();
    private final LongAdder inputNanos = new LongAdder();
    private final LongAdder inferNanos = new LongAdder();
    private final LongAdder outputNanos = new LongAdder();
    private final java.util.concurrent.ConcurrentHashMap<Integer, BatchSums> batchSizes = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile long lastInferenceMillis;

    /** Engine calls of one size: how many, and their stages' summed time. */
    private static final class BatchSums {
        final LongAdder count = new LongAdder();
        final LongAdder input = new LongAdder();
        final LongAdder infer = new LongAdder();
        final LongAdder output = new LongAdder();
    }

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

    /**
     * One answered request, for the cumulative sums; {@link #record(long, boolean, int)} counts it for the window.
     *
     * @param totalNanos from its arrival at the server to its answer
     * @param queued     from its arrival at this version to the start of its batch
     * @param rows       its own rows
     * @param batchRows  its batch's rows
     * @param input      its batch's time joining inputs
     * @param infer      its batch's time in the engine
     * @param output     its batch's time splitting outputs
     * @param leads      true for one request of each batch: the batch is counted with it
     */
    void answered(long totalNanos, long queued, int rows, int batchRows, long input, long infer, long output,
            boolean leads) {
        lastInferenceMillis = System.currentTimeMillis();
        succeeded.increment();
        successNanos.add(totalNanos);
        queueNanos.add(queued);
        inferences.add(Math.max(0, rows));
        inputNanos.add(input);
        inferNanos.add(infer);
        outputNanos.add(output);
        if (leads) {
            executions.increment();
            BatchSums b = batchSizes.get(batchRows);
            if (b == null && batchSizes.size() < MAX_BATCH_SIZES) {
                b = batchSizes.computeIfAbsent(batchRows, k -> new BatchSums());
            }
            if (b != null) {
                b.count.increment();
                b.input.add(input);
                b.infer.add(infer);
                b.output.add(output);
            }
        }
    }

    /** One request the version failed or refused, for the cumulative sums, from its arrival at the server. */
    void failedAfter(long totalNanos) {
        lastInferenceMillis = System.currentTimeMillis();
        failedCount.increment();
        failNanos.add(totalNanos);
    }

    /** The sums since the version was first installed, as Triton's statistics extension gives them. */
    CumulativeStats cumulative() {
        java.util.List<CumulativeStats.Batch> batches = new java.util.ArrayList<>(batchSizes.size());
        batchSizes.forEach((rows, b) -> {
            long n = b.count.sum();
            batches.add(new CumulativeStats.Batch(rows, new Timed(n, b.input.sum()), new Timed(n, b.infer.sum()),
                    new Timed(n, b.output.sum())));
        });
        batches.sort(java.util.Comparator.comparingInt(CumulativeStats.Batch::rows));
        long ok = succeeded.sum();
        return new CumulativeStats(lastInferenceMillis, inferences.sum(), executions.sum(), new Timed(ok, successNanos.sum()),
                new Timed(failedCount.sum(), failNanos.sum()), new Timed(ok, queueNanos.sum()), new Timed(ok, inputNanos.sum()),
                new Timed(ok, inferNanos.sum()), new Timed(ok, outputNanos.sum()), batches);
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
