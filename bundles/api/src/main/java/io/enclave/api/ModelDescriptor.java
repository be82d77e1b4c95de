package io.enclave.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

import org.osgi.framework.Version;

/**
 * One model version as declared by whoever installed it (a model bundle's {@code model.json}).
 *
 * <p>Registered as an OSGi service in the context of the bundle that carries the model, so the
 * version lives exactly as long as that bundle is active. Service properties {@link #PROP_NAME},
 * {@link #PROP_VERSION} and {@link #PROP_ENGINE} repeat the identity for filters. Immutable.
 */
public final class ModelDescriptor {

    /** Service property: the model name. */
    public static final String PROP_NAME = "enclave.model.name";
    /** Service property: the model version, as a string. */
    public static final String PROP_VERSION = "enclave.model.version";
    /** Service property: the engine name the model needs. */
    public static final String PROP_ENGINE = "enclave.model.engine";

    /** What a model name must look like: an identifier, never a path. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private final String name;
    private final Version version;
    private final String engine;
    private final String platform;
    private final String artifact;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final List<String> labels;
    private final String fallback;
    private final Map<String, Object> preprocessing;
    private final Map<String, Object> postprocessing;
    private final Map<String, Object> properties;
    private final ArtifactSource artifacts;

    private ModelDescriptor(Builder b) {
        if (b.name == null || !NAME.matcher(b.name).matches()) {
            throw new IllegalArgumentException("model name '" + b.name + "' is not an identifier matching " + NAME);
        }
        this.name = b.name;
        this.version = Objects.requireNonNull(b.version, "version");
        this.engine = requireText(b.engine, "engine");
        this.platform = b.platform == null ? engine : b.platform;
        this.artifact = requireText(b.artifact, "artifact");
        if (b.inputs.isEmpty()) {
            throw new IllegalArgumentException("model " + name + " declares no inputs");
        }
        if (b.outputs.isEmpty()) {
            throw new IllegalArgumentException("model " + name + " declares no outputs");
        }
        this.inputs = List.copyOf(b.inputs);
        this.outputs = List.copyOf(b.outputs);
        this.labels = List.copyOf(b.labels);
        this.fallback = b.fallback;
        this.preprocessing = Collections.unmodifiableMap(new LinkedHashMap<>(b.preprocessing));
        this.postprocessing = Collections.unmodifiableMap(new LinkedHashMap<>(b.postprocessing));
        this.properties = Collections.unmodifiableMap(new LinkedHashMap<>(b.properties));
        this.artifacts = Objects.requireNonNull(b.artifacts, "artifacts");
    }

    private static String requireText(String s, String what) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(what + " is missing");
        }
        return s;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the model name, an identifier matching {@link #NAME} */
    public String name() {
        return name;
    }

    /** @return the model version */
    public Version version() {
        return version;
    }

    /** @return {@code name:version}, the key used in logs and maps */
    public String id() {
        return name + ":" + version;
    }

    /** @return the engine that runs it, e.g. {@code onnxruntime} */
    public String engine() {
        return engine;
    }

    /** @return the protocol's platform string, e.g. {@code onnxruntime_onnx} */
    public String platform() {
        return platform;
    }

    /** @return the entry in {@link #artifacts()} that holds the model graph, e.g. {@code model.onnx} */
    public String artifact() {
        return artifact;
    }

    /** @return the inputs clients send, in declaration order */
    public List<TensorSpec> inputs() {
        return inputs;
    }

    /** @return the outputs clients receive, in declaration order */
    public List<TensorSpec> outputs() {
        return outputs;
    }

    /** @return class labels for classifiers; empty otherwise */
    public List<String> labels() {
        return labels;
    }

    /** @return the name of a lighter model that answers when this one cannot, or null */
    public String fallback() {
        return fallback;
    }

    /** @return engine-specific pre-processing settings (e.g. a tokenizer); may be empty */
    public Map<String, Object> preprocessing() {
        return preprocessing;
    }

    /** @return engine-specific post-processing settings (e.g. pooling); may be empty */
    public Map<String, Object> postprocessing() {
        return postprocessing;
    }

    /** @return further declared settings (batching hints, descriptions); may be empty */
    public Map<String, Object> properties() {
        return properties;
    }

    /** @return where the model's files are read from */
    public ArtifactSource artifacts() {
        return artifacts;
    }

    /** @return the declared input with that name, or null */
    public TensorSpec input(String inputName) {
        for (TensorSpec t : inputs) {
            if (t.name().equals(inputName)) {
                return t;
            }
        }
        return null;
    }

    /** @return the declared output with that name, or null */
    public TensorSpec output(String outputName) {
        for (TensorSpec t : outputs) {
            if (t.name().equals(outputName)) {
                return t;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "model " + name + " " + version + " (" + engine + ")";
    }

    /** Builds a {@link ModelDescriptor}; not thread-safe. */
    public static final class Builder {
        private String name;
        private Version version;
        private String engine;
        private String platform;
        private String artifact;
        private final List<TensorSpec> inputs = new ArrayList<>();
        private final List<TensorSpec> outputs = new ArrayList<>();
        private final List<String> labels = new ArrayList<>();
        private String fallback;
        private final Map<String, Object> preprocessing = new LinkedHashMap<>();
        private final Map<String, Object> postprocessing = new LinkedHashMap<>();
        private final Map<String, Object> properties = new LinkedHashMap<>();
        private ArtifactSource artifacts;

        private Builder() {
        }

        public Builder name(String value) {
            this.name = value;
            return this;
        }

        public Builder version(Version value) {
            this.version = value;
            return this;
        }

        public Builder engine(String value) {
            this.engine = value;
            return this;
        }

        public Builder platform(String value) {
            this.platform = value;
            return this;
        }

        public Builder artifact(String value) {
            this.artifact = value;
            return this;
        }

        public Builder input(TensorSpec value) {
            this.inputs.add(value);
            return this;
        }

        public Builder output(TensorSpec value) {
            this.outputs.add(value);
            return this;
        }

        public Builder labels(List<String> value) {
            this.labels.addAll(value);
            return this;
        }

        public Builder fallback(String value) {
            this.fallback = value;
            return this;
        }

        public Builder preprocessing(Map<String, Object> value) {
            this.preprocessing.putAll(value);
            return this;
        }

        public Builder postprocessing(Map<String, Object> value) {
            this.postprocessing.putAll(value);
            return this;
        }

        public Builder properties(Map<String, Object> value) {
            this.properties.putAll(value);
            return this;
        }

        public Builder artifacts(ArtifactSource value) {
            this.artifacts = value;
            return this;
        }

        /**
         * @return the descriptor
         * @throws IllegalArgumentException naming the first missing or invalid field
         */
        public ModelDescriptor build() {
            return new ModelDescriptor(this);
        }
    }
}
