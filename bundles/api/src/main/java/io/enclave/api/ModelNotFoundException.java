package io.enclave.api;

/** The named model, or the named version of it, is not installed (HTTP 404). */
public class ModelNotFoundException extends EnclaveException {
    private static final long serialVersionUID = 1L;

    public ModelNotFoundException(String message) {
        super(message);
    }

    public ModelNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
