package io.enclave.api;

/**
 * Told about every inference request and model event, as it happens (whiteboard: register one as a
 * service). Called on the request's own thread, so an implementation must be quick and must not
 * throw. Labels are bounded: a request for a model that is not installed is reported as model
 * {@link #UNKNOWN}, never under the name the caller sent.
 */
public interface InferenceObserver {

    /** The model label of requests for models that are not installed. */
    String UNKNOWN = "_unknown";

    /** How a request ended. */
    enum Outcome {
        /** Answered by the version that was chosen (or, for a failed canary, by the stable version). */
        SUCCESS,
        /** The caller's mistake: unknown model or version, input that does not fit. */
        CLIENT_ERROR,
        /** The version failed and nothing answered instead. */
        SERVER_ERROR,
        /** The version ran past its timeout and nothing answered instead. */
        TIMEOUT,
        /** Refused before running: circuit open, or no capacity. */
        REJECTED,
        /** The model's fallback answered. */
        FALLBACK
    }

    /**
     * @param model        the model asked for ({@link #UNKNOWN} when not installed)
     * @param version      the version that answered or was chosen, or empty when none was
     * @param outcome      how it ended
     * @param totalNanos   from the router's first look at the request to its answer
     * @param queueNanos   of those, waiting before the engine started
     * @param computeNanos of those, in the engine
     * @param batchSize    how many requests the engine ran together with this one (1 without batching)
     */
    void completed(String model, String version, Outcome outcome, long totalNanos, long queueNanos, long computeNanos,
            int batchSize);

    /** A version finished loading (including its warm-up). */
    default void loaded(String model, String version, long nanos) {
    }

    /**
     * Traffic moved by a decision: {@code promote}, {@code rollback}, or {@code rollback.auto}.
     *
     * @param version the version the decision was about
     */
    default void trafficDecision(String model, String version, String decision) {
    }
}
