package io.enclave.security.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The Vault Transit provider against an in-test server that follows Vault's documented Transit API
 * (encrypt, decrypt, read key, rotate; X-Vault-Token; "vault:vN:" ciphertexts; 403 on a bad token),
 * since no Vault server can be installed here.
 */
class VaultTransitKeyProviderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s.test-token";

    private HttpServer server;
    private final List<byte[]> versions = new ArrayList<>();
    private final List<String> seen = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        versions.add(randomKey());
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/transit/", this::transit);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static byte[] randomKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return k;
    }

    private void transit(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        seen.add(ex.getRequestMethod() + " " + path);
        if (!TOKEN.equals(ex.getRequestHeaders().getFirst("X-Vault-Token"))) {
            reply(ex, 403, "{\"errors\":[\"permission denied\"]}");
            return;
        }
        try {
            JsonNode body = ex.getRequestMethod().equals("POST") && ex.getRequestBody() != null
                    ? JSON.readTree(ex.getRequestBody().readAllBytes()) : null;
            if (path.equals("/v1/transit/keys/enclave") && ex.getRequestMethod().equals("GET")) {
                reply(ex, 200, "{\"data\":{\"name\":\"enclave\",\"type\":\"aes256-gcm96\",\"latest_version\":" + versions.size() + "}}");
            } else if (path.equals("/v1/transit/keys/enclave/rotate")) {
                versions.add(randomKey());
                reply(ex, 204, "");
            } else if (path.equals("/v1/transit/encrypt/enclave")) {
                byte[] plain = Base64.getDecoder().decode(body.path("plaintext").asText());
                int v = versions.size();
                byte[] nonce = new byte[12];
                new SecureRandom().nextBytes(nonce);
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(versions.get(v - 1), "AES"), new GCMParameterSpec(128, nonce));
                byte[] ct = c.doFinal(plain);
                String text = "vault:v" + v + ":" + Base64.getEncoder().encodeToString(ByteBuffer.allocate(12 + ct.length).put(nonce).put(ct).array());
                reply(ex, 200, "{\"data\":{\"ciphertext\":\"" + text + "\",\"key_version\":" + v + "}}");
            } else if (path.equals("/v1/transit/decrypt/enclave")) {
                Matcher m = Pattern.compile("vault:v(\\d+):(.*)").matcher(body.path("ciphertext").asText());
                if (!m.matches()) {
                    reply(ex, 400, "{\"errors\":[\"invalid ciphertext: no prefix\"]}");
                    return;
                }
                byte[] raw = Base64.getDecoder().decode(m.group(2));
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(versions.get(Integer.parseInt(m.group(1)) - 1), "AES"),
                        new GCMParameterSpec(128, raw, 0, 12));
                byte[] plain = c.doFinal(raw, 12, raw.length - 12);
                reply(ex, 200, "{\"data\":{\"plaintext\":\"" + Base64.getEncoder().encodeToString(plain) + "\"}}");
            } else {
                reply(ex, 404, "{\"errors\":[]}");
            }
        } catch (Exception e) {
            reply(ex, 400, "{\"errors\":[\"" + e.getClass().getSimpleName() + "\"]}");
        }
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, status == 204 ? -1 : b.length);
        if (status != 204) {
            ex.getResponseBody().write(b);
        }
        ex.close();
    }

    private VaultTransitKeyProvider provider(String token) throws Exception {
        VaultTransitKeyProvider p = new VaultTransitKeyProvider();
        p.configure(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "transit", "enclave", token, "", null,
                Duration.ofSeconds(5));
        return p;
    }

    @Test
    void wrapsUnwrapsAndRotatesThroughVault() throws Exception {
        VaultTransitKeyProvider vault = provider(TOKEN);
        assertEquals("enclave:v1", vault.currentKeyId());
        byte[] dataKey = randomKey();
        var wrapped = vault.wrap(dataKey);
        assertEquals("enclave:v1", wrapped.keyId());
        assertTrue(new String(wrapped.wrapped(), StandardCharsets.US_ASCII).startsWith("vault:v1:"));
        assertArrayEquals(dataKey, vault.unwrap(wrapped.keyId(), wrapped.wrapped()));
        assertEquals("enclave:v2", vault.rotate());
        assertArrayEquals(dataKey, vault.unwrap(wrapped.keyId(), wrapped.wrapped()), "old versions still decrypt");
        assertEquals("enclave:v2", vault.wrap(dataKey).keyId());
        assertTrue(seen.contains("POST /v1/transit/encrypt/enclave") && seen.contains("POST /v1/transit/keys/enclave/rotate"), seen.toString());
    }

    @Test
    void envelopeEncryptionWorksWithVaultHoldingTheMasterKey() throws Exception {
        EnvelopeCryptoService crypto = new EnvelopeCryptoService();
        crypto.bindProvider(provider(TOKEN));
        crypto.configure(new EnvelopeCryptoService.Config() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return EnvelopeCryptoService.Config.class;
            }

            @Override
            public String provider() {
                return VaultTransitKeyProvider.NAME;
            }
        });
        byte[] plain = EnvelopeCryptoTest.random(3_000_000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        crypto.encrypt(new ByteArrayInputStream(plain), out);
        try (InputStream in = crypto.decrypt(new ByteArrayInputStream(out.toByteArray()))) {
            assertArrayEquals(plain, in.readAllBytes());
        }
    }

    @Test
    void aBadTokenOrAnAbsentVaultFailsClearly() throws Exception {
        SecurityException denied = assertThrows(SecurityException.class, () -> provider("wrong").wrap(randomKey()));
        assertTrue(denied.getMessage().contains("Vault refused POST encrypt/enclave (403)"), denied.getMessage());
        VaultTransitKeyProvider vault = provider(TOKEN);
        byte[] wrapped = vault.wrap(randomKey()).wrapped();
        wrapped[wrapped.length - 3] = (byte) (wrapped[wrapped.length - 3] == 'A' ? 'B' : 'A');
        assertThrows(SecurityException.class, () -> vault.unwrap("enclave:v1", wrapped));
        server.stop(0);
        SecurityException down = assertThrows(SecurityException.class, () -> vault.currentKeyId());
        assertTrue(down.getMessage().contains("cannot reach Vault"), down.getMessage());
    }
}
