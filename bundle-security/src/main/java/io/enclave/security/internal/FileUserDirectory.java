package io.enclave.security.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.AuditLog;
import io.enclave.api.Callers;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.Permission;
import io.enclave.api.UserDirectory;

/**
 * Users in one owner-only file, {@code etc/enclave-users}: a line per user, tab-separated name,
 * comma-separated roles and an Argon2id hash. Changes are written to a temporary file and moved
 * into place, so a crash never leaves half a file. On first start (no admin), creates {@code admin}
 * with a random password written to {@code etc/admin.password}, readable by the owner only.
 */
@Component(service = {UserDirectory.class, FileUserDirectory.class}, configurationPid = "io.enclave.security.users")
@Designate(ocd = FileUserDirectory.Config.class)
public class FileUserDirectory implements UserDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(FileUserDirectory.class);
    static final int MIN_PASSWORD = 12;
    private static final int MAX_USERS = 10_000;
    private static final int MAX_LINE = 1024;
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    @ObjectClassDefinition(name = "Enclave users", description = "Where Enclave keeps its users")
    public @interface Config {
        @AttributeDefinition(description = "User file; relative paths are under karaf.etc")
        String file() default "enclave-users";

        @AttributeDefinition(description = "Where the first start writes the generated admin password; "
                + "relative paths are under karaf.etc")
        String initialPasswordFile() default "admin.password";
    }

    private record Entry(Set<String> roles, String hash) {
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile AuditLog audit;

    private Path file;
    private Path initialPasswordFile;
    private Map<String, Entry> users = new TreeMap<>();
    private FileTime loaded;
    private volatile long generation;

    /**
     * @return a number that changes whenever any user, password or role changes: at once for changes made
     *         through this service, within a second for a hand edit of the file (every request asks, so
     *         the file is looked at no more than once a second and without a lock in between)
     */
    long generation() {
        long now = System.nanoTime();
        if (now - lastLook > LOOK_EVERY_NANOS) {
            synchronized (this) {
                reloadQuietly();
                lastLook = now;
            }
        }
        return generation;
    }

    private static final long LOOK_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
    private volatile long lastLook = System.nanoTime() - 2 * LOOK_EVERY_NANOS;

    @Activate
    void activate(Config config) throws IOException {
        Path etc = Path.of(System.getProperty("karaf.etc", "etc"));
        open(etc.resolve(config.file()), etc.resolve(config.initialPasswordFile()));
    }

    synchronized void open(Path usersFile, Path passwordFile) throws IOException {
        this.file = usersFile;
        this.initialPasswordFile = passwordFile;
        reload();
        if (users.values().stream().noneMatch(e -> e.roles().contains(Permission.Roles.ADMIN))) {
            char[] password = randomPassword(24);
            users.put("admin", new Entry(Set.of(Permission.Roles.ADMIN), Argon2id.hash(password)));
            save();
            writeOwnerOnly(initialPasswordFile, new String(password) + "\n");
            Arrays.fill(password, '\0');
            audited("user.add", "admin", () -> { }, "first start: random password in " + initialPasswordFile);
            LOG.warn("Created user 'admin' with a random password, written to {} (readable by its owner only). "
                    + "Change it with: user:password admin", initialPasswordFile);
        }
    }

    static char[] randomPassword(int length) {
        SecureRandom random = new SecureRandom();
        char[] c = new char[length];
        for (int i = 0; i < length; i++) {
            c[i] = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
        }
        return c;
    }

    /** @return the user's roles when the password matches */
    Optional<Set<String>> verify(String name, char[] password) {
        Entry e;
        synchronized (this) {
            reloadQuietly();
            e = users.get(name);
        }
        // hash even for unknown users, so timing does not tell which names exist
        String hash = e == null ? DUMMY_HASH : e.hash();
        boolean ok = Argon2id.verify(password, hash);
        return ok && e != null ? Optional.of(e.roles()) : Optional.empty();
    }

    private static final String DUMMY_HASH = Argon2id.hash("not a password".toCharArray());

    @Override
    public synchronized List<User> users() {
        reloadQuietly();
        List<User> list = new ArrayList<>();
        users.forEach((n, e) -> list.add(new User(n, e.roles())));
        return list;
    }

    @Override
    public void add(String name, char[] password, Set<String> roles) {
        audited("user.add", name, () -> doAdd(name, password, roles), "roles " + roles);
    }

    private synchronized void doAdd(String name, char[] password, Set<String> roles) {
        checkName(name);
        reloadQuietly();
        if (users.containsKey(name)) {
            throw new IllegalArgumentException("user '" + name + "' exists");
        }
        if (users.size() >= MAX_USERS) {
            throw new IllegalArgumentException("too many users (" + MAX_USERS + ")");
        }
        users.put(name, new Entry(checkRoles(roles), Argon2id.hash(checkPassword(password))));
        saveUnchecked();
    }

    @Override
    public void setPassword(String name, char[] password) {
        audited("user.password", name, () -> doSetPassword(name, password), null);
    }

    private synchronized void doSetPassword(String name, char[] password) {
        Entry e = existing(name);
        users.put(name, new Entry(e.roles(), Argon2id.hash(checkPassword(password))));
        saveUnchecked();
        if ("admin".equals(name)) {
            try {
                // the generated password no longer works: do not leave it lying around
                Files.deleteIfExists(initialPasswordFile);
            } catch (IOException ignored) {
                LOG.warn("could not delete {}", initialPasswordFile);
            }
        }
    }

    @Override
    public void setRoles(String name, Set<String> roles) {
        audited("user.roles", name, () -> doSetRoles(name, roles), "roles " + roles);
    }

    private synchronized void doSetRoles(String name, Set<String> roles) {
        Entry e = existing(name);
        Set<String> checked = checkRoles(roles);
        if (e.roles().contains(Permission.Roles.ADMIN) && !checked.contains(Permission.Roles.ADMIN) && admins() == 1) {
            throw new IllegalArgumentException("'" + name + "' is the last admin");
        }
        users.put(name, new Entry(checked, e.hash()));
        saveUnchecked();
    }

    @Override
    public void remove(String name) {
        audited("user.remove", name, () -> doRemove(name), null);
    }

    private synchronized void doRemove(String name) {
        Entry e = existing(name);
        if (e.roles().contains(Permission.Roles.ADMIN) && admins() == 1) {
            throw new IllegalArgumentException("'" + name + "' is the last admin");
        }
        users.remove(name);
        saveUnchecked();
    }

    /** Runs a change and records it, refused or done, with the caller the container knows. */
    private void audited(String action, String target, Runnable change, String detail) {
        AuditLog a = audit;
        try {
            change.run();
        } catch (RuntimeException e) {
            if (a != null) {
                a.append(new AuditLog.Event(Callers.current(), Callers.from(), action, target, "refused", e.getMessage()));
            }
            throw e;
        }
        if (a != null) {
            a.append(new AuditLog.Event(Callers.current(), Callers.from(), action, target, "success", detail));
        }
    }

    private long admins() {
        return users.values().stream().filter(x -> x.roles().contains(Permission.Roles.ADMIN)).count();
    }

    private Entry existing(String name) {
        reloadQuietly();
        Entry e = users.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no user '" + name + "'");
        }
        return e;
    }

    private static void checkName(String name) {
        if (name == null || !ModelDescriptor.NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("user name '" + name + "' must match " + ModelDescriptor.NAME);
        }
    }

    private static char[] checkPassword(char[] password) {
        if (password == null || password.length < MIN_PASSWORD) {
            throw new IllegalArgumentException("a password needs at least " + MIN_PASSWORD + " characters");
        }
        if (password.length > 1024) {
            throw new IllegalArgumentException("a password may have at most 1024 characters");
        }
        return password;
    }

    private static Set<String> checkRoles(Set<String> roles) {
        if (roles == null || roles.isEmpty()) {
            throw new IllegalArgumentException("a user needs at least one role of " + Permission.Roles.ALL);
        }
        for (String r : roles) {
            if (!Permission.Roles.ALL.contains(r)) {
                throw new IllegalArgumentException("unknown role '" + r + "' (roles: admin, analyst, auditor)");
            }
        }
        return Set.copyOf(roles);
    }

    private void reloadQuietly() {
        try {
            reload();
        } catch (IOException e) {
            LOG.error("cannot read {}: {}; keeping the users read before", file, e.getMessage());
        }
    }

    private void reload() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        FileTime modified = Files.getLastModifiedTime(file);
        if (modified.equals(loaded)) {
            return;
        }
        Map<String, Entry> read = new TreeMap<>();
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            if (line.length() > MAX_LINE || f.length != 3 || !ModelDescriptor.NAME.matcher(f[0]).matches()
                    || read.size() >= MAX_USERS) {
                LOG.error("{} line {} is not 'name<TAB>roles<TAB>hash'; skipped", file, n);
                continue;
            }
            Set<String> roles = new LinkedHashSet<>(List.of(f[1].split(",")));
            roles.retainAll(Permission.Roles.ALL);
            read.put(f[0], new Entry(Set.copyOf(roles), f[2]));
        }
        users = read;
        loaded = modified;
        generation++;
    }

    private void saveUnchecked() {
        try {
            save();
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private void save() throws IOException {
        StringBuilder b = new StringBuilder("# Enclave users: name<TAB>roles<TAB>Argon2id hash. Manage with user:* commands.\n");
        users.forEach((n, e) -> b.append(n).append('\t').append(String.join(",", new java.util.TreeSet<>(e.roles())))
                .append('\t').append(e.hash()).append('\n'));
        writeOwnerOnly(file, b.toString());
        loaded = Files.getLastModifiedTime(file);
        generation++;
    }

    static void writeOwnerOnly(Path target, String content) throws IOException {
        writeOwnerOnly(target, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes to an owner-only temporary file, forces it to disk, and moves it into place. */
    static void writeOwnerOnly(Path target, byte[] content) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } else {
            Files.createFile(tmp);
        }
        Files.write(tmp, content);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
