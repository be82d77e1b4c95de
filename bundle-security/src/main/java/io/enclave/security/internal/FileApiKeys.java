package io.enclave.security.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.enclave.api.ApiKeys;
import io.enclave.api.AuditLog;
import io.enclave.api.Callers;
import io.enclave.api.Identity;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.Permission;

/**
 * API keys in an owner-only file, {@code etc/enclave-apikeys}: id, name, roles, creation time and
 * the SHA-256 of the secret. Tokens read {@code enc_<id>_<secret>}; the id finds the entry, the
 * secret's hash is compared in constant time.
 */
@Component(service = {ApiKeys.class, FileApiKeys.class}, configurationPid = "io.enclave.security.apikeys")
@Designate(ocd = FileApiKeys.Config.class)
public class FileApiKeys implements ApiKeys {
    private static final Pattern TOKEN = Pattern.compile("enc_([0-9a-f]{12})_([A-Za-z0-9_-]{43})");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_KEYS = 10_000;

    @ObjectClassDefinition(name = "Enclave API keys")
    public @interface Config {
        @AttributeDefinition(description = "Key file; relative paths are under karaf.etc")
        String file() default "enclave-apikeys";
    }

    private record Stored(Key key, String hash) {
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile AuditLog audit;

    private Path file;
    private final Map<String, Stored> keys = new LinkedHashMap<>();

    @Activate
    void activate(Config config) throws IOException {
        open(Path.of(System.getProperty("karaf.etc", "etc")).resolve(config.file()));
    }

    synchronized void open(Path path) throws IOException {
        file = path;
        keys.clear();
        if (!Files.exists(path)) {
            return;
        }
        for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            if (f.length != 5 || keys.size() >= MAX_KEYS) {
                continue;
            }
            Set<String> roles = new java.util.HashSet<>(List.of(f[2].split(",")));
            roles.retainAll(Permission.Roles.ALL);
            keys.put(f[0], new Stored(new Key(f[0], f[1], roles, Instant.parse(f[3])), f[4]));
        }
    }

    @Override
    public synchronized Created create(String name, Set<String> roles) {
        try {
            if (name == null || !ModelDescriptor.NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("key name '" + name + "' must match " + ModelDescriptor.NAME);
            }
            if (roles == null || roles.isEmpty() || !Permission.Roles.ALL.containsAll(roles)) {
                throw new IllegalArgumentException("a key needs roles from " + Permission.Roles.ALL + ", got " + roles);
            }
            if (keys.size() >= MAX_KEYS) {
                throw new IllegalArgumentException("too many API keys");
            }
            byte[] idBytes = new byte[6];
            RANDOM.nextBytes(idBytes);
            String id = HexFormat.of().formatHex(idBytes);
            byte[] secret = new byte[32];
            RANDOM.nextBytes(secret);
            String secretText = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
            Key key = new Key(id, name, roles, Instant.now());
            keys.put(id, new Stored(key, FileAuditLog.sha256(secretText)));
            save();
            audit("apikey.create", id, "success", name + " roles " + roles);
            return new Created(key, "enc_" + id + "_" + secretText);
        } catch (RuntimeException e) {
            audit("apikey.create", name, "refused", e.getMessage());
            throw e;
        }
    }

    @Override
    public synchronized List<Key> list() {
        List<Key> list = new ArrayList<>();
        keys.values().forEach(s -> list.add(s.key()));
        return list;
    }

    @Override
    public synchronized void revoke(String id) {
        if (keys.remove(id) == null) {
            audit("apikey.revoke", id, "refused", "no such key");
            throw new IllegalArgumentException("no API key '" + id + "'");
        }
        save();
        audit("apikey.revoke", id, "success", null);
    }

    @Override
    public Identity authenticate(String token) {
        if (token == null || token.length() > 100) {
            return null;
        }
        var m = TOKEN.matcher(token);
        if (!m.matches()) {
            return null;
        }
        Stored s;
        synchronized (this) {
            s = keys.get(m.group(1));
        }
        String hash = FileAuditLog.sha256(m.group(2));
        if (s == null || !MessageDigest.isEqual(hash.getBytes(StandardCharsets.US_ASCII), s.hash().getBytes(StandardCharsets.US_ASCII))) {
            return null;
        }
        return new Identity("key:" + s.key().name(), s.key().roles());
    }

    private void save() {
        StringBuilder b = new StringBuilder("# Enclave API keys: id<TAB>name<TAB>roles<TAB>created<TAB>SHA-256 of the secret\n");
        for (Stored s : keys.values()) {
            b.append(s.key().id()).append('\t').append(s.key().name()).append('\t')
                    .append(String.join(",", new java.util.TreeSet<>(s.key().roles()))).append('\t')
                    .append(s.key().created()).append('\t').append(s.hash()).append('\n');
        }
        try {
            FileUserDirectory.writeOwnerOnly(file, b.toString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private void audit(String action, String target, String outcome, String detail) {
        AuditLog a = audit;
        if (a != null) {
            a.append(new AuditLog.Event(Callers.current(), Callers.from(), action, target, outcome, detail));
        }
    }
}
