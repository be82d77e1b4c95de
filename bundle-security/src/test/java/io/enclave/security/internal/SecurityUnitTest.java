package io.enclave.security.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.enclave.api.UserDirectory;

class SecurityUnitTest {
    @TempDir
    Path etc;

    @Test
    void argon2idHashesVerifyAndCarryOwaspParameters() {
        String h = Argon2id.hash("correct horse battery".toCharArray());
        assertTrue(h.startsWith("$argon2id$v=19$m=19456,t=2,p=1$"), h);
        assertTrue(Argon2id.verify("correct horse battery".toCharArray(), h));
        assertFalse(Argon2id.verify("correct horse batterz".toCharArray(), h));
        assertNotEquals(h, Argon2id.hash("correct horse battery".toCharArray()), "salted");
        assertFalse(Argon2id.verify("x".toCharArray(), "$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA"), "absurd cost refused");
        assertFalse(Argon2id.verify("x".toCharArray(), "plain"));
        assertFalse(Argon2id.verify("x".toCharArray(), "$argon2i$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA"));
    }

    private FileUserDirectory open() throws Exception {
        FileUserDirectory d = new FileUserDirectory();
        d.open(etc.resolve("enclave-users"), etc.resolve("admin.password"));
        return d;
    }

    @Test
    void firstStartCreatesAnAdminWithARandomPasswordOnlyTheOwnerCanRead() throws Exception {
        FileUserDirectory d = open();
        Path pw = etc.resolve("admin.password");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pw)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(etc.resolve("enclave-users"))));
        String password = Files.readString(pw).trim();
        assertEquals(24, password.length());
        assertEquals(Optional.of(Set.of("admin")), d.verify("admin", password.toCharArray()));
        assertEquals(Optional.empty(), d.verify("admin", "karaf".toCharArray()));
        assertEquals(Optional.empty(), d.verify("karaf", "karaf".toCharArray()));
        assertFalse(Files.readString(etc.resolve("enclave-users")).contains(password), "only the hash is stored");

        // a second start keeps the admin and makes no new password
        Files.delete(pw);
        FileUserDirectory again = open();
        assertFalse(Files.exists(pw));
        assertEquals(Optional.of(Set.of("admin")), again.verify("admin", password.toCharArray()));

        // changing the admin password retires the generated one and its file
        Files.writeString(pw, password);
        again.setPassword("admin", "a much better secret".toCharArray());
        assertFalse(Files.exists(pw));
        assertEquals(Optional.empty(), again.verify("admin", password.toCharArray()));
        assertTrue(again.verify("admin", "a much better secret".toCharArray()).isPresent());
    }

    @Test
    void usersComeAndGoButTheLastAdminStays() throws Exception {
        FileUserDirectory d = open();
        long g = d.generation();
        d.add("alice", "analyst password".toCharArray(), Set.of("analyst"));
        assertNotEquals(g, d.generation(), "a change is visible to caches");
        d.add("bob", "auditor password".toCharArray(), Set.of("auditor"));
        assertEquals(List.of(new UserDirectory.User("admin", Set.of("admin")), new UserDirectory.User("alice", Set.of("analyst")),
                new UserDirectory.User("bob", Set.of("auditor"))), d.users());
        assertEquals("a password needs at least 12 characters",
                assertThrows(IllegalArgumentException.class, () -> d.add("carol", "short".toCharArray(), Set.of("analyst"))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.add("carol", "long enough pw".toCharArray(), Set.of("root")))
                .getMessage().contains("unknown role 'root'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.add("../x", "long enough pw".toCharArray(), Set.of("analyst")))
                .getMessage().contains("must match"));
        assertThrows(IllegalArgumentException.class, () -> d.add("alice", "long enough pw".toCharArray(), Set.of("analyst")));
        assertEquals("'admin' is the last admin", assertThrows(IllegalArgumentException.class, () -> d.remove("admin")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> d.setRoles("admin", Set.of("auditor")));
        d.setRoles("alice", Set.of("admin"));
        d.setRoles("admin", Set.of("auditor"));
        d.remove("bob");
        assertEquals(Optional.empty(), open().verify("bob", "auditor password".toCharArray()), "removal is on disk");
        assertEquals(Optional.of(Set.of("admin")), open().verify("alice", "analyst password".toCharArray()));
    }

    @Test
    void aHandEditedFileIsReadAgainAndBadLinesAreSkipped() throws Exception {
        FileUserDirectory d = open();
        String hash = Argon2id.hash("edited by hand!".toCharArray());
        Files.writeString(etc.resolve("enclave-users"), Files.readString(etc.resolve("enclave-users"))
                + "carol\tauditor\t" + hash + "\nnot a valid line\n../evil\tadmin\t" + hash + "\n");
        Files.setLastModifiedTime(etc.resolve("enclave-users"),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertEquals(Optional.of(Set.of("auditor")), d.verify("carol", "edited by hand!".toCharArray()));
        assertEquals(2, d.users().size());
    }

    @Test
    void failedLoginsLockOutWithGrowingDelaysUntilASuccess() {
        AtomicLong now = new AtomicLong(1_000_000);
        LoginThrottle t = new LoginThrottle(3, 60_000, 10_000, now::get);
        t.failed("u");
        t.failed("u");
        assertEquals(0, t.waitMillis("u"), "free failures");
        t.failed("u");
        assertEquals(1000, t.waitMillis("u"));
        t.failed("u");
        assertEquals(2000, t.waitMillis("u"), "doubles");
        for (int i = 0; i < 10; i++) {
            t.failed("u");
        }
        assertEquals(10_000, t.waitMillis("u"), "capped");
        assertEquals(0, t.waitMillis("other"), "per key");
        now.addAndGet(10_001);
        assertEquals(0, t.waitMillis("u"));
        t.succeeded("u");
        t.failed("u");
        assertEquals(0, t.waitMillis("u"), "a success starts over");
    }
}
