package io.enclave.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
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
import java.util.Map;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.After;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Traffic rules survive a real restart: the distribution is unpacked and started with its own
 * scripts, the rules are changed over HTTPS, Karaf is stopped with bin/stop and started again.
 */
public class RestartIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path home = Path.of("target", "restart-it").toAbsolutePath();
    private Path karaf;
    private int https;
    private HttpClient http;

    private Process run(String script) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(karaf.resolve("bin/" + script).toString()).redirectErrorStream(true)
                .redirectOutput(home.resolve(script + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("OPT_OUT_TRACKING", "true");
        env.put("DJL_OFFLINE", "true");
        env.put("ENCLAVE_HTTPS_PORT", Integer.toString(https));
        env.put("ENCLAVE_HTTPS_ADDRESS", "127.0.0.1");
        env.put("ENCLAVE_PLAIN_HTTP", "false");
        env.put("ENCLAVE_HTTP_PORT", Integer.toString(EnclaveTestSupport.freePort()));
        env.put("ENCLAVE_SSH_PORT", Integer.toString(EnclaveTestSupport.freePort()));
        env.put("ENCLAVE_RMI_REGISTRY_PORT", Integer.toString(EnclaveTestSupport.freePort()));
        env.put("ENCLAVE_RMI_SERVER_PORT", Integer.toString(EnclaveTestSupport.freePort()));
        return pb.start();
    }

    private void start() throws Exception {
        assertEquals(0, run("start").waitFor());
        long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < end) {
            try {
                if (Files.exists(karaf.resolve("etc/enclave-tls.crt")) && Files.exists(karaf.resolve("etc/admin.password"))) {
                    if (http == null) {
                        http = client();
                    }
                    // the models answer, and the management API is published (401 without a login, not
                    // 404): at a first start its feature can come up a moment after the models
                    if (http.send(HttpRequest.newBuilder(URI.create(base() + "/v2/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200
                            && http.send(HttpRequest.newBuilder(URI.create(base() + "/enclave/v1/models")).build(),
                                    HttpResponse.BodyHandlers.discarding()).statusCode() != 404) {
                        return;
                    }
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new AssertionError("Enclave did not become ready; see " + karaf.resolve("data/log/karaf.log"));
    }

    private void stop() throws Exception {
        run("stop").waitFor();
        Path pid = karaf.resolve("karaf.pid");
        long end = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (Files.exists(pid) && System.nanoTime() < end) {
            long p = Long.parseLong(Files.readString(pid).trim());
            if (ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)) {
                Thread.sleep(250);
            } else {
                return;
            }
        }
    }

    @After
    public void killWhatWeStarted() throws Exception {
        if (karaf == null) {
            return;
        }
        Path pid = karaf.resolve("karaf.pid");
        if (Files.exists(pid)) {
            ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    private HttpClient client() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = Files.newInputStream(karaf.resolve("etc/enclave-tls.crt"))) {
            trust.setCertificateEntry("enclave", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLSv1.3");
        tls.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private String base() {
        return "https://127.0.0.1:" + https;
    }

    private JsonNode call(String method, String path, String body) throws Exception {
        String auth = "admin:" + Files.readString(karaf.resolve("etc/admin.password")).trim();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(r.body(), 200, r.statusCode());
        return JSON.readTree(r.body());
    }

    @Test
    public void trafficRulesSurviveARestartOfKaraf() throws Exception {
        // a fresh unpack: a folder left by an earlier run holds another certificate and admin password
        DeployIT.deleteTree(home);
        Files.createDirectories(home);
        Process untar = new ProcessBuilder("tar", "-xzf", new File(System.getProperty("enclave.distribution"))
                .getAbsolutePath(), "-C", home.toString()).inheritIO().start();
        assertEquals(0, untar.waitFor());
        try (var dirs = Files.list(home)) {
            karaf = dirs.filter(p -> p.getFileName().toString().startsWith("enclave-") && Files.isDirectory(p))
                    .findFirst().orElseThrow();
        }
        https = EnclaveTestSupport.freePort();
        start();
        call("PUT", "/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.0.0\", \"canary\": {\"version\": \"1.1.0\", "
                + "\"percent\": 25}, \"shadow\": \"1.1.0\", \"stickyHeader\": \"Enclave-Route-Key\", "
                + "\"slo\": {\"maxErrorRate\": 0.02, \"maxP99Ms\": 250, \"minRequests\": 50, \"windowSeconds\": 30}}");
        JsonNode before = call("GET", "/enclave/v1/models/minilm", null).get("traffic");
        Path rules = karaf.resolve("etc/io.enclave.traffic-minilm.cfg");
        // the shipped file's explanation stays above the rules Enclave wrote into it
        String written = EnclaveTestSupport.awaitFile(rules, Duration.ofSeconds(20),
                text -> text.startsWith("# Traffic rules for the model 'minilm'") && text.contains("canary.percent = 25"));
        stop();
        start();
        JsonNode after = call("GET", "/enclave/v1/models/minilm", null).get("traffic");
        assertEquals(before, after);
        assertEquals("the file is as it was written", written, Files.readString(rules));
        assertEquals(25.0, after.path("canary").path("percent").asDouble(), 0);
        assertTrue(after.toString(), after.path("slo").path("maxP99Ms").asDouble() == 250);
        JsonNode versions = call("GET", "/enclave/v1/models/minilm", null).get("versions");
        assertEquals("1.0.0", versions.get(0).get("version").asText());
        assertEquals(75.0, versions.get(0).get("weight").asDouble(), 0);
        stop();
    }
}
