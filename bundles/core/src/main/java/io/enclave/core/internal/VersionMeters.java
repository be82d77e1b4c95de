package io.enclave.core.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Component;

import io.enclave.api.CumulativeStats;
import io.enclave.api.InferenceStats;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.VersionStats;

/**
 * Every version's {@link VersionMeter}, by model and version, so figures outlive a reinstall of the
 * same version. Its own component, so the router that records and the traffic manager that reads
 * do not depend on each other.
 */
@Component(service = {InferenceStats.class, VersionMeters.class})
public class VersionMeters implements InferenceStats {
    private final Map<String, VersionMeter> meters = new ConcurrentHashMap<>();

    VersionMeter meter(ModelDescriptor d) {
        return meters.computeIfAbsent(d.id(), k -> new VersionMeter());
    }

    @Override
    public VersionStats stats(String model, Version version, int windowSeconds) {
        VersionMeter m = meters.get(model + ":" + version);
        return m == null ? VersionStats.EMPTY : m.snapshot(windowSeconds);
    }

    @Override
    public CumulativeStats cumulative(String model, Version version) {
        VersionMeter m = meters.get(model + ":" + version);
        return m == null ? CumulativeStats.EMPTY : m.cumulative();
    }
}
