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
 */
public record InferenceRequest(String model, String version, List<NamedTensor> inputs, List<String> requestedOutputs,
        String routeKey, long arrivedNanos) {
    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        inputs = List.copyOf(inputs);
        requestedOutputs = requestedOutputs == null ? null : List.copyOf(requestedOutputs);
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
