package io.enclave.itests;

import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.systemTimeout;
import static org.ops4j.pax.exam.CoreOptions.vmOption;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Set;
import java.util.function.Predicate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.apache.karaf.itests.KarafTestSupport;
import org.junit.Rule;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.UserDirectory;

/**
 * Boots the Enclave distribution built by {@code assembly/} (not a stock Karaf) on free loopback
 * ports, and gives tests an HTTP client for it.
 */
public abstract class EnclaveTestSupport extends KarafTestSupport {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String HTTP_PORT_PROPERTY = "enclave.itest.http.port";
    static final String HTTPS_PORT_PROPERTY = "enclave.itest.https.port";

    /** A failing test fails: no silent second run. */
    @Rule
    public Retry noRetry = new Retry(false);

    private HttpClient http;

    /** A client that trusts exactly the certificate Enclave generated on first start (TLS 1.3). */
    synchronized HttpClient http() throws Exception {
        if (http == null) {
            http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).sslContext(trustingEnclave("TLSv1.3")).build();
        }
        return http;
    }

    static Path certificate() {
        return Path.of(System.getProperty("karaf.etc"), "enclave-tls.crt");
    }

    static javax.net.ssl.SSLContext trustingEnclave(String protocol) throws Exception {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = Files.newInputStream(certificate())) {
            trust.setCertificateEntry("enclave", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance(protocol);
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    /** Ports this JVM has handed out already. */
    private static final Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A port free on loopback now, and one not handed out before in this JVM: the kernel may give the
     * same free port to two binds in a row, and a container whose HTTPS and SSH ports were the same
     * never served (a fresh-clone run waited on it for every test of a class).
     */
    static int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("no free port on loopback that was not handed out already");
    }

    @Override
    @Configuration
    public Option[] config() {
        String distribution = System.getProperty("enclave.distribution");
        String karafVersion = System.getProperty("karaf.version");
        String http = Integer.toString(freePort());
        String https = Integer.toString(freePort());
        String localRepository = System.getProperty("org.ops4j.pax.url.mvn.localRepository", "");
        List<Option> options = new ArrayList<>(Arrays.asList(
                karafDistributionConfiguration().frameworkUrl(new File(distribution).toURI().toString())
                        .karafVersion(karafVersion).name("Enclave").unpackDirectory(new File("target/exam"))
                        .useDeployFolder(false),
                // JMX RBAC stays on, as in the distribution
                configureConsole().ignoreLocalConsole(),
                logLevel(LogLevel.INFO),
                systemTimeout(300_000),
                mavenBundle().groupId("org.apache.karaf.itests").artifactId("common").versionAsInProject(),
                editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", http),
                editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", Integer.toString(freePort())),
                editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiServerPort", Integer.toString(freePort())),
                editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", Integer.toString(freePort())),
                editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.localRepository", localRepository),
                editConfigurationFilePut("etc/system.properties", HTTP_PORT_PROPERTY, http),
                editConfigurationFilePut("etc/system.properties", HTTPS_PORT_PROPERTY, https),
                // where tests leave what outlives the container (screenshots)
                editConfigurationFilePut("etc/system.properties", "enclave.itest.target", new File("target").getAbsolutePath()),
                editConfigurationFilePut("etc/io.enclave.security.tls.cfg", "port", https),
                // servers in tests bind to loopback only
                editConfigurationFilePut("etc/io.enclave.security.tls.cfg", "address", "127.0.0.1"),
                editConfigurationFilePut("etc/io.enclave.rest.cfg", "maxRequestBytes", "1048576"),
                vmOption("-Xmx1g"),
                vmOption("-Dai.djl.offline=true"),
                // what bin/karaf passes on Java 9+; Pax Exam does not
                vmOption("--add-reads=java.xml=java.logging"),
                vmOption("--add-exports=java.base/org.apache.karaf.specs.locator=java.xml,ALL-UNNAMED"),
                vmOption("--patch-module"),
                vmOption("java.base=lib/endorsed/org.apache.karaf.specs.locator-" + karafVersion + ".jar"),
                vmOption("--patch-module"),
                vmOption("java.xml=lib/endorsed/org.apache.karaf.specs.java.xml-" + karafVersion + ".jar"),
                vmOption("--add-opens"), vmOption("java.base/java.security=ALL-UNNAMED"),
                vmOption("--add-opens"), vmOption("java.base/java.net=ALL-UNNAMED"),
                vmOption("--add-opens"), vmOption("java.base/java.lang=ALL-UNNAMED"),
                vmOption("--add-opens"), vmOption("java.base/java.util=ALL-UNNAMED"),
                vmOption("--add-opens"), vmOption("java.naming/javax.naming.spi=ALL-UNNAMED"),
                vmOption("--add-opens"), vmOption("java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED"),
                vmOption("--add-exports=java.base/sun.net.www.protocol.file=ALL-UNNAMED"),
                vmOption("--add-exports=java.base/sun.net.www.protocol.ftp=ALL-UNNAMED"),
                vmOption("--add-exports=java.base/sun.net.www.protocol.http=ALL-UNNAMED"),
                vmOption("--add-exports=java.base/sun.net.www.protocol.https=ALL-UNNAMED"),
                vmOption("--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED"),
                vmOption("--add-exports=java.base/sun.net.www.content.text=ALL-UNNAMED"),
                vmOption("--add-exports=jdk.naming.rmi/com.sun.jndi.url.rmi=ALL-UNNAMED"),
                vmOption("-classpath"),
                vmOption("lib/jdk9plus/*" + File.pathSeparator + "lib/boot/*")));
        return options.toArray(new Option[0]);
    }

    /** An HTTP exchange's status and parsed JSON body. */
    record Reply(int status, JsonNode json, String body) {
        String error() {
            return json == null || !json.has("error") ? null : json.get("error").asText();
        }
    }

    static String base() {
        return "https://127.0.0.1:" + System.getProperty(HTTPS_PORT_PROPERTY);
    }

    /** A user name and password; {@link #ANONYMOUS} sends none. */
    record Credentials(String user, String password) {
        String header() {
            return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        }
    }

    static final Credentials ANONYMOUS = null;
    static final Credentials ANALYST = new Credentials("alice", "alice-analyst-secret");
    static final Credentials AUDITOR = new Credentials("audrey", "audrey-auditor-secret");

    /** The admin whose password the first start generated into etc/admin.password. */
    static Credentials admin() {
        try {
            return new Credentials("admin",
                    Files.readString(Path.of(System.getProperty("karaf.etc"), "admin.password")).trim());
        } catch (IOException e) {
            throw new AssertionError("the first start should have written etc/admin.password", e);
        }
    }

    /** Creates the analyst and auditor test users once per container. */
    void ensureUsers() {
        UserDirectory users = getOsgiService(UserDirectory.class);
        for (Credentials c : List.of(ANALYST, AUDITOR)) {
            if (users.users().stream().noneMatch(u -> u.name().equals(c.user()))) {
                users.add(c.user(), c.password().toCharArray(), Set.of(c == ANALYST ? "analyst" : "auditor"));
            }
        }
    }

    /** Runs a shell command as an Enclave admin would over SSH: the command ACLs apply. */
    String shellAsAdmin(String command) {
        return executeCommand(command, new org.apache.karaf.jaas.boot.principal.UserPrincipal("admin"),
                new org.apache.karaf.jaas.boot.principal.RolePrincipal("admin"),
                new org.apache.karaf.jaas.boot.principal.RolePrincipal("ssh"));
    }

    Reply get(String path) throws Exception {
        return get(path, admin());
    }

    Reply get(String path, Credentials as) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base() + path)).GET(), as);
    }

    /** An Open Inference request with one BYTES input of these texts. */
    static String textRequest(String id, String... texts) throws Exception {
        return "{\"id\": \"" + id + "\", \"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": ["
                + texts.length + "], \"data\": " + JSON.writeValueAsString(texts) + "}]}";
    }

    /** Eight ~60-token sentences in one request: a computation long enough for others to queue behind. */
    static String eightLongSentences(String id) throws Exception {
        String[] texts = new String[8];
        Arrays.fill(texts, String.join(" ", java.util.Collections.nCopies(12, "quarterly revenue grew while costs fell")));
        return textRequest(id, texts);
    }

    /** Sends a request to minilm 1.0.0 as the admin without waiting for its answer. */
    java.util.concurrent.CompletableFuture<HttpResponse<String>> inferAsync(String body) throws Exception {
        return http().sendAsync(HttpRequest.newBuilder(URI.create(base() + "/v2/models/minilm/versions/1.0.0/infer"))
                .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                .header("Authorization", admin().header())
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Gives minilm back its own batching and waits for every request sent to end, whatever it got. */
    static void endLoad(io.enclave.api.BatchingControl batching,
            List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> sent) {
        batching.tune("minilm", null);
        for (java.util.concurrent.CompletableFuture<HttpResponse<String>> f : sent) {
            try {
                f.get(120, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // the test's assertions tell what went wrong; here only the load has to end
            }
        }
    }

    Reply post(String path, String body) throws Exception {
        return post(path, body, admin());
    }

    Reply post(String path, String body, Credentials as) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base() + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)), as);
    }

    Reply put(String path, String json, Credentials as) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base() + path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)), as);
    }

    Reply send(HttpRequest.Builder request, Credentials as) throws Exception {
        if (as != null) {
            request.header("Authorization", as.header());
        }
        return send(request);
    }

    Reply send(HttpRequest.Builder request) throws Exception {
        HttpResponse<String> r = http().send(request.timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        JsonNode json = null;
        String type = r.headers().firstValue("Content-Type").orElse("");
        if (type.startsWith("application/json") && !r.body().isEmpty()) {
            json = JSON.readTree(r.body());
        }
        return new Reply(r.statusCode(), json, r.body());
    }

    /**
     * The text of a file Enclave writes, once {@code settled} holds for it. Enclave replaces the file whole,
     * then File Install rewrites it in place on its own thread (ConfigFiles): a read in between may find it
     * truncated, so a test reads it only through here.
     */
    static String awaitFile(Path file, Duration timeout, Predicate<String> settled) throws InterruptedException {
        java.util.concurrent.atomic.AtomicReference<String> text = new java.util.concurrent.atomic.AtomicReference<>("");
        try {
            await(file.getFileName() + " to settle", timeout, () -> settled.test(text.updateAndGet(before -> contents(file))));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; it holds:\n" + text.get(), e);
        }
        return text.get();
    }

    /** A file's text; empty while it does not exist yet or cannot be read. */
    private static String contents(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    boolean ready() {
        if (!Files.exists(certificate())) {
            return false;
        }
        try {
            // the tests also call versions that take no traffic: wait for every installed one
            // and the management API is published (401 without a login, not 404)
            return get("/v2/health/ready", ANONYMOUS).status() == 200
                    && getOsgiService(io.enclave.api.ModelRegistry.class).allReady()
                    && get("/enclave/v1/models", ANONYMOUS).status() != 404;
        } catch (Exception e) {
            return false;
        }
    }
}
