package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

import io.enclave.api.BatchingOverride;
import io.enclave.api.BatchingSettings;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelNotFoundException;

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
    void tuneChangesWhatItIsGivenAndKeepsTheRestOfTheOverrideAndOfEachVersionsModelJson() {
        install("1.0.0", Map.of("maxBatchSize", 32, "maxQueueDelayMicros", 2000));
        install("2.0.0", Map.of("maxBatchSize", 16, "deadlineMs", 9000));
        BatchingSettings d = BatchingSettings.defaults();

        // as model:tune m --queue 64 does: the change over the current override (none yet)
        manager.tune("m", change(null, null, 64, null).over(manager.override("m").orElse(null)));
        assertEquals(new BatchingSettings(32, 2000, 64, d.minWorkers(), d.maxWorkers(), d.deadlineMillis()), settings("1.0.0"));
        assertEquals(new BatchingSettings(16, 0, 64, d.minWorkers(), d.maxWorkers(), 9000), settings("2.0.0"));

        // then model:tune m --max-batch 8: the queue it set before stays
        manager.tune("m", change(8, null, null, null).over(manager.override("m").orElse(null)));
        assertEquals(new BatchingSettings(8, 2000, 64, d.minWorkers(), d.maxWorkers(), d.deadlineMillis()), settings("1.0.0"));
        assertEquals(new BatchingSettings(8, 0, 64, d.minWorkers(), d.maxWorkers(), 9000), settings("2.0.0"));
        assertEquals(java.util.List.of("maxBatchSize", "queueCapacity"), manager.override("m").orElseThrow().names());

        // an override that does not fit some version is refused, naming it, and nothing changes
        BatchingSettings before = settings("2.0.0");
        InvalidInputException refused = assertThrows(InvalidInputException.class,
                () -> manager.tune("m", change(null, null, null, 0).over(manager.override("m").orElse(null))));
        assertEquals("for model m 1.0.0 (fake): workers must be 1 <= min <= max <= 256, not 1..0", refused.getMessage());
        assertEquals(before, settings("2.0.0"));
        assertEquals(java.util.List.of("maxBatchSize", "queueCapacity"), manager.override("m").orElseThrow().names());

        // every setting named: every version runs exactly that
        BatchingSettings all = new BatchingSettings(4, 0, 16, 1, 1, 1000);
        manager.tune("m", BatchingOverride.of(all));
        assertEquals(all, settings("1.0.0"));
        assertEquals(all, settings("2.0.0"));

        manager.tune("m", null);
        assertEquals(2000, settings("1.0.0").maxQueueDelayMicros());
        assertEquals(9000, settings("2.0.0").deadlineMillis());
        assertFalse(manager.override("m").isPresent());
        assertThrows(ModelNotFoundException.class, () -> manager.tune("nope", change(8, null, null, null)));
    }

    @Test
    void anEmptyFileDoesNotDropTheTunedSettingsButDeletingItDoes() throws Exception {
        FakeConfigAdmin config = new FakeConfigAdmin(PID);
        BatchingManager stored = new BatchingManager(null, config.admin, registry);
        install("1.0.0", Map.of("maxBatchSize", 32));
        stored.tune("m", change(8, null, 2048, null));
        assertEquals(1, config.writes);
        assertEquals("8", config.stored.get("maxBatchSize"));

        // what File Install reads while a tool rewrites the file in place; here no full copy follows it
        List<Runnable> checks = new ArrayList<>();
        stored.later = checks::add;
        config.stored = new Hashtable<>(Map.of("model", "m"));
        stored.updated(PID, config.stored);
        assertEquals(8, stored.settings("m", Version.parseVersion("1.0.0")).maxBatchSize());
        assertEquals(1, config.writes, "nothing is written before the writer had its chance");
        checks.forEach(Runnable::run);
        assertEquals(2, config.writes, "the settings in force are stored over the empty copy");
        assertEquals("2048", config.stored.get("queueCapacity"));

        config.configuration.delete();
        stored.deleted(PID);
        assertEquals(32, stored.settings("m", Version.parseVersion("1.0.0")).maxBatchSize());
    }

    @Test
    void aDeletionToldAfterTheSameConfigurationWasStoredAgainLeavesTheNewSettings() throws Exception {
        FakeConfigAdmin config = new FakeConfigAdmin(PID);
        BatchingManager stored = new BatchingManager(null, config.admin, registry);
        install("1.0.0", Map.of("maxBatchSize", 32));
        stored.tune("m", change(8, null, null, null));
        stored.tune("m", null);
        assertEquals(1, config.deletes);
        stored.tune("m", change(20, null, null, null));
        assertEquals("20", config.stored.get("maxBatchSize"));

        // ConfigAdmin tells of the reset's deletion only now, on its own thread
        stored.deleted(PID);
        assertEquals(20, settings("1.0.0").maxBatchSize(), "the setting made after the reset stays");
        assertEquals(Map.of("maxBatchSize", 20), stored.override("m").orElseThrow().named());

        // and a deletion of what is stored still goes back to model.json
        config.configuration.delete();
        stored.deleted(PID);
        assertEquals(32, settings("1.0.0").maxBatchSize());
        assertTrue(stored.override("m").isEmpty());
    }

    @Test
    void priorityLevelsComeFromModelJsonOrTheOverrideAndARequestFindsItsLevelAsInTriton() {
        install("1.0.0", Map.of("maxBatchSize", 8, "priorityLevels", 3));
        install("2.0.0", Map.of("maxBatchSize", 8));
        BatchingSettings declared = settings("1.0.0");
        assertEquals(3, declared.priorityLevels());
        assertEquals(2, declared.defaultPriorityLevel(), "the middle level when model.json names none");
        assertEquals(List.of(1, 2, 2, 3, 3), java.util.stream.IntStream.of(1, 2, 3, 4, 5)
                .mapToObj(n -> new BatchingSettings(1, 0, 1, 1, 1, 1, n, 0).defaultPriorityLevel()).toList(),
                "with 2 levels, a request that names none is behind one that names 1");
        assertEquals(List.of(1, 2, 3, 2, 2), List.of(declared.level(1), declared.level(2), declared.level(3),
                declared.level(0), declared.level(4)), "0 and a number past the levels get the default");
        assertEquals(0, settings("2.0.0").priorityLevels());
        assertEquals(0, settings("2.0.0").level(1), "no levels: one queue, whatever a request names");

        configure(Map.of("priorityLevels", "2", "defaultPriorityLevel", "2"));
        assertEquals(2, settings("1.0.0").defaultPriorityLevel());
        assertEquals(2, settings("2.0.0").priorityLevels());
        assertEquals(8, settings("2.0.0").maxBatchSize(), "the rest stays as model.json says");

        // fewer levels than the default named before: the default goes with them, to the new middle
        manager.tune("m", new BatchingOverride(null, null, null, null, null, null, 1, null)
                .over(manager.override("m").orElse(null)));
        assertEquals(1, settings("1.0.0").defaultPriorityLevel());
        assertEquals(java.util.Optional.of(1), manager.override("m").map(BatchingOverride::priorityLevels));

        InvalidInputException both = assertThrows(InvalidInputException.class, () -> manager.tune("m",
                new BatchingOverride(null, null, null, null, null, null, 0, 2)));
        assertTrue(both.getMessage().contains("a default priority level (2) needs priority levels"), both.getMessage());
        InvalidInputException many = assertThrows(InvalidInputException.class, () -> manager.tune("m",
                new BatchingOverride(null, null, null, null, null, null, 101, null)));
        assertTrue(many.getMessage().contains("priority levels must be 0 to 100, not 101"), many.getMessage());
        InvalidInputException past = assertThrows(InvalidInputException.class, () -> manager.tune("m",
                new BatchingOverride(null, null, null, null, null, null, 2, 3)));
        assertTrue(past.getMessage().contains("default priority level must be 1 to 2 (the priority levels), not 3"),
                past.getMessage());
        assertEquals(1, settings("1.0.0").priorityLevels(), "a refused change leaves the settings in force");

        manager.tune("m", null);
        assertEquals(3, settings("1.0.0").priorityLevels());
        assertEquals(0, settings("2.0.0").priorityLevels());
        IllegalArgumentException typo = assertThrows(IllegalArgumentException.class,
                () -> BatchingSettings.declared(Map.of("priorityLevels", "3")));
        assertTrue(typo.getMessage().contains("'batching.priorityLevels' must be a whole number"), typo.getMessage());
    }

    @Test
    void theGroupingByTextLengthComesFromModelJsonOrTheOverrideAndIsOnByDefault() {
        install("1.0.0", Map.of("maxBatchSize", 8, "maxPaddingRatio", 0));
        install("2.0.0", Map.of("maxBatchSize", 8));
        assertEquals(0, settings("1.0.0").maxPaddingRatio());
        assertEquals(BatchingSettings.DEFAULT_PADDING_RATIO, settings("2.0.0").maxPaddingRatio(), "grouped unless turned off");
        assertTrue(settings("1.0.0").fits(60, 60, 600), "0: any length joins");
        assertTrue(settings("2.0.0").fits(60, 60, 110));
        assertFalse(settings("2.0.0").fits(60, 60, 600));
        assertTrue(settings("2.0.0").fits(0, 0, 0), "requests without text all count alike");

        configure(Map.of("maxPaddingRatio", "3"));
        assertEquals(3, settings("1.0.0").maxPaddingRatio());
        assertEquals(3, settings("2.0.0").maxPaddingRatio());
        assertEquals(8, settings("2.0.0").maxBatchSize(), "what the file leaves out stays as model.json says");
        InvalidInputException many = assertThrows(InvalidInputException.class, () -> manager.tune("m",
                new BatchingOverride(null, null, null, null, null, null, null, null, 101)));
        assertTrue(many.getMessage().contains("max padding ratio must be 0 to 100 (0 pads every length into one batch), not 101"),
                many.getMessage());
        assertEquals(3, settings("1.0.0").maxPaddingRatio(), "a refused change leaves the settings in force");
        assertEquals("maxPaddingRatio=3", manager.override("m").orElseThrow().toString());

        manager.tune("m", null);
        assertEquals(0, settings("1.0.0").maxPaddingRatio());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> BatchingSettings.declared(Map.of("maxPaddingRatio", -1)));
        assertTrue(negative.getMessage().contains("'batching': max padding ratio must be 0 to 100"), negative.getMessage());
    }

    /** What model:tune's options give: batch size, delay, queue and max workers (null: not given). */
    private static BatchingOverride change(Integer maxBatch, Long delay, Integer queue, Integer maxWorkers) {
        return new BatchingOverride(maxBatch, delay, queue, null, maxWorkers, null);
    }
}
