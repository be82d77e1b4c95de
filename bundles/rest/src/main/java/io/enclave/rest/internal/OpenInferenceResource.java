package io.enclave.rest.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.HttpHeaders;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import io.enclave.api.InferenceRequest;
import io.enclave.api.InferenceResponse;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.ModelVersion;
import io.enclave.api.Permission;
import io.enclave.api.Router;

/**
 * The Open Inference Protocol v2 REST endpoints, mounted at {@code /v2}. Decodes and encodes only;
 * routing and signature checks belong to the {@link Router}.
 */
@Path("")
@Produces(MediaType.APPLICATION_JSON)
public class OpenInferenceResource {
    static final String SERVER_NAME = "enclave";

    private final Router router;
    private final ModelRegistry registry;
    private final InferenceCodec codec;
    private final int maxRequestBytes;
    private final String serverVersion;

    OpenInferenceResource(Router router, ModelRegistry registry, InferenceCodec codec, int maxRequestBytes,
            String serverVersion) {
        this.router = router;
        this.registry = registry;
        this.codec = codec;
        this.maxRequestBytes = maxRequestBytes;
        this.serverVersion = serverVersion;
    }

    @GET
    @Guard(Permission.MODEL_READ)
    public Response server() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", SERVER_NAME);
        m.put("version", serverVersion);
        m.put("extensions", List.of());
        return ok(codec.object(m));
    }

    @GET
    @Path("health/live")
    @Open
    public Response live() {
        return ok(codec.object(Map.of("live", true)));
    }

    /**
     * 200 when every version that should take traffic is loaded and warmed (a canary still loading at
     * 0 % does not count); 4xx otherwise, as the protocol specifies. Open, for probes: says nothing else.
     */
    @GET
    @Path("health/ready")
    @Open
    public Response ready() {
        boolean ready = router.ready();
        return Response.status(ready ? 200 : 400).entity(codec.object(Map.of("ready", ready))).build();
    }

    @GET
    @Path("models/{model}")
    @Guard(Permission.MODEL_READ)
    public Response model(@PathParam("model") String model) {
        ModelVersion v;
        try {
            v = router.resolve(model, null);
        } catch (ModelUnavailableException notReady) {
            List<ModelVersion> all = registry.versions(model);
            v = all.get(all.size() - 1);
        }
        return ok(codec.modelMetadata(model, registry.versions(model), v.descriptor()));
    }

    @GET
    @Path("models/{model}/versions/{version}")
    @Guard(Permission.MODEL_READ)
    public Response model(@PathParam("model") String model, @PathParam("version") String version) {
        ModelVersion v = router.resolve(model, version);
        return ok(codec.modelMetadata(model, registry.versions(model), v.descriptor()));
    }

    @GET
    @Path("models/{model}/ready")
    @Guard(Permission.MODEL_READ)
    public Response modelReady(@PathParam("model") String model) {
        return readiness(model, null);
    }

    @GET
    @Path("models/{model}/versions/{version}/ready")
    @Guard(Permission.MODEL_READ)
    public Response modelReady(@PathParam("model") String model, @PathParam("version") String version) {
        return readiness(model, version);
    }

    private Response readiness(String model, String version) {
        boolean ready;
        try {
            ready = router.resolve(model, version).state() == ModelState.READY;
        } catch (ModelUnavailableException e) {
            ready = false;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", model);
        m.put("ready", ready);
        return Response.status(ready ? 200 : 400).entity(codec.object(m)).build();
    }

    @POST
    @Path("models/{model}/infer")
    @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    @Guard(Permission.MODEL_INFER)
    public Response infer(@PathParam("model") String model, @Context HttpHeaders headers, InputStream body)
            throws IOException {
        return infer(model, null, headers, body);
    }

    @POST
    @Path("models/{model}/versions/{version}/infer")
    @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    @Guard(Permission.MODEL_INFER)
    public Response infer(@PathParam("model") String model, @PathParam("version") String version,
            @Context HttpHeaders headers, InputStream body) throws IOException {
        // an unknown model is a 404 whatever the body says: check before reading it
        if (!router.serves(model)) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        InferenceCodec.Request decoded = codec.decode(read(body), headerLength(headers));
        // the policy's sticky header, when it has one, keeps this caller on one side of a canary split
        String routeKey = router.stickyHeader(model).map(headers::getHeaderString).orElse(null);
        InferenceResponse r = router.infer(new InferenceRequest(model, version, decoded.inputs(), decoded.outputs(),
                routeKey));
        InferenceCodec.Encoded answer = codec.response(r.model(), r.version().toString(), decoded, r.outputs(), r.fallback());
        if (answer.headerLength() < 0) {
            return ok(answer.body());
        }
        return Response.ok(answer.body(), MediaType.APPLICATION_OCTET_STREAM_TYPE)
                .header(BINARY_HEADER, answer.headerLength()).build();
    }

    /** The Open Inference Protocol's binary tensor extension: the JSON part's length. */
    static final String BINARY_HEADER = "Inference-Header-Content-Length";

    private static int headerLength(HttpHeaders headers) {
        String v = headers.getHeaderString(BINARY_HEADER);
        if (v == null || v.isBlank()) {
            return -1;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new InvalidInputException(BINARY_HEADER + " must be a non-negative integer, not '" + v + "'");
        }
    }

    private byte[] read(InputStream body) throws IOException {
        if (body == null) {
            throw new InvalidInputException("request body is empty");
        }
        byte[] bytes = body.readNBytes(maxRequestBytes + 1);
        if (bytes.length > maxRequestBytes) {
            throw new RequestTooLargeException(maxRequestBytes);
        }
        if (bytes.length == 0) {
            throw new InvalidInputException("request body is empty");
        }
        return bytes;
    }

    private static Response ok(byte[] json) {
        return Response.ok(json, MediaType.APPLICATION_JSON_TYPE).build();
    }

    /** The body is larger than the configured limit (HTTP 413). */
    static final class RequestTooLargeException extends InvalidInputException {
        private static final long serialVersionUID = 1L;

        RequestTooLargeException(int limit) {
            super("request body is larger than " + limit + " bytes");
        }
    }
}
