package io.enclave.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** Hostile input is refused with a 4xx, never obeyed, and Enclave stays healthy. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HostileInputIT extends EnclaveTestSupport {

    @Before
    public void setUp() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
    }

    private void assert4xx(String what, Reply r) {
        assertTrue(what + " -> " + r.status() + " " + r.body(), r.status() >= 400 && r.status() < 500);
    }

    @Test
    public void pathTraversalInModelNamesAndVersions() throws Exception {
        for (String path : List.of("/v2/models/..%2F..%2Fetc%2Fpasswd", "/v2/models/%2e%2e/versions/1.0.0",
                "/v2/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd/infer", "/v2/models/minilm/versions/..%2F..%2F1.0.0",
                "/v2/models/..;/..;/etc/passwd", "/v2/models/minilm%00/ready", "/v2/models/" + "a".repeat(5000))) {
            assert4xx(path, get(path));
            assert4xx("POST " + path, post(path + "/infer", "{}"));
        }
        Reply raw = send(HttpRequest.newBuilder(URI.create(base() + "/v2/models/../../../etc/passwd")).GET(), admin());
        assert4xx("raw ../", raw);
        assertTrue(raw.body(), !raw.body().contains("root:"));
    }

    @Test
    public void oversizedAndDeepBodies() throws Exception {
        // 100 MB, streamed: refused once the limit is passed, not buffered whole
        byte[] chunk = new byte[1 << 20];
        java.util.Arrays.fill(chunk, (byte) ' ');
        HttpRequest.BodyPublisher hundredMb = HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.SequenceInputStream(
                java.util.Collections.enumeration(java.util.Collections.nCopies(100, chunk).stream()
                        .map(java.io.ByteArrayInputStream::new).toList())));
        Reply huge;
        try {
            huge = send(HttpRequest.newBuilder(URI.create(base() + "/v2/models/minilm/infer"))
                    .header("Content-Type", "application/json").POST(hundredMb), admin());
            assertEquals(huge.body(), 413, huge.status());
        } catch (java.io.IOException closedEarly) {
            // the server may close the connection after answering 413 mid-upload
        }
        String deep = "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": "
                + "[".repeat(2000) + "\"x\"" + "]".repeat(2000) + "}]}";
        Reply r = post("/v2/models/minilm/infer", deep);
        assertEquals(r.body(), 400, r.status());
        assertTrue(r.error(), r.error().contains("not valid JSON"));
        String manyKeys = "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"x\"], "
                + "\"parameters\": {" + "\"k\": {".repeat(100) + "}".repeat(100) + "}}]}";
        assert4xx("nested parameters", post("/v2/models/minilm/infer", manyKeys));
        assert4xx("huge shape", post("/v2/models/minilm/infer", "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\","
                + " \"shape\": [9223372036854775807], \"data\": [\"x\"]}]}"));
        assert4xx("number bomb", post("/v2/models/minilm/infer", "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\","
                + " \"shape\": [1" + "0".repeat(1000) + "], \"data\": [\"x\"]}]}"));
        assert4xx("bad header", send(HttpRequest.newBuilder(URI.create(base() + "/v2/models/minilm"))
                .header("Authorization", "Basic " + "A".repeat(10_000)).GET()));
        // XML where JSON is expected is just bad JSON; nothing parses it as XML
        assert4xx("xxe", post("/v2/models/minilm/infer", "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM "
                + "\"file:///etc/passwd\">]><x>&e;</x>"));
        assertEquals(200, get("/v2/health/ready", ANONYMOUS).status());
        assertEquals(200, post("/v2/models/minilm/infer", "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\","
                + " \"shape\": [1], \"data\": [\"still healthy\"]}]}").status());
    }

    @Test
    public void zipSlipArchivesAndTraversingModelFilesAreRefused() throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of("target", "hostile-it").toAbsolutePath();
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Path data = java.nio.file.Path.of(System.getProperty("karaf.data"));
        List<String> artifacts = List.of("../../../../tmp/enclave-zip-slip.onnx", "/etc/passwd", "model/../../x.onnx");
        for (String artifact : artifacts) {
            java.nio.file.Path zip = dir.resolve("slip-" + Math.abs(artifact.hashCode()) + ".zip");
            try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(java.nio.file.Files.newOutputStream(zip))) {
                z.putNextEntry(new java.util.zip.ZipEntry("model.json"));
                z.write(("{\"name\": \"slip\", \"version\": \"1.0.0\", \"engine\": \"onnxruntime\", \"artifact\": \""
                        + artifact + "\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1, 2]}],"
                        + " \"outputs\": [{\"name\": \"y\", \"datatype\": \"FP32\", \"shape\": [-1, 2]}]}").getBytes());
                z.closeEntry();
                // an entry that would land outside any folder it was extracted to
                z.putNextEntry(new java.util.zip.ZipEntry("../../../../tmp/enclave-zip-slip.onnx"));
                z.write("not a model".getBytes());
                z.closeEntry();
            }
            Reply r = send(HttpRequest.newBuilder(URI.create(base() + "/enclave/v1/models"))
                    .header("Content-Type", "application/zip").POST(HttpRequest.BodyPublishers.ofFile(zip)), admin());
            assertEquals(artifact + ": " + r.body(), 400, r.status());
            assertTrue(r.error(), r.error().contains("not a plain relative file name"));
        }
        assertTrue("nothing was extracted outside", !java.nio.file.Files.exists(java.nio.file.Path.of("/tmp/enclave-zip-slip.onnx"))
                && !java.nio.file.Files.exists(data.resolve("../../tmp/enclave-zip-slip.onnx").normalize()));
        assertEquals(404, get("/v2/models/slip").status());
        assertEquals(200, get("/v2/health/ready", ANONYMOUS).status());
    }

    @Test
    public void aBurstOfNewConnectionsIsQueuedNotDropped() throws Exception {
        // Java's default accept queue of 50 drops the SYNs of a burst while the server is busy, and
        // those clients wait 1 s or more to connect; Enclave asks for 1024, which the kernel may cap
        int port = Integer.parseInt(System.getProperty(HTTPS_PORT_PROPERTY));
        int cap;
        try (var somaxconn = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of("/proc/sys/net/core/somaxconn"))) {
            cap = Integer.parseInt(somaxconn.readLine().trim());
        }
        assertEquals(Math.min(1024, cap), acceptQueue(port));

        // 300 connections opened at once and left silent: requests are still answered
        List<java.nio.channels.SocketChannel> held = new java.util.ArrayList<>();
        try {
            java.net.InetSocketAddress address = new java.net.InetSocketAddress("127.0.0.1", port);
            for (int i = 0; i < 300; i++) {
                java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open();
                held.add(c);
                c.socket().connect(address, 10_000);
            }
            assertEquals(200, get("/v2/health/ready", ANONYMOUS).status());
            assertEquals(200, post("/v2/models/minilm/versions/1.0.0/infer",
                    "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"hello\"]}]}").status());
        } finally {
            for (java.nio.channels.SocketChannel c : held) {
                c.close();
            }
        }

        // the operator's setting applies live (Pax Web rebuilds the server with it), and back
        org.osgi.service.cm.Configuration web = getOsgiService(org.osgi.service.cm.ConfigurationAdmin.class)
                .getConfiguration("org.ops4j.pax.web", null);
        java.util.Dictionary<String, Object> shipped = web.getProperties();
        assertEquals("the shipped setting", "1024", String.valueOf(shipped.get("enclave.http.acceptQueueSize")));
        java.util.Hashtable<String, Object> changed = new java.util.Hashtable<>();
        for (var keys = shipped.keys(); keys.hasMoreElements();) {
            String k = keys.nextElement();
            changed.put(k, shipped.get(k));
        }
        changed.put("enclave.http.acceptQueueSize", "300");
        web.update(changed);
        awaitAcceptQueue(port, Math.min(300, cap));
        web.update(shipped);
        awaitAcceptQueue(port, Math.min(1024, cap));
        await("/v2/health/ready", Duration.ofSeconds(60), this::ready);
    }

    private void awaitAcceptQueue(int port, int expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int seen = -1;
        while (System.nanoTime() < deadline) {
            try {
                seen = acceptQueue(port);
            } catch (AssertionError notListening) {
                seen = -1; // between the HTTP server's stop and start
            }
            if (seen == expected) {
                return;
            }
            Thread.sleep(250);
        }
        assertEquals("accept queue of port " + port + " after the configuration change", expected, seen);
    }

    /** The accept queue the kernel keeps for the listener on {@code port}: Send-Q in {@code ss -lnt}. */
    private static int acceptQueue(int port) throws Exception {
        Process ss = new ProcessBuilder("ss", "-Hltn", "sport = :" + port).redirectErrorStream(true).start();
        String listening = new String(ss.getInputStream().readAllBytes()).trim();
        assertEquals("ss: " + listening, 0, ss.waitFor());
        String[] columns = listening.split("\\s+");
        assertEquals("one listener on " + port + ": " + listening, 5, columns.length);
        return Integer.parseInt(columns[2]);
    }
}
