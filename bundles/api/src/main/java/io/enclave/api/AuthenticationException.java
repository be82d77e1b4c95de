package io.enclave.api;

/**
 * Credentials were missing, wrong, or refused because of too many recent failures (HTTP 401, or 429
 * when {@link #retryAfterSeconds()} is positive). The message never says which part was wrong.
 */
public class AuthenticationException extends EnclaveException {
    private static final long serialVersionUID = 1L;

    private final long retryAfterSeconds;

    public AuthenticationException(String message) {
        this(message, 0);
    }

    public AuthenticationException(String message, long retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** @return seconds until the caller may try again when throttled, else 0 */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
