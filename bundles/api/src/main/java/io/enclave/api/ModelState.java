package io.enclave.api;

/** The life of one model version inside Enclave. */
public enum ModelState {
    /** Installed; its engine is loading it (or the engine it needs is not there yet). */
    LOADING,
    /** Loaded and able to answer. */
    READY,
    /** Loading failed; {@link ModelVersion#failure()} says why. It takes no traffic. */
    FAILED,
    /** Being removed: finishes the requests it has, takes no new ones. */
    DRAINING
}
