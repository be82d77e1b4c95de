package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

/** How the traffic rules in force and their config.stored copy in ConfigAdmin are kept in step. */
class TrafficManagerTest {
    private static final String PID = "io.enclave.traffic~m";

    private final FakeConfigAdmin config = new FakeConfigAdmin(PID);

    private final TrafficManager traffic = new TrafficManager(null, config.admin, new EngineModelRegistry());

    private static Hashtable<String, Object> file(String... keyValues) {
        Hashtable<String, Object> d = new Hashtable<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            d.put(keyValues[i], keyValues[i + 1]);
        }
        return d;
    }

    @AfterEach
    void stop() {
        traffic.deactivate();
    }

    @Test
    void aLateEchoOfAnEarlierWriteChangesNothingAndWritesNothing() {
        config.stored = file("model", "m", "version.stable", "1.0.0", "canary.version", "1.1.0", "canary.percent", "25",
                "revision", "2");
        traffic.activate();
        assertEquals(2, traffic.rules("m").revision());
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").canary());

        // ConfigAdmin already holds revision 2, so nothing is written
        traffic.updated(PID, file("model", "m", "version.stable", "1.0.0", "revision", "1"));
        assertEquals(0, config.writes);
        assertEquals(2, traffic.rules("m").revision(), "the rules in force stay");
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").canary());
    }

    @Test
    void aFileWithoutARevisionIsAnOperatorsWordAndApplies() {
        config.stored = file("model", "m", "version.stable", "1.0.0", "canary.version", "1.1.0", "canary.percent", "25",
                "revision", "4");
        traffic.activate();

        // a deployment tool puts its own template in etc/: no revision line, as in the shipped file
        traffic.updated(PID, file("model", "m", "version.stable", "1.1.0"));
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").stable());
        assertEquals(null, traffic.rules("m").canary());
        assertEquals(5, traffic.rules("m").revision(), "after the rules it replaced");
        assertEquals(0, config.writes, "the file is left as the operator wrote it");

        // an empty file is what a reader sees while a tool rewrites it in place: never "no rules". The
        // tool's own full update follows, and then the check that waited for it writes nothing
        List<Runnable> checks = new ArrayList<>();
        traffic.later = checks::add;
        config.stored = file("model", "m");
        traffic.updated(PID, config.stored);
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").stable());
        config.stored = file("model", "m", "version.stable", "1.1.0", "canary.version", "1.0.0", "canary.percent", "5");
        traffic.updated(PID, config.stored);
        assertEquals(5.0, traffic.rules("m").canaryPercent());
        checks.forEach(Runnable::run);
        assertEquals(0, config.writes, "the full copy that followed stays as written");

        // an empty copy that nothing followed is replaced by the rules in force
        config.stored = file("model", "m");
        traffic.updated(PID, config.stored);
        assertEquals(2, checks.size());
        checks.get(1).run();
        assertEquals(1, config.writes);
        assertEquals("5", config.stored.get("canary.percent"));
        assertEquals("6", config.stored.get("revision"));

        // a copy from a backup that kept its revision line is old: the rules in force stay, and are stored
        config.stored = file("model", "m", "version.stable", "1.0.0", "revision", "3");
        traffic.updated(PID, config.stored);
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").stable());
        assertEquals(2, config.writes);
        assertEquals("1.1.0", config.stored.get("version.stable"));
    }
}
