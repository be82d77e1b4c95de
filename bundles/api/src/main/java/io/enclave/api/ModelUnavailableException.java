package io.enclave.api;

/** The model exists but cannot answer now: loading, failed or draining (HTTP 503). */
public class ModelUnavailableException extends EnclaveException {
    private static final long serialVersionUID = 1L;

    public ModelUnavailableException(String message) {
        super(message);
    }

    public ModelUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
