package io.enclave.api;

import java.util.List;

import org.osgi.framework.Version;

/**
 * The answer to an {@link InferenceRequest}.
 *
 * @param model    the model that really answered (the fallback model when {@code fallback})
 * @param version  the version that answered
 * @param outputs  the requested outputs, in the order requested (declaration order when all)
 * @param fallback whether the requested model failed and its declared fallback answered instead
 */
public record InferenceResponse(String model, Version version, List<NamedTensor> outputs, boolean fallback) {
    public InferenceResponse {
        outputs = List.copyOf(outputs);
    }

    /** An answer from the model that was asked. */
    public InferenceResponse(String model, Version version, List<NamedTensor> outputs) {
        this(model, version, outputs, false);
    }
}
