package io.enclave.core.internal;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.apache.felix.utils.properties.TypedProperties;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores a configuration Enclave writes itself (traffic rules, batching overrides) in ConfigAdmin and in
 * its file in Karaf's {@code etc/}, the file replaced whole.
 *
 * <p>Karaf's own {@code ConfigRepository} rewrites the file in place: it is truncated, then written, and a
 * reader can find it empty in between (ConfigFilesTest's reader does within a few writes). File Install
 * polls {@code etc/} once a second; when it reads the empty file it stores an empty configuration, and with
 * {@code felix.fileinstall.enableConfigSave} it may write that back over the file. A container test once
 * found a canary gone after a restart and the file rewritten from nothing. Here the new text goes to a
 * hidden temporary file beside the old one (File Install's filter skips it), is synced, and is renamed
 * over it: a reader finds the old file or the new one, never a part. Comments and the order of the keys
 * an operator left in the file stay.
 *
 * <p>File Install still answers each ConfigAdmin change event on its own thread by rewriting the file in
 * place with the configuration's values (Karaf's {@code config:delete} relies on the same listener to
 * remove the file, so it stays on). That write keeps the comments too, and comes a moment after this one;
 * this one, when it reads the old file to keep its comments, waits until such a rewrite is done.
 */
final class ConfigFiles {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFiles.class);

    /** Where File Install records a configuration's file; the same form it writes ({@code File.toURI}). */
    static final String FILENAME = "felix.fileinstall.filename";
    private static final Set<PosixFilePermission> NEW_FILE = PosixFilePermissions.fromString("rw-r--r--");

    /** How often a write starts again when File Install deletes the configuration under it. */
    private static final int WRITE_ATTEMPTS = 3;

    private final ConfigurationAdmin admin;
    private final Path etc;
    /** How long {@link #delete} waits for File Install to remove the file. */
    long deleteWaitNanos = TimeUnit.SECONDS.toNanos(2);
    /**
     * How long after {@link #delete} saw a file go the same file is not written again: File Install's poll
     * interval, and a second for the scan itself on a busy machine.
     */
    long rescanNanos = TimeUnit.MILLISECONDS.toNanos(fileInstallPollMillis() + 1000);
    /** When {@link #delete} saw each file go (System.nanoTime), until it is written again. */
    private final Map<Path, Long> removedAt = new ConcurrentHashMap<>();

    /**
     * @param etc Karaf's {@code etc/}, absolute; null where there is none (unit tests): ConfigAdmin only
     */
    ConfigFiles(ConfigurationAdmin admin, Path etc) {
        this.admin = admin;
        this.etc = etc == null ? null : etc.toAbsolutePath().normalize();
    }

    /** Karaf's {@code etc/}, or null outside Karaf. */
    static Path karafEtc() {
        String e = System.getProperty("karaf.etc");
        return e == null || e.isBlank() ? null : Path.of(e);
    }

    /**
     * Writes {@code properties}, and only those, as the configuration {@code pid}, or, when it is null, as
     * the named factory configuration {@code factoryPid~name} in {@code etc/<factoryPid>-<name>.cfg}.
     *
     * @param name a checked model name: it becomes part of a file name
     * @return the configuration's PID
     */
    String write(String pid, String factoryPid, String name, Map<String, String> properties) throws IOException {
        if (etc != null) {
            Path named = etc.resolve(factoryPid + "-" + name + ".cfg");
            awaitRescan(named, removedAt.remove(named));
        }
        for (int attempt = 1;; attempt++) {
            try {
                return writeOnce(attempt == 1 ? pid : null, factoryPid, name, properties, true);
            } catch (IllegalStateException deleted) {
                // File Install deleted it under us: its scan found the file of a configuration deleted just
                // before under the same name missing, and deletes by name (see delete). The next one sticks
                if (attempt == WRITE_ATTEMPTS) {
                    throw new IOException("the configuration " + factoryPid + "~" + name + " was deleted while it was "
                            + "written, " + attempt + " times", deleted);
                }
                LOG.debug("{}~{} was deleted while it was written; writing it again", factoryPid, name);
            }
        }
    }

    private String writeOnce(String pid, String factoryPid, String name, Map<String, String> properties, boolean mayWait)
            throws IOException {
        Configuration c = pid != null ? admin.getConfiguration(pid, "?") : admin.getFactoryConfiguration(factoryPid, name, "?");
        Hashtable<String, Object> dict = new Hashtable<>(properties);
        Dictionary<String, Object> current = c.getProperties();
        if (pid != null && current == null) {
            // deleted since the caller learnt its PID: ConfigAdmin would make it a plain configuration under
            // that PID, which no factory hears of; by name it is a factory configuration again
            return writeOnce(null, factoryPid, name, properties, mayWait);
        }
        Path file = etc == null ? null : fileOf(current, factoryPid, name);
        if (mayWait && file != null && current != null && current.get(FILENAME) != null && !Files.exists(file)) {
            // its file was removed by hand (or by a script) moments ago: File Install's next scan deletes
            // this configuration, and would take a new one written meanwhile with it. After that scan the
            // configuration is written again by name, as a new one
            LOG.info("{} is gone while its configuration {} is still there: waiting for File Install's scan before "
                    + "writing it again", file, c.getPid());
            awaitRescan(file, System.nanoTime());
            return writeOnce(null, factoryPid, name, properties, false);
        }
        if (file != null) {
            replace(file, properties);
            dict.put(FILENAME, file.toFile().toURI().toString());
        } else if (current != null && current.get(FILENAME) != null) {
            dict.put(FILENAME, current.get(FILENAME));
        }
        c.update(dict);
        return c.getPid();
    }

    /**
     * Deletes the configuration {@code pid}, and returns once its file in {@code etc/} is gone too.
     *
     * <p>File Install removes a deleted configuration's file a moment later, on ConfigAdmin's event thread,
     * and finds it by the path it last knew. A named factory configuration written again meanwhile (a reset
     * followed at once by a new setting) has the same PID and the same file: File Install would remove the
     * new file, and its next scan, finding the file gone, would delete the new configuration. Waiting here
     * until the file is gone leaves File Install nothing of the old one to act on. Where it does not remove
     * the file within {@link #deleteWaitNanos} (configuration saving off), this does, so the deleted
     * setting does not come back from the file at the next start.
     */
    void delete(String pid) throws IOException {
        Configuration c = admin.getConfiguration(pid, "?");
        Dictionary<String, Object> current = c.getProperties();
        Path file = etc == null || current == null || current.get(FILENAME) == null ? null : fileOf(current, null, null);
        c.delete();
        if (file == null) {
            return;
        }
        long end = System.nanoTime() + deleteWaitNanos;
        while (Files.exists(file) && System.nanoTime() < end) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (Files.deleteIfExists(file)) {
            LOG.info("removed {}: File Install had not, {} ms after its configuration was deleted", file,
                    TimeUnit.NANOSECONDS.toMillis(deleteWaitNanos));
        }
        removedAt.put(file, System.nanoTime());
    }

    /**
     * Waits, when {@code file} went moments ago ({@code removed}, System.nanoTime; null when it did not),
     * until File Install's scan has seen it gone. That scan deletes the configuration the file's name stands for, whatever configuration has the
     * name by then: a file written again before the scan found it missing leaves its new configuration
     * exposed to that delete (a container test once found a reset followed at once by a new setting with
     * the file on disk and no configuration). After the scan, the file is new to File Install and its
     * configuration is ours.
     */
    private void awaitRescan(Path file, Long removed) {
        if (removed == null) {
            return;
        }
        long left = removed + rescanNanos - System.nanoTime();
        if (left > 0) {
            LOG.debug("{} was removed {} ms ago: waiting {} ms for File Install's scan before writing it again", file,
                    TimeUnit.NANOSECONDS.toMillis(rescanNanos - left), TimeUnit.NANOSECONDS.toMillis(left));
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** File Install's {@code felix.fileinstall.poll} where this runs in OSGi; its default, 2 s, elsewhere. */
    private static long fileInstallPollMillis() {
        org.osgi.framework.Bundle bundle = org.osgi.framework.FrameworkUtil.getBundle(ConfigFiles.class);
        String poll = bundle == null || bundle.getBundleContext() == null ? null
                : bundle.getBundleContext().getProperty("felix.fileinstall.poll");
        try {
            return poll == null ? 2000 : Math.max(0, Long.parseLong(poll.trim()));
        } catch (NumberFormatException e) {
            return 2000;
        }
    }

    /**
     * The file the configuration already has when it is a {@code .cfg} directly in {@code etc/}; a new one
     * for a configuration without a file; null (ConfigAdmin only, File Install then writes the file itself)
     * for one whose file is elsewhere or in another format.
     */
    Path fileOf(Dictionary<String, Object> current, String factoryPid, String name) {
        Object recorded = current == null ? null : current.get(FILENAME);
        if (recorded == null) {
            return etc.resolve(factoryPid + "-" + name + ".cfg");
        }
        try {
            URI uri = URI.create(recorded.toString());
            Path file = "file".equals(uri.getScheme()) ? Path.of(uri).toAbsolutePath().normalize() : null;
            if (file != null && etc.equals(file.getParent()) && file.getFileName().toString().endsWith(".cfg")) {
                return file;
            }
        } catch (IllegalArgumentException e) {
            // not a file URI: as below
        }
        LOG.debug("{} is not a .cfg file in {}: stored in ConfigAdmin only", recorded, etc);
        return null;
    }

    /**
     * The file's text, not a moment of a rewrite in place: File Install (and Karaf's config commands)
     * truncate the file and then write it, so a read in between finds it empty or cut short, and the
     * operator's comments would be lost for good with it. So the file is read until two reads a
     * millisecond apart agree on a text that is not empty; a file that never settles within 50 reads
     * gives the longest text read (a read cut short is a beginning of the text), one that stays empty
     * is empty.
     */
    private static byte[] whole(Path file) throws IOException {
        byte[] before = Files.readAllBytes(file);
        byte[] longest = before;
        for (int tries = 0; tries < 50; tries++) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            byte[] now = Files.readAllBytes(file);
            if (now.length > 0 && java.util.Arrays.equals(before, now)) {
                return now;
            }
            if (now.length > longest.length) {
                longest = now;
            }
            before = now;
        }
        return longest;
    }

    /** The file afterwards holds exactly {@code properties}, with the comments and order the old one had. */
    static void replace(Path file, Map<String, String> properties) throws IOException {
        TypedProperties text = new TypedProperties();
        boolean existed = Files.exists(file);
        if (existed) {
            text.load(new java.io.ByteArrayInputStream(whole(file)));
        }
        text.keySet().retainAll(properties.keySet());
        properties.forEach(text::put);
        Path dir = file.getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            try (FileOutputStream out = new FileOutputStream(tmp.toFile())) {
                text.save((OutputStream) out);
                out.getFD().sync();
            }
            try {
                Files.setPosixFilePermissions(tmp, existed ? Files.getPosixFilePermissions(file) : NEW_FILE);
            } catch (UnsupportedOperationException notPosix) {
                // the temporary file's own permissions
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
