package io.enclave.api;

import java.util.Optional;

import org.osgi.framework.Version;

/**
 * Batching and worker settings per model, live. A model's {@code model.json} {@code "batching"}
 * gives the defaults; an override here applies to every version of the model from its next batch
 * on, is stored through ConfigAdmin (factory PID {@link #FACTORY_PID}, e.g.
 * {@code etc/io.enclave.batching-minilm.cfg}) and is recorded in the audit log.
 */
public interface BatchingControl {

    /** Factory PID of the configurations that hold overrides. */
    String FACTORY_PID = "io.enclave.batching";

    /**
     * @return the settings a version runs with now
     * @throws ModelNotFoundException unknown model or version
     */
    BatchingSettings settings(String model, Version version);

    /**
     * @return how many requests the version has admitted that do not run on its engine yet (they wait
     *         for a worker or for their batch); 0 for a version that is not installed
     */
    int queued(String model, Version version);

    /**
     * @return how many engine calls (batches, or lone requests on their caller's thread) the version runs
     *         now; 0 for a version that is not installed
     */
    int running(String model, Version version);

    /** @return the override for a model, if any */
    Optional<BatchingSettings> override(String model);

    /**
     * Overrides a model's settings (null: back to each version's model.json).
     *
     * @throws ModelNotFoundException unknown model
     */
    void tune(String model, BatchingSettings settings);
}
