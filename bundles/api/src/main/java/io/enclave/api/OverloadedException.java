package io.enclave.api;

/**
 * The version's queue is full, or the request's deadline passed before it could run (HTTP 503 with
 * {@code Retry-After}): refused at once rather than left to pile up. Nothing ran.
 */
public class OverloadedException extends ModelUnavailableException {
    private static final long serialVersionUID = 1L;
    private final int retryAfterSeconds;

    public OverloadedException(String message, int retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** @return when the caller may try again, in seconds */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
