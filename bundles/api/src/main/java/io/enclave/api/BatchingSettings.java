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

    /** A model descriptor's property that declares its batching (model.json's {@code "batching"}). */
    public static final String PROPERTY = "batching";

    /**
     * A model's declared batching over {@link #defaults()}, as JSON gives it: an object of whole numbers
     * named as {@link BatchingOverride#KEYS} (the delay also as {@code maxQueueDelayMs}, which may have a
     * fraction). A {@code minWorkers} above the default {@code maxWorkers} raises it, unless
     * {@code maxWorkers} is declared too.
     *
     * @param value the property's value; null declares nothing
     * @throws IllegalArgumentException naming the key or value that is wrong, so that a typo fails the
     *                                  model's install instead of being ignored
     * @since 2.4
     */
    public static BatchingSettings declared(Object value) {
        BatchingSettings def = defaults();
        if (value == null) {
            return def;
        }
        if (!(value instanceof java.util.Map<?, ?> m)) {
            throw new IllegalArgumentException("'batching' must be an object, not " + value);
        }
        for (Object k : m.keySet()) {
            if (!BatchingOverride.KEYS.contains(String.valueOf(k)) && !"maxQueueDelayMs".equals(k)) {
                throw new IllegalArgumentException("'batching' has unknown key '" + k + "' (known: " + BatchingOverride.KEYS
                        + ", and maxQueueDelayMs)");
            }
        }
        long delay;
        Object ms = m.get("maxQueueDelayMs");
        if (ms != null) {
            if (m.containsKey("maxQueueDelayMicros")) {
                throw new IllegalArgumentException("'batching' takes maxQueueDelayMicros or maxQueueDelayMs, not both");
            }
            if (!(ms instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 1_000)) {
                throw new IllegalArgumentException("'batching.maxQueueDelayMs' must be a number from 0 to 1000, not " + ms);
            }
            delay = Math.round(n.doubleValue() * 1000);
        } else {
            delay = whole(m, "maxQueueDelayMicros", def.maxQueueDelayMicros());
        }
        int minWorkers = (int) whole(m, "minWorkers", def.minWorkers());
        int maxWorkers = m.containsKey("maxWorkers") ? (int) whole(m, "maxWorkers", 0) : Math.max(minWorkers, def.maxWorkers());
        try {
            return new BatchingSettings((int) whole(m, "maxBatchSize", def.maxBatchSize()), delay,
                    (int) whole(m, "queueCapacity", def.queueCapacity()), minWorkers, maxWorkers,
                    whole(m, "deadlineMs", def.deadlineMillis()));
        } catch (InvalidInputException e) {
            throw new IllegalArgumentException("'batching': " + e.getMessage(), e);
        }
    }

    /** A whole number that fits an int, or {@code otherwise} where it is left out. */
    private static long whole(java.util.Map<?, ?> m, String key, long otherwise) {
        Object v = m.get(key);
        if (v == null) {
            return otherwise;
        }
        if (!(v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof java.math.BigInteger)) {
            throw new IllegalArgumentException("'batching." + key + "' must be a whole number, not " + v);
        }
        java.math.BigInteger big = v instanceof java.math.BigInteger b ? b : java.math.BigInteger.valueOf(((Number) v).longValue());
        if (big.bitLength() > 31) {
            throw new IllegalArgumentException("'batching." + key + "' is out of range: " + v);
        }
        return big.longValue();
    }
}
