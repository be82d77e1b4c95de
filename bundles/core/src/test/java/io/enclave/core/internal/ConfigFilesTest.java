package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What File Install and an operator see of a configuration Enclave writes. */
class ConfigFilesTest {
    @TempDir
    Path etc;

    private final FakeConfigAdmin config = new FakeConfigAdmin("io.enclave.traffic~m");

    private static Map<String, String> rules(long revision) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("model", "m");
        p.put("version.stable", "1.0.0");
        p.put("canary.version", "1.1.0");
        p.put("canary.percent", "25");
        p.put("revision", Long.toString(revision));
        return p;
    }

    @Test
    void aNewModelsRulesGetTheirOwnFileThatConfigAdminPointsTo() throws Exception {
        String pid = new ConfigFiles(config.admin, etc).write(null, "io.enclave.traffic", "m", rules(1));

        assertEquals("io.enclave.traffic~m", pid);
        assertEquals(List.of("getFactoryConfiguration io.enclave.traffic m ?"), config.asked);
        Path file = etc.resolve("io.enclave.traffic-m.cfg");
        assertEquals("25", config.stored.get("canary.percent"));
        // the form File Install itself records, so it takes the file for this configuration
        assertEquals(file.toFile().getAbsoluteFile().toURI().toString(), config.stored.get(ConfigFiles.FILENAME));
        assertTrue(Files.readString(file).contains("canary.version = 1.1.0"), Files.readString(file));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (var left = Files.list(etc)) {
            assertEquals(List.of(file), left.toList(), "no temporary file is left");
        }
    }

    @Test
    void aWriteWhoseConfigurationFileInstallDeletesUnderItStartsAgainAsANamedFactoryConfiguration() throws Exception {
        // File Install's scan deleting the configuration between its lookup and its update
        config.stored = new Hashtable<>(rules(2));
        config.deletedUnderTheWriter = 1;
        String pid = new ConfigFiles(config.admin, etc).write("io.enclave.traffic~m", "io.enclave.traffic", "m", rules(3));

        assertEquals("io.enclave.traffic~m", pid);
        assertEquals(List.of("getConfiguration io.enclave.traffic~m ?", "getFactoryConfiguration io.enclave.traffic m ?"),
                config.asked, "started again by name, so ConfigAdmin makes it a factory configuration again");
        assertEquals(1, config.writes);
        assertEquals("3", config.stored.get("revision"));
        assertTrue(Files.readString(etc.resolve("io.enclave.traffic-m.cfg")).contains("revision = 3"));

        // a PID whose configuration was deleted since the caller learnt it: written by name, not as a plain
        // configuration under that PID
        config.stored = null;
        config.asked.clear();
        new ConfigFiles(config.admin, etc).write("io.enclave.traffic~m", "io.enclave.traffic", "m", rules(4));
        assertEquals(List.of("getConfiguration io.enclave.traffic~m ?", "getFactoryConfiguration io.enclave.traffic m ?"),
                config.asked);
        assertEquals("4", config.stored.get("revision"));

        config.deletedUnderTheWriter = 3;
        java.io.IOException gaveUp = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> new ConfigFiles(config.admin, etc).write(null, "io.enclave.traffic", "m", rules(4)));
        assertTrue(gaveUp.getMessage().contains("was deleted while it was written, 3 times"), gaveUp.getMessage());
    }

    @Test
    void aDeletedConfigurationsFileIsGoneWhenDeleteReturnsWhetherFileInstallRemovesItOrNot() throws Exception {
        ConfigFiles files = new ConfigFiles(config.admin, etc);
        Path file = etc.resolve("io.enclave.traffic-m.cfg");
        files.write(null, "io.enclave.traffic", "m", rules(1));
        assertTrue(Files.exists(file));
        // File Install removes it a moment after the configuration is deleted, on another thread
        AtomicBoolean removedByFileInstall = new AtomicBoolean();
        Thread fileInstall = new Thread(() -> {
            while (config.deletes == 0) {
                Thread.onSpinWait();
            }
            try {
                Thread.sleep(100);
                removedByFileInstall.set(Files.deleteIfExists(file));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        fileInstall.start();
        files.delete("io.enclave.traffic~m");
        assertFalse(Files.exists(file), "gone when delete returns");
        fileInstall.join(5000);
        assertTrue(removedByFileInstall.get(), "delete waited for File Install instead of racing it");
        assertEquals(1, config.deletes);

        // with configuration saving off File Install leaves it: delete removes it, or it comes back at the next start
        files.rescanNanos = 0;
        files.write(null, "io.enclave.traffic", "m", rules(2));
        assertTrue(Files.exists(file));
        files.deleteWaitNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50);
        files.delete("io.enclave.traffic~m");
        assertFalse(Files.exists(file));
        assertEquals(2, config.deletes);
    }

    @Test
    void aFileWrittenAgainAfterADeleteWaitsForFileInstallsScanToSeeItGone() throws Exception {
        ConfigFiles files = new ConfigFiles(config.admin, etc);
        files.deleteWaitNanos = 0;
        files.rescanNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(600);
        Path file = etc.resolve("io.enclave.traffic-m.cfg");
        files.write(null, "io.enclave.traffic", "m", rules(1));
        // File Install's scan, a poll after the file went, deletes the configuration its name stands for
        AtomicBoolean scanned = new AtomicBoolean();
        Thread scan = new Thread(() -> {
            while (config.deletes == 0 || Files.exists(file)) {
                Thread.onSpinWait();
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            try {
                config.admin.getFactoryConfiguration("io.enclave.traffic", "m", "?").delete();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            scanned.set(true);
        });
        scan.start();
        files.delete("io.enclave.traffic~m");
        files.write(null, "io.enclave.traffic", "m", rules(2));
        scan.join(5000);

        assertTrue(scanned.get());
        assertEquals(2, config.deletes);
        assertNotNull(config.stored, "the new configuration outlived the scan that saw the old file gone");
        assertEquals("2", config.stored.get("revision"));
        assertTrue(Files.readString(file).contains("revision = 2"));

        // a file no delete removed is written at once: nothing waits for File Install then
        files.rescanNanos = java.util.concurrent.TimeUnit.HOURS.toNanos(1);
        files.write(null, "io.enclave.traffic", "m", rules(3));
        assertEquals("3", config.stored.get("revision"));
    }

    @Test
    void aFileRemovedByHandIsWrittenAgainOnlyAfterFileInstallsScanDeletedItsConfiguration() throws Exception {
        ConfigFiles files = new ConfigFiles(config.admin, etc);
        files.rescanNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(600);
        Path file = etc.resolve("io.enclave.traffic-m.cfg");
        files.write(null, "io.enclave.traffic", "m", rules(1));
        // an operator's script removes the file and sets new rules at once; File Install's scan, a poll
        // later, deletes the configuration the missing file stood for
        Files.delete(file);
        AtomicBoolean scanned = new AtomicBoolean();
        Thread scan = new Thread(() -> {
            try {
                Thread.sleep(200);
                config.admin.getFactoryConfiguration("io.enclave.traffic", "m", "?").delete();
            } catch (InterruptedException e) {
                return;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            scanned.set(true);
        });
        scan.start();
        String pid = files.write("io.enclave.traffic~m", "io.enclave.traffic", "m", rules(2));
        scan.join(5000);

        assertTrue(scanned.get());
        assertEquals(1, config.deletes);
        assertEquals("io.enclave.traffic~m", pid);
        assertNotNull(config.stored, "the new configuration outlived the scan");
        assertEquals("2", config.stored.get("revision"));
        assertTrue(Files.readString(file).contains("revision = 2"));
        assertEquals("getFactoryConfiguration io.enclave.traffic m ?", config.asked.get(config.asked.size() - 1),
                "written again by name, as a new factory configuration");
    }

    @Test
    void anOperatorsCommentsAndOrderStayAndKeysNoLongerSetGo() throws Exception {
        Path file = etc.resolve("io.enclave.traffic-m.cfg");
        Files.writeString(file, "# Traffic for m: kept by the ops team\nmodel = m\n# why 1.0.0\nversion.stable = 1.0.0\n"
                + "shadow.version = 1.1.0\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        config.stored = new Hashtable<>(Map.of(ConfigFiles.FILENAME, file.toFile().toURI().toString(), "model", "m"));

        new ConfigFiles(config.admin, etc).write("io.enclave.traffic~m", "io.enclave.traffic", "m", rules(7));

        String text = Files.readString(file);
        assertTrue(text.startsWith("# Traffic for m: kept by the ops team\nmodel = m\n# why 1.0.0\nversion.stable = 1.0.0\n"), text);
        assertFalse(text.contains("shadow.version"), "a key the rules no longer set is gone: " + text);
        assertTrue(text.contains("revision = 7"), text);
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), "the file keeps its mode");
        assertEquals(List.of("getConfiguration io.enclave.traffic~m ?"), config.asked);
    }

    /**
     * File Install polls etc/ and may read the file at any moment: it must find the old rules or the new
     * ones, whole. Written in place, as Karaf's ConfigRepository writes, a reader soon finds it empty.
     */
    @Test
    void aReaderNeverFindsTheFileHalfWritten() throws Exception {
        Path file = etc.resolve("io.enclave.traffic-m.cfg");
        ConfigFiles.replace(file, rules(0));
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger reads = new AtomicInteger();
        List<String> torn = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            while (!done.get() && torn.isEmpty()) {
                try {
                    String text = Files.readString(file);
                    reads.incrementAndGet();
                    if (!text.contains("model = m") || !text.matches("(?s).*revision = \\d+\\s*")) {
                        torn.add(text);
                    }
                } catch (java.io.IOException e) {
                    torn.add(e.toString());
                }
            }
        });
        reader.start();
        int writes = 0;
        while (torn.isEmpty() && writes < 5000 && (writes < 200 || reads.get() < 1000)) {
            ConfigFiles.replace(file, rules(++writes));
        }
        done.set(true);
        reader.join();
        assertTrue(torn.isEmpty(), "a reader found the file as '" + (torn.isEmpty() ? "" : torn.get(0)) + "' after "
                + writes + " writes and " + reads.get() + " reads");
        assertTrue(reads.get() >= 1000, "the reader ran alongside: " + reads.get() + " reads in " + writes + " writes");
        assertTrue(Files.readString(file).contains("revision = " + writes + "\n"), "the last write is what stays");
    }

    /**
     * File Install answers each ConfigAdmin change by rewriting the file in place (truncated, then written),
     * as Karaf's config commands do: a write of Enclave's that reads the file in between must not take the
     * empty file for one without the operator's comments, or they are gone for good.
     */
    @Test
    void anOperatorsCommentsSurviveTheFileBeingRewrittenInPlaceMeanwhile() throws Exception {
        Path file = etc.resolve("io.enclave.traffic-m.cfg");
        Files.writeString(file, "# from the operations repository\nmodel = m\nversion.stable = 1.0.0\n");
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger rewrites = new AtomicInteger();
        Thread inPlace = new Thread(() -> {
            while (!done.get()) {
                try {
                    String text = Files.readString(file);
                    if (!text.isEmpty()) {
                        Files.writeString(file, text);
                        rewrites.incrementAndGet();
                    }
                    // File Install rewrites once per change event; here about once a millisecond
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                } catch (java.io.IOException e) {
                    // the file was being replaced: the next round reads it again
                }
            }
        });
        inPlace.start();
        int writes = 0;
        try {
            while (writes < 2000 && (writes < 300 || rewrites.get() < 1000)) {
                ConfigFiles.replace(file, rules(++writes));
            }
        } finally {
            done.set(true);
            inPlace.join();
        }
        String text = Files.readString(file);
        assertTrue(text.startsWith("# from the operations repository\n"), "after " + writes + " writes and " + rewrites.get()
                + " rewrites in place the file holds:\n" + text);
        assertTrue(rewrites.get() >= 300, "the file was rewritten alongside: " + rewrites.get() + " times in " + writes + " writes");
    }

    @Test
    void aFileOutsideEtcIsNeverWritten() throws Exception {
        Path elsewhere = Files.createDirectories(etc.resolve("sub")).resolve("io.enclave.traffic-m.cfg");
        config.stored = new Hashtable<>(Map.of(ConfigFiles.FILENAME, etc.toUri() + "sub/../../io.enclave.traffic-m.cfg"));
        ConfigFiles files = new ConfigFiles(config.admin, etc);
        assertNull(files.fileOf(config.stored, "io.enclave.traffic", "m"));
        config.stored = new Hashtable<>(Map.of(ConfigFiles.FILENAME, elsewhere.toFile().toURI().toString()));
        assertNull(files.fileOf(config.stored, "io.enclave.traffic", "m"));

        files.write("io.enclave.traffic~m", "io.enclave.traffic", "m", rules(2));
        assertEquals("2", config.stored.get("revision"), "ConfigAdmin has the rules");
        assertFalse(Files.exists(elsewhere), "and nothing was written outside etc/");
        assertEquals(elsewhere.toFile().toURI().toString(), config.stored.get(ConfigFiles.FILENAME),
                "still recorded: File Install writes that file itself");
    }
}
