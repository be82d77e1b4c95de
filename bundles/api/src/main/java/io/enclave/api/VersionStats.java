package io.enclave.api;

/**
 * How one model version has been doing. Totals count since the version was installed; window
 * figures cover the last {@code windowSeconds}.
 *
 * @param requests        requests this version was asked to answer
 * @param errors          of those, how many it failed (another version or the fallback may have answered)
 * @param fallbacks       requests its model's fallback answered instead of it
 * @param windowSeconds   length of the window the next figures cover
 * @param windowRequests  requests in the window
 * @param windowErrors    failures in the window
 * @param p50Millis       median latency in the window, NaN when empty
 * @param p95Millis       95th-percentile latency in the window, NaN when empty
 * @param p99Millis       99th-percentile latency in the window, NaN when empty
 * @param shadowCompared  shadow answers compared with the real answer (this version as the shadow)
 * @param shadowAgreed    of those, how many agreed
 * @param shadowDropped   shadow copies dropped because the shadow could not keep up
 * @param inFlight        requests this version holds now: waiting for their batch or computing
 * @param windowMeanBatch over the window's answered requests, how many requests the engine ran together
 *                        with each one, on average (1 without batching); NaN when none was answered
 */
public record VersionStats(long requests, long errors, long fallbacks, int windowSeconds, long windowRequests,
        long windowErrors, double p50Millis, double p95Millis, double p99Millis, long shadowCompared, long shadowAgreed,
        long shadowDropped, int inFlight, double windowMeanBatch) {

    /** Nothing recorded. */
    public static final VersionStats EMPTY = new VersionStats(0, 0, 0, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, 0, 0, 0, 0,
            Double.NaN);

    /** Figures without batch sizes, as {@code io.enclave.api} 2.1 recorded them. */
    public VersionStats(long requests, long errors, long fallbacks, int windowSeconds, long windowRequests, long windowErrors,
            double p50Millis, double p95Millis, double p99Millis, long shadowCompared, long shadowAgreed, long shadowDropped,
            int inFlight) {
        this(requests, errors, fallbacks, windowSeconds, windowRequests, windowErrors, p50Millis, p95Millis, p99Millis,
                shadowCompared, shadowAgreed, shadowDropped, inFlight, Double.NaN);
    }

    /** @return the window's error rate, 0 when empty */
    public double windowErrorRate() {
        return windowRequests == 0 ? 0 : (double) windowErrors / windowRequests;
    }

    /** @return the share of shadow comparisons that agreed, NaN when none was made */
    public double shadowAgreement() {
        return shadowCompared == 0 ? Double.NaN : (double) shadowAgreed / shadowCompared;
    }
}
