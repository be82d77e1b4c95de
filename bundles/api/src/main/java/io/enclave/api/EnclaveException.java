package io.enclave.api;

/**
 * Base of the failures Enclave reports to clients. Each subclass maps to one protocol status so
 * every transport (REST, SOAP, shell) reports the same failure the same way.
 */
public class EnclaveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EnclaveException(String message) {
        super(message);
    }

    public EnclaveException(String message, Throwable cause) {
        super(message, cause);
    }
}
