package io.enclave.api;

import java.util.List;

/**
 * A model version as the registry holds it: what was declared, where it runs and in what state.
 * Thread-safe.
 */
public interface ModelVersion {

    /** @return the declaration */
    ModelDescriptor descriptor();

    /** @return the current state */
    ModelState state();

    /** @return why it is FAILED or still LOADING, or null */
    String failure();

    /** @return the engine name it runs on (declared), e.g. {@code onnxruntime} */
    default String engine() {
        return descriptor().engine();
    }

    /** @return the device it is loaded on, or null until loaded */
    String device();

    /**
     * Runs the model.
     *
     * @param inputs inputs already validated against the signature
     * @return every declared output
     * @throws ModelUnavailableException when the version is not READY
     */
    List<NamedTensor> infer(List<NamedTensor> inputs);

    /**
     * Runs the model for a request that reached Enclave at {@code arrivedNanos}: a version with a
     * request deadline counts it from then, so time spent before the call (in the transport, waiting
     * for a thread) is not forgotten.
     *
     * @param inputs       inputs already validated against the signature
     * @param arrivedNanos {@link System#nanoTime()} when the request arrived
     * @return every declared output
     * @throws ModelUnavailableException when the version is not READY
     */
    default List<NamedTensor> infer(List<NamedTensor> inputs, long arrivedNanos) {
        return infer(inputs);
    }
}
