package io.enclave.security.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.KeyProvider;

/**
 * Master keys (AES-256) in a PKCS12 key store, {@code etc/enclave-keys.p12}, created on first start
 * with a random password kept beside it in an owner-only file. Data keys are wrapped with AES-GCM
 * under the current master key ({@code master-N}, the highest N); rotation adds {@code master-N+1}
 * and keeps the old ones for unwrapping.
 */
@Component(property = KeyProvider.PROP_NAME + "=" + Pkcs12KeyProvider.NAME, configurationPid = "io.enclave.keys.pkcs12")
@Designate(ocd = Pkcs12KeyProvider.Config.class)
public class Pkcs12KeyProvider implements KeyProvider {
    private static final Logger LOG = LoggerFactory.getLogger(Pkcs12KeyProvider.class);
    static final String NAME = "pkcs12";
    private static final Pattern ALIAS = Pattern.compile("master-(\\d{1,9})");
    private static final SecureRandom RANDOM = new SecureRandom();

    @ObjectClassDefinition(name = "Enclave master keys (PKCS12)")
    public @interface Config {
        @AttributeDefinition(description = "Key store; relative paths are under karaf.etc")
        String keystore() default "enclave-keys.p12";

        @AttributeDefinition(description = "File holding the key store password; relative paths are under karaf.etc")
        String passwordFile() default "enclave-keys.password";
    }

    private Path store;
    private char[] password;
    private KeyStore keys;
    private String current;

    @Activate
    void activate(Config config) throws IOException, GeneralSecurityException {
        Path etc = Path.of(System.getProperty("karaf.etc", "etc"));
        open(etc.resolve(config.keystore()), etc.resolve(config.passwordFile()));
    }

    synchronized void open(Path keystore, Path passwordFile) throws IOException, GeneralSecurityException {
        this.store = keystore;
        keys = KeyStore.getInstance("PKCS12");
        if (Files.exists(keystore)) {
            password = Files.readString(passwordFile, StandardCharsets.UTF_8).trim().toCharArray();
            try (InputStream in = Files.newInputStream(keystore)) {
                keys.load(in, password);
            }
        } else {
            password = FileUserDirectory.randomPassword(32);
            FileUserDirectory.writeOwnerOnly(passwordFile, new String(password) + "\n");
            keys.load(null, password);
            add(1);
            LOG.warn("Created master key store {} (password in {}); back both up: encrypted models cannot be read without them",
                    keystore, passwordFile);
        }
        current = null;
        int highest = 0;
        for (String alias : Collections.list(keys.aliases())) {
            Matcher m = ALIAS.matcher(alias);
            if (m.matches() && Integer.parseInt(m.group(1)) > highest) {
                highest = Integer.parseInt(m.group(1));
                current = alias;
            }
        }
        if (current == null) {
            throw new GeneralSecurityException(keystore + " holds no master-N key");
        }
    }

    private void add(int n) throws IOException, GeneralSecurityException {
        KeyGenerator g = KeyGenerator.getInstance("AES");
        g.init(256, RANDOM);
        keys.setEntry("master-" + n, new KeyStore.SecretKeyEntry(g.generateKey()), new KeyStore.PasswordProtection(password));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        keys.store(out, password);
        FileUserDirectory.writeOwnerOnly(store, out.toByteArray());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public synchronized String currentKeyId() {
        return current;
    }

    private SecretKey key(String alias) {
        try {
            KeyStore.Entry e = keys.getEntry(alias, new KeyStore.PasswordProtection(password));
            if (e instanceof KeyStore.SecretKeyEntry s) {
                return s.getSecretKey();
            }
        } catch (GeneralSecurityException e) {
            throw new SecurityException("cannot read master key " + alias + ": " + e.getMessage(), e);
        }
        throw new SecurityException("unknown master key '" + alias + "' in " + store);
    }

    @Override
    public synchronized WrappedKey wrap(byte[] dataKey) {
        try {
            byte[] nonce = new byte[12];
            RANDOM.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key(current), new GCMParameterSpec(128, nonce));
            c.updateAAD(current.getBytes(StandardCharsets.UTF_8));
            byte[] ct = c.doFinal(dataKey);
            return new WrappedKey(current, ByteBuffer.allocate(12 + ct.length).put(nonce).put(ct).array());
        } catch (GeneralSecurityException e) {
            throw new SecurityException("cannot wrap a data key: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized byte[] unwrap(String keyId, byte[] wrapped) {
        if (wrapped.length < 12 + 16) {
            throw new SecurityException("wrapped data key is too short");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key(keyId), new GCMParameterSpec(128, wrapped, 0, 12));
            c.updateAAD(keyId.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(wrapped, 12, wrapped.length - 12);
        } catch (GeneralSecurityException e) {
            throw new SecurityException("cannot unwrap the data key with " + keyId + ": it was tampered with or "
                    + "wrapped by another key store");
        }
    }

    @Override
    public synchronized String rotate() {
        Matcher m = ALIAS.matcher(current);
        m.matches();
        int next = Integer.parseInt(m.group(1)) + 1;
        try {
            add(next);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot add master key " + next + ": " + e.getMessage(), e);
        }
        current = "master-" + next;
        LOG.info("master key rotated: new data keys are wrapped with {}", current);
        return current;
    }
}
