package io.enclave.security.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.KeyProvider;

/**
 * Master keys held by HashiCorp Vault's Transit secrets engine: data keys are wrapped and unwrapped
 * by Vault ({@code POST /v1/transit/encrypt|decrypt/<key>}) and never the master key leaves it.
 * Written against Vault's documented HTTP API with {@code java.net.http}; active only when
 * {@code etc/io.enclave.keys.vault.cfg} exists.
 */
@Component(property = KeyProvider.PROP_NAME + "=" + VaultTransitKeyProvider.NAME, configurationPid = "io.enclave.keys.vault",
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = VaultTransitKeyProvider.Config.class)
public class VaultTransitKeyProvider implements KeyProvider {
    static final String NAME = "vault-transit";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CIPHERTEXT = Pattern.compile("vault:v(\\d{1,9}):[A-Za-z0-9+/=]{1,4096}");
    private static final Pattern KEY_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

    @ObjectClassDefinition(name = "Enclave master keys (Vault Transit)")
    public @interface Config {
        @AttributeDefinition(description = "Vault address, e.g. https://vault.example:8200")
        String address();

        @AttributeDefinition(description = "File holding the Vault token (owner-readable only)")
        String tokenFile();

        @AttributeDefinition(description = "Transit key name")
        String key() default "enclave";

        @AttributeDefinition(description = "Transit mount path")
        String mount() default "transit";

        @AttributeDefinition(description = "Vault Enterprise namespace, if any")
        String namespace() default "";

        @AttributeDefinition(description = "PEM file of the CA that signed Vault's certificate; empty: the JVM's trust store")
        String caCertificate() default "";

        @AttributeDefinition(description = "Request timeout in seconds")
        int timeoutSeconds() default 10;
    }

    private URI base;
    private String key;
    private String token;
    private String namespace;
    private Duration timeout;
    private HttpClient http;

    @Activate
    void activate(Config config) throws Exception {
        configure(URI.create(config.address()), config.mount(), config.key(),
                Files.readString(Path.of(config.tokenFile()), StandardCharsets.UTF_8).trim(), config.namespace(),
                config.caCertificate().isBlank() ? null : Path.of(config.caCertificate()), Duration.ofSeconds(config.timeoutSeconds()));
    }

    void configure(URI address, String mount, String keyName, String vaultToken, String ns, Path ca, Duration requestTimeout)
            throws Exception {
        if (!KEY_NAME.matcher(keyName).matches() || !KEY_NAME.matcher(mount).matches()) {
            throw new IllegalArgumentException("Vault key and mount must match " + KEY_NAME);
        }
        if (!"https".equals(address.getScheme()) && !"http".equals(address.getScheme())) {
            throw new IllegalArgumentException("Vault address must be http(s)://host:port");
        }
        this.base = address.resolve("/v1/" + mount + "/");
        this.key = keyName;
        this.token = vaultToken;
        this.namespace = ns;
        this.timeout = requestTimeout;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(requestTimeout);
        if (ca != null) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(ca)) {
                trust.setCertificateEntry("vault-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            b.sslContext(ssl);
        }
        this.http = b.build();
    }

    private JsonNode call(String method, String path, Object body) {
        try {
            HttpRequest.Builder r = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                    .header("X-Vault-Token", token).header("Content-Type", "application/json");
            if (!namespace.isBlank()) {
                r.header("X-Vault-Namespace", namespace);
            }
            r.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            HttpResponse<byte[]> resp = http.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (resp.statusCode() == 204) {
                return JSON.createObjectNode();
            }
            if (resp.body().length > 1 << 20) {
                throw new SecurityException("Vault answered " + resp.body().length + " bytes; refusing to parse");
            }
            JsonNode n = resp.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(resp.body());
            if (resp.statusCode() / 100 != 2) {
                throw new SecurityException("Vault refused " + method + " " + path + " (" + resp.statusCode() + "): "
                        + n.path("errors").toString());
            }
            return n;
        } catch (IOException e) {
            throw new SecurityException("cannot reach Vault at " + base + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SecurityException("interrupted while calling Vault", e);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String currentKeyId() {
        JsonNode n = call("GET", "keys/" + key, null);
        return key + ":v" + n.path("data").path("latest_version").asInt();
    }

    @Override
    public WrappedKey wrap(byte[] dataKey) {
        JsonNode n = call("POST", "encrypt/" + key,
                java.util.Map.of("plaintext", Base64.getEncoder().encodeToString(dataKey)));
        String ciphertext = n.path("data").path("ciphertext").asText("");
        Matcher m = CIPHERTEXT.matcher(ciphertext);
        if (!m.matches()) {
            throw new SecurityException("Vault returned no usable ciphertext");
        }
        return new WrappedKey(key + ":v" + m.group(1), ciphertext.getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public byte[] unwrap(String keyId, byte[] wrapped) {
        String ciphertext = new String(wrapped, StandardCharsets.US_ASCII);
        if (!CIPHERTEXT.matcher(ciphertext).matches()) {
            throw new SecurityException("wrapped data key is not a Vault Transit ciphertext");
        }
        JsonNode n = call("POST", "decrypt/" + key, java.util.Map.of("ciphertext", ciphertext));
        try {
            return Base64.getDecoder().decode(n.path("data").path("plaintext").asText(""));
        } catch (IllegalArgumentException e) {
            throw new SecurityException("Vault returned a malformed plaintext");
        }
    }

    @Override
    public String rotate() {
        call("POST", "keys/" + key + "/rotate", null);
        return currentKeyId();
    }
}
