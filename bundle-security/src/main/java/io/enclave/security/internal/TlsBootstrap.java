package io.enclave.security.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the HTTP server on TLS 1.3 only. When no key store is configured, the first start makes a
 * self-signed one (P-384, with the JDK's keytool) with a random password; a configured key store
 * is used as it is. Plain HTTP is off, or, when enabled for local use, everything binds to
 * 127.0.0.1. Only the keys that differ are written, so an unchanged setup restarts nothing.
 */
@Component(immediate = true, configurationPid = "io.enclave.security.tls")
@Designate(ocd = TlsBootstrap.Config.class)
public class TlsBootstrap {
    private static final Logger LOG = LoggerFactory.getLogger(TlsBootstrap.class);
    static final String PAX_WEB = "org.ops4j.pax.web";
    static final String KEYSTORE = "org.ops4j.pax.web.ssl.keystore";
    static final String TLS13_SUITES = "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256,TLS_CHACHA20_POLY1305_SHA256";

    @ObjectClassDefinition(name = "Enclave TLS", description = "HTTPS for every Enclave endpoint")
    public @interface Config {
        @AttributeDefinition(description = "Serve HTTPS (TLS 1.3 only). Off leaves the HTTP server as configured")
        boolean enabled() default true;

        @AttributeDefinition(description = "HTTPS port")
        int port() default 8443;

        @AttributeDefinition(description = "Address HTTPS listens on (0.0.0.0: every interface)")
        String address() default "0.0.0.0";

        @AttributeDefinition(description = "Also serve plain HTTP for local use; then everything binds to 127.0.0.1")
        boolean plainHttpOnLoopback() default false;

        @AttributeDefinition(description = "Key store made on first start when none is configured; relative to karaf.etc")
        String generatedKeystore() default "enclave-tls.p12";

        @AttributeDefinition(description = "Host names and addresses the generated certificate names (besides localhost)")
        String[] hostnames() default {};
    }

    private final ConfigurationAdmin configAdmin;

    @Activate
    public TlsBootstrap(@Reference(name = "configAdmin") ConfigurationAdmin configAdmin) {
        this.configAdmin = configAdmin;
    }

    @Activate
    @Modified
    void apply(Config config) throws IOException, InterruptedException {
        if (!config.enabled()) {
            LOG.warn("TLS is disabled: the HTTP server stays as etc/org.ops4j.pax.web.cfg configures it");
            return;
        }
        Configuration web = configAdmin.getConfiguration(PAX_WEB, null);
        Dictionary<String, Object> current = web.getProperties();
        Hashtable<String, Object> next = new Hashtable<>();
        if (current != null) {
            for (var keys = current.keys(); keys.hasMoreElements();) {
                String k = keys.nextElement();
                next.put(k, current.get(k));
            }
        }
        Object configured = next.get(KEYSTORE);
        Path etcDir = Path.of(System.getProperty("karaf.etc", "etc"));
        Path ours = etcDir.resolve(config.generatedKeystore()).toAbsolutePath();
        if (configured != null && !Files.exists(Path.of(configured.toString()))
                && !Path.of(configured.toString()).toAbsolutePath().equals(ours)) {
            // a configured certificate is used as is: never replace it behind the operator's back
            LOG.error("The configured key store {} does not exist: HTTPS stays off until it does", configured);
            return;
        }
        if (configured == null || !Files.exists(Path.of(configured.toString()))) {
            Path etc = Path.of(System.getProperty("karaf.etc", "etc"));
            Path store = etc.resolve(config.generatedKeystore()).toAbsolutePath();
            String password = new String(FileUserDirectory.randomPassword(32));
            generate(store, password, config.hostnames());
            next.put(KEYSTORE, store.toString());
            next.put("org.ops4j.pax.web.ssl.keystore.type", "PKCS12");
            next.put("org.ops4j.pax.web.ssl.keystore.password", password);
            next.put("org.ops4j.pax.web.ssl.key.password", password);
            next.put("org.ops4j.pax.web.ssl.key.alias", "enclave");
            LOG.warn("Made a self-signed TLS certificate in {}; configure your own in etc/org.ops4j.pax.web.cfg", store);
        }
        Map<String, Object> wanted = Map.of(
                "org.osgi.service.http.secure.enabled", "true",
                "org.osgi.service.http.port.secure", Integer.toString(config.port()),
                "org.osgi.service.http.enabled", Boolean.toString(config.plainHttpOnLoopback()),
                "org.ops4j.pax.web.listening.addresses", config.plainHttpOnLoopback() ? "127.0.0.1" : config.address(),
                "org.ops4j.pax.web.ssl.protocols.included", "TLSv1.3",
                "org.ops4j.pax.web.ssl.ciphersuites.included", TLS13_SUITES,
                "org.ops4j.pax.web.ssl.renegotiationAllowed", "false",
                "org.ops4j.pax.web.ssl.clientauth.needed", "false",
                "org.ops4j.pax.web.server.showStacks", "false");
        boolean changed = configured == null || !Objects.equals(configured, next.get(KEYSTORE));
        for (Map.Entry<String, Object> w : wanted.entrySet()) {
            Object have = next.get(w.getKey());
            if (have == null || !have.toString().equals(w.getValue())) {
                next.put(w.getKey(), w.getValue());
                changed = true;
            }
        }
        if (changed) {
            // restarts the HTTP connectors once
            web.update(next);
            LOG.info("HTTPS (TLS 1.3 only) on {}:{}; plain HTTP {}", next.get("org.ops4j.pax.web.listening.addresses"),
                    config.port(), config.plainHttpOnLoopback() ? "on 127.0.0.1" : "off");
        }
    }

    private static void keytool(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + command[1] + " failed: " + out.trim());
        }
    }

    /** A self-signed P-384 key pair in a PKCS12 store readable by its owner only, made by the JDK's keytool. */
    static void generate(Path store, String password, String[] hostnames) throws IOException, InterruptedException {
        Files.createDirectories(store.getParent());
        Files.deleteIfExists(store);
        List<String> san = new ArrayList<>(List.of("dns:localhost", "ip:127.0.0.1", "ip:::1"));
        try {
            String host = InetAddress.getLocalHost().getHostName();
            if (host.matches("[A-Za-z0-9][A-Za-z0-9.-]{0,252}") && !host.equals("localhost")) {
                san.add("dns:" + host);
            }
        } catch (IOException ignored) {
            // no resolvable host name: localhost only
        }
        for (String h : hostnames) {
            if (h.matches("[A-Za-z0-9.:-]{1,253}")) {
                san.add((h.matches("[0-9.]+|[0-9a-fA-F:]+") ? "ip:" : "dns:") + h);
            }
        }
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Path cert = store.resolveSibling(store.getFileName().toString().replaceFirst("\\.p12$", "") + ".crt");
        // passwords go through a file, never the command line other processes can read
        Path passfile = Files.createTempFile(store.getParent(), "tls", ".pw",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(passfile, password);
            keytool(keytool.toString(), "-genkeypair", "-alias", "enclave",
                    "-keyalg", "EC", "-groupname", "secp384r1", "-sigalg", "SHA384withECDSA", "-validity", "825",
                    "-dname", "CN=Enclave", "-ext", "SAN=" + String.join(",", san),
                    "-storetype", "PKCS12", "-keystore", store.toString(),
                    "-storepass:file", passfile.toString(), "-keypass:file", passfile.toString());
            // the certificate alone, for clients to trust: curl --cacert etc/enclave-tls.crt
            Files.deleteIfExists(cert);
            keytool(keytool.toString(), "-exportcert", "-rfc", "-alias", "enclave", "-keystore", store.toString(),
                    "-storetype", "PKCS12", "-storepass:file", passfile.toString(), "-file", cert.toString());
        } finally {
            Files.deleteIfExists(passfile);
        }
        Files.setPosixFilePermissions(store, PosixFilePermissions.fromString("rw-------"));
    }
}
