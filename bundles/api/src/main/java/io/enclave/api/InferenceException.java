package io.enclave.api;

/** The engine failed while running a model (HTTP 500); the message says why. */
public class InferenceException extends EnclaveException {
    private static final long serialVersionUID = 1L;

    public InferenceException(String message) {
        super(message);
    }

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
