package io.enclave.rest.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.ApiKeys;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.Permission;

/** API keys for machine clients, admin only: {@code /enclave/v1/apikeys}. */
@Path("apikeys")
@Produces(MediaType.APPLICATION_JSON)
public class ApiKeyResource {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ApiKeys keys;
    private final InferenceCodec codec;

    ApiKeyResource(ApiKeys keys, InferenceCodec codec) {
        this.keys = keys;
        this.codec = codec;
    }

    private static Map<String, Object> view(ApiKeys.Key k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", k.id());
        m.put("name", k.name());
        m.put("roles", new java.util.TreeSet<>(k.roles()));
        m.put("created", k.created().toString());
        return m;
    }

    @GET
    @Guard(Permission.USER_MANAGE)
    public Response list() {
        List<Map<String, Object>> out = new ArrayList<>();
        keys.list().forEach(k -> out.add(view(k)));
        return Response.ok(codec.object(Map.of("keys", out)), MediaType.APPLICATION_JSON_TYPE).build();
    }

    /** Body {@code {"name": "erp", "roles": ["analyst"]}}; the answer holds the token, shown this once. */
    @POST
    @Guard(Permission.USER_MANAGE)
    public Response create(InputStream body) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.readNBytes(64 * 1024 + 1);
        if (bytes.length == 0 || bytes.length > 64 * 1024) {
            throw new InvalidInputException("body must be {\"name\": ..., \"roles\": [...]} (at most 64 KiB)");
        }
        JsonNode n;
        try {
            n = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new InvalidInputException("body is not valid JSON");
        }
        if (n == null || !n.path("name").isTextual() || !n.path("roles").isArray()) {
            throw new InvalidInputException("body must be {\"name\": ..., \"roles\": [...]}");
        }
        Set<String> roles = new HashSet<>();
        n.get("roles").forEach(r -> roles.add(r.asText()));
        ApiKeys.Created c;
        try {
            c = keys.create(n.get("name").asText(), roles);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(e.getMessage());
        }
        Map<String, Object> m = view(c.key());
        m.put("token", c.token());
        return Response.status(201).type(MediaType.APPLICATION_JSON_TYPE).entity(codec.object(m)).build();
    }

    @DELETE
    @Path("{id}")
    @Guard(Permission.USER_MANAGE)
    public Response revoke(@PathParam("id") String id) {
        try {
            keys.revoke(id);
        } catch (IllegalArgumentException e) {
            throw new ModelNotFoundException(e.getMessage());
        }
        return Response.noContent().build();
    }
}
