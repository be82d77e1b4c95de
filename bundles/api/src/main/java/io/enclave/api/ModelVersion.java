package io.enclave.api;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

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
     * For a text model: the tokens its batches have computed since it last loaded, and how many of them
     * only padded a shorter text to the batch's longest.
     *
     * @return the counts, or null while it is not loaded or when it has no text to pad (this default)
     */
    default TokenCounts tokenCounts() {
        return null;
    }

    /**
     * The threads its engine runs each call with, as resolved when it loaded (every component named).
     *
     * @return them, or null while it is not loaded or when its engine does not say (this default)
     * @since 2.8
     */
    default EngineThreads threads() {
        return null;
    }

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

    /**
     * Like {@link #infer(List, long)}, without holding the caller's thread while the request waits for
     * its batch. The stage fails with the exceptions {@link #infer(List, long)} throws, and completes on
     * the thread that computed the batch (or at once, when the call ran on the caller's thread).
     *
     * @param inputs       inputs already validated against the signature
     * @param arrivedNanos {@link System#nanoTime()} when the request arrived
     * @return every declared output
     */
    default CompletionStage<List<NamedTensor>> inferAsync(List<NamedTensor> inputs, long arrivedNanos) {
        try {
            return CompletableFuture.completedFuture(infer(inputs, arrivedNanos));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Like {@link #inferAsync(List, long)}, for a caller that also set a timeout of its own: the request
     * must start computing within the shorter of it and the version's deadline, or it is refused with an
     * {@link OverloadedException} and nothing runs. A version without a queue (this default) starts every
     * request at once, so it has nothing to refuse.
     *
     * @param inputs       inputs already validated against the signature
     * @param arrivedNanos {@link System#nanoTime()} when the request arrived
     * @param timeoutNanos the caller's limit, counted from {@code arrivedNanos}; 0 for none
     * @return every declared output
     */
    default CompletionStage<List<NamedTensor>> inferAsync(List<NamedTensor> inputs, long arrivedNanos,
            long timeoutNanos) {
        return inferAsync(inputs, arrivedNanos);
    }

    /**
     * Like {@link #inferAsync(List, long, long)}, for a caller that also named a priority: a version that
     * keeps {@link BatchingSettings#priorityLevels() priority levels} queues it at its level. A version
     * without a queue (this default) has nothing to order, and ignores it.
     *
     * @param inputs       inputs already validated against the signature
     * @param arrivedNanos {@link System#nanoTime()} when the request arrived
     * @param timeoutNanos the caller's limit, counted from {@code arrivedNanos}; 0 for none
     * @param priority     1 the most urgent, 2 the next, ...; 0 for none
     * @return every declared output
     * @since 2.5
     */
    default CompletionStage<List<NamedTensor>> inferAsync(List<NamedTensor> inputs, long arrivedNanos,
            long timeoutNanos, long priority) {
        return inferAsync(inputs, arrivedNanos, timeoutNanos);
    }
}
