package io.enclave.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.AbstractHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.DataType;
import io.enclave.api.LoadedModel;
import io.enclave.api.NamedTensor;

/**
 * The leanest HTTP server we could write around the engine, to set Enclave beside: the Jetty that Pax Web
 * runs, without OSGi, servlets or filters; no authentication, routing, metrics, deadlines or queue bound;
 * a handler thread that waits for its answer; workers that take whatever is queued as one batch. It
 * answers Open Inference Protocol text requests ({@code BYTES} in, {@code FP32} out) and nothing else.
 * What it reaches over HTTP on the same cores is what serving itself leaves of the engine's limit;
 * Enclave's distance from it is what Enclave's own layers cost.
 */
final class ReferenceServer implements AutoCloseable {
    /** Its batch workers' thread names start with this (as they show in {@code /proc}, 15 characters at most). */
    static final String WORKER_PREFIX = "ref-worker-";
    private static final int MAX_BODY = 64 * 1024;

    private record Job(String[] texts, CompletableFuture<NamedTensor> answer) {
    }

    private final LoadedModel model;
    private final String name;
    private final int maxBatch;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong rows = new AtomicLong();
    private final ObjectMapper json = new ObjectMapper(JsonFactory.builder()
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build());
    private final org.eclipse.jetty.server.Server jetty;
    private final ServerConnector connector;

    /**
     * @param model    the loaded model it serves, under {@code name}
     * @param maxBatch the most rows one engine call takes
     * @param workers  how many engine calls may run at once
     */
    ReferenceServer(LoadedModel model, String name, int maxBatch, int workers) {
        this.model = model;
        this.name = name;
        this.maxBatch = maxBatch;
        for (int i = 0; i < workers; i++) {
            Thread t = new Thread(this::work, WORKER_PREFIX + i);
            t.setDaemon(true);
            this.workers.add(t);
        }
        // Jetty's default pool (its threads named qtp…), as Pax Web configures it for the distribution
        jetty = new org.eclipse.jetty.server.Server(new QueuedThreadPool());
        connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        jetty.addConnector(connector);
        jetty.setHandler(new AbstractHandler() {
            @Override
            public void handle(String target, Request base, HttpServletRequest req, HttpServletResponse resp)
                    throws IOException {
                base.setHandled(true);
                serve(req, resp);
            }
        });
    }

    /** @return the port it listens on, on 127.0.0.1 */
    int start() throws Exception {
        jetty.start();
        workers.forEach(Thread::start);
        return connector.getLocalPort();
    }

    /** @return rows per engine call since the last time this was asked, 0 when none ran */
    double rowsPerBatchSinceLast() {
        long b = batches.getAndSet(0);
        long r = rows.getAndSet(0);
        return b == 0 ? 0 : (double) r / b;
    }

    @Override
    public void close() throws Exception {
        workers.forEach(Thread::interrupt);
        jetty.stop();
        for (Job j; (j = queue.poll()) != null;) {
            j.answer.completeExceptionally(new IllegalStateException("the server stopped"));
        }
    }

    private void serve(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (!"POST".equals(req.getMethod())) {
            fail(resp, 405, "only POST inference requests are served here");
            return;
        }
        byte[] body;
        try (InputStream in = req.getInputStream()) {
            body = in.readNBytes(MAX_BODY + 1);
        }
        if (body.length > MAX_BODY) {
            fail(resp, 413, "request larger than " + MAX_BODY + " bytes");
            return;
        }
        String[] texts;
        try {
            texts = texts(json.readTree(body));
        } catch (IOException | IllegalArgumentException e) {
            fail(resp, 400, e.getMessage());
            return;
        }
        Job job = new Job(texts, new CompletableFuture<>());
        queue.add(job);
        NamedTensor out;
        try {
            out = job.answer.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(resp, 503, "interrupted");
            return;
        } catch (ExecutionException e) {
            fail(resp, 500, String.valueOf(e.getCause().getMessage()));
            return;
        }
        byte[] answer = answer(out);
        resp.setStatus(200);
        resp.setContentType("application/json");
        resp.setContentLength(answer.length);
        try (OutputStream o = resp.getOutputStream()) {
            o.write(answer);
        }
    }

    /** The strings of the request's one input, which must be {@code BYTES} of shape [n]. */
    static String[] texts(JsonNode request) {
        JsonNode inputs = request == null ? null : request.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.size() != 1) {
            throw new IllegalArgumentException("'inputs' must be an array of one tensor");
        }
        JsonNode t = inputs.get(0);
        JsonNode data = t.get("data");
        if (!"BYTES".equals(t.path("datatype").asText()) || data == null || !data.isArray() || data.isEmpty()) {
            throw new IllegalArgumentException("the input must be BYTES with at least one string in 'data'");
        }
        String[] texts = new String[data.size()];
        for (int i = 0; i < texts.length; i++) {
            if (!data.get(i).isTextual()) {
                throw new IllegalArgumentException("'data' must hold strings");
            }
            texts[i] = data.get(i).asText();
        }
        return texts;
    }

    private byte[] answer(NamedTensor out) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(8192);
        try (JsonGenerator g = json.getFactory().createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("model_name", name);
            g.writeArrayFieldStart("outputs");
            g.writeStartObject();
            g.writeStringField("name", out.name());
            g.writeStringField("datatype", out.datatype().name());
            g.writeArrayFieldStart("shape");
            for (long d : out.shape()) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("data");
            for (float v : (float[]) out.data()) {
                g.writeNumber(v);
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        }
        return bytes.toByteArray();
    }

    private void fail(HttpServletResponse resp, int status, String message) throws IOException {
        byte[] body = json.writeValueAsBytes(java.util.Map.of("error", String.valueOf(message)));
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    private void work() {
        List<Job> batch = new ArrayList<>();
        Job carried = null;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                batch.add(carried != null ? carried : queue.take());
            } catch (InterruptedException e) {
                return;
            }
            carried = null;
            int n = batch.get(0).texts.length;
            // whatever else is queued now, up to the batch size; a request that would pass it opens the next batch
            for (Job next; n < maxBatch && (next = queue.poll()) != null;) {
                if (n + next.texts.length > maxBatch) {
                    carried = next;
                    break;
                }
                batch.add(next);
                n += next.texts.length;
            }
            run(batch, n);
            batch.clear();
        }
    }

    private void run(List<Job> batch, int n) {
        String[] texts = new String[n];
        int at = 0;
        for (Job j : batch) {
            System.arraycopy(j.texts, 0, texts, at, j.texts.length);
            at += j.texts.length;
        }
        try {
            NamedTensor out = model.infer(List.of(NamedTensor.ofStrings("text", texts))).get(0);
            if (out.datatype() != DataType.FP32 || out.shape().length != 2) {
                throw new IllegalStateException("the reference serves FP32 outputs of shape [n, d], not " + out.datatype());
            }
            int width = (int) out.shape()[1];
            float[] all = (float[]) out.data();
            at = 0;
            for (Job j : batch) {
                int r = j.texts.length;
                float[] mine = java.util.Arrays.copyOfRange(all, at * width, (at + r) * width);
                j.answer.complete(new NamedTensor(out.name(), DataType.FP32, new long[] {r, width}, mine));
                at += r;
            }
            batches.incrementAndGet();
            rows.addAndGet(n);
        } catch (RuntimeException e) {
            batch.forEach(j -> j.answer.completeExceptionally(e));
        }
    }
}
