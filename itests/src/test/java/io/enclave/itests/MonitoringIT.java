package io.enclave.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.Notification;
import javax.management.NotificationListener;
import javax.management.ObjectName;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.Version;
import org.osgi.service.cm.Configuration;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;

import com.fasterxml.jackson.databind.JsonNode;

import io.enclave.api.Alerts;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;

/**
 * Monitoring against the real distribution: a real Prometheus (Debian's) scrapes /metrics over
 * HTTPS while a load runs and its HTTP API is asked for counts and a p99; promtool checks and tests
 * the shipped rules; the Grafana dashboard queries only metrics that exist; Enclave's own checker
 * raises and clears the p99 alert.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MonitoringIT extends EnclaveTestSupport {
    private static final String MINILM_110 = "mvn:io.enclave.models/minilm/1.1.0";
    private static final Path WORK = Path.of("target", "monitoring-it").toAbsolutePath();
    private Process prometheus;

    @Before
    public void waitUntilReady() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
        ensureUsers();
    }

    @After
    public void stopPrometheus() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            prometheus.waitFor();
        }
    }

    private static String body(String text) {
        return "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"" + text + "\"]}]}";
    }

    private Path monitoring() {
        return Path.of(System.getProperty("karaf.base"), "monitoring");
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(String.join(" ", command) + ":\n" + out, 0, p.waitFor());
        return out;
    }

    private boolean ready(String model) {
        return getOsgiService(ModelRegistry.class).find(model, Version.parseVersion("1.0.0"))
                .map(v -> v.state() == ModelState.READY).orElse(false);
    }

    @Test
    public void theShippedRulesPassPromtoolAndTheirUnitTests() throws Exception {
        Path rules = monitoring().resolve("enclave-alerts.yml");
        assertTrue(run("promtool", "check", "rules", rules.toString()).contains("SUCCESS: 5 rules found"));
        Process test = new ProcessBuilder("promtool", "test", "rules", "enclave-alerts.test.yml")
                .directory(monitoring().toFile()).redirectErrorStream(true).start();
        String out = new String(test.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(out, 0, test.waitFor());
        assertTrue(out, out.contains("SUCCESS"));
    }

    @Test
    public void everyMetricTheDashboardQueriesIsExposed() throws Exception {
        // one request with a shadow: histograms and the agreement gauge have their first figures
        assertEquals(200, send(HttpRequest.newBuilder(URI.create(base() + "/enclave/v1/models/minilm/traffic"))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
                        "{\"stable\": \"1.1.0\", \"shadow\": \"1.0.0\"}")), admin()).status());
        try {
            assertEquals(200, post("/v2/models/minilm/infer", body("a first request")).status());
            await("a shadow comparison", Duration.ofSeconds(20), () -> {
                try {
                    return get("/metrics", AUDITOR).body().contains("enclave_shadow_agreement_ratio{");
                } catch (Exception e) {
                    return false;
                }
            });
        } finally {
            send(HttpRequest.newBuilder(URI.create(base() + "/enclave/v1/models/minilm/traffic"))
                    .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
                            "{\"stable\": \"1.1.0\"}")), admin());
        }
        Reply metrics = get("/metrics", AUDITOR);
        assertEquals(200, metrics.status());
        assertEquals(403, get("/metrics", ANALYST).status());
        assertEquals(401, get("/metrics", ANONYMOUS).status());
        JsonNode dashboard = JSON.readTree(Files.readString(monitoring().resolve("enclave-grafana-dashboard.json")));
        Set<String> queried = new TreeSet<>();
        Pattern name = Pattern.compile("\\b((?:enclave|jvm|process)_[a-z_]+)");
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                Matcher m = name.matcher(target.get("expr").asText());
                while (m.find()) {
                    queried.add(m.group(1).replaceAll("_(bucket|sum|count)$", ""));
                }
            }
        }
        assertTrue(queried.toString(), queried.size() >= 15);
        // where the monitor looks for the driver's nvidia-smi (a GPU sandbox keeps it in /usr/local/nvidia/bin)
        boolean gpu = java.util.stream.Stream.of("/usr/bin", "/usr/local/bin", "/usr/local/nvidia/bin", "/bin")
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, "nvidia-smi")));
        List<String> missing = new ArrayList<>();
        for (String q : queried) {
            boolean exposed = metrics.body().contains("\n" + q + "{") || metrics.body().contains("\n" + q + " ")
                    || metrics.body().contains("# TYPE " + q + " ");
            if (q.startsWith("enclave_gpu_")) {
                assertEquals(q + " is there exactly when an NVIDIA driver is", gpu, exposed && metrics.body().contains(q + "{"));
            } else if (!exposed) {
                missing.add(q);
            }
        }
        assertEquals("queried by the dashboard but not exposed", List.of(), missing);
    }

    @Test
    public void prometheusScrapesCountsExactlyAndItsP99MatchesEnclavesWithinABucket() throws Exception {
        Bundle metered = bundleContext.installBundle(
                ModelJars.derive(MINILM_110, "metered", "1.0.0", Map.of(), WORK).toUri().toString());
        metered.start();
        try {
            await("metered ready", Duration.ofSeconds(60), () -> ready("metered"));
            int port = freePort();
            Path data = WORK.resolve("prometheus-" + System.nanoTime());
            Files.createDirectories(data);
            Path password = data.resolve("password");
            Files.writeString(password, admin().password());
            Path config = data.resolve("prometheus.yml");
            Files.writeString(config, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    + "scrape_configs:\n  - job_name: enclave\n    scheme: https\n"
                    + "    tls_config:\n      ca_file: " + certificate() + "\n"
                    + "    basic_auth:\n      username: admin\n      password_file: " + password + "\n"
                    + "    static_configs:\n      - targets: ['127.0.0.1:" + System.getProperty(HTTPS_PORT_PROPERTY) + "']\n");
            prometheus = new ProcessBuilder("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + data.resolve("tsdb"),
                    "--web.listen-address=127.0.0.1:" + port).redirectErrorStream(true)
                    .redirectOutput(data.resolve("prometheus.log").toFile()).start();
            HttpClient plain = HttpClient.newHttpClient();
            await("Prometheus scraping Enclave", Duration.ofSeconds(60), () -> "1".equals(scalar(plain, port, "up{job=\"enclave\"}")));

            int requests;
            try (Load load = new Load(http(), base() + "/v2/models/metered/infer", ANALYST.header(), 8,
                    body("the invoice was paid on time"), null, null)) {
                load.awaitInPhase(0, 1500, Duration.ofMinutes(2));
                load.close();
                assertEquals(List.of(), load.failures());
                requests = (int) load.total();
            }
            JsonNode enclave = get("/enclave/v1/models/metered").json().get("versions").get(0);
            double ownP99 = enclave.get("p99Ms").asDouble() / 1000.0;
            assertEquals(requests, enclave.get("requests").asInt());
            String count = "sum(enclave_inference_requests_total{model=\"metered\",version=\"1.0.0\",outcome=\"success\"})";
            await("Prometheus to see all " + requests + " requests", Duration.ofSeconds(30),
                    () -> Integer.toString(requests).equals(scalar(plain, port, count)));
            double promP99 = Double.parseDouble(scalar(plain, port, "histogram_quantile(0.99, sum by (le) "
                    + "(enclave_inference_duration_seconds_bucket{model=\"metered\",version=\"1.0.0\"}))"));
            int a = bucket(promP99);
            int b = bucket(ownP99);
            System.out.printf("monitoring: %d requests counted by client, Enclave and Prometheus; p99 Prometheus %.4f s "
                    + "(bucket %d), Enclave %.4f s (bucket %d)%n", requests, promP99, a, ownP99, b);
            assertTrue("Prometheus p99 " + promP99 + " and Enclave's " + ownP99 + " are more than one bucket apart",
                    Math.abs(a - b) <= 1);

            // texts of 3 and 7 tokens in one request: the short one is padded by 4, and Prometheus sees the
            // engine's own counts, as the management API gives them
            Reply padded = post("/v2/models/metered/infer", textRequest("padded", "hello", "hello world how are you"));
            assertEquals(padded.body(), 200, padded.status());
            JsonNode tokens = get("/enclave/v1/models/metered").json().get("versions").get(0).get("tokens");
            assertTrue(tokens.toString(), tokens.get("padding").asLong() >= 4);
            String computed = "sum(enclave_text_tokens_total{model=\"metered\",version=\"1.0.0\"})";
            String padding = "sum(enclave_text_padding_tokens_total{model=\"metered\",version=\"1.0.0\"})";
            await("Prometheus to see " + tokens, Duration.ofSeconds(30),
                    () -> tokens.get("computed").asText().equals(scalar(plain, port, computed))
                            && tokens.get("padding").asText().equals(scalar(plain, port, padding)));
            System.out.printf("monitoring: tokens computed %s, of which padding %s, in Enclave and in Prometheus%n",
                    tokens.get("computed"), tokens.get("padding"));
        } finally {
            metered.uninstall();
        }
    }

    /** Index of the histogram bucket (1 ms × 1.5^k) a latency falls in. */
    static int bucket(double seconds) {
        double edge = 0.001;
        for (int k = 0; k < 24; k++) {
            if (seconds <= edge * 1.0000001) {
                return k;
            }
            edge *= 1.5;
        }
        return 24;
    }

    /** The single value of an instant query, or null. */
    static String scalar(HttpClient client, int port, String query) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8))).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode result = JSON.readTree(r.body()).path("data").path("result");
            if (!result.isArray() || result.isEmpty()) {
                return null;
            }
            String v = result.get(0).get("value").get(1).asText();
            return v.endsWith(".0") ? v.substring(0, v.length() - 2) : v;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    @Test
    public void enclavesOwnCheckerRaisesAndClearsTheLatencyAlert() throws Exception {
        Configuration alerts = configurationAdmin.getConfiguration("io.enclave.alerts", null);
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("p99Millis", "200");
        props.put("forSeconds", "2");
        props.put("windowSeconds", "8");
        props.put("minRequests", "5");
        props.put("scheduler.period", 1L);
        alerts.update(props);
        List<Event> events = new CopyOnWriteArrayList<>();
        Hashtable<String, Object> topics = new Hashtable<>();
        topics.put(EventConstants.EVENT_TOPIC, "enclave/alert/*");
        ServiceRegistration<EventHandler> handler = bundleContext.registerService(EventHandler.class, events::add, topics);
        List<Notification> notifications = new CopyOnWriteArrayList<>();
        NotificationListener listener = (n, h) -> notifications.add(n);
        ObjectName jmx = new ObjectName("io.enclave:type=Alerts");
        await("the alerts MBean", Duration.ofSeconds(30), () -> ManagementFactory.getPlatformMBeanServer().isRegistered(jmx));
        ManagementFactory.getPlatformMBeanServer().addNotificationListener(jmx, listener, null, null);
        Bundle slow = bundleContext.installBundle(ModelJars.derive(MINILM_110, "slowpoke", "1.0.0",
                Map.of("faults", Map.of("latencyMs", 300)), WORK).toUri().toString());
        slow.start();
        try {
            await("slowpoke ready", Duration.ofSeconds(60), () -> ready("slowpoke"));
            Alerts checker = getOsgiService(Alerts.class);
            try (Load load = new Load(http(), base() + "/v2/models/slowpoke/infer", ANALYST.header(), 4,
                    body("slow answers"), null, null)) {
                await("the p99 alert raised", Duration.ofSeconds(60), () -> checker.active().stream()
                        .anyMatch(a -> a.name().equals("EnclaveP99LatencyHigh") && a.subject().equals("slowpoke 1.0.0")));
                load.close();
                assertEquals(List.of(), load.failures());
            }
            String listed = shellAsAdmin("alert:list");
            assertTrue(listed, listed.contains("EnclaveP99LatencyHigh") && listed.contains("slowpoke 1.0.0"));
            await("the p99 alert cleared once requests stop", Duration.ofSeconds(60), () -> checker.active().stream()
                    .noneMatch(a -> a.subject().equals("slowpoke 1.0.0")));
            await("EventAdmin events", Duration.ofSeconds(10), () -> events.stream().anyMatch(e ->
                    e.getTopic().equals("enclave/alert/CLEARED") && "slowpoke 1.0.0".equals(e.getProperty("subject"))));
            assertTrue(events.stream().anyMatch(e -> e.getTopic().equals("enclave/alert/RAISED")
                    && "slowpoke 1.0.0".equals(e.getProperty("subject"))));
            assertTrue(notifications.toString(), notifications.stream().anyMatch(n -> n.getType().equals("enclave.alert.raised")
                    && n.getMessage().contains("slowpoke 1.0.0")));
            assertTrue(notifications.stream().anyMatch(n -> n.getType().equals("enclave.alert.cleared")));
            String stats = shellAsAdmin("model:stats --window 60 slowpoke");
            assertTrue(stats, stats.contains("slowpoke") && stats.contains("p99 ms"));
        } finally {
            ManagementFactory.getPlatformMBeanServer().removeNotificationListener(jmx, listener);
            handler.unregister();
            slow.uninstall();
            alerts.delete();
        }
        assertFalse(getOsgiService(Alerts.class).active().stream().anyMatch(a -> a.subject().startsWith("slowpoke")));
    }
}
