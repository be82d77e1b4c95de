package io.enclave.api;

import java.util.List;
import java.util.Objects;

/**
 * One inference call as every transport hands it to the {@link Router}.
 *
 * @param model            the model name
 * @param version          the requested version string, or null to let routing choose
 * @param inputs           the input tensors
 * @param requestedOutputs names of the outputs wanted, or null for all of them
 * @param routeKey         the value of the policy's sticky header, or null
 * @param arrivedNanos     {@link System#nanoTime()} when the transport received the request; a version's
 *                         request deadline counts from then
 * @param timeoutNanos     how long the caller lets the request wait for its computation to start, counted
 *                         from {@code arrivedNanos}; 0 for no limit of its own. The shorter of this and the
 *                         version's deadline applies: a request not started by then is refused with an
 *                         {@link OverloadedException}, and nothing runs for it
 * @param priority         the caller's priority as Triton names it: 1 is the most urgent, 2 the next, and so
 *                         on; 0 for none. It orders the queue only of a version that keeps
 *                         {@link BatchingSettings#priorityLevels() priority levels}
 */
public record InferenceRequest(String model, String version, List<NamedTensor> inputs, List<String> requestedOutputs,
        String routeKey, long arrivedNanos, long timeoutNanos, long priority) {
    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        if (timeoutNanos < 0) {
            throw new IllegalArgumentException("timeoutNanos must be 0 or more: " + timeoutNanos);
        }
        if (priority < 0) {
            throw new IllegalArgumentException("priority must be 0 or more: " + priority);
        }
        inputs = List.copyOf(inputs);
        requestedOutputs = requestedOutputs == null ? null : List.copyOf(requestedOutputs);
    }

    /** A request that names no priority. */
    public InferenceRequest(String model, String version, List<NamedTensor> inputs, List<String> requestedOutputs,
            String routeKey, long arrivedNanos, long timeoutNanos) {
        this(model, version, inputs, requestedOutputs, routeKey, arrivedNanos, timeoutNanos, 0);
    }

    /** A request with no timeout of its own: the version's deadline alone applies. */
    public InferenceRequest(String model, String version, List<NamedTensor> inputs, List<String> requestedOutputs,
            String routeKey, long arrivedNanos) {
        this(model, version, inputs, requestedOutputs, routeKey, arrivedNanos, 0);
    }

    /** A request that arrives now. */
    public InferenceRequest(String model, String version, List<NamedTensor> inputs, List<String> requestedOutputs,
            String routeKey) {
        this(model, version, inputs, requestedOutputs, routeKey, System.nanoTime());
    }

    /** A request with no route key, arriving now. */
    public InferenceRequest(String model, String version, List<NamedTensor> inputs, List<String> requestedOutputs) {
        this(model, version, inputs, requestedOutputs, null);
    }
}
