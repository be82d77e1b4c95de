package io.enclave.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;

import com.fasterxml.jackson.databind.JsonNode;

import io.enclave.api.BatchingControl;
import io.enclave.api.BatchingOverride;
import io.enclave.api.BatchingSettings;
import io.enclave.api.InferenceStats;

/**
 * The foundation end to end: the distribution boots, both shipped minilm versions load, and the
 * Open Inference Protocol answers over real HTTP with real embeddings.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class OpenInferenceIT extends EnclaveTestSupport {
    private static final String CAT = "a cat sits on the mat";
    private static final String KITTEN = "a kitten rests on a rug";
    private static final String REVENUE = "quarterly revenue grew 4%";

    @Before
    public void waitUntilReady() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
    }

    private float[][] embed(String version, String... texts) throws Exception {
        String path = version == null ? "/v2/models/minilm/infer" : "/v2/models/minilm/versions/" + version + "/infer";
        Reply r = post(path, textRequest("req-" + version, texts));
        assertEquals(r.body(), 200, r.status());
        assertEquals("minilm", r.json().get("model_name").asText());
        if (version != null) {
            assertEquals(version, r.json().get("model_version").asText());
        }
        assertEquals("req-" + version, r.json().get("id").asText());
        JsonNode out = r.json().get("outputs").get(0);
        assertEquals("embedding", out.get("name").asText());
        assertEquals("FP32", out.get("datatype").asText());
        assertEquals("[" + texts.length + ",384]", out.get("shape").toString());
        JsonNode data = out.get("data");
        assertEquals(texts.length * 384, data.size());
        float[][] rows = new float[texts.length][384];
        for (int i = 0; i < data.size(); i++) {
            rows[i / 384][i % 384] = (float) data.get(i).asDouble();
        }
        return rows;
    }

    /**
     * Triton's model configuration extension, which Triton's clients (get_model_config) and perf_analyzer
     * read: the full shapes as the metadata gives them (max_batch_size 0), Triton's type names, the workers
     * as the instance count, and Enclave's own batching as parameters; per version, and for readers only.
     */
    @Test
    public void tritonsModelConfigurationDescribesEachVersion() throws Exception {
        ensureUsers();
        Reply c = get("/v2/models/minilm/versions/1.1.0/config", AUDITOR);
        assertEquals(c.body(), 200, c.status());
        JsonNode config = c.json();
        assertEquals("minilm", config.get("name").asText());
        assertEquals("onnxruntime_onnx", config.get("platform").asText());
        assertEquals(0, config.get("max_batch_size").asInt());
        assertEquals("[{\"name\":\"text\",\"data_type\":\"TYPE_STRING\",\"dims\":[-1]}]", config.get("input").toString());
        assertEquals("[{\"name\":\"embedding\",\"data_type\":\"TYPE_FP32\",\"dims\":[-1,384]}]", config.get("output").toString());
        assertEquals("KIND_CPU", config.path("instance_group").get(0).get("kind").asText());
        assertTrue(config.toString(), config.path("instance_group").get(0).get("count").asInt() >= 1);
        assertEquals("1.1.0", config.path("parameters").path("enclave_version").path("string_value").asText());
        // what model.json declares, unless tuned: the shipped versions batch 32 rows, waiting at most 2 000 µs
        io.enclave.api.BatchingSettings live = getOsgiService(io.enclave.api.BatchingControl.class)
                .settings("minilm", Version.parseVersion("1.1.0"));
        assertEquals(Integer.toString(live.maxBatchSize()),
                config.path("parameters").path("enclave_max_batch_rows").path("string_value").asText());
        assertEquals(Long.toString(live.maxQueueDelayMicros()),
                config.path("parameters").path("enclave_max_queue_delay_microseconds").path("string_value").asText());
        assertEquals(200, get("/v2/models/minilm/config", AUDITOR).status());
        assertEquals(404, get("/v2/models/nope/config", AUDITOR).status());
        assertEquals(401, get("/v2/models/minilm/config", ANONYMOUS).status());
    }

    /**
     * Triton's classification extension, as its clients ask for it ({@code InferRequestedOutput(name,
     * class_count=k)}): the output's k largest values per row, largest first, as "value:index" strings
     * (no label: minilm has none), the same values the plain output holds; as JSON or as binary data.
     */
    @Test
    public void anOutputAskedForAsClassesComesBackAsItsTopValuesWithTheirIndex() throws Exception {
        float[][] plain = embed("1.0.0", CAT, KITTEN);
        String asked = textRequest("top", CAT, KITTEN).replaceFirst("}$",
                ", \"outputs\": [{\"name\": \"embedding\", \"parameters\": {\"classification\": 3}}]}");
        Reply r = post("/v2/models/minilm/versions/1.0.0/infer", asked);
        assertEquals(r.body(), 200, r.status());
        JsonNode out = r.json().get("outputs").get(0);
        assertEquals("BYTES", out.get("datatype").asText());
        assertEquals("[2,3]", out.get("shape").toString());
        for (int row = 0; row < 2; row++) {
            Integer[] order = new Integer[384];
            for (int i = 0; i < 384; i++) {
                order[i] = i;
            }
            float[] v = plain[row];
            java.util.Arrays.sort(order, (a, b) -> Float.compare(v[b], v[a]));
            for (int i = 0; i < 3; i++) {
                String[] entry = out.get("data").get(row * 3 + i).asText().split(":");
                assertEquals(out.toString(), 2, entry.length);
                assertEquals("row " + row + " place " + i, (int) order[i], Integer.parseInt(entry[1]));
                assertEquals(v[order[i]], Float.parseFloat(entry[0]), 1e-6);
            }
        }
        // as binary data: Triton's length-prefixed strings after the JSON
        Reply binary = post("/v2/models/minilm/versions/1.0.0/infer", asked.replace("{\"classification\": 3}",
                "{\"classification\": 3, \"binary_data\": true}"));
        assertEquals(binary.body(), 200, binary.status());
        assertTrue(binary.body(), binary.body().contains("\"binary_data_size\""));
        assertTrue(binary.body(), binary.body().contains(out.get("data").get(0).asText()));
        Reply bad = post("/v2/models/minilm/versions/1.0.0/infer", asked.replace("\"classification\": 3", "\"classification\": 0"));
        assertEquals(bad.body(), 400, bad.status());
        assertEquals("outputs[0].parameters.classification must be a whole number of classes, 1 or more, not 0", bad.error());
    }

    static double cos(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    static double norm(float[] a) {
        double n = 0;
        for (float v : a) {
            n += v * v;
        }
        return Math.sqrt(n);
    }

    @Test
    public void everyEnclaveBundleIsActive() {
        int enclave = 0;
        for (Bundle b : bundleContext.getBundles()) {
            String name = b.getSymbolicName();
            if (name != null && (name.startsWith("enclave-") || name.startsWith("io.enclave"))) {
                enclave++;
                if (b.getHeaders().get(org.osgi.framework.Constants.FRAGMENT_HOST) != null) {
                    // a fragment never starts: it is attached to its host, which is
                    org.osgi.framework.wiring.BundleWiring wiring = b.adapt(org.osgi.framework.wiring.BundleWiring.class);
                    var hosts = wiring == null ? List.<org.osgi.framework.wiring.BundleWire>of()
                            : wiring.getRequiredWires(org.osgi.framework.namespace.HostNamespace.HOST_NAMESPACE);
                    assertTrue(name + " is attached", !hosts.isEmpty());
                    Bundle host = hosts.get(0).getProvider().getBundle();
                    assertEquals(name + "'s host " + host.getSymbolicName(), Bundle.ACTIVE, host.getState());
                    continue;
                }
                assertEquals(name + " " + b.getVersion(), Bundle.ACTIVE, b.getState());
            }
        }
        assertEquals("api, core, http, rest, soap, shell, security, djl, engine, extender, monitor, console, two models",
                14, enclave);
    }

    @Test
    public void healthAndServerMetadata() throws Exception {
        Reply live = get("/v2/health/live");
        assertEquals(200, live.status());
        assertTrue(live.json().get("live").asBoolean());
        Reply ready = get("/v2/health/ready");
        assertEquals(200, ready.status());
        assertTrue(ready.json().get("ready").asBoolean());
        Reply server = get("/v2");
        assertEquals(200, server.status());
        assertEquals("enclave", server.json().get("name").asText());
        // the binary tensor extension is served (theBinaryTensorExtensionCarriesTheSameTensorsAsJson), so metadata must say so
        assertEquals("[\"binary_tensor_data\",\"classification\",\"schedule_policy\",\"statistics\"]",
                server.json().get("extensions").toString());
        for (String v : List.of("", "/versions/1.0.0", "/versions/1.1.0")) {
            Reply r = get("/v2/models/minilm" + v + "/ready");
            assertEquals(r.body(), 200, r.status());
            assertTrue(r.json().get("ready").asBoolean());
        }
    }

    /** Requests admitted for a version and not yet computing, as {@code /metrics} reports them. */
    private int queued(String version) {
        return gauge("enclave_queue_depth", version);
    }

    /** A minilm version's gauge from {@code /metrics}; -1 when absent. */
    private int gauge(String name, String version) {
        try {
            return (int) series(version, -1, name)[0];
        } catch (Exception e) {
            throw new AssertionError("cannot read /metrics", e);
        }
    }

    /** The values of a minilm version's series {@code names} in {@code /metrics}, in that order; {@code absent} for one not there. */
    private double[] series(String version, double absent, String... names) throws Exception {
        String labels = "{model=\"minilm\",version=\"" + version + "\"} ";
        double[] values = new double[names.length];
        java.util.Arrays.fill(values, absent);
        for (String l : get("/metrics").body().lines().toList()) {
            for (int i = 0; i < names.length; i++) {
                if (l.startsWith(names[i] + labels)) {
                    values[i] = Double.parseDouble(l.substring((names[i] + labels).length()));
                }
            }
        }
        return values;
    }

    /**
     * More requests wait for their batch than the server has threads (Jetty's 200): that holds only when a
     * waiting request holds no thread. Health checks answer meanwhile, and every request ends in its answer
     * or, once its deadline has passed, a 503; none is lost.
     */
    @Test
    public void waitingRequestsHoldNoServerThread() throws Exception {
        BatchingControl batching = getOsgiService(BatchingControl.class);
        // one worker, one request per batch, a 5 s deadline: hundreds wait, and what still waits after
        // 5 s is refused before it runs
        batching.tune("minilm", BatchingOverride.of(new BatchingSettings(1, 0, 1024, 1, 1, 5_000)));
        String body = eightLongSentences("wait");
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        int n = 400;
        try {
            for (int i = 0; i < n; i++) {
                sent.add(inferAsync(body));
            }
            await("more requests queued than the server has threads", Duration.ofSeconds(60), () -> queued("1.0.0") > 250);
            Reply live = get("/v2/health/live");
            assertEquals(200, live.status());
            int computing = gauge("enclave_workers", "1.0.0");
            assertTrue("one worker computes, whatever waits: " + computing, computing >= 0 && computing <= 1);
            assertTrue("requests still waited when health answered", queued("1.0.0") > 0);
            // the operator's view of the same moment: one worker (the bound just set), computing one
            // request while the rest wait
            Map<String, String> row = Map.of();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            do {
                row = statsRow(shellAsAdmin("model:stats minilm"), "1.0.0");
            } while (!"1".equals(row.get("Workers")) && System.nanoTime() < until);
            assertEquals(row.toString(), "1", row.get("Workers"));
            assertTrue(row.toString(), Integer.parseInt(row.get("Queued")) > 0);
            assertTrue(row.toString(), Integer.parseInt(row.get("Running")) <= 1);
            int served = 0;
            int refused = 0;
            for (CompletableFuture<HttpResponse<String>> f : sent) {
                HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
                if (r.statusCode() == 200) {
                    served++;
                    assertEquals(8 * 384, JSON.readTree(r.body()).get("outputs").get(0).get("data").size());
                } else {
                    assertEquals(r.body(), 503, r.statusCode());
                    assertTrue(r.body(), r.body().contains("deadline"));
                    refused++;
                }
            }
            assertTrue("some were served before the deadline", served > 0);
            assertTrue("the rest were refused at their deadline", refused > 0);
            assertEquals(n, served + refused);
        } finally {
            endLoad(batching, sent);
        }
        assertServesAsBefore();
    }

    /**
     * A full queue refuses over HTTP at once, with 503, {@code Retry-After} and a message that names the
     * queue, while the requests it holds go on to their answers: none is lost, and the version serves
     * as before once the burst has passed.
     */
    @Test
    public void aFullQueueAnswers503WithRetryAfterAtOnceAndLosesNothing() throws Exception {
        BatchingControl batching = getOsgiService(BatchingControl.class);
        // one worker, one request per batch, room for 4 to wait, and a deadline far off, so that a
        // refusal here can only come from the full queue
        batching.tune("minilm", BatchingOverride.of(new BatchingSettings(1, 0, 4, 1, 1, 120_000)));
        String body = eightLongSentences("burst");
        int n = 40;
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        long[] doneAt = new long[n];
        try {
            for (int i = 0; i < n; i++) {
                int k = i;
                sent.add(inferAsync(body).whenComplete((r, e) -> doneAt[k] = System.nanoTime()));
            }
            int served = 0;
            int refused = 0;
            long lastServed = 0;
            long firstRefused = Long.MAX_VALUE;
            for (int i = 0; i < n; i++) {
                HttpResponse<String> r = sent.get(i).get(120, TimeUnit.SECONDS);
                if (r.statusCode() == 200) {
                    served++;
                    lastServed = Math.max(lastServed, doneAt[i]);
                    assertEquals(8 * 384, JSON.readTree(r.body()).get("outputs").get(0).get("data").size());
                } else {
                    assertEquals(r.body(), 503, r.statusCode());
                    assertTrue(r.body(), r.body().contains("4 requests are already waiting"));
                    String retryAfter = r.headers().firstValue("Retry-After").orElse("");
                    assertTrue("Retry-After is a positive number of seconds: '" + retryAfter + "'",
                            retryAfter.matches("[1-9][0-9]*"));
                    refused++;
                    firstRefused = Math.min(firstRefused, doneAt[i]);
                }
            }
            assertEquals("every request got its answer or its refusal", n, served + refused);
            assertTrue("the queue held what it had room for: " + served + " served", served >= 5);
            assertTrue("the queue refused what it had no room for: " + refused + " refused", refused > 0);
            assertTrue("a refusal came back while accepted requests still waited, not after them",
                    firstRefused < lastServed);
        } finally {
            endLoad(batching, sent);
        }
        assertServesAsBefore();
    }

    /**
     * A caller that sends a request and then does not read its answer holds up only its own connection. The
     * version has one worker, and the answer (1 500 embeddings, about 6 MB of JSON, far more than the sockets
     * buffer) is computed by that worker, which hands it over without waiting for it to be read: every other
     * caller is served meanwhile, and the held answer arrives whole once its caller reads it.
     */
    @Test
    public void aCallerThatDoesNotReadItsAnswerHoldsUpOnlyItsOwnConnection() throws Exception {
        BatchingControl batching = getOsgiService(BatchingControl.class);
        InferenceStats stats = getOsgiService(InferenceStats.class);
        Version v100 = Version.parseVersion("1.0.0");
        // one worker and one computation at a time: a worker held by a write would stop every caller
        batching.tune("minilm", BatchingOverride.of(new BatchingSettings(1, 0, 1024, 1, 1, 120_000)));
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        int rows = 1500;
        String[] texts = new String[rows];
        for (int i = 0; i < rows; i++) {
            texts[i] = "unread answer row " + i;
        }
        byte[] body = textRequest("unread", texts).getBytes(StandardCharsets.UTF_8);
        URI uri = URI.create(base());
        javax.net.ssl.SSLSocket slow = (javax.net.ssl.SSLSocket) trustingEnclave("TLSv1.3").getSocketFactory().createSocket();
        try {
            // a small window: the answer stays in the server's hands until the caller reads
            slow.setReceiveBufferSize(4096);
            slow.connect(new java.net.InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
            slow.startHandshake();
            // computations under way, so this request queues and the version's worker computes and answers it
            for (int i = 0; i < 3; i++) {
                sent.add(inferAsync(eightLongSentences("ahead-" + i)));
            }
            await("a computation under way", Duration.ofSeconds(30), () -> batching.running("minilm", v100) > 0);
            long before = stats.cumulative("minilm", v100).inferenceCount();
            java.io.OutputStream out = slow.getOutputStream();
            out.write(("POST /v2/models/minilm/versions/1.0.0/infer HTTP/1.1\r\nHost: " + uri.getHost() + "\r\n"
                    + "Authorization: " + admin().header() + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            await("the unread request computed", Duration.ofSeconds(90),
                    () -> stats.cumulative("minilm", v100).inferenceCount() >= before + rows);
            for (CompletableFuture<HttpResponse<String>> f : sent) {
                assertEquals(200, f.get(60, TimeUnit.SECONDS).statusCode());
            }
            // its answer waits for its caller; the one worker serves everyone else
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = inferAsync(textRequest("meanwhile-" + i, "a short sentence")).get(20, TimeUnit.SECONDS);
                assertEquals(r.body(), 200, r.statusCode());
                assertEquals(384, JSON.readTree(r.body()).get("outputs").get(0).get("data").size());
            }
            // and the held answer is whole once read
            java.io.InputStream in = new java.io.BufferedInputStream(slow.getInputStream());
            slow.setSoTimeout(60_000);
            String status = line(in);
            assertTrue(status, status.startsWith("HTTP/1.1 200"));
            int length = -1;
            for (String h = line(in); !h.isEmpty(); h = line(in)) {
                if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(h.substring(h.indexOf(':') + 1).trim());
                }
            }
            assertTrue("an answer far larger than the sockets hold: " + length, length > 4_000_000);
            JsonNode answer = JSON.readTree(in.readNBytes(length));
            assertEquals("unread", answer.get("id").asText());
            assertEquals(rows * 384, answer.get("outputs").get(0).get("data").size());
        } finally {
            slow.close();
            endLoad(batching, sent);
        }
        assertServesAsBefore();
    }

    /** One line of an HTTP head, without its CRLF. */
    private static String line(java.io.InputStream in) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new java.io.EOFException("the connection ended within a header line: " + b);
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    /** The same request with Triton's {@code parameters.timeout}, in microseconds. */
    private static String withTimeout(String request, String micros) {
        return "{\"parameters\": {\"timeout\": " + micros + "}, " + request.substring(1);
    }

    /**
     * A Triton client's own request timeout ({@code parameters.timeout}, microseconds): a request that
     * cannot start within it is answered 503 with {@code Retry-After} at that moment, while the backlog
     * ahead of it still computes, and never runs; a longer one than the version's deadline changes
     * nothing; an idle version serves one at once; a timeout that is not a whole number of microseconds
     * is a 400 that names it.
     */
    @Test
    public void aRequestsOwnTimeoutRefusesItWhenItCannotStartInTimeAndNoLater() throws Exception {
        // the caller's first request also checks its password (slow by design), which counts against its
        // timeout as every moment since the request arrived does
        assertEquals(200, post("/v2/models/minilm/versions/1.0.0/infer", textRequest("login", CAT)).status());
        Reply idle = post("/v2/models/minilm/versions/1.0.0/infer", withTimeout(textRequest("idle", CAT), "1000000"));
        assertEquals(idle.body(), 200, idle.status());
        for (String bad : List.of("-5", "0.2", "\"200ms\"")) {
            Reply r = post("/v2/models/minilm/versions/1.0.0/infer", withTimeout(textRequest("bad", CAT), bad));
            assertEquals(r.body(), 400, r.status());
            assertTrue(r.body(), r.body().contains("parameters.timeout must be a whole number of microseconds"));
        }
        BatchingControl batching = getOsgiService(BatchingControl.class);
        // one place to compute, one request per batch, a deadline far off: a backlog of several seconds
        batching.tune("minilm", BatchingOverride.of(new BatchingSettings(1, 0, 1024, 1, 1, 120_000)));
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        int ahead = 16;
        long[] doneAt = new long[ahead];
        try {
            for (int i = 0; i < ahead; i++) {
                int k = i;
                sent.add(inferAsync(eightLongSentences("ahead-" + i)).whenComplete((r, e) -> doneAt[k] = System.nanoTime()));
            }
            await("a backlog", Duration.ofSeconds(60), () -> queued("1.0.0") >= 8);
            long sentAt = System.nanoTime();
            List<CompletableFuture<HttpResponse<String>>> impatient = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                impatient.add(inferAsync(withTimeout(textRequest("impatient-" + i, CAT), "200000")));
            }
            CompletableFuture<HttpResponse<String>> patient = inferAsync(withTimeout(textRequest("patient", CAT),
                    Long.toString(TimeUnit.MINUTES.toMicros(10))));
            sent.addAll(impatient);
            sent.add(patient);
            for (CompletableFuture<HttpResponse<String>> f : impatient) {
                HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
                long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt);
                assertEquals(r.body(), 503, r.statusCode());
                assertTrue(r.body(), r.body().contains("could not start this request within the timeout of 200000 µs it asked for"));
                assertTrue("Retry-After: " + r.headers().firstValue("Retry-After"),
                        r.headers().firstValue("Retry-After").orElse("").matches("[1-9][0-9]*"));
                assertTrue("refused at its timeout, not before: " + tookMs + " ms", tookMs >= 200);
            }
            long refusedAt = System.nanoTime();
            assertTrue("refused while the backlog still computed, not when a worker reached them: "
                    + queued("1.0.0") + " still queued (the patient request among them)", queued("1.0.0") > 1);
            HttpResponse<String> p = patient.get(120, TimeUnit.SECONDS);
            assertEquals("a timeout longer than the deadline changes nothing: " + p.body(), 200, p.statusCode());
            for (int i = 0; i < ahead; i++) {
                assertEquals(200, sent.get(i).get(120, TimeUnit.SECONDS).statusCode());
            }
            assertTrue("the backlog ended after the refusals", java.util.Arrays.stream(doneAt).max().getAsLong() > refusedAt);
        } finally {
            endLoad(batching, sent);
        }
        assertServesAsBefore();
    }

    /** The same request with Triton's {@code parameters.priority}. */
    private static String withPriority(String request, int priority) {
        return "{\"parameters\": {\"priority\": " + priority + "}, " + request.substring(1);
    }

    /**
     * Triton's request priority, on a model that keeps priority levels: an urgent request (priority 1)
     * sent behind a backlog of bulk work (priority 2, or none: the default level 2) is answered while
     * most of the backlog still waits, and the backlog is answered in full after it; Triton's model
     * configuration shows the levels. (With the levels at 0 the same run fails: 1 of 16 bulk requests
     * ended after the urgent one.)
     */
    @Test
    public void anUrgentRequestOvertakesABacklogWhenTheModelKeepsPriorityLevels() throws Exception {
        assertEquals(200, post("/v2/models/minilm/versions/1.0.0/infer", textRequest("login", CAT)).status());
        BatchingControl batching = getOsgiService(BatchingControl.class);
        // one place to compute, one request per batch, two levels with 2 the default: seconds of backlog
        batching.tune("minilm", BatchingOverride.of(new BatchingSettings(1, 0, 1024, 1, 1, 120_000, 2, 2)));
        Reply config = get("/v2/models/minilm/versions/1.0.0/config");
        assertEquals(config.body(), 200, config.status());
        assertEquals("2", config.json().path("parameters").path("enclave_priority_levels").path("string_value").asText());
        assertEquals("2", config.json().path("parameters").path("enclave_default_priority_level").path("string_value").asText());
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        int ahead = 16;
        long[] doneAt = new long[ahead];
        try {
            for (int i = 0; i < ahead; i++) {
                int k = i;
                String bulk = eightLongSentences("bulk-" + i);
                sent.add(inferAsync(i % 2 == 0 ? withPriority(bulk, 2) : bulk)
                        .whenComplete((r, e) -> doneAt[k] = System.nanoTime()));
            }
            await("a backlog", Duration.ofSeconds(60), () -> queued("1.0.0") >= 8);
            CompletableFuture<HttpResponse<String>> urgent = inferAsync(withPriority(textRequest("urgent", CAT), 1));
            sent.add(urgent);
            HttpResponse<String> r = urgent.get(120, TimeUnit.SECONDS);
            long urgentAt = System.nanoTime();
            assertEquals(r.body(), 200, r.statusCode());
            assertEquals(384, JSON.readTree(r.body()).get("outputs").get(0).get("data").size());
            for (int i = 0; i < ahead; i++) {
                HttpResponse<String> b = sent.get(i).get(120, TimeUnit.SECONDS);
                assertEquals(b.body(), 200, b.statusCode());
            }
            long after = java.util.Arrays.stream(doneAt).filter(t -> t > urgentAt).count();
            assertTrue("the urgent request was answered ahead of the backlog queued before it: " + after + " of " + ahead
                    + " bulk requests ended after it", after >= 6);
        } finally {
            endLoad(batching, sent);
        }
        assertServesAsBefore();
    }

    /**
     * Texts far apart in length go to separate batches, so short sentences queued beside long ones are not
     * padded to the long ones' length: behind a busy worker, 8 short and 8 long requests sent in turns run
     * as two batches of 8 (the batch-size histogram counts each request at 8), and one group is answered
     * entirely before the other. Triton's model configuration shows the ratio.
     */
    @Test
    public void textsFarApartInLengthRunInSeparateBatches() throws Exception {
        assertEquals(200, post("/v2/models/minilm/versions/1.0.0/infer", textRequest("login", CAT)).status());
        BatchingControl batching = getOsgiService(BatchingControl.class);
        // one place to compute, room for every row: what queues behind the first request runs next,
        // as the ratio (the default, 2) groups it
        batching.tune("minilm", BatchingOverride.of(new BatchingSettings(256, 0, 1024, 1, 1, 120_000)));
        Reply config = get("/v2/models/minilm/versions/1.0.0/config");
        assertEquals(config.body(), 200, config.status());
        assertEquals("2", config.json().path("parameters").path("enclave_max_padding_ratio").path("string_value").asText());
        String longText = String.join(" ", java.util.Collections.nCopies(12, "quarterly revenue grew while costs fell"));
        // about 1.5 s of compute on 2 cores: time to send the rest and see them all queued behind it
        String[] ahead = new String[192];
        java.util.Arrays.fill(ahead, longText);
        double[] before = batchSizeSumAndCount("1.0.0");
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        int n = 16;
        long[] doneAt = new long[n];
        try {
            sent.add(inferAsync(textRequest("ahead", ahead)));
            await("the first request computing", Duration.ofSeconds(60), () -> gauge("enclave_workers", "1.0.0") == 1);
            for (int i = 0; i < n; i++) {
                int k = i;
                sent.add(inferAsync(i % 2 == 0 ? textRequest("short-" + i, CAT) : textRequest("long-" + i, longText))
                        .whenComplete((r, e) -> doneAt[k] = System.nanoTime()));
            }
            await("every request queued behind it", Duration.ofSeconds(60), () -> queued("1.0.0") == n);
            for (CompletableFuture<HttpResponse<String>> f : sent) {
                HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
                assertEquals(r.body(), 200, r.statusCode());
                assertEquals(r.body(), 384, JSON.readTree(r.body()).get("outputs").get(0).get("shape").get(1).asInt());
            }
        } finally {
            endLoad(batching, sent);
        }
        double[] after = batchSizeSumAndCount("1.0.0");
        assertEquals("every request counted once", n + 1, after[1] - before[1], 0.0);
        assertEquals("the first request alone, then 16 requests in batches of 8 short and 8 long", 1 + n * 8,
                after[0] - before[0], 0.0);
        long lastShort = 0, firstShort = Long.MAX_VALUE, lastLong = 0, firstLong = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0) {
                lastShort = Math.max(lastShort, doneAt[i]);
                firstShort = Math.min(firstShort, doneAt[i]);
            } else {
                lastLong = Math.max(lastLong, doneAt[i]);
                firstLong = Math.min(firstLong, doneAt[i]);
            }
        }
        assertTrue("one group answered before the other", lastShort < firstLong || lastLong < firstShort);
        assertServesAsBefore();
    }

    /**
     * Requests that queue behind a busy worker run as one batch, and {@code model:stats} shows the mean
     * batch they ran in, as the batch-size histogram in {@code /metrics} counts it.
     */
    @Test
    public void modelStatsShowsTheMeanBatchRequestsRanIn() throws Exception {
        BatchingControl batching = getOsgiService(BatchingControl.class);
        // one place to compute and room for 64 rows: what arrives while it computes runs together next
        batching.tune("minilm", BatchingOverride.of(new BatchingSettings(64, 0, 1024, 1, 1, 120_000)));
        double[] before = batchSizeSumAndCount("1.0.0");
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                sent.add(inferAsync(eightLongSentences("ahead-" + i)));
            }
            for (int i = 0; i < 24; i++) {
                sent.add(inferAsync(textRequest("short-" + i, CAT)));
            }
            for (CompletableFuture<HttpResponse<String>> f : sent) {
                HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
                assertEquals(r.body(), 200, r.statusCode());
            }
        } finally {
            endLoad(batching, sent);
        }
        double[] after = batchSizeSumAndCount("1.0.0");
        assertEquals("every request counted once", sent.size(), after[1] - before[1], 0.0);
        double metricsMean = (after[0] - before[0]) / (after[1] - before[1]);
        assertTrue("requests that waited behind the busy worker ran together: mean " + metricsMean, metricsMean > 2);
        Map<String, String> row = statsRow(shellAsAdmin("model:stats --window 300 minilm"), "1.0.0");
        assertTrue(row.toString(), Double.parseDouble(row.get("Mean batch")) > 1);
        assertEquals(row.toString(), "0", row.get("Queued"));
        assertEquals(row.toString(), "0", row.get("Running"));
    }

    /**
     * What padding costs is counted in tokens, as the engine computed them, and shown where operators
     * look: "hello" is [CLS] hello [SEP], 3 tokens, and "hello world how are you" 7, so one request with
     * both computes 14 positions, of which 4 pad the short text. {@code /metrics} counts exactly that,
     * and the management API and {@code model:stats} show the share since the version loaded.
     */
    @Test
    public void paddingIsCountedInTokensAndShownWhereOperatorsLook() throws Exception {
        ensureUsers();
        double[] before = tokensAndPadding("1.0.0");
        assertTrue("a text model has both counters: " + java.util.Arrays.toString(before), before[0] >= 0 && before[1] >= 0);
        embed("1.0.0", "hello", "hello world how are you");
        double[] after = tokensAndPadding("1.0.0");
        assertEquals("two rows of 7 tokens", 14, after[0] - before[0], 0.0);
        assertEquals("the short row padded from 3 to 7", 4, after[1] - before[1], 0.0);

        Reply r = get("/enclave/v1/models/minilm", ANALYST);
        assertEquals(r.body(), 200, r.status());
        JsonNode tokens = null;
        for (JsonNode v : r.json().get("versions")) {
            if (v.get("version").asText().equals("1.0.0")) {
                tokens = v.get("tokens");
            }
        }
        assertNotNull(r.body(), tokens);
        assertEquals(tokens.toString(), (long) after[0], tokens.get("computed").asLong());
        assertEquals(tokens.toString(), (long) after[1], tokens.get("padding").asLong());
        assertEquals(tokens.toString(), after[1] / after[0], tokens.get("paddingShare").asDouble(), 1e-9);

        Map<String, String> row = statsRow(shellAsAdmin("model:stats minilm"), "1.0.0");
        assertEquals(row.toString(), String.format(java.util.Locale.ROOT, "%.1f %%", 100 * after[1] / after[0]),
                row.get("Padding share"));
    }

    /** The version's {@code enclave_text_tokens_total} and {@code enclave_text_padding_tokens_total}; -1 when absent. */
    private double[] tokensAndPadding(String version) throws Exception {
        return series(version, -1, "enclave_text_tokens_total", "enclave_text_padding_tokens_total");
    }

    /**
     * A reset followed at once by a new setting keeps the new setting, in the running versions, in
     * ConfigAdmin and in its file, after File Install has answered the reset and scanned {@code etc/}
     * again. (Named factory configurations reuse their PID and file: File Install, answering the deletion
     * a moment later, once removed the new file, and its next scan then deleted the new configuration.)
     */
    @Test
    public void aResetFollowedAtOnceByANewSettingKeepsTheNewSetting() throws Exception {
        BatchingControl batching = getOsgiService(BatchingControl.class);
        Path file = minilmBatchingFile();
        try {
            for (int round = 0; round < 3; round++) {
                int size = 20 + round;
                batching.tune("minilm", new BatchingOverride(8, null, null, null, null, null));
                batching.tune("minilm", null);
                batching.tune("minilm", new BatchingOverride(size, null, null, null, null, null));
                // File Install looks at etc/ once a second
                Thread.sleep(2500);
                assertMinilmBatchingStoredOnce("round " + round, size);
            }
        } finally {
            batching.tune("minilm", null);
        }
        assertFalse("a reset removes the file", Files.exists(file));
    }

    private static Path minilmBatchingFile() {
        return Path.of(System.getProperty("karaf.etc"), "io.enclave.batching-minilm.cfg");
    }

    /** minilm's maxBatchSize is {@code size} in force, in its file and in exactly one factory configuration. */
    private void assertMinilmBatchingStoredOnce(String where, int size) throws Exception {
        assertEquals(where, size, getOsgiService(BatchingControl.class).settings("minilm", Version.parseVersion("1.0.0"))
                .maxBatchSize());
        Path file = minilmBatchingFile();
        assertTrue(where + ": the file is there", Files.exists(file));
        String text = Files.readString(file);
        assertTrue(where + ": " + text, text.contains("maxBatchSize = " + size));
        org.osgi.service.cm.Configuration[] all = getOsgiService(org.osgi.service.cm.ConfigurationAdmin.class)
                .listConfigurations("(service.factoryPid=io.enclave.batching)");
        List<java.util.Dictionary<String, Object>> minilm = java.util.Arrays.stream(all == null
                ? new org.osgi.service.cm.Configuration[0] : all).map(org.osgi.service.cm.Configuration::getProperties)
                .filter(p -> "minilm".equals(String.valueOf(p.get("model")))).toList();
        assertEquals(where + ": one factory configuration for minilm: " + minilm, 1, minilm.size());
        assertEquals(where, String.valueOf(size), String.valueOf(minilm.get(0).get("maxBatchSize")));
    }

    /**
     * A script that removes the batching file by hand and makes a new setting moments later keeps the new
     * setting, whether File Install's scan finds the file missing before the setting is written or after:
     * that scan deletes the configuration the file's name stands for, and a setting written under the
     * deleted configuration's PID would be a plain configuration no factory hears of.
     */
    @Test
    public void aFileRemovedByHandAndASettingMadeMomentsLaterKeepTheNewSetting() throws Exception {
        BatchingControl batching = getOsgiService(BatchingControl.class);
        Path file = minilmBatchingFile();
        try {
            long[] gapsMillis = {0, 400, 800};
            for (int round = 0; round < gapsMillis.length; round++) {
                int size = 12 + round;
                batching.tune("minilm", new BatchingOverride(8, null, null, null, null, null));
                // File Install knows a file once two of its scans, a second apart, agree on it
                Thread.sleep(2500);
                Files.delete(file);
                Thread.sleep(gapsMillis[round]);
                batching.tune("minilm", new BatchingOverride(size, null, null, null, null, null));
                Thread.sleep(2500);
                assertMinilmBatchingStoredOnce("round " + round + " (" + gapsMillis[round] + " ms after the file went)", size);
            }
        } finally {
            batching.tune("minilm", null);
        }
        assertFalse("a reset removes the file", Files.exists(file));
    }

    /**
     * The management API shows each version's batching settings and load, and replaces the model's
     * override as {@code model:tune} would: what it names for every version, the rest model.json's. Bad
     * input gets a 400 that names the problem and changes nothing; only an admin may change it.
     */
    @Test
    public void batchingIsReadAndReplacedOverTheManagementApi() throws Exception {
        ensureUsers();
        BatchingControl batching = getOsgiService(BatchingControl.class);
        Version v1 = Version.parseVersion("1.0.0");
        try {
            Reply before = get("/enclave/v1/models/minilm", ANALYST);
            assertEquals(before.body(), 200, before.status());
            assertEquals("{}", before.json().get("batchingOverride").toString());
            for (JsonNode v : before.json().get("versions")) {
                BatchingSettings s = batching.settings("minilm", Version.parseVersion(v.get("version").asText()));
                assertEquals(v.toString(), s.maxBatchSize(), v.get("batching").get("maxBatchSize").asInt());
                assertEquals(v.toString(), s.deadlineMillis(), v.get("batching").get("deadlineMs").asLong());
                assertTrue(v.toString(), v.get("workerThreads").asInt() >= s.minWorkers());
                // minilm names no workers, so it has one per core, and each call one engine thread
                assertEquals(v.toString(), 1, v.get("engineThreads").get("intraOp").asInt());
                assertEquals(v.toString(), getOsgiService(io.enclave.api.ModelRegistry.class).find("minilm",
                        Version.parseVersion(v.get("version").asText()))
                        .orElseThrow().threads().intraOp().intValue(), v.get("engineThreads").get("intraOp").asInt());
                assertEquals(v.toString(), 0, v.get("queued").asInt());
            }

            assertEquals("{}", get("/enclave/v1/models/minilm/batching", ANALYST).json().toString());

            String tune = shellAsAdmin("model:tune minilm");
            List<String> header = java.util.Arrays.stream(tune.lines().filter(l -> l.startsWith("Version")).findFirst()
                    .orElseThrow().split("\\|")).map(String::trim).toList();
            List<String> row = java.util.Arrays.stream(tune.lines().filter(l -> l.startsWith("1.0.0")).findFirst()
                    .orElseThrow().split("\\|")).map(String::trim).toList();
            assertEquals(tune, "1", row.get(header.indexOf("Threads a call")));

            Reply tuned = put("/enclave/v1/models/minilm/batching", "{\"maxBatchSize\": 16, \"queueCapacity\": 2048}", admin());
            assertEquals(tuned.body(), 200, tuned.status());
            assertEquals("{\"maxBatchSize\":16,\"queueCapacity\":2048}", tuned.json().get("batchingOverride").toString());
            // the override reads back in the shape PUT takes, and putting it back changes nothing
            Reply read = get("/enclave/v1/models/minilm/batching", ANALYST);
            assertEquals(read.body(), 200, read.status());
            assertEquals("{\"maxBatchSize\":16,\"queueCapacity\":2048}", read.json().toString());
            assertEquals(200, put("/enclave/v1/models/minilm/batching", read.body(), admin()).status());
            assertEquals(read.body(), get("/enclave/v1/models/minilm/batching", ANALYST).body());
            assertEquals(404, get("/enclave/v1/models/nope/batching", ANALYST).status());
            for (JsonNode v : tuned.json().get("versions")) {
                assertEquals(v.toString(), 16, v.get("batching").get("maxBatchSize").asInt());
                assertEquals(v.toString(), 2048, v.get("batching").get("queueCapacity").asInt());
                assertEquals("model.json's delay stays: " + v, 2000, v.get("batching").get("maxQueueDelayMicros").asInt());
            }
            assertEquals(16, batching.settings("minilm", v1).maxBatchSize());
            Path file = Path.of(System.getProperty("karaf.etc"), "io.enclave.batching-minilm.cfg");
            awaitFile(file, Duration.ofSeconds(10), text -> text.contains("maxBatchSize = 16")
                    && text.contains("queueCapacity = 2048") && !text.contains("maxWorkers"));
            String audit = get("/enclave/v1/audit?action=model.tune&limit=1000").body();
            assertTrue("the change is audited under the admin who made it, and where from: " + audit,
                    audit.contains("\"who\":\"admin\",\"from\":\"https(127.0.0.1)\"") && audit.contains("queueCapacity=2048"));

            // each refusal names its problem and leaves the override as it was
            String[][] bad = {
                {"{\"maxBatchSize\": \"16\"}", "'maxBatchSize' must be a whole number"},
                {"{\"maxBatchSize\": 16.5}", "'maxBatchSize' must be a whole number"},
                {"{\"deadlineMs\": 99999999999999999999999}", "'deadlineMs' must be a whole number"},
                {"{\"queueCapacity\": 3000000000}", "'queueCapacity' is out of range"},
                {"{\"maxBatch\": 16}", "unknown field 'maxBatch'"},
                {"{\"maxBatchSize\": 0}", "max batch size must be 1 to 4096"},
                {"{\"minWorkers\": 3, \"maxWorkers\": 2}", "workers must be 1 <= min <= max"},
                {"[16]", "body must be a JSON object"},
                {"{\"maxBatchSize\": 16", "not valid JSON"},
                {"{\"priorityLevels\": 101}", "priority levels must be 0 to 100, not 101"},
                {"{\"defaultPriorityLevel\": 2}", "a default priority level (2) needs priority levels"},
                {"{\"maxPaddingRatio\": -1}", "max padding ratio must be 0 to 100 (0 pads every length into one batch), not -1"},
            };
            for (String[] b : bad) {
                Reply r = put("/enclave/v1/models/minilm/batching", b[0], admin());
                assertEquals(b[0] + " -> " + r.body(), 400, r.status());
                assertTrue(b[0] + " -> " + r.body(), r.body().contains(b[1]));
                assertEquals(b[0], 16, batching.settings("minilm", v1).maxBatchSize());
                assertEquals(b[0], 2048, batching.settings("minilm", v1).queueCapacity());
            }
            // the management API's view shows the levels a version keeps; 0 is one queue in order of arrival
            Reply levels = put("/enclave/v1/models/minilm/batching",
                    "{\"maxBatchSize\": 16, \"queueCapacity\": 2048, \"priorityLevels\": 4, \"maxPaddingRatio\": 3}", admin());
            assertEquals(levels.body(), 200, levels.status());
            for (JsonNode v : levels.json().get("versions")) {
                assertEquals(v.toString(), 4, v.get("batching").get("priorityLevels").asInt());
                assertEquals(v.toString(), 3, v.get("batching").get("maxPaddingRatio").asInt());
                assertEquals("the middle level, towards the less urgent: " + v, 3,
                        v.get("batching").get("defaultPriorityLevel").asInt());
            }
            assertEquals(4, batching.settings("minilm", v1).priorityLevels());
            assertEquals(3, batching.settings("minilm", v1).maxPaddingRatio());
            assertEquals(403, put("/enclave/v1/models/minilm/batching", "{}", ANALYST).status());
            assertEquals(404, put("/enclave/v1/models/nope/batching", "{}", admin()).status());
            assertEquals(16, batching.settings("minilm", v1).maxBatchSize());

            // {} goes back to model.json for every setting
            Reply reset = put("/enclave/v1/models/minilm/batching", "{}", admin());
            assertEquals(reset.body(), 200, reset.status());
            assertEquals("{}", reset.json().get("batchingOverride").toString());
            assertEquals("{}", get("/enclave/v1/models/minilm/batching", ANALYST).json().toString());
            assertEquals(before.json().get("versions").get(0).get("batching"), reset.json().get("versions").get(0).get("batching"));
            assertEquals(32, batching.settings("minilm", v1).maxBatchSize());
        } finally {
            batching.tune("minilm", null);
        }
    }

    /** Sum and count of the version's {@code enclave_batch_size} histogram in {@code /metrics}. */
    private double[] batchSizeSumAndCount(String version) throws Exception {
        return series(version, 0, "enclave_batch_size_sum", "enclave_batch_size_count");
    }

    /** One version's row of a {@code model:stats} table, by column name. */
    private static Map<String, String> statsRow(String table, String version) {
        List<String[]> rows = table.lines().filter(l -> l.contains("|"))
                .map(l -> java.util.Arrays.stream(l.split("\\|")).map(String::trim).toArray(String[]::new)).toList();
        String[] header = rows.get(0);
        for (String[] r : rows.subList(1, rows.size())) {
            if (r.length == header.length && version.equals(r[1])) {
                Map<String, String> row = new java.util.LinkedHashMap<>();
                for (int i = 0; i < header.length; i++) {
                    row.put(header[i], r[i]);
                }
                return row;
            }
        }
        throw new AssertionError("no row for " + version + " in:\n" + table);
    }

    /** Nothing is left waiting, and a new request is served. */
    private void assertServesAsBefore() throws Exception {
        assertEquals(0, queued("1.0.0"));
        assertEquals(200, post("/v2/models/minilm/versions/1.0.0/infer", textRequest("after", CAT)).status());
    }

    @Test
    public void metadataForBothVersions() throws Exception {
        for (String v : List.of("1.0.0", "1.1.0")) {
            Reply r = get("/v2/models/minilm/versions/" + v);
            assertEquals(r.body(), 200, r.status());
            JsonNode m = r.json();
            assertEquals("minilm", m.get("name").asText());
            assertEquals("[\"1.0.0\",\"1.1.0\"]", m.get("versions").toString());
            assertEquals("onnxruntime_onnx", m.get("platform").asText());
            assertEquals("{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[-1]}", m.get("inputs").get(0).toString());
            assertEquals("{\"name\":\"embedding\",\"datatype\":\"FP32\",\"shape\":[-1,384]}", m.get("outputs").get(0).toString());
        }
        assertEquals(200, get("/v2/models/minilm").status());
    }

    @Test
    public void bothVersionsEmbedMeaningfullyAndAgree() throws Exception {
        float[][] fp32 = embed("1.0.0", CAT, KITTEN, REVENUE);
        float[][] int8 = embed("1.1.0", CAT, KITTEN, REVENUE);
        for (float[][] e : List.of(fp32, int8)) {
            for (float[] row : e) {
                assertEquals(1.0, norm(row), 1e-3);
            }
            double close = cos(e[0], e[1]);
            double far = cos(e[0], e[2]);
            assertTrue("cat/kitten " + close + " vs cat/revenue " + far, close > far + 0.3);
        }
        for (int i = 0; i < 3; i++) {
            double agreement = cos(fp32[i], int8[i]);
            assertTrue("sentence " + i + ": 1.0.0 vs 1.1.0 cosine " + agreement, agreement > 0.95);
        }
    }

    @Test
    public void withoutAVersionTheStableAnswersUnlessAPinSaysOtherwise() throws Exception {
        Reply r = post("/v2/models/minilm/infer", textRequest("x", CAT));
        assertEquals(200, r.status());
        assertEquals("1.1.0", r.json().get("model_version").asText());

        String pinned = shellAsAdmin("model:pin minilm 1.0.0");
        assertTrue(pinned, pinned.contains("pinned to 1.0.0"));
        try {
            assertEquals("a pin applies to the next request", "1.0.0", versionAnswering());
        } finally {
            shellAsAdmin("model:pin minilm");
        }
        await("the pin to go", Duration.ofSeconds(30), () -> versionAnswering().equals("1.1.0"));
    }

    private String versionFor(String routeKey) {
        try {
            java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(base() + "/v2/models/minilm/infer"))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(textRequest("x", CAT)));
            if (routeKey != null) {
                b.header("Enclave-Route-Key", routeKey);
            }
            return send(b, admin()).json().get("model_version").asText();
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    public void aCanarySplitsUnversionedTrafficAndAStickyKeyStaysOnOneSide() throws Exception {
        Reply split = send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base() + "/enclave/v1/models/minilm/traffic"))
                .header("Content-Type", "application/json").PUT(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"stable\": \"1.0.0\", \"canary\": {\"version\": \"1.1.0\", \"percent\": 50}, "
                                + "\"stickyHeader\": \"Enclave-Route-Key\"}")), admin());
        assertEquals(split.body(), 200, split.status());
        try {
            java.util.Set<String> seen = new java.util.HashSet<>();
            await("both versions answering", Duration.ofSeconds(30), () -> {
                seen.add(versionFor(null));
                return seen.equals(java.util.Set.of("1.0.0", "1.1.0"));
            });
            for (String key : List.of("customer-1", "customer-2", "customer-3", "customer-4")) {
                String first = versionFor(key);
                for (int i = 0; i < 8; i++) {
                    assertEquals(key + " stays on one side", first, versionFor(key));
                }
            }
        } finally {
            assertEquals(200, send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base()
                    + "/enclave/v1/models/minilm/traffic")).header("Content-Type", "application/json")
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"stable\": \"1.1.0\"}")), admin()).status());
        }
        await("all traffic back on the shipped stable version", Duration.ofSeconds(30), () -> {
            for (int i = 0; i < 10; i++) {
                if (!versionFor(null).equals("1.1.0")) {
                    return false;
                }
            }
            return true;
        });
    }

    private String versionAnswering() {
        try {
            return post("/v2/models/minilm/infer", textRequest("x", CAT)).json().get("model_version").asText();
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    public void nestedDataAndRequestedOutputs() throws Exception {
        Reply r = post("/v2/models/minilm/versions/1.0.0/infer", "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\","
                + " \"shape\": [2], \"data\": [[\"" + CAT + "\"], [\"" + KITTEN + "\"]]}], \"outputs\": [{\"name\": \"embedding\"}]}");
        assertEquals(r.body(), 200, r.status());
        assertNull("no id sent, none echoed", r.json().get("id"));
        assertEquals("[2,384]", r.json().get("outputs").get(0).get("shape").toString());
    }

    private void assertError(Reply r, int status, String fragment) {
        assertEquals(r.body(), status, r.status());
        assertNotNull("JSON error body: " + r.body(), r.error());
        assertTrue(r.error() + " should mention " + fragment, r.error().contains(fragment));
    }

    @Test
    public void eachKindOfBadRequestGetsItsOwn4xx() throws Exception {
        String ok = textRequest("x", CAT);
        assertError(post("/v2/models/nope/infer", ok), 404, "unknown model 'nope'");
        assertError(get("/v2/models/nope"), 404, "unknown model 'nope'");
        assertError(get("/v2/models/nope/ready"), 404, "unknown model");
        assertError(post("/v2/models/minilm/versions/9.9.9/infer", ok), 404, "no version '9.9.9'");
        assertError(get("/v2/models/minilm/versions/9.9.9"), 404, "no version '9.9.9'");
        assertError(post("/v2/models/minilm/infer", "{\"inputs\": ["), 400, "not valid JSON");
        assertError(post("/v2/models/minilm/infer", ""), 400, "body is empty");
        assertError(post("/v2/models/minilm/infer", "{\"inputs\": []}"), 400, "'inputs' must be a non-empty array");
        assertError(post("/v2/models/minilm/infer",
                "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1.0]}]}"),
                400, "datatype FP32 but model 'minilm' expects BYTES");
        assertError(post("/v2/models/minilm/infer",
                "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1, 1], \"data\": [\"a\"]}]}"),
                400, "shape [1, 1] but model 'minilm' expects [-1]");
        assertError(post("/v2/models/minilm/infer",
                "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [3], \"data\": [\"a\"]}]}"),
                400, "has 1 values but shape [3] needs 3");
        assertError(post("/v2/models/minilm/infer",
                "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"STRING\", \"shape\": [1], \"data\": [\"a\"]}]}"),
                400, "unknown datatype 'STRING'");
        assertError(post("/v2/models/minilm/infer",
                "{\"inputs\": [{\"name\": \"words\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"a\"]}]}"),
                400, "unexpected input 'words'");
        assertError(post("/v2/models/minilm/infer",
                "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"a\"]}],"
                        + " \"outputs\": [{\"name\": \"logits\"}]}"), 400, "unknown output 'logits'");
        assertError(post("/v2/models/minilm/infer", "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", "
                + "\"shape\": [1], \"data\": [\"" + "x".repeat(1_100_000) + "\"]}]}"), 413, "larger than 1048576 bytes");
        // a client that writes its whole body before it reads (as this one does) hears why, rather than a
        // broken pipe, when the body is still on its way as it is refused: with its length declared, or in
        // chunks of unknown length (before the 413 said "Connection: close", the first failed so every run)
        byte[] twoMegabytes = ("{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\""
                + "x".repeat(2_000_000) + "\"]}]}").getBytes(StandardCharsets.UTF_8);
        for (boolean declared : new boolean[] {true, false}) {
            HttpRequest.BodyPublisher slow = HttpRequest.BodyPublishers.ofInputStream(() -> new SlowStream(twoMegabytes));
            assertError(send(HttpRequest.newBuilder(URI.create(base() + "/v2/models/minilm/infer"))
                    .header("Content-Type", "application/json")
                    .POST(declared ? HttpRequest.BodyPublishers.fromPublisher(slow, twoMegabytes.length) : slow), admin()),
                    413, "larger than 1048576 bytes");
        }
        assertError(get("/v2/models/minilm/infer"), 405, "method not allowed");
        assertError(get("/v2/no/such/thing"), 404, "no such endpoint");
        // the server shrugged all of it off
        assertEquals(200, get("/v2/health/ready").status());
        embed("1.0.0", CAT);
    }

    /** A body that arrives in 128 KiB pieces 20 ms apart, as over a slow link: still on its way when refused. */
    private static final class SlowStream extends java.io.InputStream {
        private final java.io.ByteArrayInputStream bytes;
        private int sincePause;

        SlowStream(byte[] body) {
            bytes = new java.io.ByteArrayInputStream(body);
        }

        @Override
        public int read() {
            return bytes.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws java.io.IOException {
            if (sincePause >= 128 * 1024) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                sincePause = 0;
            }
            int n = bytes.read(b, off, Math.min(len, 128 * 1024 - sincePause));
            sincePause += Math.max(0, n);
            return n;
        }
    }

    private Bundle model(String version) {
        for (Bundle b : bundleContext.getBundles()) {
            if ("io.enclave.models.minilm".equals(b.getSymbolicName()) && b.getVersion().equals(Version.parseVersion(version))) {
                return b;
            }
        }
        throw new AssertionError("no minilm " + version + " bundle");
    }

    @Test
    public void stoppingAModelBundleRemovesThatVersionOnly() throws Exception {
        ServiceReference<?> engine = bundleContext.getServiceReference("io.enclave.api.InferenceEngine");
        Object engineId = engine.getProperty("service.id");
        Bundle v11 = model("1.1.0");
        v11.stop();
        try {
            assertError(get("/v2/models/minilm/versions/1.1.0"), 404, "no version '1.1.0'");
            assertError(post("/v2/models/minilm/versions/1.1.0/infer", textRequest("x", CAT)), 404, "no version '1.1.0'");
            assertEquals("[\"1.0.0\"]", get("/v2/models/minilm").json().get("versions").toString());
            Reply r = post("/v2/models/minilm/infer", textRequest("x", CAT));
            assertEquals("1.0.0 answers while 1.1.0 is gone", "1.0.0", r.json().get("model_version").asText());
        } finally {
            v11.start();
        }
        await("1.1.0 back", Duration.ofSeconds(60), () -> {
            try {
                return get("/v2/models/minilm/versions/1.1.0/ready").status() == 200;
            } catch (Exception e) {
                return false;
            }
        });
        embed("1.1.0", CAT);
        assertEquals("the engine was not restarted", engineId,
                bundleContext.getServiceReference("io.enclave.api.InferenceEngine").getProperty("service.id"));
    }

    @Test
    public void theBinaryTensorExtensionCarriesTheSameTensorsAsJson() throws Exception {
        float[][] json = embed("1.1.0", CAT);
        byte[] text = CAT.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer bin = java.nio.ByteBuffer.allocate(4 + text.length).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(text.length).put(text);
        byte[] head = ("{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"parameters\": "
                + "{\"binary_data_size\": " + bin.capacity() + "}}], \"parameters\": {\"binary_data_output\": true}}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] body = java.util.Arrays.copyOf(head, head.length + bin.capacity());
        System.arraycopy(bin.array(), 0, body, head.length, bin.capacity());
        java.net.http.HttpResponse<byte[]> r = http().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base()
                + "/v2/models/minilm/versions/1.1.0/infer")).header("Content-Type", "application/octet-stream")
                .header("Inference-Header-Content-Length", Integer.toString(head.length))
                .header("Authorization", admin().header()).POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(new String(r.body(), java.nio.charset.StandardCharsets.UTF_8), 200, r.statusCode());
        int jsonLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode header = JSON.readTree(java.util.Arrays.copyOf(r.body(), jsonLength));
        JsonNode out = header.get("outputs").get(0);
        assertEquals(384 * 4, out.get("parameters").get("binary_data_size").asInt());
        assertNull(out.get("data"));
        java.nio.FloatBuffer floats = java.nio.ByteBuffer.wrap(r.body(), jsonLength, 384 * 4)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        for (int i = 0; i < 384; i++) {
            assertEquals("element " + i, json[0][i], floats.get(i), 1e-6);
        }
        Reply lying = send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base() + "/v2/models/minilm/infer"))
                .header("Content-Type", "application/octet-stream").header("Inference-Header-Content-Length", "99999")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)), admin());
        assertEquals(400, lying.status());
        assertTrue(lying.error(), lying.error().contains("is larger than the body"));
    }

    /** One version's entry of Triton's statistics, read as an admin. */
    private JsonNode versionStats(String version) throws Exception {
        Reply r = get("/v2/models/minilm/versions/" + version + "/stats");
        assertEquals(r.body(), 200, r.status());
        assertEquals(1, r.json().get("model_stats").size());
        return r.json().get("model_stats").get(0);
    }

    private static long at(JsonNode n, String path) {
        return n.at(path).asLong();
    }

    @Test
    public void tritonsStatisticsCountTheRowsRequestsAndBatchesEachVersionRan() throws Exception {
        ensureUsers();
        JsonNode before = versionStats("1.0.0");
        assertEquals("minilm", before.get("name").asText());
        assertEquals("1.0.0", before.get("version").asText());
        long startedAt = System.currentTimeMillis();
        // one request of three texts, then eight of one text at once, which may share batches
        assertEquals(200, post("/v2/models/minilm/versions/1.0.0/infer", textRequest("three", CAT, KITTEN, REVENUE)).status());
        List<CompletableFuture<Reply>> eight = new ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            for (int i = 0; i < 8; i++) {
                String body = textRequest("one-" + i, i % 2 == 0 ? CAT : KITTEN);
                eight.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return post("/v2/models/minilm/versions/1.0.0/infer", body);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, pool));
            }
            for (CompletableFuture<Reply> f : eight) {
                assertEquals(200, f.get(60, TimeUnit.SECONDS).status());
            }
        } finally {
            pool.shutdownNow();
        }
        // the caller's mistake reaches no version's figures
        assertEquals(400, post("/v2/models/minilm/versions/1.0.0/infer",
                "{\"inputs\":[{\"name\":\"text\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}").status());

        JsonNode after = versionStats("1.0.0");
        assertEquals("a row per text", 11, at(after, "/inference_count") - at(before, "/inference_count"));
        assertEquals(9, at(after, "/inference_stats/success/count") - at(before, "/inference_stats/success/count"));
        assertEquals(at(before, "/inference_stats/fail/count"), at(after, "/inference_stats/fail/count"));
        for (String stage : List.of("queue", "compute_input", "compute_infer", "compute_output")) {
            assertEquals(stage, 9, at(after, "/inference_stats/" + stage + "/count") - at(before, "/inference_stats/" + stage + "/count"));
        }
        long executions = at(after, "/execution_count") - at(before, "/execution_count");
        assertTrue("engine calls: " + executions, executions >= 2 && executions <= 9);
        // the batch sizes account for every engine call and every row
        long calls = 0;
        long rows = 0;
        for (JsonNode b : after.get("batch_stats")) {
            long was = 0;
            for (JsonNode o : before.get("batch_stats")) {
                if (o.get("batch_size").asLong() == b.get("batch_size").asLong()) {
                    was = at(o, "/compute_infer/count");
                }
            }
            long n = at(b, "/compute_infer/count") - was;
            assertEquals(at(b, "/compute_infer/count"), at(b, "/compute_input/count"));
            calls += n;
            rows += n * b.get("batch_size").asLong();
        }
        assertEquals(executions, calls);
        assertEquals(11, rows);
        // a request's time at the server holds its wait and its batch's stages; the engine took real time
        long success = at(after, "/inference_stats/success/ns") - at(before, "/inference_stats/success/ns");
        long parts = 0;
        for (String stage : List.of("queue", "compute_input", "compute_infer", "compute_output")) {
            parts += at(after, "/inference_stats/" + stage + "/ns") - at(before, "/inference_stats/" + stage + "/ns");
        }
        long infer = at(after, "/inference_stats/compute_infer/ns") - at(before, "/inference_stats/compute_infer/ns");
        assertTrue(success + " ns in all, " + parts + " in the stages", success >= parts);
        assertTrue("9 requests took " + infer + " ns in the engine", infer >= 9 * 100_000L);
        long last = at(after, "/last_inference");
        assertTrue(last + " against " + startedAt, last >= startedAt && last <= System.currentTimeMillis());
        assertEquals(0, at(after, "/inference_stats/cache_hit/count"));

        // every version of every model, and every version of one, by name and version
        Reply all = get("/v2/models/stats");
        assertEquals(200, all.status());
        List<String> listed = new ArrayList<>();
        all.json().get("model_stats").forEach(m -> listed.add(m.get("name").asText() + ":" + m.get("version").asText()));
        assertTrue(listed.toString(), listed.containsAll(List.of("minilm:1.0.0", "minilm:1.1.0")));
        Reply minilm = get("/v2/models/minilm/stats", AUDITOR);
        assertEquals("an auditor reads them too", 200, minilm.status());
        assertEquals(2, minilm.json().get("model_stats").size());
        assertEquals("1.0.0", minilm.json().at("/model_stats/0/version").asText());
        assertEquals(11, at(minilm.json(), "/model_stats/0/inference_count") - at(before, "/inference_count"));

        assertError(get("/v2/models/nosuch/stats"), 404, "unknown model 'nosuch'");
        assertError(get("/v2/models/minilm/versions/9.9.9/stats"), 404, "has no version '9.9.9'");
        assertError(get("/v2/models/minilm/versions/x.y/stats"), 404, "has no version 'x.y'");
        Reply shortName = get("/v2/models/minilm/versions/1.0/stats");
        assertEquals("a version named as inference names it", 200, shortName.status());
        assertEquals("1.0.0", shortName.json().at("/model_stats/0/version").asText());
        assertEquals(401, get("/v2/models/stats", ANONYMOUS).status());
    }

    /** Gzip as Python's {@code gzip.compress}, which Triton's client uses, makes it. */
    private static byte[] gzip(byte[] body) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
            z.write(body);
        }
        return out.toByteArray();
    }

    private HttpResponse<byte[]> postBytes(String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).header("Authorization", admin().header())
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    public void compressedBodiesAsTritonsClientsSendAndAskForThemCarryTheSameTensors() throws Exception {
        float[][] plain = embed("1.1.0", CAT);
        String path = "/v2/models/minilm/versions/1.1.0/infer";

        // binary tensors, gzip both ways: the header length is the JSON's before compression, both ways
        byte[] text = CAT.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer bin = java.nio.ByteBuffer.allocate(4 + text.length).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(text.length).put(text);
        byte[] head = ("{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"parameters\": "
                + "{\"binary_data_size\": " + bin.capacity() + "}}], \"parameters\": {\"binary_data_output\": true}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] body = java.util.Arrays.copyOf(head, head.length + bin.capacity());
        System.arraycopy(bin.array(), 0, body, head.length, bin.capacity());
        HttpResponse<byte[]> r = postBytes(path, gzip(body), "Content-Type", "application/octet-stream",
                "Inference-Header-Content-Length", Integer.toString(head.length), "Content-Encoding", "gzip",
                "Accept-Encoding", "gzip");
        assertEquals(new String(r.body(), StandardCharsets.ISO_8859_1), 200, r.statusCode());
        assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse(null));
        byte[] answer = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(r.body())).readAllBytes();
        assertTrue("compressed: " + r.body().length + " of " + answer.length + " bytes", r.body().length < answer.length);
        int jsonLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode header = JSON.readTree(java.util.Arrays.copyOf(answer, jsonLength));
        assertEquals(384 * 4, header.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
        java.nio.FloatBuffer floats = java.nio.ByteBuffer.wrap(answer, jsonLength, 384 * 4)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        for (int i = 0; i < 384; i++) {
            assertEquals("gzip, element " + i, plain[0][i], floats.get(i), 1e-6);
        }

        // JSON, deflate (zlib) both ways; gzip is not taken, so deflate is chosen
        byte[] json = textRequest("deflated", CAT).getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream zlib = new java.io.ByteArrayOutputStream();
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(zlib)) {
            z.write(json);
        }
        r = postBytes(path, zlib.toByteArray(), "Content-Type", "application/json", "Content-Encoding", "deflate",
                "Accept-Encoding", "gzip;q=0, deflate");
        assertEquals(200, r.statusCode());
        assertEquals("deflate", r.headers().firstValue("Content-Encoding").orElse(null));
        JsonNode inflated = JSON.readTree(new java.util.zip.InflaterInputStream(new java.io.ByteArrayInputStream(r.body())));
        assertEquals("deflated", inflated.get("id").asText());
        JsonNode data = inflated.get("outputs").get(0).get("data");
        for (int i = 0; i < 384; i++) {
            assertEquals("deflate, element " + i, plain[0][i], (float) data.get(i).asDouble(), 1e-6);
        }

        // a coding the server does not give: a plain answer
        r = postBytes(path, json, "Content-Type", "application/json", "Accept-Encoding", "br, identity");
        assertEquals(200, r.statusCode());
        assertFalse(r.headers().firstValue("Content-Encoding").isPresent());
        assertEquals("deflated", JSON.readTree(r.body()).get("id").asText());

        // a coding the server does not read: 415, saying which it does
        r = postBytes(path, json, "Content-Type", "application/json", "Content-Encoding", "br");
        assertEquals(415, r.statusCode());
        assertEquals("gzip, deflate, identity", r.headers().firstValue("Accept-Encoding").orElse(null));
        assertTrue(new String(r.body(), StandardCharsets.UTF_8), new String(r.body(), StandardCharsets.UTF_8).contains("'br'"));

        // a body that is not what its coding says, or cut short: 400 naming the coding
        r = postBytes(path, json, "Content-Type", "application/json", "Content-Encoding", "gzip");
        assertEquals(400, r.statusCode());
        assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("not valid gzip data"));
        byte[] whole = gzip(json);
        r = postBytes(path, java.util.Arrays.copyOf(whole, whole.length / 2), "Content-Type", "application/json",
                "Content-Encoding", "gzip");
        assertEquals(400, r.statusCode());
        assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("not valid gzip data"));

        // 8 MiB that compress to a few KiB are still 8 MiB against the 1 MiB limit: refused, never held whole
        byte[] bomb = gzip(new byte[8 << 20]);
        assertTrue(bomb.length + " bytes", bomb.length < 64 << 10);
        r = postBytes(path, bomb, "Content-Type", "application/json", "Content-Encoding", "gzip");
        assertEquals(413, r.statusCode());
        assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("larger than 1048576 bytes"));
        assertServesAsBefore();
    }

    @Test
    public void shellCommands() throws Exception {
        String list = shellAsAdmin("model:list");
        assertTrue(list, list.contains("minilm") && list.contains("1.0.0") && list.contains("1.1.0"));
        assertTrue(list, list.contains("READY") && list.contains("onnxruntime") && list.contains("cpu"));
        String engines = shellAsAdmin("engine:list");
        assertTrue(engines, engines.contains("onnxruntime") && engines.contains("cpu") && engines.contains("1.21.1"));
        String predict = shellAsAdmin("model:predict --version 1.0.0 minilm \"" + CAT + "\"");
        assertTrue(predict, predict.contains("model minilm version 1.0.0") && predict.contains("[384]")
                && predict.contains("1.0000"));
        try {
            shellAsAdmin("model:predict nope hello");
            fail("an unknown model is an error");
        } catch (RuntimeException e) {
            assertEquals("unknown model 'nope'", e.getMessage());
        }
        // model:tune changes what it is given and keeps what was set before; the rest stays model.json's
        BatchingControl batching = getOsgiService(BatchingControl.class);
        try {
            shellAsAdmin("model:tune --queue 2048 minilm");
            String tuned = shellAsAdmin("model:tune --max-batch 16 minilm");
            assertTrue(tuned, tuned.contains("maxBatchSize, queueCapacity"));
            for (String v : List.of("1.0.0", "1.1.0")) {
                BatchingSettings s = batching.settings("minilm", org.osgi.framework.Version.parseVersion(v));
                assertEquals(16, s.maxBatchSize());
                assertEquals(2048, s.queueCapacity());
                assertEquals("model.json's delay", 2000, s.maxQueueDelayMicros());
            }
            // the stored file names what the operator set, so a later model.json still counts for the rest
            Path file = Path.of(System.getProperty("karaf.etc"), "io.enclave.batching-minilm.cfg");
            java.util.function.Predicate<String> namesOnlyThose = text -> text.contains("maxBatchSize = 16")
                    && text.contains("queueCapacity = 2048") && !text.contains("maxQueueDelayMicros") && !text.contains("deadlineMs");
            awaitFile(file, Duration.ofSeconds(10), namesOnlyThose);
            try {
                String refused = shellAsAdmin("model:tune --max-workers 0 minilm");
                fail("a setting out of range is refused: " + refused);
            } catch (RuntimeException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("workers must be 1 <= min <= max"));
            }
            assertEquals("a refused change leaves the override as it was", 16,
                    batching.settings("minilm", org.osgi.framework.Version.parseVersion("1.0.0")).maxBatchSize());
            String levels = shellAsAdmin("model:tune --priority-levels 3 minilm");
            assertTrue(levels, levels.contains("1..3, default 2") && levels.contains("priorityLevels"));
            try {
                String refused = shellAsAdmin("model:tune --default-priority 5 minilm");
                fail("a default level past the levels is refused: " + refused);
            } catch (RuntimeException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("default priority level must be 1 to 3 (the priority levels), not 5"));
            }
            assertEquals(3, batching.settings("minilm", org.osgi.framework.Version.parseVersion("1.1.0")).priorityLevels());
            String padding = shellAsAdmin("model:tune --max-padding-ratio 0 minilm");
            assertTrue(padding, padding.contains("any length") && padding.contains("maxPaddingRatio"));
            assertEquals(0, batching.settings("minilm", org.osgi.framework.Version.parseVersion("1.1.0")).maxPaddingRatio());
        } finally {
            shellAsAdmin("model:tune --reset minilm");
        }
        assertEquals(32, batching.settings("minilm", org.osgi.framework.Version.parseVersion("1.0.0")).maxBatchSize());
        // configuration tools can describe a batching file: which settings it may hold, in what range
        org.osgi.service.metatype.MetaTypeService metatype = getOsgiService(org.osgi.service.metatype.MetaTypeService.class);
        Bundle core = java.util.Arrays.stream(bundleContext.getBundles()).filter(b -> "enclave-core".equals(b.getSymbolicName()))
                .findFirst().orElseThrow();
        org.osgi.service.metatype.MetaTypeInformation info = metatype.getMetaTypeInformation(core);
        assertTrue("factory PIDs " + java.util.Arrays.toString(info.getFactoryPids()) + ", PIDs "
                + java.util.Arrays.toString(info.getPids()), java.util.Arrays.asList(info.getFactoryPids()).contains(BatchingControl.FACTORY_PID));
        org.osgi.service.metatype.ObjectClassDefinition ocd = info.getObjectClassDefinition(BatchingControl.FACTORY_PID, null);
        List<String> settings = new ArrayList<>();
        org.osgi.service.metatype.AttributeDefinition batch = null;
        for (org.osgi.service.metatype.AttributeDefinition a
                : ocd.getAttributeDefinitions(org.osgi.service.metatype.ObjectClassDefinition.OPTIONAL)) {
            settings.add(a.getID());
            batch = "maxBatchSize".equals(a.getID()) ? a : batch;
        }
        assertEquals(BatchingOverride.KEYS, settings);
        String verdict = batch.validate("5000");
        assertTrue("a batch size past 4096 is flagged: " + verdict, verdict != null && !verdict.isEmpty());
        assertEquals("", batch.validate("16"));
    }
}
