package io.enclave.security.internal;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Counts failed logins per key (a user name, an address). After {@code freeFailures} failures
 * within the window a key is locked out for a delay that doubles with each further failure, up to
 * a maximum. A success clears the key. Bounded: the oldest keys are dropped past a size limit.
 */
final class LoginThrottle {
    private static final int MAX_KEYS = 100_000;

    private record State(int failures, long firstFailure, long lockedUntil) {
    }

    private final Map<String, State> states = new ConcurrentHashMap<>();
    private final int freeFailures;
    private final long windowMillis;
    private final long maxLockMillis;
    private final LongSupplier clock;

    LoginThrottle(int freeFailures, long windowMillis, long maxLockMillis, LongSupplier clock) {
        this.freeFailures = freeFailures;
        this.windowMillis = windowMillis;
        this.maxLockMillis = maxLockMillis;
        this.clock = clock;
    }

    /** @return milliseconds the key must still wait, 0 when it may try */
    long waitMillis(String key) {
        State s = states.get(key);
        if (s == null) {
            return 0;
        }
        long now = clock.getAsLong();
        if (now - s.firstFailure() > windowMillis && now >= s.lockedUntil()) {
            states.remove(key, s);
            return 0;
        }
        return Math.max(0, s.lockedUntil() - now);
    }

    void failed(String key) {
        long now = clock.getAsLong();
        if (states.size() >= MAX_KEYS) {
            prune(now);
        }
        states.compute(key, (k, s) -> {
            if (s == null || (now - s.firstFailure() > windowMillis && now >= s.lockedUntil())) {
                s = new State(0, now, 0);
            }
            int failures = s.failures() + 1;
            long lock = 0;
            if (failures >= freeFailures) {
                lock = Math.min(maxLockMillis, 1000L << Math.min(20, failures - freeFailures));
            }
            return new State(failures, s.firstFailure(), lock == 0 ? 0 : now + lock);
        });
    }

    void succeeded(String key) {
        states.remove(key);
    }

    private void prune(long now) {
        for (Iterator<Map.Entry<String, State>> it = states.entrySet().iterator(); it.hasNext();) {
            State s = it.next().getValue();
            if (now - s.firstFailure() > windowMillis && now >= s.lockedUntil()) {
                it.remove();
            }
        }
        if (states.size() >= MAX_KEYS) {
            states.clear();
        }
    }
}
