package io.enclave.api;

/** The caller is known but its roles do not grant the permission (HTTP 403). */
public class AccessDeniedException extends EnclaveException {
    private static final long serialVersionUID = 1L;

    public AccessDeniedException(String message) {
        super(message);
    }
}
