package io.enclave.api;

/**
 * How one model version batches: requests queue, a worker takes up to {@code maxBatchSize} rows at
 * once and waits at most {@code maxQueueDelayMicros} for more only while more are already on their
 * way; an idle version runs a lone request at once, on the caller's thread. Workers grow from
 * {@code minWorkers} to {@code maxWorkers} while every worker computes and requests wait, and shrink
 * when idle; at most {@code maxWorkers} computations run at once. A full queue refuses at once.
 *
 * @param maxBatchSize        most rows run together; 1 turns batching off
 * @param maxQueueDelayMicros longest wait for more rows once a batch has started to form
 * @param queueCapacity       requests that may wait; more get 503 with Retry-After
 * @param minWorkers          workers kept even when idle
 * @param maxWorkers          most workers
 * @param deadlineMillis      a request still queued after this long is refused before it runs
 */
public record BatchingSettings(int maxBatchSize, long maxQueueDelayMicros, int queueCapacity, int minWorkers,
        int maxWorkers, long deadlineMillis) {

    /** @throws InvalidInputException naming the setting that is out of range */
    public BatchingSettings {
        if (maxBatchSize < 1 || maxBatchSize > 4096) {
            throw new InvalidInputException("max batch size must be 1 to 4096, not " + maxBatchSize);
        }
        if (maxQueueDelayMicros < 0 || maxQueueDelayMicros > 1_000_000) {
            throw new InvalidInputException("max queue delay must be 0 to 1000000 µs, not " + maxQueueDelayMicros);
        }
        if (queueCapacity < 1 || queueCapacity > 1_000_000) {
            throw new InvalidInputException("queue capacity must be 1 to 1000000, not " + queueCapacity);
        }
        if (minWorkers < 1 || maxWorkers < minWorkers || maxWorkers > 256) {
            throw new InvalidInputException("workers must be 1 <= min <= max <= 256, not " + minWorkers + ".." + maxWorkers);
        }
        if (deadlineMillis < 1 || deadlineMillis > 3_600_000) {
            throw new InvalidInputException("deadline must be 1 to 3600000 ms, not " + deadlineMillis);
        }
    }

    /** One request at a time per worker, as many workers as cores. */
    public static BatchingSettings defaults() {
        int cores = Runtime.getRuntime().availableProcessors();
        return new BatchingSettings(1, 0, 1024, 1, Math.max(1, cores), 30_000);
    }
}
