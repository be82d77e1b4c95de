package io.enclave.rest.internal;

import java.io.IOException;
import java.io.InputStream;

import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Response;

import io.enclave.api.Permission;

/**
 * The management API's OpenAPI 3 description, {@code /enclave/v1/openapi.yaml}: written by hand and
 * checked into the bundle, so it says what the API promises rather than what a scanner guessed.
 */
@Path("openapi.yaml")
public class OpenApiResource {
    private static final String TYPE = "application/yaml";

    @GET
    @Produces(TYPE)
    @Guard(Permission.MODEL_READ)
    public Response spec() throws IOException {
        try (InputStream in = OpenApiResource.class.getResourceAsStream("/openapi/enclave-management.yaml")) {
            if (in == null) {
                return Response.status(404).build();
            }
            return Response.ok(in.readAllBytes(), TYPE).build();
        }
    }
}
