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
 */
public record InferenceRequest(String model, String version, List<NamedTensor> inputs, List<String> requestedOutputs,
        String routeKey) {
    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        inputs = List.copyOf(inputs);
        requestedOutputs = requestedOutputs == null ? null : List.copyOf(requestedOutputs);
    }

    /** A request with no route key. */
    public InferenceRequest(String model, String version, List<NamedTensor> inputs, List<String> requestedOutputs) {
        this(model, version, inputs, requestedOutputs, null);
    }
}
