package io.enclave.security.internal;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.AuditLog;

/**
 * The audit log as JSON lines in one append-only file. Each line holds its fields, the previous
 * line's hash ({@code prev}) and its own ({@code hash} = SHA-256 over {@code prev} and the line's
 * fields in a fixed order). Every append is forced to disk before it returns (write-ahead), so a
 * crash can only leave a torn last line that was never acknowledged; opening the log cuts it off.
 */
@Component(service = AuditLog.class, configurationPid = "io.enclave.audit")
@Designate(ocd = FileAuditLog.Config.class)
public class FileAuditLog implements AuditLog {
    private static final Logger LOG = LoggerFactory.getLogger(FileAuditLog.class);
    static final String GENESIS = "0".repeat(64);
    private static final int MAX_READ = 1000;
    private static final int MAX_LINE = 8192;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(4).maxStringLength(MAX_LINE).build())
            .build());

    @ObjectClassDefinition(name = "Enclave audit log")
    public @interface Config {
        @AttributeDefinition(description = "Log file; relative paths are under karaf.base")
        String file() default "audit/audit.log";
    }

    private Path file;
    private FileChannel channel;
    private long lastSeq;
    private String lastHash = GENESIS;

    @Activate
    void activate(Config config) throws IOException {
        open(Path.of(System.getProperty("karaf.base", ".")).resolve(config.file()));
    }

    synchronized void open(Path path) throws IOException {
        this.file = path;
        Files.createDirectories(path.toAbsolutePath().getParent());
        if (!Files.exists(path)) {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        cutTornTail();
        String last = lastLine();
        if (last != null) {
            JsonNode n = JSON.readTree(last);
            lastSeq = n.path("seq").asLong();
            lastHash = n.path("hash").asText();
        }
        channel.position(channel.size());
    }

    @Deactivate
    synchronized void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }

    /** A last line without its newline was never acknowledged: remove it. */
    private void cutTornTail() throws IOException {
        long size = channel.size();
        if (size == 0) {
            return;
        }
        ByteBuffer one = ByteBuffer.allocate(1);
        channel.read(one, size - 1);
        if (one.get(0) == '\n') {
            return;
        }
        long keep = size - 1;
        while (keep > 0) {
            one.clear();
            channel.read(one, keep - 1);
            if (one.get(0) == '\n') {
                break;
            }
            keep--;
        }
        channel.truncate(keep);
        channel.force(true);
        LOG.warn("audit log {}: removed an incomplete last entry ({} bytes) left by a crash", file, size - keep);
    }

    private String lastLine() throws IOException {
        long size = channel.size();
        if (size == 0) {
            return null;
        }
        long start = Math.max(0, size - MAX_LINE - 1);
        ByteBuffer buf = ByteBuffer.allocate((int) (size - start));
        channel.read(buf, start);
        String tail = new String(buf.array(), StandardCharsets.UTF_8);
        String[] lines = tail.split("\n");
        return lines[lines.length - 1];
    }

    @Override
    public synchronized Entry append(Event event) {
        Event e = new Event(cap(event.who(), 256), cap(event.from(), 128), cap(event.action(), 64),
                cap(event.target(), 512), cap(event.outcome(), 32), cap(event.detail(), 2048));
        long seq = lastSeq + 1;
        Instant time = Instant.now();
        String body = canonical(seq, time, e, lastHash);
        String hash = sha256(lastHash + "\n" + body);
        byte[] line = (body.substring(0, body.length() - 1) + ",\"hash\":\"" + hash + "\"}\n").getBytes(StandardCharsets.UTF_8);
        try {
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) {
                channel.write(b);
            }
            channel.force(false);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot append to the audit log " + file, ex);
        }
        lastSeq = seq;
        lastHash = hash;
        return new Entry(seq, time, e, hash);
    }

    private static String cap(String s, int max) {
        if (s == null) {
            return null;
        }
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    /** The hashed form of an entry: fixed field order, no hash. */
    static String canonical(long seq, Instant time, Event e, String prev) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("seq", seq);
            g.writeStringField("time", time.toString());
            g.writeStringField("who", e.who());
            g.writeStringField("from", e.from());
            g.writeStringField("action", e.action());
            g.writeStringField("target", e.target());
            g.writeStringField("outcome", e.outcome());
            g.writeStringField("detail", e.detail());
            g.writeStringField("prev", prev);
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Entry parse(String line) throws IOException {
        JsonNode n = JSON.readTree(line);
        Event e = new Event(text(n, "who"), text(n, "from"), text(n, "action"), text(n, "target"), text(n, "outcome"),
                text(n, "detail"));
        return new Entry(n.path("seq").asLong(), Instant.parse(n.path("time").asText()), e, text(n, "hash"));
    }

    private static Entry parseOrNull(String line) {
        try {
            return parse(line);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public List<Entry> read(long fromSeq, int limit, String who, String action) {
        int max = Math.max(0, Math.min(limit, MAX_READ));
        List<Entry> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while (out.size() < max && (line = r.readLine()) != null) {
                Entry e = parseOrNull(line);
                if (e == null) {
                    // an unreadable line is shown by verify(); readers get what can be read
                    continue;
                }
                if (e.seq() < fromSeq || (who != null && !who.equals(e.event().who()))
                        || (action != null && (e.event().action() == null || !e.event().action().startsWith(action)))) {
                    continue;
                }
                out.add(e);
            }
        } catch (IOException | RuntimeException ex) {
            throw new IllegalStateException("cannot read the audit log " + file + ": " + ex.getMessage(), ex);
        }
        return out;
    }

    @Override
    public List<Entry> tail(int n) {
        int max = Math.max(0, Math.min(n, MAX_READ));
        Deque<String> last = new ArrayDeque<>(max + 1);
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                last.addLast(line);
                if (last.size() > max) {
                    last.removeFirst();
                }
            }
            List<Entry> out = new ArrayList<>(last.size());
            for (String l : last) {
                Entry e = parseOrNull(l);
                if (e != null) {
                    out.add(e);
                }
            }
            return out;
        } catch (IOException | RuntimeException ex) {
            throw new IllegalStateException("cannot read the audit log " + file + ": " + ex.getMessage(), ex);
        }
    }

    @Override
    public Verification verify() {
        return verify(file);
    }

    /** Checks every line: its own hash, its link to the line before, and the sequence. */
    static Verification verify(Path file) {
        String prev = GENESIS;
        long expectedSeq = 1;
        long line = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            while ((text = r.readLine()) != null) {
                line++;
                JsonNode n;
                Entry e;
                try {
                    n = JSON.readTree(text);
                    e = parse(text);
                } catch (IOException | DateTimeParseException | IllegalArgumentException ex) {
                    return new Verification(line, line, "line " + line + " is not an audit entry");
                }
                if (e.seq() != expectedSeq) {
                    return new Verification(line, line, "line " + line + " has sequence " + e.seq() + ", expected "
                            + expectedSeq + " (an entry was removed or moved)");
                }
                if (!prev.equals(text(n, "prev"))) {
                    return new Verification(line, line, "entry " + e.seq() + " does not follow the entry before it "
                            + "(an entry was removed, moved or changed)");
                }
                String hash = sha256(prev + "\n" + canonical(e.seq(), e.time(), e.event(), prev));
                if (!hash.equals(e.hash())) {
                    return new Verification(line, line, "entry " + e.seq() + " was changed after it was written");
                }
                prev = hash;
                expectedSeq++;
            }
        } catch (IOException ex) {
            return new Verification(line, Math.max(1, line), "cannot read " + file + ": " + ex.getMessage());
        }
        return new Verification(line, 0, null);
    }
}
