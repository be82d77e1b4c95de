package io.enclave.rest.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.PUT;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.framework.Version;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.BatchingControl;
import io.enclave.api.BatchingOverride;
import io.enclave.api.InferenceStats;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDeployer;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;
import io.enclave.api.Permission;
import io.enclave.api.Router;
import io.enclave.api.Slo;
import io.enclave.api.EngineThreads;
import io.enclave.api.TokenCounts;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;
import io.enclave.api.VersionStats;

/**
 * Model versions and their traffic over the management API: {@code /enclave/v1/models}. Reading
 * needs {@code model:read}; every change needs {@code model:manage} and goes through
 * {@link TrafficControl}, the same code the shell uses.
 */
@Path("models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {
    private static final int MAX_BODY = 64 * 1024;
    private static final Set<String> TRAFFIC_FIELDS = Set.of("stable", "canary", "shadow", "pinned", "stickyHeader", "slo");
    private static final Set<String> CANARY_FIELDS = Set.of("version", "percent");
    private static final Set<String> BATCHING_FIELDS = Set.copyOf(BatchingOverride.KEYS);
    private static final Set<String> SLO_FIELDS = Set.of("maxErrorRate", "maxP99Ms", "minAgreement", "minRequests",
            "windowSeconds", "autoPromote");
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).maxStringLength(4096).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    private final ModelRegistry registry;
    private final Router router;
    private final TrafficControl traffic;
    private final InferenceStats stats;
    private final InferenceCodec codec;
    private final ModelDeployer deployer;
    private final BatchingControl batching;

    ModelResource(ModelRegistry registry, Router router, TrafficControl traffic, InferenceStats stats, InferenceCodec codec,
            ModelDeployer deployer, BatchingControl batching) {
        this.deployer = deployer;
        this.batching = batching;
        this.registry = registry;
        this.router = router;
        this.traffic = traffic;
        this.stats = stats;
        this.codec = codec;
    }

    @GET
    @Guard(Permission.MODEL_READ)
    public Response list() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String m : router.models()) {
            out.add(view(m));
        }
        return ok(Map.of("models", out));
    }

    /**
     * Deploys an uploaded model: a model bundle jar, or a zip with model.json and the model file at its
     * root. It arrives with no traffic. 201 with where it landed; 400 when it is not a model or does
     * not load; 409 when that name and version is installed. Any content type: the bytes say what it is.
     */
    @POST
    @Guard(Permission.MODEL_MANAGE)
    public Response deploy(InputStream body) {
        if (deployer == null) {
            throw new ModelUnavailableException("model deployment is not installed");
        }
        if (body == null) {
            throw new InvalidInputException("send the model bundle jar or zip as the request body");
        }
        ModelDeployer.Deployment d = deployer.deploy(body);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.model());
        m.put("version", d.version().toString());
        m.put("bundleId", d.bundleId());
        m.put("state", d.state().name());
        return Response.status(201).type(MediaType.APPLICATION_JSON_TYPE)
                .header("Location", "/enclave/v1/models/" + d.model()).entity(codec.object(m)).build();
    }

    /** Removes one version; its requests in flight finish first. */
    @DELETE
    @Path("{model}/versions/{version}")
    @Guard(Permission.MODEL_MANAGE)
    public Response undeploy(@PathParam("model") String model, @PathParam("version") String version) {
        known(model);
        if (deployer == null) {
            throw new ModelUnavailableException("model deployment is not installed");
        }
        Version v;
        try {
            v = Version.parseVersion(version);
        } catch (IllegalArgumentException e) {
            throw new ModelNotFoundException("model '" + model + "' has no version '" + version + "'");
        }
        deployer.undeploy(model, v);
        return Response.noContent().build();
    }

    @GET
    @Path("{model}")
    @Guard(Permission.MODEL_READ)
    public Response get(@PathParam("model") String model) {
        known(model);
        return ok(view(model));
    }

    /**
     * The model's traffic rules in the shape {@code PUT} takes them, so a client can read them, change one
     * field and put them back: fields not in force are null, and {@code slo} is left out when none applies.
     */
    @GET
    @Path("{model}/traffic")
    @Guard(Permission.MODEL_READ)
    public Response getTraffic(@PathParam("model") String model) {
        known(model);
        return ok(rules(traffic.rules(model)));
    }

    /**
     * Replaces the model's traffic rules: {@code {"stable": "1.0.0", "canary": {"version": "1.1.0",
     * "percent": 10}, "shadow": null, "pinned": null, "stickyHeader": "Enclave-Route-Key", "slo":
     * {...}}}. Fields left out are cleared.
     */
    @PUT
    @Path("{model}/traffic")
    @Guard(Permission.MODEL_MANAGE)
    public Response putTraffic(@PathParam("model") String model, InputStream body) throws IOException {
        JsonNode n = change(model, body, TRAFFIC_FIELDS, "traffic");
        TrafficRules.Builder b = TrafficRules.none(model).toBuilder()
                .stable(version(n, "stable")).shadow(version(n, "shadow")).pinned(version(n, "pinned"));
        JsonNode canary = n.get("canary");
        if (canary != null && !canary.isNull()) {
            fields(canary, CANARY_FIELDS, "canary");
            Version v = version(canary, "version");
            if (v == null || !canary.path("percent").isNumber()) {
                throw new InvalidInputException("canary needs a 'version' and a numeric 'percent'");
            }
            b.canary(v, canary.get("percent").asDouble());
        }
        JsonNode sticky = n.get("stickyHeader");
        if (sticky != null && !sticky.isNull()) {
            if (!sticky.isTextual()) {
                throw new InvalidInputException("stickyHeader must be a header name");
            }
            b.stickyHeader(sticky.asText());
        }
        JsonNode slo = n.get("slo");
        if (slo != null && !slo.isNull()) {
            fields(slo, SLO_FIELDS, "slo");
            Integer minRequests = integer(slo, "slo", "minRequests");
            Integer window = integer(slo, "slo", "windowSeconds");
            b.slo(new Slo(num(slo, "maxErrorRate", Double.NaN), num(slo, "maxP99Ms", Double.NaN),
                    num(slo, "minAgreement", Double.NaN), minRequests == null ? Slo.NONE.minRequests() : minRequests,
                    window == null ? Slo.NONE.windowSeconds() : window, InferenceCodec.flag(slo.path("autoPromote"), "slo 'autoPromote'")));
        }
        traffic.set(b.build());
        return ok(view(model));
    }

    /**
     * The model's batching override in the shape {@code PUT} takes it: only the settings it names, and
     * {@code {}} when every version follows its {@code model.json}. What each version runs with is in
     * {@link #get}'s {@code versions[].batching}.
     */
    @GET
    @Path("{model}/batching")
    @Guard(Permission.MODEL_READ)
    public Response getBatching(@PathParam("model") String model) {
        known(model);
        return ok(batching.override(model).map(BatchingOverride::named).orElse(Map.of()));
    }

    /**
     * Replaces the model's batching override, live, for every version from its next batch on:
     * {@code {"maxBatchSize": 16, "maxWorkers": 2}}. A setting left out follows each version's
     * {@code model.json}; {@code {}} goes back to {@code model.json} for all. Stored as
     * {@code model:tune} stores it, and audited.
     */
    @PUT
    @Path("{model}/batching")
    @Guard(Permission.MODEL_MANAGE)
    public Response putBatching(@PathParam("model") String model, InputStream body) throws IOException {
        JsonNode n = change(model, body, BATCHING_FIELDS, "batching");
        BatchingOverride o = new BatchingOverride(integer(n, "batching", "maxBatchSize"),
                whole(n, "batching", "maxQueueDelayMicros"), integer(n, "batching", "queueCapacity"),
                integer(n, "batching", "minWorkers"), integer(n, "batching", "maxWorkers"), whole(n, "batching", "deadlineMs"),
                integer(n, "batching", "priorityLevels"), integer(n, "batching", "defaultPriorityLevel"),
                integer(n, "batching", "maxPaddingRatio"));
        batching.tune(model, o.isEmpty() ? null : o);
        return ok(view(model));
    }

    @POST
    @Path("{model}/promote")
    @Guard(Permission.MODEL_MANAGE)
    public Response promote(@PathParam("model") String model) {
        known(model);
        traffic.promote(model);
        return ok(view(model));
    }

    /** Optional body {@code {"reason": "..."}}. */
    @POST
    @Path("{model}/rollback")
    @Guard(Permission.MODEL_MANAGE)
    public Response rollback(@PathParam("model") String model, InputStream body) throws IOException {
        known(model);
        JsonNode n = body(body, false);
        String reason = null;
        if (n != null) {
            fields(n, Set.of("reason"), "rollback");
            reason = n.path("reason").isTextual() ? n.get("reason").asText() : null;
        }
        traffic.rollback(model, reason);
        return ok(view(model));
    }

    /** A change's body: a JSON object with only {@code known} fields, for a model that is installed. */
    private JsonNode change(String model, InputStream body, Set<String> known, String what) throws IOException {
        known(model);
        JsonNode n = body(body, true);
        fields(n, known, what);
        return n;
    }

    private void known(String model) {
        if (registry.versions(model).isEmpty()) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
    }

    Map<String, Object> view(String model) {
        TrafficRules r = traffic.rules(model);
        Map<Version, Double> weights = router.weights(model);
        List<Map<String, Object>> versions = new ArrayList<>();
        for (ModelVersion v : registry.versions(model)) {
            Version ver = v.descriptor().version();
            VersionStats s = stats.stats(model, ver);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("version", ver.toString());
            m.put("state", v.state().name());
            m.put("role", role(r, ver));
            m.put("weight", weights.getOrDefault(ver, 0.0));
            m.put("device", v.device());
            if (v.failure() != null) {
                m.put("failure", v.failure());
            }
            m.put("requests", s.requests());
            m.put("errors", s.errors());
            m.put("fallbacks", s.fallbacks());
            m.put("p50Ms", finite(s.p50Millis()));
            m.put("p99Ms", finite(s.p99Millis()));
            m.put("meanBatch", finite(s.windowMeanBatch()));
            TokenCounts tokens = v.tokenCounts();
            if (tokens != null) {
                Map<String, Object> tk = new LinkedHashMap<>();
                tk.put("computed", tokens.tokens());
                tk.put("padding", tokens.padding());
                tk.put("paddingShare", finite(tokens.paddingShare()));
                m.put("tokens", tk);
            }
            EngineThreads threads = v.threads();
            if (threads != null) {
                Map<String, Object> th = new LinkedHashMap<>();
                th.put("intraOp", threads.intraOp());
                th.put("interOp", threads.interOp());
                th.put("spinning", threads.spinning());
                m.put("engineThreads", th);
            }
            m.put("queued", batching.queued(model, ver));
            m.put("running", batching.running(model, ver));
            m.put("workerThreads", batching.workers(model, ver));
            try {
                m.put("batching", BatchingOverride.of(batching.settings(model, ver)).named());
            } catch (ModelNotFoundException removedMeanwhile) {
                // the version went between the listing and this look: it is listed without settings
            }
            if (s.shadowCompared() > 0 || s.shadowDropped() > 0) {
                Map<String, Object> sh = new LinkedHashMap<>();
                sh.put("compared", s.shadowCompared());
                sh.put("agreed", s.shadowAgreed());
                sh.put("dropped", s.shadowDropped());
                sh.put("agreement", finite(s.shadowAgreement()));
                m.put("shadow", sh);
            }
            versions.add(m);
        }
        Map<String, Object> t = rules(r);
        t.put("previous", str(r.previous()));
        if (r.rolledBack() != null) {
            t.put("rolledBack", Map.of("version", r.rolledBack().toString(), "reason", String.valueOf(r.rolledBackReason())));
        }
        t.put("revision", r.revision());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", model);
        out.put("versions", versions);
        out.put("traffic", t);
        out.put("batchingOverride", batching.override(model).map(BatchingOverride::named).orElse(Map.of()));
        return out;
    }

    /** The rules as {@link #putTraffic} takes them. */
    private static Map<String, Object> rules(TrafficRules r) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("stable", str(r.stable()));
        Map<String, Object> canary = null;
        if (r.canary() != null) {
            canary = new LinkedHashMap<>();
            canary.put("version", r.canary().toString());
            canary.put("percent", r.canaryPercent());
        }
        t.put("canary", canary);
        t.put("shadow", str(r.shadow()));
        t.put("pinned", str(r.pinned()));
        t.put("stickyHeader", r.stickyHeader());
        if (r.slo().active()) {
            Map<String, Object> slo = new LinkedHashMap<>();
            slo.put("maxErrorRate", finite(r.slo().maxErrorRate()));
            slo.put("maxP99Ms", finite(r.slo().maxP99Millis()));
            slo.put("minAgreement", finite(r.slo().minAgreement()));
            slo.put("minRequests", r.slo().minRequests());
            slo.put("windowSeconds", r.slo().windowSeconds());
            slo.put("autoPromote", r.slo().autoPromote());
            t.put("slo", slo);
        }
        return t;
    }

    /** What a version is to its model's traffic, for people reading a listing. */
    static String role(TrafficRules r, Version v) {
        String role = r.role(v);
        return role == null ? "-" : role;
    }

    private static Object finite(double d) {
        return Double.isNaN(d) ? null : d;
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static JsonNode body(InputStream body, boolean required) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.readNBytes(MAX_BODY + 1);
        if (bytes.length > MAX_BODY) {
            throw new InvalidInputException("body is larger than " + MAX_BODY + " bytes");
        }
        if (bytes.length == 0) {
            if (required) {
                throw new InvalidInputException("body must be a JSON object");
            }
            return null;
        }
        JsonNode n;
        try {
            n = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new InvalidInputException("body is not valid JSON");
        }
        if (n == null || !n.isObject()) {
            throw new InvalidInputException("body must be a JSON object");
        }
        return n;
    }

    private static void fields(JsonNode n, Set<String> known, String what) {
        if (!n.isObject()) {
            throw new InvalidInputException(what + " must be a JSON object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!known.contains(f)) {
                throw new InvalidInputException(what + " has unknown field '" + f + "' (known: " + new java.util.TreeSet<>(known) + ")");
            }
        }
    }

    private static Version version(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new InvalidInputException("'" + field + "' must be a version string");
        }
        try {
            return Version.parseVersion(v.asText());
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("'" + field + "' is not a version: " + v.asText());
        }
    }

    /** A whole number in {@code what} (the object's name in messages), or null where it is left out. */
    private static Long whole(JsonNode n, String what, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new InvalidInputException(what + " '" + field + "' must be a whole number, not " + v);
        }
        return v.longValue();
    }

    private static Integer integer(JsonNode n, String what, String field) {
        Long l = whole(n, what, field);
        if (l != null && (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE)) {
            throw new InvalidInputException(what + " '" + field + "' is out of range: " + l);
        }
        return l == null ? null : l.intValue();
    }

    private static double num(JsonNode n, String field, double otherwise) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isNumber()) {
            throw new InvalidInputException("slo '" + field + "' must be a number");
        }
        return v.asDouble();
    }

    private Response ok(Map<String, ?> body) {
        return Response.ok(codec.object(body), MediaType.APPLICATION_JSON_TYPE).build();
    }
}
