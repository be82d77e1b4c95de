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

    /**
     * @return the worker threads the version holds now, busy or waiting for work: at least its
     *         {@code minWorkers}, more while requests queue behind busy workers (up to {@code maxWorkers}),
     *         fewer again once they have been idle a minute; 0 for a version that is not installed
     */
    int workers(String model, Version version);

    /**
     * @return what the model's override names (a null component is left to each version's
     *         {@code model.json}), if it has one
     */
    Optional<BatchingOverride> override(String model);

    /**
     * Sets a model's override: what it names applies to every version, over the version's own
     * {@code model.json}, from its next batch on, and to versions installed later. It replaces the
     * model's earlier override; to change one setting and keep the others, lay the change
     * {@link BatchingOverride#over(BatchingOverride) over} the current {@link #override}. Null, or an
     * override that names nothing, goes back to each version's {@code model.json}.
     *
     * @throws ModelNotFoundException unknown model
     * @throws InvalidInputException  when it would put some version out of range (naming the version);
     *                                then nothing changes
     */
    void tune(String model, BatchingOverride override);
}
