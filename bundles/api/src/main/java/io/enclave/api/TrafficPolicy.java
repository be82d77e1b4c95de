package io.enclave.api;

import java.util.Optional;

import org.osgi.framework.Version;

/**
 * How one model's unversioned requests are routed. Registered per model from ConfigAdmin
 * (factory PID {@code io.enclave.traffic}, e.g. {@code etc/io.enclave.traffic-minilm.cfg}).
 * Without a policy, requests go to the highest READY version.
 *
 * <p>Precedence: a version in the URL, then the pinned {@link #defaultVersion()}, then the sticky
 * key (the same key always lands on the same side of the split), then the weights: the canary gets
 * {@link #canaryPercent()} of requests, the stable version the rest.
 */
public interface TrafficPolicy {

    /** Factory PID of the configurations that produce policies. */
    String FACTORY_PID = "io.enclave.traffic";

    /** @return the model this policy governs */
    String model();

    /** @return the version that answers requests naming no version, when pinned (overrides the split) */
    Optional<Version> defaultVersion();

    /** @return the stable version; empty: the highest READY version that is not the canary */
    default Optional<Version> stableVersion() {
        return Optional.empty();
    }

    /** @return the canary version, if one takes a share of traffic */
    default Optional<Version> canaryVersion() {
        return Optional.empty();
    }

    /** @return the canary's share of unversioned requests, 0 to 100, in tenths at most */
    default double canaryPercent() {
        return 0;
    }

    /** @return the request header whose value pins a caller to one side of the split, if any */
    default Optional<String> stickyHeader() {
        return Optional.empty();
    }
}
