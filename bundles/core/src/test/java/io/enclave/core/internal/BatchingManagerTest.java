package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Hashtable;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

import io.enclave.api.BatchingSettings;

class BatchingManagerTest {
    private static final String PID = "io.enclave.batching~m";

    private final EngineModelRegistry registry = new EngineModelRegistry();
    private final BatchingManager manager = new BatchingManager(null, null, registry);

    @AfterEach
    void stop() {
        registry.deactivate();
    }

    private void install(String version, Map<String, Object> batching) {
        registry.bindDescriptor(Fakes.model("m", version, Map.of("batching", batching), null));
    }

    private BatchingSettings settings(String version) {
        return manager.settings("m", Version.parseVersion(version));
    }

    private void configure(Map<String, Object> properties) {
        Hashtable<String, Object> p = new Hashtable<>(properties);
        p.put("model", "m");
        manager.updated(PID, p);
    }

    @Test
    void aConfigurationThatNamesOneSettingKeepsEveryOtherAsEachVersionsModelJsonSays() {
        install("1.0.0", Map.of("maxBatchSize", 32, "maxQueueDelayMicros", 2000, "maxWorkers", 3));
        install("2.0.0", Map.of("maxBatchSize", 16, "maxQueueDelayMicros", 500, "deadlineMs", 9000));
        BatchingSettings d = BatchingSettings.defaults();

        configure(Map.of("maxBatchSize", "8"));
        assertEquals(new BatchingSettings(8, 2000, d.queueCapacity(), d.minWorkers(), 3, d.deadlineMillis()), settings("1.0.0"));
        assertEquals(new BatchingSettings(8, 500, d.queueCapacity(), d.minWorkers(), d.maxWorkers(), 9000), settings("2.0.0"));
        assertTrue(manager.override("m").isPresent());

        // a version installed while the override holds takes it over its own model.json too
        install("3.0.0", Map.of("maxQueueDelayMicros", 100));
        assertEquals(8, settings("3.0.0").maxBatchSize());
        assertEquals(100, settings("3.0.0").maxQueueDelayMicros());

        manager.deleted(PID);
        assertEquals(32, settings("1.0.0").maxBatchSize());
        assertEquals(16, settings("2.0.0").maxBatchSize());
        assertFalse(manager.override("m").isPresent());
    }

    @Test
    void aConfigurationThatDoesNotFitSomeVersionIsIgnoredAndTheSettingsInForceStay() {
        install("1.0.0", Map.of("maxBatchSize", 32, "minWorkers", 2, "maxWorkers", 2));
        configure(Map.of("maxBatchSize", "8"));
        BatchingSettings before = settings("1.0.0");

        // one worker at most, but this version keeps two
        configure(Map.of("maxBatchSize", "4", "maxWorkers", "1"));
        assertEquals(before, settings("1.0.0"));
        // 2^32 + 32 would be 32 as an int: refused, not wrapped
        configure(Map.of("maxBatchSize", Long.toString((1L << 32) + 32)));
        assertEquals(before, settings("1.0.0"));
        configure(Map.of("maxBatchSize", "eight"));
        assertEquals(before, settings("1.0.0"));

        // a minimum above the version's maximum raises the maximum with it
        configure(Map.of("minWorkers", "3"));
        assertEquals(3, settings("1.0.0").minWorkers());
        assertEquals(3, settings("1.0.0").maxWorkers());
        assertEquals(32, settings("1.0.0").maxBatchSize(), "the file no longer names the batch size: model.json's again");
    }

    @Test
    void tuneSetsEverySettingForEveryVersion() {
        install("1.0.0", Map.of("maxBatchSize", 32, "maxQueueDelayMicros", 2000));
        install("2.0.0", Map.of("maxBatchSize", 16));
        BatchingSettings s = new BatchingSettings(4, 0, 16, 1, 1, 1000);
        manager.tune("m", s);
        assertEquals(s, settings("1.0.0"));
        assertEquals(s, settings("2.0.0"));
        assertEquals(s, manager.override("m").orElseThrow());
        manager.tune("m", null);
        assertEquals(2000, settings("1.0.0").maxQueueDelayMicros());
    }
}
