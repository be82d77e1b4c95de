package io.enclave.models.internal;

import org.osgi.framework.Version;

import io.enclave.api.ModelDescriptor;

/**
 * The {@code Enclave-Model} manifest header: {@code minilm;version=1.1.0;engine=onnxruntime}.
 *
 * @param name    the model name
 * @param version the model version (defaults to the bundle version when absent)
 * @param engine  the engine, or null to take it from model.json
 */
record ModelHeader(String name, Version version, String engine) {
    static final String NAME = "Enclave-Model";
    private static final int MAX_LENGTH = 1024;

    /**
     * @throws IllegalArgumentException naming what is wrong with the header
     */
    static ModelHeader parse(String header, Version bundleVersion) {
        if (header == null || header.isBlank()) {
            throw new IllegalArgumentException(NAME + " header is empty");
        }
        if (header.length() > MAX_LENGTH) {
            throw new IllegalArgumentException(NAME + " header is longer than " + MAX_LENGTH + " characters");
        }
        String[] parts = header.split(";");
        String name = parts[0].trim();
        if (!ModelDescriptor.NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(NAME + " names '" + name + "', which is not a model name ("
                    + ModelDescriptor.NAME + ")");
        }
        Version version = bundleVersion;
        String engine = null;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(NAME + " attribute '" + p + "' is not key=value");
            }
            String key = p.substring(0, eq).trim();
            String value = unquote(p.substring(eq + 1).trim());
            switch (key) {
                case "version" -> {
                    try {
                        version = Version.parseVersion(value);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(NAME + " version '" + value + "' is not a version");
                    }
                }
                case "engine" -> engine = value;
                default -> throw new IllegalArgumentException(NAME + " attribute '" + key + "' is unknown "
                        + "(known: version, engine)");
            }
        }
        return new ModelHeader(name, version, engine);
    }

    private static String unquote(String v) {
        return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
    }
}
