package io.enclave.security.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.enclave.api.AuditLog;

class FileAuditLogTest {
    @TempDir
    Path dir;

    private Path written(int n) throws Exception {
        Path file = dir.resolve("audit.log");
        FileAuditLog log = new FileAuditLog();
        log.open(file);
        for (int i = 1; i <= n; i++) {
            log.append(new AuditLog.Event("admin", "10.0.0." + i, "user.add", "user" + i, "success", "roles [analyst]"));
        }
        log.close();
        return file;
    }

    @Test
    void aRealLogVerifiesAndReadsBack() throws Exception {
        Path file = written(5);
        FileAuditLog log = new FileAuditLog();
        log.open(file);
        assertTrue(log.verify().ok());
        assertEquals(5, log.verify().entries());
        AuditLog.Entry sixth = log.append(new AuditLog.Event(null, null, "login", "mallory", "failure", "invalid"));
        assertEquals(6, sixth.seq(), "the sequence continues after a restart");
        assertEquals("system", sixth.event().who());
        assertTrue(log.verify().ok());
        assertEquals(List.of(3L, 4L), log.read(3, 2, null, null).stream().map(AuditLog.Entry::seq).toList());
        assertEquals(1, log.read(1, 100, null, "login").size());
        assertEquals(5, log.read(1, 100, "admin", null).size());
        assertEquals(List.of(5L, 6L), log.tail(2).stream().map(AuditLog.Entry::seq).toList());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    private static AuditLog.Verification tamper(Path file, java.util.function.UnaryOperator<List<String>> change) throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        Files.write(file, change.apply(lines));
        return FileAuditLog.verify(file);
    }

    @Test
    void anEditedEntryIsNamed() throws Exception {
        AuditLog.Verification v = tamper(written(5), l -> {
            l.set(2, l.get(2).replace("\"user3\"", "\"root\""));
            return l;
        });
        assertFalse(v.ok());
        assertEquals(3, v.firstBad());
        assertEquals("entry 3 was changed after it was written", v.problem());
    }

    @Test
    void anEditedEntryWithARecomputedOwnHashStillBreaksTheChain() throws Exception {
        AuditLog.Verification v = tamper(written(5), l -> {
            l.set(2, l.get(2).replace("\"outcome\":\"success\"", "\"outcome\":\"failure\""));
            return l;
        });
        assertEquals(3, v.firstBad());
    }

    @Test
    void aRemovedEntryIsNamed() throws Exception {
        AuditLog.Verification v = tamper(written(5), l -> {
            l.remove(1);
            return l;
        });
        assertEquals(2, v.firstBad());
        assertTrue(v.problem().contains("sequence 3, expected 2"), v.problem());
    }

    @Test
    void reorderedEntriesAreNamed() throws Exception {
        AuditLog.Verification v = tamper(written(5), l -> {
            String x = l.get(3);
            l.set(3, l.get(2));
            l.set(2, x);
            return l;
        });
        assertEquals(3, v.firstBad());
    }

    @Test
    void readersSkipAnUnreadableLineThatVerifyNames() throws Exception {
        Path file = written(4);
        AuditLog.Verification v = tamper(file, l -> {
            l.set(1, "this is not json");
            return l;
        });
        assertEquals(2, v.firstBad());
        assertEquals("line 2 is not an audit entry", v.problem());
        FileAuditLog log = new FileAuditLog();
        log.open(file);
        assertEquals(List.of(1L, 3L, 4L), log.read(1, 100, null, null).stream().map(AuditLog.Entry::seq).toList());
        assertEquals(List.of(3L, 4L), log.tail(2).stream().map(AuditLog.Entry::seq).toList());
    }

    @Test
    void aTornLastLineIsCutOnOpen() throws Exception {
        Path file = written(3);
        Files.writeString(file, "{\"seq\":4,\"time\":\"20", StandardOpenOption.APPEND);
        assertFalse(FileAuditLog.verify(file).ok());
        FileAuditLog log = new FileAuditLog();
        log.open(file);
        assertTrue(log.verify().ok());
        assertEquals(4, log.append(new AuditLog.Event("a", "b", "c", "d", "e", "f")).seq());
        assertTrue(log.verify().ok());
    }

    @Test
    void killMinus9DuringHeavyWritingLeavesALogThatVerifies() throws Exception {
        Path file = dir.resolve("killed.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                AuditWriterMain.class.getName(), file.toString()).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("writing", out.readLine());
            Thread.sleep(1500);
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        }
        long lines = Files.lines(file).count();
        assertTrue(lines > 10, "the writer wrote " + lines + " entries");
        FileAuditLog log = new FileAuditLog();
        log.open(file);
        AuditLog.Verification v = log.verify();
        assertTrue(v.ok(), v.problem());
        assertTrue(v.entries() >= lines - 1);
        log.append(new AuditLog.Event("after", "crash", "x", "y", "success", null));
        assertTrue(log.verify().ok());
    }
}
