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

    /**
     * For a model that pads the texts of a batch to a common length: the tokens its calls have computed
     * since it loaded, and how many of them were padding.
     *
     * @return the counts so far, or null for a model that has no text to pad (this default)
     */
    default TokenCounts tokenCounts() {
        return null;
    }

    /**
     * The threads the engine runs this model's calls with, as it resolved them when loading: the count
     * each call may use, the operators run side by side, and whether its threads spin.
     *
     * @return them, or null when the engine does not say (this default)
     * @since 2.8
     */
    default EngineThreads threads() {
        return null;
    }

    /** Frees native memory. Further {@link #infer} calls fail. */
    @Override
    void close();
}
