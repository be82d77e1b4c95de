package io.enclave.api;

/** The version did not answer within the model's timeout (HTTP 500 unless a fallback answers). */
public class InferenceTimeoutException extends InferenceException {
    private static final long serialVersionUID = 1L;

    public InferenceTimeoutException(String message) {
        super(message);
    }
}
