package io.enclave.api;

import java.util.Optional;

import org.osgi.framework.Version;

/**
 * How one model's unversioned requests are routed. Registered per model from ConfigAdmin
 * (factory PID {@code io.enclave.traffic}, e.g. {@code etc/io.enclave.traffic-minilm.cfg}).
 * Without a policy, requests go to the highest READY version.
 */
public interface TrafficPolicy {

    /** Factory PID of the configurations that produce policies. */
    String FACTORY_PID = "io.enclave.traffic";

    /** @return the model this policy governs */
    String model();

    /** @return the version that answers requests naming no version, when pinned */
    Optional<Version> defaultVersion();
}
