package io.enclave.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The batching settings an operator names for a model, laid over each version's own (its
 * {@code model.json}). A null component is not named: every version keeps what it declares for it.
 * So {@code maxBatchSize = 16} alone changes the batch size of every version and nothing else.
 *
 * @param maxBatchSize        most rows run together, or null
 * @param maxQueueDelayMicros longest wait for more rows, or null
 * @param queueCapacity       requests that may wait, or null
 * @param minWorkers          workers kept even when idle, or null
 * @param maxWorkers          most workers, or null
 * @param deadlineMillis      how long a request may wait before it is refused, or null
 * @param priorityLevels      how many priority levels the queue keeps apart (0: none), or null
 * @param defaultPriorityLevel the level of a request that names none, or null. Where
 *                            {@code priorityLevels} is named and this is not, the version's own default
 *                            level is kept if it is one of the new levels, else the middle level applies
 * @param maxPaddingRatio     how far apart in length texts may share a batch (0: any), or null
 * @see BatchingSettings for what each setting does and its range
 */
public record BatchingOverride(Integer maxBatchSize, Long maxQueueDelayMicros, Integer queueCapacity, Integer minWorkers,
        Integer maxWorkers, Long deadlineMillis, Integer priorityLevels, Integer defaultPriorityLevel,
        Integer maxPaddingRatio) {

    /** The settings' names in a configuration file ({@code etc/io.enclave.batching-<model>.cfg}), in component order. */
    public static final List<String> KEYS = List.of("maxBatchSize", "maxQueueDelayMicros", "queueCapacity", "minWorkers",
            "maxWorkers", "deadlineMs", "priorityLevels", "defaultPriorityLevel", "maxPaddingRatio");

    /** An override that leaves the priority levels as each version has them. */
    public BatchingOverride(Integer maxBatchSize, Long maxQueueDelayMicros, Integer queueCapacity, Integer minWorkers,
            Integer maxWorkers, Long deadlineMillis) {
        this(maxBatchSize, maxQueueDelayMicros, queueCapacity, minWorkers, maxWorkers, deadlineMillis, null, null, null);
    }

    /** An override that leaves the grouping by length as each version has it. */
    public BatchingOverride(Integer maxBatchSize, Long maxQueueDelayMicros, Integer queueCapacity, Integer minWorkers,
            Integer maxWorkers, Long deadlineMillis, Integer priorityLevels, Integer defaultPriorityLevel) {
        this(maxBatchSize, maxQueueDelayMicros, queueCapacity, minWorkers, maxWorkers, deadlineMillis, priorityLevels,
                defaultPriorityLevel, null);
    }

    /** @return an override that names every setting, as {@code settings} has it */
    public static BatchingOverride of(BatchingSettings settings) {
        return new BatchingOverride(settings.maxBatchSize(), settings.maxQueueDelayMicros(), settings.queueCapacity(),
                settings.minWorkers(), settings.maxWorkers(), settings.deadlineMillis(), settings.priorityLevels(),
                settings.defaultPriorityLevel(), settings.maxPaddingRatio());
    }

    /** @return true when it names no setting */
    public boolean isEmpty() {
        return named().isEmpty();
    }

    /**
     * @return what this names, and for the rest what {@code earlier} names (null: nothing): a change
     *         that keeps an earlier override's other settings
     */
    public BatchingOverride over(BatchingOverride earlier) {
        if (earlier == null) {
            return this;
        }
        Integer defaultLevel = or(defaultPriorityLevel, earlier.defaultPriorityLevel);
        if (defaultPriorityLevel == null && priorityLevels != null && defaultLevel != null && defaultLevel > priorityLevels) {
            // fewer levels than the default named before: the default goes with the levels it was one of
            defaultLevel = null;
        }
        return new BatchingOverride(or(maxBatchSize, earlier.maxBatchSize), or(maxQueueDelayMicros, earlier.maxQueueDelayMicros),
                or(queueCapacity, earlier.queueCapacity), or(minWorkers, earlier.minWorkers), or(maxWorkers, earlier.maxWorkers),
                or(deadlineMillis, earlier.deadlineMillis), or(priorityLevels, earlier.priorityLevels), defaultLevel,
                or(maxPaddingRatio, earlier.maxPaddingRatio));
    }

    /**
     * The settings a version runs with under this override. A minimum of workers named above the
     * version's own maximum (and no maximum named) raises the maximum with it.
     *
     * @param version the version's own settings
     * @throws InvalidInputException naming the setting the result would put out of range
     */
    public BatchingSettings over(BatchingSettings version) {
        int min = or(minWorkers, version.minWorkers());
        int max = maxWorkers != null ? maxWorkers : Math.max(version.maxWorkers(), min);
        int levels = or(priorityLevels, version.priorityLevels());
        int defaultLevel = defaultPriorityLevel != null ? defaultPriorityLevel
                : version.defaultPriorityLevel() <= levels ? version.defaultPriorityLevel() : 0;
        return new BatchingSettings(or(maxBatchSize, version.maxBatchSize()), or(maxQueueDelayMicros, version.maxQueueDelayMicros()),
                or(queueCapacity, version.queueCapacity()), min, max, or(deadlineMillis, version.deadlineMillis()),
                levels, defaultLevel, or(maxPaddingRatio, version.maxPaddingRatio()));
    }

    /** @return the names of the settings this names, as a configuration file spells them */
    public List<String> names() {
        return List.copyOf(named().keySet());
    }

    /** @return the settings this names, by their names in a configuration file, in component order */
    public Map<String, Object> named() {
        Object[] values = {maxBatchSize, maxQueueDelayMicros, queueCapacity, minWorkers, maxWorkers, deadlineMillis,
            priorityLevels, defaultPriorityLevel, maxPaddingRatio};
        Map<String, Object> named = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                named.put(KEYS.get(i), values[i]);
            }
        }
        return Collections.unmodifiableMap(named);
    }

    /** @return the named settings as {@code name=value}, comma-separated; "nothing" when none */
    @Override
    public String toString() {
        String named = named().toString();
        return named.length() == 2 ? "nothing" : named.substring(1, named.length() - 1);
    }

    private static <T> T or(T named, T otherwise) {
        return named != null ? named : otherwise;
    }
}
