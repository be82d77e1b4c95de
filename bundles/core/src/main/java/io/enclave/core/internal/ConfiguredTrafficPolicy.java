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

        @AttributeDefinition(name = "version.default", description = "Version that answers requests naming no "
                + "version; empty for the highest ready version")
        String version_default() default "";
    }

    /** Mandatory: a model version does not come or go unrecorded. Null only in unit tests. */
    @Reference
    private volatile AuditLog audit;

    private volatile String model;
    private volatile Optional<Version> defaultVersion = Optional.empty();

    @Activate
    @Modified
    void configure(Config config, Map<String, Object> properties) {
        String name = config.model().isBlank() ? fromFileName(properties.get("felix.fileinstall.filename")) : config.model().trim();
        if (name == null || !ModelDescriptor.NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("traffic policy needs a valid 'model' property, got '" + name + "'");
        }
        String pinned = config.version_default().trim();
        Optional<Version> version;
        try {
            version = pinned.isEmpty() ? Optional.empty() : Optional.of(Version.parseVersion(pinned));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("traffic policy for " + name + ": version.default '" + pinned
                    + "' is not a version", e);
        }
        this.defaultVersion = version;
        this.model = name;
        AuditLog a = audit;
        if (a != null) {
            a.append(new AuditLog.Event(null, null, "traffic.change", name, "success",
                    "version.default=" + version.map(Version::toString).orElse("(highest ready)")));
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
    public String toString() {
        return "traffic policy " + model + defaultVersion.map(v -> " default " + v).orElse("");
    }
}
