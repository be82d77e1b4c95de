package io.enclave.api;

/** The request does not fit the model's signature or the protocol (HTTP 400). */
public class InvalidInputException extends EnclaveException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
