package io.enclave.rest.internal;

import javax.ws.rs.WebApplicationException;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.ext.ExceptionMapper;

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
 * Every failure leaves as {@code {"error": "..."}} with the status the protocol expects: the
 * client's mistakes as 4xx with a message that names them, never a stack trace.
 */
final class ErrorMapper implements ExceptionMapper<Throwable> {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapper.class);

    private final InferenceCodec codec;

    ErrorMapper(InferenceCodec codec) {
        this.codec = codec;
    }

    @Override
    public Response toResponse(Throwable e) {
        int status;
        String message = e.getMessage();
        if (e instanceof AuthenticationException a) {
            Response.ResponseBuilder r = Response.status(a.retryAfterSeconds() > 0 ? 429 : 401)
                    .type(MediaType.APPLICATION_JSON_TYPE).entity(codec.error(message));
            if (a.retryAfterSeconds() > 0) {
                r.header("Retry-After", a.retryAfterSeconds());
            } else {
                r.header("WWW-Authenticate", "Basic realm=\"Enclave\", charset=\"UTF-8\"");
            }
            return r.build();
        } else if (e instanceof AccessDeniedException) {
            status = 403;
        } else if (e instanceof OpenInferenceResource.RequestTooLargeException) {
            status = 413;
        } else if (e instanceof InvalidInputException) {
            status = 400;
        } else if (e instanceof ModelNotFoundException) {
            status = 404;
        } else if (e instanceof OverloadedException o) {
            return Response.status(503).type(MediaType.APPLICATION_JSON_TYPE).header("Retry-After", o.retryAfterSeconds())
                    .entity(codec.error(message)).build();
        } else if (e instanceof ConflictException) {
            status = 409;
        } else if (e instanceof ModelUnavailableException) {
            status = 503;
        } else if (e instanceof InferenceException) {
            status = 500;
            LOG.warn("inference failed: {}", message);
        } else if (e instanceof WebApplicationException w) {
            status = w.getResponse().getStatus();
            message = switch (status) {
                case 404 -> "no such endpoint";
                case 405 -> "method not allowed on this endpoint";
                case 406 -> "this endpoint answers application/json only";
                case 415 -> "unsupported content type";
                default -> w.getResponse().getStatusInfo().getReasonPhrase();
            };
        } else {
            status = 500;
            message = "internal error";
            LOG.error("unexpected failure serving a request", e);
        }
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(codec.error(message == null ? "error" : message)).build();
    }
}
