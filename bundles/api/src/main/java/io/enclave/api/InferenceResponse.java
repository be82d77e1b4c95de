package io.enclave.api;

import java.util.List;

import org.osgi.framework.Version;

/**
 * The answer to an {@link InferenceRequest}.
 *
 * @param model   the model that answered
 * @param version the version that answered
 * @param outputs the requested outputs, in the order requested (declaration order when all)
 */
public record InferenceResponse(String model, Version version, List<NamedTensor> outputs) {
    public InferenceResponse {
        outputs = List.copyOf(outputs);
    }
}
