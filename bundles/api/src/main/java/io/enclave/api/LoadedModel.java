package io.enclave.api;

import java.util.List;

/**
 * A model version held by an engine, ready to run. Thread-safe: concurrent {@link #infer} calls
 * are allowed.
 */
public interface LoadedModel extends AutoCloseable {

    /**
     * Runs the model on a batch. Inputs have already been checked against the descriptor's
     * signature (names, types, ranks and fixed dimensions).
     *
     * @param inputs one tensor per declared input
     * @return every declared output
     * @throws InvalidInputException when the values themselves are unusable (e.g. text that is
     *                               not UTF-8)
     * @throws InferenceException    when the engine fails
     */
    List<NamedTensor> infer(List<NamedTensor> inputs);

    /** Frees native memory. Further {@link #infer} calls fail. */
    @Override
    void close();
}
