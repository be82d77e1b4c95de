package io.enclave.api;

/**
 * The request is well formed but does not fit the current state (HTTP 409), e.g. promoting a model
 * that has no canary. Nothing was changed.
 */
public class ConflictException extends EnclaveException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(message);
    }
}
