package io.enclave.api;

import java.util.List;
import java.util.Optional;

import org.osgi.framework.Version;

/**
 * The live set of model versions: every installed {@link ModelDescriptor}, loaded on a matching
 * {@link InferenceEngine}. Thread-safe; lists are snapshots.
 */
public interface ModelRegistry {

    /** @return every version of every model, sorted by name then version */
    List<ModelVersion> versions();

    /** @return every version of one model, oldest first; empty when none is installed */
    List<ModelVersion> versions(String model);

    /** @return one version, if installed */
    Optional<ModelVersion> find(String model, Version version);

    /** @return whether every installed version is READY (and at least one is installed) */
    boolean allReady();
}
