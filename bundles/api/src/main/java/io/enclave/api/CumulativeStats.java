package io.enclave.api;

import java.util.List;

/**
 * What one model version has done since it was first installed, summed, in the shape of Triton's statistics
 * extension: sums and counts that a client samples twice to get the averages between the samples. Requests that
 * were the caller's mistake (input that does not fit) are not counted.
 *
 * @param lastInferenceMillis when the last request ended, milliseconds since the epoch; 0 before any
 * @param inferenceCount      rows of the successful requests (a request of 3 texts counts 3)
 * @param executionCount      engine calls that answered them: with batching, one call answers several requests
 * @param success             answered requests, and their time from arrival at the server to the answer
 * @param fail                requests the version failed or refused (a full queue, a deadline, an open circuit)
 * @param queue               answered requests, and their time from arrival to the start of their batch
 * @param computeInput        answered requests, and the time their batches took to join the requests' inputs
 * @param computeInfer        answered requests, and the time their batches spent in the engine (which includes
 *                            the engine's own preparation, such as tokenizing text)
 * @param computeOutput       answered requests, and the time their batches took to split the outputs by request
 * @param batches             per batch size in rows, how many engine calls had it and how long their stages took;
 *                            sorted by size
 */
public record CumulativeStats(long lastInferenceMillis, long inferenceCount, long executionCount, Timed success,
        Timed fail, Timed queue, Timed computeInput, Timed computeInfer, Timed computeOutput, List<Batch> batches) {

    /** Nothing recorded. */
    public static final CumulativeStats EMPTY = new CumulativeStats(0, 0, 0, Timed.NONE, Timed.NONE, Timed.NONE, Timed.NONE,
            Timed.NONE, Timed.NONE, List.of());

    public CumulativeStats {
        batches = List.copyOf(batches);
    }

    /**
     * A count and the time summed over it.
     *
     * @param count how many times it happened
     * @param nanos their summed duration in nanoseconds
     */
    public record Timed(long count, long nanos) {
        /** Never happened. */
        public static final Timed NONE = new Timed(0, 0);
    }

    /**
     * Engine calls of one batch size.
     *
     * @param rows          the batch size in rows
     * @param computeInput  how many calls had this size, and the time they took to join their requests' inputs
     * @param computeInfer  the same calls, and their time in the engine
     * @param computeOutput the same calls, and the time they took to split their outputs
     */
    public record Batch(int rows, Timed computeInput, Timed computeInfer, Timed computeOutput) {
    }
}
