package io.enclave.rest.internal;

import java.util.Map;

import javax.ws.rs.WebApplicationException;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.ext.ExceptionMapper;

/**
 * Every failure of the CXF-served management API leaves as {@code {"error": "..."}} with the status
 * {@link Failure} gives it: the client's mistakes as 4xx with a message that names them, never a stack trace.
 */
final class ErrorMapper implements ExceptionMapper<Throwable> {
    private final InferenceCodec codec;

    ErrorMapper(InferenceCodec codec) {
        this.codec = codec;
    }

    @Override
    public Response toResponse(Throwable e) {
        Failure f;
        if (e instanceof WebApplicationException w) {
            int status = w.getResponse().getStatus();
            f = new Failure(status, switch (status) {
                case 404 -> "no such endpoint";
                case 405 -> "method not allowed on this endpoint";
                case 406 -> "this endpoint answers application/json only";
                case 415 -> "unsupported content type";
                default -> w.getResponse().getStatusInfo().getReasonPhrase();
            });
        } else {
            f = Failure.of(e);
        }
        Response.ResponseBuilder r = Response.status(f.status()).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(codec.error(f.message()));
        for (Map.Entry<String, String> h : f.headers().entrySet()) {
            r.header(h.getKey(), h.getValue());
        }
        return r.build();
    }
}
