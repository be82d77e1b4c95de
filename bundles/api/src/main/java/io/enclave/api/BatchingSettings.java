package io.enclave.api;

/**
 * How one model version batches: requests queue, a worker takes up to {@code maxBatchSize} rows at
 * once and waits at most {@code maxQueueDelayMicros} for more only while more are already on their
 * way; an idle version runs a lone request at once, on the caller's thread. Workers grow from
 * {@code minWorkers} to {@code maxWorkers} while every worker computes and requests wait, and shrink
 * when idle; at most {@code maxWorkers} computations run at once. A full queue refuses at once.
 *
 * <p>With {@code priorityLevels} above 0, a request's priority (Triton's schedule-policy extension) picks
 * its place in the queue: level 1 is taken first, then 2, and so on; requests of one level keep their
 * order of arrival. A request that names no priority (0), or one above {@code priorityLevels}, gets
 * {@code defaultPriorityLevel}. With {@code priorityLevels} 0 (the default) every request waits in order of
 * arrival, whatever it names. The deadline still applies to every level: a request that waits behind
 * more urgent ones past it is refused, not kept forever.
 *
 * <p>Text is padded to the longest row of its batch, so one long sentence in a batch of short ones makes
 * every row cost as much as the long one. With {@code maxPaddingRatio} above 0 a batch's longest text is
 * at most that many times the longest text of each request in it, so padding makes no request cost more
 * than that many times what it would cost in a batch of its own. Lengths are counted in UTF-8 bytes,
 * at least {@link #MIN_PADDED_LENGTH} (tokenizers count roughly in proportion, and a short text's cost
 * is mostly the model's fixed share per row). A request left out leads a later batch: the next worker
 * takes it first. Requests without text all count alike, and join whatever their tensors' sizes allow.
 *
 * @param maxBatchSize        most rows run together; 1 turns batching off
 * @param maxQueueDelayMicros longest wait for more rows once a batch has started to form
 * @param queueCapacity       requests that may wait; more get 503 with Retry-After
 * @param minWorkers          workers kept even when idle
 * @param maxWorkers          most workers
 * @param deadlineMillis      a request still queued after this long is refused before it runs
 * @param priorityLevels      how many priority levels the queue keeps apart, 0 to {@link #MAX_PRIORITY_LEVELS};
 *                            0 for one queue in order of arrival
 * @param defaultPriorityLevel the level of a request that names none, 1 to {@code priorityLevels}; 0 (given
 *                            with levels) means the middle level, rounded towards the less urgent:
 *                            {@code priorityLevels / 2 + 1}. So with 2 levels a request that names none is at
 *                            2, behind those that name 1; with 3 it is at 2, between urgent and bulk callers
 * @param maxPaddingRatio     how many times the longest text of each of its requests a batch's longest text may
 *                            be, 0 to {@link #MAX_PADDING_RATIO}: 1 batches only equal lengths, the default
 *                            {@value #DEFAULT_PADDING_RATIO} lets a 60-byte sentence and a 110-byte one share a
 *                            batch but not a 60-byte one and a 600-byte one, 0 pads every length into one batch
 */
public record BatchingSettings(int maxBatchSize, long maxQueueDelayMicros, int queueCapacity, int minWorkers,
        int maxWorkers, long deadlineMillis, int priorityLevels, int defaultPriorityLevel, int maxPaddingRatio) {

    /** The most priority levels a version may keep apart. */
    public static final int MAX_PRIORITY_LEVELS = 100;

    /** The highest {@code maxPaddingRatio}. */
    public static final int MAX_PADDING_RATIO = 100;

    /** The {@code maxPaddingRatio} a version has unless it names one. */
    public static final int DEFAULT_PADDING_RATIO = 2;

    /** A text shorter than this many bytes counts as this long when batches are grouped by length. */
    public static final int MIN_PADDED_LENGTH = 32;

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
        if (priorityLevels < 0 || priorityLevels > MAX_PRIORITY_LEVELS) {
            throw new InvalidInputException("priority levels must be 0 to " + MAX_PRIORITY_LEVELS + ", not " + priorityLevels);
        }
        if (priorityLevels == 0 && defaultPriorityLevel != 0) {
            throw new InvalidInputException("a default priority level (" + defaultPriorityLevel + ") needs priority levels: "
                    + "with 0 levels every request waits in order of arrival");
        }
        if (defaultPriorityLevel < 0 || defaultPriorityLevel > priorityLevels) {
            throw new InvalidInputException("default priority level must be 1 to " + priorityLevels + " (the priority levels), not "
                    + defaultPriorityLevel);
        }
        if (maxPaddingRatio < 0 || maxPaddingRatio > MAX_PADDING_RATIO) {
            throw new InvalidInputException("max padding ratio must be 0 to " + MAX_PADDING_RATIO + " (0 pads every length "
                    + "into one batch), not " + maxPaddingRatio);
        }
        if (priorityLevels > 0 && defaultPriorityLevel == 0) {
            defaultPriorityLevel = Math.min(priorityLevels, priorityLevels / 2 + 1);
        }
    }

    /** Settings that keep one queue, in order of arrival (no priority levels). */
    public BatchingSettings(int maxBatchSize, long maxQueueDelayMicros, int queueCapacity, int minWorkers, int maxWorkers,
            long deadlineMillis) {
        this(maxBatchSize, maxQueueDelayMicros, queueCapacity, minWorkers, maxWorkers, deadlineMillis, 0, 0);
    }

    /** Settings with priority levels, and batches grouped by length as by default. */
    public BatchingSettings(int maxBatchSize, long maxQueueDelayMicros, int queueCapacity, int minWorkers, int maxWorkers,
            long deadlineMillis, int priorityLevels, int defaultPriorityLevel) {
        this(maxBatchSize, maxQueueDelayMicros, queueCapacity, minWorkers, maxWorkers, deadlineMillis, priorityLevels,
                defaultPriorityLevel, DEFAULT_PADDING_RATIO);
    }

    /**
     * Whether a request may join a batch under {@code maxPaddingRatio}: every text is padded to the
     * batch's longest.
     *
     * @param shortest the shortest of the batch's requests' longest texts, in bytes (0 without text)
     * @param longest  the batch's longest text, in bytes (0 without text)
     * @param length   the request's longest text, in bytes (0 without text)
     * @return true when the batch's longest text stays within {@code maxPaddingRatio} times every request's own
     * @since 2.6
     */
    public boolean fits(int shortest, int longest, int length) {
        if (maxPaddingRatio == 0) {
            return true;
        }
        long low = Math.max(Math.min(shortest, length), MIN_PADDED_LENGTH);
        long high = Math.max(Math.max(longest, length), MIN_PADDED_LENGTH);
        return high <= (long) maxPaddingRatio * low;
    }

    /**
     * The level a request waits at under these settings, as Triton places it.
     *
     * @param priority what the request names: 0 for none, 1 the most urgent
     * @return 0 when there are no levels; else {@code priority} when it is 1 to {@code priorityLevels},
     *         and {@code defaultPriorityLevel} otherwise
     * @since 2.5
     */
    public int level(long priority) {
        if (priorityLevels == 0) {
            return 0;
        }
        return priority >= 1 && priority <= priorityLevels ? (int) priority : defaultPriorityLevel;
    }

    /** One request at a time per worker, as many workers as cores. */
    public static BatchingSettings defaults() {
        int cores = Runtime.getRuntime().availableProcessors();
        return new BatchingSettings(1, 0, 1024, 1, Math.max(1, cores), 30_000, 0, 0, DEFAULT_PADDING_RATIO);
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
                    whole(m, "deadlineMs", def.deadlineMillis()), (int) whole(m, "priorityLevels", 0),
                    (int) whole(m, "defaultPriorityLevel", 0), (int) whole(m, "maxPaddingRatio", def.maxPaddingRatio()));
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
