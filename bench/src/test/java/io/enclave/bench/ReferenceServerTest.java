package io.enclave.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.DataType;
import io.enclave.api.LoadedModel;
import io.enclave.api.NamedTensor;

class ReferenceServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Answers each text with [its length, the rows in its batch]; slow enough that concurrent requests queue. */
    private static final class LengthModel implements LoadedModel {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public List<NamedTensor> infer(List<NamedTensor> inputs) {
            calls.incrementAndGet();
            byte[][] texts = (byte[][]) inputs.get(0).data();
            float[] out = new float[texts.length * 2];
            for (int i = 0; i < texts.length; i++) {
                out[2 * i] = texts[i].length;
                out[2 * i + 1] = texts.length;
            }
            try {
                Thread.sleep(40);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of(new NamedTensor("embedding", DataType.FP32, new long[] {texts.length, 2}, out));
        }

        @Override
        public void close() {
        }
    }

    private static String body(String text) {
        return "{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"" + text + "\"]}]}";
    }

    @Test
    void concurrentRequestsShareEngineCallsAndEachGetsItsOwnRowBack() throws Exception {
        LengthModel model = new LengthModel();
        HttpClient client = HttpClient.newHttpClient();
        try (ReferenceServer server = new ReferenceServer(model, "minilm", 8, 1)) {
            URI uri = URI.create("http://127.0.0.1:" + server.start() + "/v2/models/minilm/infer");
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 1; i <= 12; i++) {
                answers.add(client.sendAsync(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body("x".repeat(i))))
                        .build(), HttpResponse.BodyHandlers.ofString()));
            }
            int largest = 0;
            for (int i = 1; i <= 12; i++) {
                HttpResponse<String> r = answers.get(i - 1).get();
                assertEquals(200, r.statusCode(), r.body());
                JsonNode out = JSON.readTree(r.body()).get("outputs").get(0);
                assertEquals("[1,2]", out.get("shape").toString());
                assertEquals(i, out.get("data").get(0).asInt(), "the row computed for this request's own text");
                largest = Math.max(largest, out.get("data").get(1).asInt());
            }
            assertTrue(largest > 1 && largest <= 8, "requests that queued meanwhile ran together, at most 8: " + largest);
            assertTrue(model.calls.get() < 12, "fewer engine calls than requests: " + model.calls.get());
            assertTrue(server.rowsPerBatchSinceLast() > 1);
        }
    }

    @Test
    void aRequestItCannotServeGetsAFourHundredThatSaysWhy() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        try (ReferenceServer server = new ReferenceServer(new LengthModel(), "minilm", 8, 1)) {
            URI uri = URI.create("http://127.0.0.1:" + server.start() + "/v2/models/minilm/infer");
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1.5]}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode());
            assertTrue(r.body().contains("BYTES"), r.body());
            assertEquals(405, client.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode());
        }
    }
}
