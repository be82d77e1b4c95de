package io.enclave.core.internal;

import java.util.Map;
import java.util.Optional;

import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.enclave.api.AuditLog;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.TrafficPolicy;

/**
 * A traffic policy per model from ConfigAdmin: one factory configuration per model, e.g.
 * {@code etc/io.enclave.traffic-minilm.cfg}. Changes apply to the next request.
 */
@Component(configurationPid = TrafficPolicy.FACTORY_PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ConfiguredTrafficPolicy.Config.class, factory = true)
public class ConfiguredTrafficPolicy implements TrafficPolicy {
    private static final String FILE_PREFIX = TrafficPolicy.FACTORY_PID + "-";

    @ObjectClassDefinition(name = "Enclave traffic policy", description = "How one model's requests are routed")
    public @interface Config {
        @AttributeDefinition(description = "Model name; defaults to the part of the file name after "
                + "'io.enclave.traffic-'")
        String model() default "";

        @AttributeDefinition(name = "version.default", description = "Version that answers every request naming no "
                + "version (a pin: overrides the split); empty for none")
        String version_default() default "";

        @AttributeDefinition(name = "version.stable", description = "Stable version; empty: the highest ready version "
                + "that is not the canary")
        String version_stable() default "";

        @AttributeDefinition(name = "canary.version", description = "Canary version; empty for none")
        String canary_version() default "";

        @AttributeDefinition(name = "canary.percent", description = "Canary's share of unversioned requests, 0 to 100, "
                + "whole or tenths")
        String canary_percent() default "0";

        @AttributeDefinition(name = "sticky.header", description = "Request header whose value keeps a caller on one "
                + "side of the split, e.g. Enclave-Route-Key; empty for none")
        String sticky_header() default "";
    }

    /** Mandatory: a model version does not come or go unrecorded. Null only in unit tests. */
    @Reference
    private volatile AuditLog audit;

    private volatile String model;
    private volatile Optional<Version> defaultVersion = Optional.empty();
    private volatile Optional<Version> stable = Optional.empty();
    private volatile Optional<Version> canary = Optional.empty();
    private volatile double percent;
    private volatile Optional<String> sticky = Optional.empty();

    @Activate
    @Modified
    void configure(Config config, Map<String, Object> properties) {
        String name = config.model().isBlank() ? fromFileName(properties.get("felix.fileinstall.filename")) : config.model().trim();
        if (name == null || !ModelDescriptor.NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("traffic policy needs a valid 'model' property, got '" + name + "'");
        }
        Optional<Version> version = version(name, "version.default", config.version_default());
        Optional<Version> stableVersion = version(name, "version.stable", config.version_stable());
        Optional<Version> canaryVersion = version(name, "canary.version", config.canary_version());
        double share;
        try {
            share = Double.parseDouble(config.canary_percent().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("traffic policy for " + name + ": canary.percent '" + config.canary_percent()
                    + "' is not a number");
        }
        if (!(share >= 0 && share <= 100) || Math.abs(share * 10 - Math.rint(share * 10)) > 1e-9) {
            throw new IllegalArgumentException("traffic policy for " + name + ": canary.percent must be 0 to 100, "
                    + "whole or tenths, not " + config.canary_percent());
        }
        if (canaryVersion.isPresent() && canaryVersion.equals(stableVersion)) {
            throw new IllegalArgumentException("traffic policy for " + name + ": the canary cannot be the stable version");
        }
        String header = config.sticky_header().trim();
        if (!header.isEmpty() && !header.matches("[A-Za-z0-9-]{1,64}")) {
            throw new IllegalArgumentException("traffic policy for " + name + ": sticky.header '" + header
                    + "' is not a header name");
        }
        this.defaultVersion = version;
        this.stable = stableVersion;
        this.canary = canaryVersion;
        this.percent = share;
        this.sticky = header.isEmpty() ? Optional.empty() : Optional.of(header);
        this.model = name;
        AuditLog a = audit;
        if (a != null) {
            a.append(new AuditLog.Event(null, null, "traffic.change", name, "success",
                    "version.default=" + version.map(Version::toString).orElse("-") + " version.stable="
                            + stableVersion.map(Version::toString).orElse("-") + " canary=" + canaryVersion.map(Version::toString)
                            .orElse("-") + " " + share + "% sticky.header=" + sticky.orElse("-")));
        }
    }

    private static Optional<Version> version(String model, String key, String value) {
        String v = value == null ? "" : value.trim();
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Version.parseVersion(v));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("traffic policy for " + model + ": " + key + " '" + v + "' is not a version", e);
        }
    }

    static String fromFileName(Object file) {
        if (file == null) {
            return null;
        }
        String f = file.toString();
        int slash = f.lastIndexOf('/');
        f = f.substring(slash + 1);
        if (!f.startsWith(FILE_PREFIX) || !f.endsWith(".cfg")) {
            return null;
        }
        return f.substring(FILE_PREFIX.length(), f.length() - ".cfg".length());
    }

    @Override
    public String model() {
        return model;
    }

    @Override
    public Optional<Version> defaultVersion() {
        return defaultVersion;
    }

    @Override
    public Optional<Version> stableVersion() {
        return stable;
    }

    @Override
    public Optional<Version> canaryVersion() {
        return canary;
    }

    @Override
    public double canaryPercent() {
        return percent;
    }

    @Override
    public Optional<String> stickyHeader() {
        return sticky;
    }

    @Override
    public String toString() {
        return "traffic policy " + model + defaultVersion.map(v -> " default " + v).orElse("");
    }
}
