package io.enclave.models.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.ArtifactSource;
import io.enclave.api.BatchingSettings;
import io.enclave.api.DataType;
import io.enclave.api.EngineThreads;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.TensorSpec;

/**
 * Reads {@code model/model.json}: the signature, engine, artifact, pre/post-processing and labels
 * of a model version. Bounded: a descriptor is small, so anything large or deep is refused.
 */
final class ModelJson {
    static final int MAX_BYTES = 1 << 20;
    private static final Set<String> KNOWN = Set.of("name", "version", "engine", "platform", "artifact",
            "description", "inputs", "outputs", "labels", "fallback", "preprocessing", "postprocessing",
            "batching", "device", "sample", "timeoutMs", "faults", "canary", "shadow", "circuitBreaker", "threads");

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(16).maxStringLength(64 * 1024).maxNumberLength(32).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private ModelJson() {
    }

    /**
     * @throws IllegalArgumentException naming the field that is missing or wrong
     */
    static ModelDescriptor read(InputStream in, ModelHeader header, ArtifactSource source) throws IOException {
        byte[] bytes = in.readNBytes(MAX_BYTES + 1);
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("model.json is larger than " + MAX_BYTES + " bytes");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("model.json is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("model.json must hold a JSON object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!KNOWN.contains(f)) {
                throw new IllegalArgumentException("model.json has unknown field '" + f + "' (known: " + KNOWN + ")");
            }
        }
        String name = text(root, "name", header.name());
        if (!name.equals(header.name())) {
            throw new IllegalArgumentException("model.json names model '" + name + "' but the manifest says '"
                    + header.name() + "'");
        }
        String version = text(root, "version", header.version().toString());
        if (!org.osgi.framework.Version.parseVersion(version).equals(header.version())) {
            throw new IllegalArgumentException("model.json says version " + version + " but the manifest says "
                    + header.version());
        }
        String engine = text(root, "engine", header.engine());
        if (engine == null) {
            throw new IllegalArgumentException("no engine: set it in the manifest header or model.json");
        }
        if (header.engine() != null && !engine.equals(header.engine())) {
            throw new IllegalArgumentException("model.json says engine " + engine + " but the manifest says "
                    + header.engine());
        }
        ModelDescriptor.Builder b = ModelDescriptor.builder()
                .name(name)
                .version(header.version())
                .engine(engine)
                .platform(text(root, "platform", engine.equals("onnxruntime") ? "onnxruntime_onnx" : engine))
                .artifact(text(root, "artifact", "model.onnx"))
                .fallback(text(root, "fallback", null))
                .artifacts(source);
        for (TensorSpec t : tensors(root, "inputs")) {
            b.input(t);
        }
        for (TensorSpec t : tensors(root, "outputs")) {
            b.output(t);
        }
        JsonNode labels = root.get("labels");
        if (labels != null) {
            if (!labels.isArray()) {
                throw new IllegalArgumentException("labels must be an array of strings");
            }
            List<String> l = new ArrayList<>();
            labels.forEach(n -> l.add(n.asText()));
            b.labels(l);
        }
        b.preprocessing(object(root, "preprocessing"));
        b.postprocessing(object(root, "postprocessing"));
        Map<String, Object> props = new java.util.LinkedHashMap<>();
        checkServing(root, name);
        for (String f : List.of("description", "batching", "device", "sample", "timeoutMs", "faults", "canary", "shadow",
                "circuitBreaker", "threads")) {
            if (root.has(f)) {
                props.put(f, MAPPER.convertValue(root.get(f), Object.class));
            }
        }
        b.properties(props);
        return b.build();
    }

    /** The serving hints are checked here, so a typo fails the install instead of being ignored. */
    private static void checkServing(JsonNode root, String name) {
        JsonNode fallback = root.get("fallback");
        if (fallback != null && (!fallback.isTextual() || !ModelDescriptor.NAME.matcher(fallback.asText()).matches()
                || fallback.asText().equals(name))) {
            throw new IllegalArgumentException("model.json 'fallback' must name another model, not " + fallback);
        }
        JsonNode timeout = root.get("timeoutMs");
        if (timeout != null && (!timeout.isIntegralNumber() || !timeout.canConvertToLong() || timeout.asLong() < 1
                || timeout.asLong() > 600_000)) {
            throw new IllegalArgumentException("model.json 'timeoutMs' must be a whole number from 1 to 600000, not " + timeout);
        }
        keys(root, "faults", "errorRate", "latencyMs");
        range(root, "faults", "errorRate", 0, 1, false);
        range(root, "faults", "latencyMs", 0, 60_000, true);
        keys(root, "canary", "percent");
        range(root, "canary", "percent", 0, 100, false);
        keys(root, "shadow", "cosine", "relativeError");
        range(root, "shadow", "cosine", -1, 1, false);
        range(root, "shadow", "relativeError", 0, 1e6, false);
        keys(root, "circuitBreaker", "window", "minCalls", "failureRatePercent", "slowCallRatePercent", "slowCallMs", "openMs",
                "halfOpenCalls");
        for (String key : List.of("window", "minCalls", "slowCallMs", "openMs", "halfOpenCalls")) {
            range(root, "circuitBreaker", key, 1, 3_600_000, true);
        }
        range(root, "circuitBreaker", "failureRatePercent", 1, 100, false);
        range(root, "circuitBreaker", "slowCallRatePercent", 1, 100, false);
        try {
            EngineThreads.from(MAPPER.convertValue(root.get(EngineThreads.PROPERTY), Object.class));
            BatchingSettings.declared(MAPPER.convertValue(root.get(BatchingSettings.PROPERTY), Object.class));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model.json " + e.getMessage());
        }
    }

    /** An object's keys are those its reader knows: a typo is named, not ignored. */
    private static void keys(JsonNode root, String object, String... known) {
        JsonNode o = root.get(object);
        if (o == null) {
            return;
        }
        if (!o.isObject()) {
            throw new IllegalArgumentException("model.json field '" + object + "' must be an object");
        }
        for (Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!List.of(known).contains(name)) {
                throw new IllegalArgumentException("model.json '" + object + "' has unknown key '" + name + "' (known: "
                        + String.join(", ", known) + ")");
            }
        }
    }

    private static void range(JsonNode root, String object, String key, double min, double max, boolean whole) {
        JsonNode v = root.path(object).get(key);
        if (v != null && (!v.isNumber() || (whole && !v.isIntegralNumber()) || v.asDouble() < min || v.asDouble() > max)) {
            throw new IllegalArgumentException("model.json '" + object + "." + key + "' must be a " + (whole ? "whole " : "")
                    + "number from " + format(min) + " to " + format(max) + ", not " + v);
        }
    }

    private static String format(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static List<TensorSpec> tensors(JsonNode root, String field) {
        JsonNode list = root.get(field);
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new IllegalArgumentException("model.json needs a non-empty '" + field + "' array");
        }
        List<TensorSpec> specs = new ArrayList<>();
        for (JsonNode n : list) {
            String name = n.path("name").isTextual() ? n.get("name").asText() : "";
            if (name.isEmpty()) {
                throw new IllegalArgumentException(field + ": every tensor needs a name (a string)");
            }
            if (!n.path("datatype").isTextual()) {
                throw new IllegalArgumentException(field + ": tensor '" + name + "' needs a datatype (a string such as \"FP32\")");
            }
            DataType type = DataType.parse(n.get("datatype").asText());
            JsonNode shape = n.get("shape");
            if (shape == null || !shape.isArray()) {
                throw new IllegalArgumentException(field + ": tensor '" + name + "' needs a shape array");
            }
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                if (!shape.get(i).isIntegralNumber() || !shape.get(i).canConvertToLong()) {
                    throw new IllegalArgumentException(field + ": tensor '" + name + "' has a non-integer dimension");
                }
                dims[i] = shape.get(i).asLong();
            }
            specs.add(new TensorSpec(name, type, dims));
        }
        return specs;
    }

    private static String text(JsonNode root, String field, String fallback) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw new IllegalArgumentException("model.json field '" + field + "' must be a string");
        }
        return n.asText();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return Map.of();
        }
        if (!n.isObject()) {
            throw new IllegalArgumentException("model.json field '" + field + "' must be an object");
        }
        return MAPPER.convertValue(n, Map.class);
    }
}
