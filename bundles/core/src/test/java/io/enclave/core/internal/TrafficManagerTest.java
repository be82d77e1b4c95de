package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/** How the traffic rules in force and their stored copy in ConfigAdmin are kept in step. */
class TrafficManagerTest {
    private static final String PID = "io.enclave.traffic~m";

    /** One stored configuration, as ConfigAdmin holds it; {@code writes} counts updates. */
    private Dictionary<String, Object> stored;
    private final AtomicInteger writes = new AtomicInteger();

    private final Configuration configuration = (Configuration) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {Configuration.class}, (proxy, method, args) -> switch (method.getName()) {
                case "getProperties" -> stored;
                case "getPid" -> PID;
                case "getFactoryPid" -> "io.enclave.traffic";
                case "update" -> {
                    @SuppressWarnings("unchecked")
                    Dictionary<String, Object> d = (Dictionary<String, Object>) args[0];
                    stored = d;
                    writes.incrementAndGet();
                    yield null;
                }
                default -> throw new UnsupportedOperationException(method.getName());
            });

    private final ConfigurationAdmin configAdmin = (ConfigurationAdmin) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {ConfigurationAdmin.class}, (proxy, method, args) -> switch (method.getName()) {
                case "getConfiguration", "getFactoryConfiguration" -> configuration;
                case "listConfigurations" -> stored == null ? null : new Configuration[] {configuration};
                default -> throw new UnsupportedOperationException(method.getName());
            });

    private final TrafficManager traffic = new TrafficManager(null, configAdmin, new EngineModelRegistry());

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
        stored = file("model", "m", "version.stable", "1.0.0", "canary.version", "1.1.0", "canary.percent", "25",
                "revision", "2");
        traffic.activate();
        assertEquals(2, traffic.rules("m").revision());
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").canary());

        // ConfigAdmin already holds revision 2, so nothing is written
        traffic.updated(PID, file("model", "m", "version.stable", "1.0.0", "revision", "1"));
        assertEquals(0, writes.get());
        assertEquals(2, traffic.rules("m").revision(), "the rules in force stay");
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").canary());
    }

    @Test
    void aFileWithoutARevisionIsAnOperatorsWordAndApplies() {
        stored = file("model", "m", "version.stable", "1.0.0", "canary.version", "1.1.0", "canary.percent", "25",
                "revision", "4");
        traffic.activate();

        // a deployment tool puts its own template in etc/: no revision line, as in the shipped file
        traffic.updated(PID, file("model", "m", "version.stable", "1.1.0"));
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").stable());
        assertEquals(null, traffic.rules("m").canary());
        assertEquals(5, traffic.rules("m").revision(), "after the rules it replaced");
        assertEquals(0, writes.get(), "the file is left as the operator wrote it");

        // an empty file is what a reader sees while a tool rewrites it in place: never "no rules"
        stored = file("model", "m");
        traffic.updated(PID, stored);
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").stable());
        assertEquals(1, writes.get(), "the rules in force are stored over it");
        assertEquals("1.1.0", stored.get("version.stable"));
        assertEquals("5", stored.get("revision"));

        // a copy from a backup that kept its revision line is old: the rules in force stay, and are stored
        stored = file("model", "m", "version.stable", "1.0.0", "revision", "3");
        traffic.updated(PID, stored);
        assertEquals(Version.parseVersion("1.1.0"), traffic.rules("m").stable());
        assertEquals(2, writes.get());
        assertEquals("1.1.0", stored.get("version.stable"));
    }
}
