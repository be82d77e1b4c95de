package io.enclave.api;

/**
 * What a canary must keep up to stay in traffic, judged over a sliding window of its own requests.
 * A limit that is not set ({@code NaN}) is not checked.
 *
 * @param maxErrorRate  largest share of failed requests, 0 to 1
 * @param maxP99Millis  largest 99th-percentile latency, in milliseconds
 * @param minAgreement  smallest share of shadow comparisons that agree with the answer, 0 to 1
 * @param minRequests   requests the window must hold before anything is judged
 * @param windowSeconds length of the window, 1 to {@link #MAX_WINDOW_SECONDS}
 * @param autoPromote   promote the canary after a full clean window
 */
public record Slo(double maxErrorRate, double maxP99Millis, double minAgreement, int minRequests, int windowSeconds,
        boolean autoPromote) {

    /** The longest window kept in memory. */
    public static final int MAX_WINDOW_SECONDS = 300;

    /** No limits: the canary stays until someone moves it. */
    public static final Slo NONE = new Slo(Double.NaN, Double.NaN, Double.NaN, 100, 60, false);

    /**
     * @throws InvalidInputException naming the limit that is out of range
     */
    public Slo {
        if (!Double.isNaN(maxErrorRate) && !(maxErrorRate >= 0 && maxErrorRate <= 1)) {
            throw new InvalidInputException("slo max error rate must be 0 to 1, not " + maxErrorRate);
        }
        if (!Double.isNaN(maxP99Millis) && !(maxP99Millis > 0)) {
            throw new InvalidInputException("slo max p99 must be a positive number of milliseconds, not " + maxP99Millis);
        }
        if (!Double.isNaN(minAgreement) && !(minAgreement >= 0 && minAgreement <= 1)) {
            throw new InvalidInputException("slo min agreement must be 0 to 1, not " + minAgreement);
        }
        if (minRequests < 1) {
            throw new InvalidInputException("slo min requests must be at least 1, not " + minRequests);
        }
        if (windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS) {
            throw new InvalidInputException("slo window must be 1 to " + MAX_WINDOW_SECONDS + " seconds, not " + windowSeconds);
        }
    }

    /** @return whether any limit is set */
    public boolean active() {
        return !Double.isNaN(maxErrorRate) || !Double.isNaN(maxP99Millis) || !Double.isNaN(minAgreement);
    }
}
