package io.enclave.api;

import java.util.List;
import java.util.Map;

/**
 * The engine threads one model version asks for in its {@code model.json} ({@code "threads"}), in place
 * of the engine's own settings, as Triton's ONNX Runtime backend takes thread counts from a model's
 * configuration. A null component is not named: the engine's setting stays.
 *
 * @param intraOp  threads one call may use, 0 to {@value #MAX} (0: the engine decides), or null
 * @param interOp  threads that run independent operators side by side, 1 to {@value #MAX}, or null
 * @param spinning whether the intra-op threads spin between operators, or null
 */
public record EngineThreads(Integer intraOp, Integer interOp, Boolean spinning) {
    /** The {@code model.json} field, and so the descriptor property, that holds them. */
    public static final String PROPERTY = "threads";
    /** The keys that field may hold. */
    public static final List<String> KEYS = List.of("intraOp", "interOp", "spinning");
    /** Most threads a version may ask for. */
    public static final int MAX = 256;

    /** Names nothing: the engine's settings apply. */
    public static final EngineThreads NONE = new EngineThreads(null, null, null);

    /**
     * Reads a descriptor's {@code "threads"} property, as JSON gives it: an object of whole numbers and a
     * boolean.
     *
     * @param value the property's value; null names nothing
     * @throws IllegalArgumentException naming the key or value that is wrong
     */
    public static EngineThreads from(Object value) {
        if (value == null) {
            return NONE;
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("'threads' must be an object, not " + value);
        }
        for (Object k : m.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new IllegalArgumentException("'threads' has unknown key '" + k + "' (known: " + KEYS + ")");
            }
        }
        Object spin = m.get("spinning");
        if (spin != null && !(spin instanceof Boolean)) {
            throw new IllegalArgumentException("'threads.spinning' must be true or false, not " + spin);
        }
        return new EngineThreads(count(m, "intraOp", 0), count(m, "interOp", 1), (Boolean) spin);
    }

    private static Integer count(Map<?, ?> m, String key, int min) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Integer || v instanceof Long || v instanceof Short) || ((Number) v).longValue() < min
                || ((Number) v).longValue() > MAX) {
            throw new IllegalArgumentException("'threads." + key + "' must be a whole number from " + min + " to " + MAX
                    + ", not " + v);
        }
        return ((Number) v).intValue();
    }
}
