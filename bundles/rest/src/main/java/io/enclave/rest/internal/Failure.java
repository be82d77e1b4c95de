package io.enclave.rest.internal;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.AccessDeniedException;
import io.enclave.api.AuthenticationException;
import io.enclave.api.ConflictException;
import io.enclave.api.InferenceException;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.OverloadedException;

/**
 * How a failure leaves over HTTP, whichever transport (the {@code /v2} servlet, CXF's management API)
 * met it: the status the protocol expects, a message that names the problem (never a stack trace) and
 * the headers that go with it.
 *
 * @param status  the HTTP status
 * @param message the text for {@code {"error": ...}}
 * @param headers extra response headers ({@code Retry-After}, {@code WWW-Authenticate})
 */
record Failure(int status, String message, Map<String, String> headers) {
    private static final Logger LOG = LoggerFactory.getLogger(Failure.class);
    static final String CHALLENGE = "Basic realm=\"Enclave\", charset=\"UTF-8\"";

    Failure(int status, String message) {
        this(status, message, Map.of());
    }

    /** Maps an exception from the platform; anything unexpected is logged and answered as a bare 500. */
    static Failure of(Throwable e) {
        String message = e.getMessage() == null ? "error" : e.getMessage();
        if (e instanceof AuthenticationException a) {
            return a.retryAfterSeconds() > 0
                    ? new Failure(429, message, Map.of("Retry-After", Long.toString(a.retryAfterSeconds())))
                    : new Failure(401, message, Map.of("WWW-Authenticate", CHALLENGE));
        } else if (e instanceof AccessDeniedException) {
            return new Failure(403, message);
        } else if (e instanceof RequestTooLargeException) {
            // the rest of the body is never read: said up front, Jetty answers, then reads and drops what
            // is still on its way before closing. Keeping the connection instead, it would find the body
            // unread and reset it, and a client still sending (Java's HttpClient, say) would
            // see a broken pipe instead of this answer
            return new Failure(413, message, Map.of("Connection", "close"));
        } else if (e instanceof UnsupportedEncodingException) {
            // unread, like a body over the limit: see above
            return new Failure(415, message, Map.of("Accept-Encoding", Compression.ACCEPTED, "Connection", "close"));
        } else if (e instanceof InvalidInputException) {
            return new Failure(400, message);
        } else if (e instanceof ModelNotFoundException) {
            return new Failure(404, message);
        } else if (e instanceof OverloadedException o) {
            return new Failure(503, message, Map.of("Retry-After", Long.toString(o.retryAfterSeconds())));
        } else if (e instanceof ConflictException) {
            return new Failure(409, message);
        } else if (e instanceof ModelUnavailableException) {
            return new Failure(503, message);
        } else if (e instanceof InferenceException) {
            LOG.warn("inference failed: {}", message);
            return new Failure(500, message);
        }
        LOG.error("unexpected failure serving a request", e);
        return new Failure(500, "internal error");
    }

    /** The body is larger than the configured limit (HTTP 413). */
    static final class RequestTooLargeException extends InvalidInputException {
        private static final long serialVersionUID = 1L;

        RequestTooLargeException(long limit) {
            super("request body is larger than " + limit + " bytes");
        }
    }

    /** The body is compressed in a way the server does not read (HTTP 415). */
    static final class UnsupportedEncodingException extends InvalidInputException {
        private static final long serialVersionUID = 1L;

        UnsupportedEncodingException(String coding) {
            super("Content-Encoding '" + (coding.length() > 64 ? coding.substring(0, 64) + "..." : coding) + "' is not supported: send the body as gzip, deflate or identity");
        }
    }
}
