package io.enclave.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import org.osgi.framework.Version;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.enclave.api.ArtifactSource;
import io.enclave.api.BatchingSettings;
import io.enclave.api.DataType;
import io.enclave.api.InferenceEngine;
import io.enclave.api.LoadedModel;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.NamedTensor;
import io.enclave.api.TensorSpec;
import io.enclave.engine.internal.InProcessEngines;

/**
 * One run, one machine: (a) the in-process engine limit per workload at its best batch size and
 * caller count, (b) the real distribution driven over HTTP by a closed-loop load at concurrency 1,
 * 8, 32 and 64, batching on and off, (c) 2× overload against a small queue (and a harsher retry
 * storm), idle memory; printed as a table and written as JSON. Run with {@code ./enclave bench}.
 */
public final class Bench {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String SHORT = "the invoice was paid on time";
    static final String LONG = String.join(" ", java.util.Collections.nCopies(21,
            "quarterly revenue grew while costs fell")).substring(0, 600);

    /**
     * @param unbatchedToo whether to measure it with batching off as well (a variant of another workload
     *                     only needs the batched points: the unbatched ones add nothing new)
     */
    record Workload(String name, String model, String version, String body, List<NamedTensor> inputs,
            boolean unbatchedToo) {
    }

    private final Path root;
    private final Path work;
    private final int seconds;
    /** Only the workloads whose name contains this, or all when null. */
    private String only;
    private final Map<String, Object> results = new LinkedHashMap<>();

    Bench(Path root, int seconds) {
        this.root = root;
        this.work = root.resolve("bench/target/run");
        this.seconds = seconds;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        Bench b = new Bench(Path.of("").toAbsolutePath(), seconds);
        // a quicker look while working on one thing: only the workloads whose name contains this text
        // (the overload round runs when "minilm 1.0.0 long" is among them)
        b.only = args.length > 1 ? String.join(" ", Arrays.asList(args).subList(1, args.length)) : null;
        b.run();
    }

    void run() throws Exception {
        if ("priority".equals(only)) {
            runPriority();
            return;
        }
        if ("mixed".equals(only)) {
            runMixed();
            return;
        }
        long started = System.nanoTime();
        Path dense = begin();
        Path m100 = extract("minilm-1.0.0"), m110 = extract("minilm-1.1.0");
        float[] denseRow = new float[64];
        Random r = new Random(7);
        for (int i = 0; i < denseRow.length; i++) {
            denseRow[i] = (float) r.nextGaussian();
        }
        Workload shortV1 = text("minilm 1.0.0 short", "1.0.0", SHORT);
        List<Workload> workloads = List.of(
                shortV1, binaryOut("minilm 1.0.0 short, binary output", shortV1),
                text("minilm 1.0.0 long", "1.0.0", LONG),
                text("minilm 1.1.0 short", "1.1.0", SHORT), text("minilm 1.1.0 long", "1.1.0", LONG),
                new Workload("dense 1.0.0", "dense", "1.0.0", denseBody(denseRow),
                        List.of(new NamedTensor("x", DataType.FP32, new long[] {1, 64}, denseRow)), true))
                .stream().filter(w -> only == null || w.name().contains(only)).toList();
        if (workloads.isEmpty()) {
            throw new IllegalArgumentException("no workload's name contains '" + only + "'");
        }
        Map<String, Map<String, Object>> limits = new LinkedHashMap<>();
        InferenceEngine engine = InProcessEngines.onnxRuntime(0, 1);
        // in-process, a workload that only asks for another answer encoding does the same engine work
        // as the one it derives from: it shares that limit rather than spend the run measuring it twice
        Map<List<NamedTensor>, String> measuredFor = new java.util.IdentityHashMap<>();
        for (Workload w : workloads) {
            Path dir = w.model().equals("dense") ? dense : w.version().equals("1.0.0") ? m100 : m110;
            String same = measuredFor.get(w.inputs());
            if (same != null) {
                Map<String, Object> shared = new LinkedHashMap<>(limits.get(same));
                shared.put("sameEngineWorkAs", same);
                limits.put(w.name(), shared);
                continue;
            }
            measuredFor.put(w.inputs(), w.name());
            limits.put(w.name(), limit(engine, w, dir));
        }
        results.put("inProcess", limits);

        Server server = new Server(work);
        server.start(dense);
        try {
            results.put("idleRssMiB", server.rssMiB());
            // every path, batched ones included, runs until the server's JIT has compiled what it needs:
            // a point measured while the compiler still works measures the compiler too
            Map<String, Object> warmUp = new LinkedHashMap<>();
            for (Workload w : workloads) {
                server.batching(w.model(), true, maxBatch(limits.get(w.name())));
                warmUp.put(w.name(), server.warmUp(w));
            }
            results.put("warmUp", warmUp);
            print(warmUp);
            List<Map<String, Object>> http = new ArrayList<>();
            for (Workload w : workloads) {
                Map<String, Object> limitOf = limits.get(w.name());
                double limit = (double) limitOf.get("limitPerSecond");
                int maxBatch = maxBatch(limitOf);
                // the limit measured right after the previous point, when that point also measured one
                Rate limitBefore = null;
                Path dir = w.model().equals("dense") ? dense : w.version().equals("1.0.0") ? m100 : m110;
                // the engine in-process, for the c=1 points' batch-1 p50 (the server idle meanwhile)
                try (LoadedModel inProcess = engine.load(descriptor(w, dir), descriptor(w, dir).artifacts())) {
                    for (boolean batching : w.unbatchedToo() ? new boolean[] {true, false} : new boolean[] {true}) {
                        server.batching(w.model(), batching, maxBatch);
                        for (int c : new int[] {1, 8, 32, 64}) {
                            boolean around = c >= 32 && batching && !w.model().equals("dense");
                            Map<String, Object> row;
                            if (c == 1) {
                                row = oneCaller(server, inProcess, w);
                            } else {
                                if (around && limitBefore == null) {
                                    limitBefore = limitNow(inProcess, w, limitOf);
                                }
                                row = server.load(w, c, seconds, true);
                            }
                            row.put("workload", w.name());
                            row.put("batching", batching);
                            row.put("maxBatchSize", batching ? maxBatch : 1);
                            row.put("ratioToLimit", round((double) row.get("perSecond") / limit, 3));
                            if (around) {
                                // the points the goal is about: against the limit measured around them, not
                                // only against the one from minutes before
                                Rate limitAfter = limitNow(inProcess, w, limitOf);
                                aroundRatios(row, limitBefore, limitAfter, limitOf, c);
                                limitBefore = limitAfter;
                            } else {
                                limitBefore = null;
                            }
                            http.add(row);
                            print(row);
                            if (around && c == 32 && w.name().equals(REFERENCE_WORKLOAD) && WRK != null) {
                                // Enclave idle meanwhile; the limit after the reference is the next point's before
                                Map<String, Object> ref = reference(server, inProcess, w, limitOf, row, limitBefore);
                                results.put("reference", ref);
                                print(ref);
                                limitBefore = (Rate) ref.remove("limitAfter");
                            }
                        }
                    }
                }
            }
            results.put("http", http);
            Map<String, Object> ceilings = ceilings(limits, http);
            if (!ceilings.isEmpty()) {
                results.put("ceiling", ceilings);
                print(ceilings);
            }
            Map<String, Object> cpu = cpuPerRequest(limits, http);
            if (!cpu.isEmpty()) {
                results.put("cpuPerRequest", cpu);
                print(cpu);
            }
            for (Workload w : workloads) {
                if (w.name().equals("minilm 1.0.0 long")) {
                    // twice what the engine does now, not twice what it did at the start
                    Path dir = w.version().equals("1.0.0") ? m100 : m110;
                    double now;
                    try (LoadedModel inProcess = engine.load(descriptor(w, dir), descriptor(w, dir).artifacts())) {
                        now = limitNow(inProcess, w, limits.get(w.name())).rowsPerSecond();
                    }
                    results.put("overload", server.overload(w, now, seconds));
                    print(results.get("overload"));
                    results.put("retryStorm", server.retryStorm(w, seconds));
                    print(results.get("retryStorm"));
                }
            }
        } finally {
            server.stop();
        }
        Path out = end(started, "bench-results.json");
        System.out.println(table(limits, results));
        System.out.println("results: " + out + " (" + results.get("seconds") + " s)");
    }

    /**
     * A fresh work folder, the machine and the start in the results, and the dense model written (the
     * distribution serves it beside minilm in every mode).
     *
     * @return the dense model's folder
     */
    private Path begin() throws IOException {
        deleteTree(work);
        Files.createDirectories(work);
        results.put("machine", machine());
        results.put("started", Instant.now().toString());
        Path dense = work.resolve("models/dense");
        writeDense(dense);
        return dense;
    }

    /** Records the run's length and writes the results as {@code bench/target/<file>}; returns that path. */
    private Path end(long started, String file) throws IOException {
        results.put("seconds", round((System.nanoTime() - started) / 1e9, 1));
        Path out = root.resolve("bench/target/" + file);
        JSON.writeValue(out.toFile(), results);
        return out;
    }

    /**
     * What a request's priority buys ({@code ./enclave bench [seconds] priority}): bulk callers keep minilm
     * 1.0.0 busy with long sentences (wrk, 32 callers, batches of up to 8) while one more caller sends a short
     * sentence at a time with Triton's priority 1. Rounds alternate the version's priority levels off (one
     * queue in order of arrival: the urgent caller waits its turn) and on (2 levels, the bulk at the
     * default 2), twice each, and print the urgent caller's p50 and p99 and the bulk's requests per second.
     */
    private void runPriority() throws Exception {
        long started = System.nanoTime();
        Path dense = begin();
        Workload bulk = text("minilm 1.0.0 long", "1.0.0", LONG);
        Workload urgent = text("minilm 1.0.0 short, priority 1", "1.0.0", SHORT);
        String urgentBody = "{\"parameters\":{\"priority\":1}," + urgent.body().substring(1);
        Server server = new Server(work);
        server.start(dense);
        List<Map<String, Object>> rounds = new ArrayList<>();
        try {
            server.priorityLevels(bulk.model(), 0);
            results.put("warmUp", Map.of(bulk.name(), server.warmUp(bulk), urgent.name(), server.warmUp(urgent)));
            for (int round = 0; round < 4; round++) {
                int levels = round % 2 == 0 ? 0 : 2;
                server.priorityLevels(bulk.model(), levels);
                Map<String, Object> row = server.urgentBesideBulk(bulk, urgent, urgentBody, seconds);
                row.put("priorityLevels", levels);
                rounds.add(row);
                print(row);
            }
        } finally {
            server.stop();
        }
        results.put("priority", rounds);
        Path out = end(started, "bench-priority.json");
        StringBuilder t = new StringBuilder("\n| priority levels | urgent caller: requests, p50 ms, p99 ms | bulk (32 callers): "
                + "req/s, p50 ms | Enclave cores |\n|---|---|---|---|\n");
        for (Map<String, Object> r : rounds) {
            t.append(String.format(Locale.ROOT, "| %s | %s, %s, %s | %s, %s | %s |%n", r.get("priorityLevels"),
                    r.get("urgentRequests"), r.get("urgentP50Ms"), r.get("urgentP99Ms"), r.get("perSecond"), r.get("p50Ms"),
                    r.get("serverCores")));
        }
        double[] p50 = new double[2];
        int[] n = new int[2];
        for (Map<String, Object> r : rounds) {
            int i = (int) r.get("priorityLevels") == 0 ? 0 : 1;
            p50[i] += (double) r.get("urgentP50Ms");
            n[i]++;
        }
        t.append(String.format(Locale.ROOT, "%nurgent p50 without levels over with them (mean of the rounds): %.2f%n",
                (p50[0] / n[0]) / (p50[1] / n[1])));
        System.out.println(t);
        System.out.println("results: " + out + " (" + results.get("seconds") + " s)");
    }

    /**
     * What grouping texts by length buys ({@code ./enclave bench [seconds] mixed}): 32 callers (wrk) send
     * minilm 1.0.0 the short sentence, and the long one as every eighth request, in batches of up to 32 on
     * up to two workers, as the short sentence's c=32 point runs. Rounds alternate {@code maxPaddingRatio} 0
     * (every length in one batch, padded to the longest: how Enclave batched before) and 2 (the default),
     * twice each, and print requests per second, p50 and p99, beside the engine's in-process limit for the
     * mix: each length at its own best batch, measured first in the same run.
     */
    private void runMixed() throws Exception {
        long started = System.nanoTime();
        Path dense = begin();
        Workload common = text("minilm 1.0.0 short", "1.0.0", SHORT);
        Workload rare = text("minilm 1.0.0 long", "1.0.0", LONG);
        int every = 8;
        Path m100 = extract("minilm-1.0.0");
        InferenceEngine engine = InProcessEngines.onnxRuntime(0, 1);
        Map<String, Object> shortLimit = limit(engine, common, m100);
        Map<String, Object> longLimit = limit(engine, rare, m100);
        // seconds per request of the mix when each length runs at its best: the harmonic mean of the limits
        double mixLimit = 1 / ((every - 1.0) / every / (double) shortLimit.get("limitPerSecond")
                + 1.0 / every / (double) longLimit.get("limitPerSecond"));
        results.put("inProcess", Map.of(common.name(), shortLimit, rare.name(), longLimit, "mixLimitPerSecond",
                round(mixLimit, 1)));
        Server server = new Server(work);
        server.start(dense);
        List<Map<String, Object>> rounds = new ArrayList<>();
        try {
            server.paddingRatio(common.model(), 0);
            results.put("warmUp", Map.of(common.name(), server.warmUp(common), rare.name(), server.warmUp(rare)));
            for (int round = 0; round < 4; round++) {
                int ratio = round % 2 == 0 ? 0 : BatchingSettings.DEFAULT_PADDING_RATIO;
                server.paddingRatio(common.model(), ratio);
                long[] before = server.tokens(common);
                Map<String, Object> row = server.mixed(common, rare, every, 32, seconds);
                long[] after = server.tokens(common);
                row.put("maxPaddingRatio", ratio);
                // as the engine counted them, over the round and its one-second warm-up
                long computed = after[0] - before[0];
                row.put("tokensComputed", computed);
                row.put("paddingShare", computed == 0 ? null : round((double) (after[1] - before[1]) / computed, 3));
                row.put("ratioToLimit", round(((Number) row.get("perSecond")).doubleValue() / mixLimit, 3));
                rounds.add(row);
                print(row);
            }
        } finally {
            server.stop();
        }
        results.put("mixed", Map.of("longEvery", every, "rounds", rounds));
        Path out = end(started, "bench-mixed.json");
        StringBuilder t = new StringBuilder(String.format(Locale.ROOT, "%nin-process limit for the mix, each length at "
                + "its best batch: %.1f req/s%n%n| max padding ratio | req/s | ratio to the limit | p50 ms | p99 ms | failed | "
                + "Enclave cores | padding share of the tokens computed |%n|---|---|---|---|---|---|---|---|%n", mixLimit));
        double[] rate = new double[2];
        for (Map<String, Object> r : rounds) {
            t.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s |%n", r.get("maxPaddingRatio"),
                    r.get("perSecond"), r.get("ratioToLimit"), r.get("p50Ms"), r.get("p99Ms"), r.get("failed"),
                    r.get("serverCores"), r.get("paddingShare")));
            rate[(int) r.get("maxPaddingRatio") == 0 ? 0 : 1] += ((Number) r.get("perSecond")).doubleValue();
        }
        t.append(String.format(Locale.ROOT, "%nrequests per second grouped by length over padded together (mean of the "
                + "rounds; one long sentence in %d): %.2f%n", every, rate[1] / rate[0]));
        System.out.println(t);
        System.out.println("results: " + out + " (" + results.get("seconds") + " s)");
    }

    private static Workload text(String name, String version, String text) {
        return new Workload(name, "minilm", version,
                "{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"" + text + "\"]}]}",
                List.of(NamedTensor.ofStrings("text", text)), true);
    }

    /**
     * The same request asking for its output in the binary tensor extension: the answer's 384 floats
     * travel as raw little-endian bytes instead of JSON text.
     */
    private static Workload binaryOut(String name, Workload w) {
        String body = w.body().substring(0, w.body().length() - 1) + ",\"parameters\":{\"binary_data_output\":true}}";
        return new Workload(name, w.model(), w.version(), body, w.inputs(), false);
    }

    private static String denseBody(float[] row) {
        StringBuilder b = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,64],\"data\":[");
        for (int i = 0; i < row.length; i++) {
            b.append(i == 0 ? "" : ",").append(row[i]);
        }
        return b.append("]}]}").toString();
    }

    private static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", CORES);
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    m.put("cpu", line.substring(line.indexOf(':') + 1).trim());
                    break;
                }
            }
        } catch (IOException e) {
            m.put("cpu", "unknown");
        }
        return m;
    }

    /** The model files of a shipped model bundle, in a folder. */
    private Path extract(String module) throws IOException {
        Path jar;
        try (var s = Files.list(root.resolve("bundle-models/" + module + "/target"))) {
            jar = s.filter(p -> p.toString().endsWith(".jar")).findFirst().orElseThrow();
        }
        Path dir = work.resolve("models/" + module);
        Files.createDirectories(dir);
        try (JarInputStream in = new JarInputStream(Files.newInputStream(jar))) {
            for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                if (e.getName().startsWith("model/") && !e.isDirectory()) {
                    Files.copy(in, dir.resolve(e.getName().substring(6)));
                }
            }
        }
        return dir;
    }

    private static void writeDense(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.onnx"), OnnxMlp.model(64, 256, 16, 42));
        StringBuilder sample = new StringBuilder("[[");
        for (int i = 0; i < 64; i++) {
            sample.append(i == 0 ? "" : ",").append("0.5");
        }
        sample.append("]]");
        Files.writeString(dir.resolve("model.json"), "{\"name\": \"dense\", \"version\": \"1.0.0\", \"engine\": \"onnxruntime\","
                + " \"description\": \"benchmark MLP 64-256-16\","
                + " \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1, 64]}],"
                + " \"outputs\": [{\"name\": \"y\", \"datatype\": \"FP32\", \"shape\": [-1, 16]}],"
                + " \"batching\": {\"maxBatchSize\": 64, \"maxQueueDelayMicros\": 0},"
                + " \"sample\": {\"x\": " + sample + "}}");
    }

    private static ModelDescriptor descriptor(Workload w, Path dir) {
        ArtifactSource src = new ArtifactSource() {
            @Override
            public boolean exists(String entry) {
                return Files.exists(dir.resolve(entry));
            }

            @Override
            public InputStream open(String entry) throws IOException {
                return Files.newInputStream(dir.resolve(entry));
            }

            @Override
            public String describe() {
                return dir.toString();
            }
        };
        ModelDescriptor.Builder b = ModelDescriptor.builder().name(w.model()).version(Version.parseVersion(w.version()))
                .engine("onnxruntime").artifact("model.onnx").artifacts(src);
        if (w.model().equals("dense")) {
            return b.input(new TensorSpec("x", DataType.FP32, new long[] {-1, 64}))
                    .output(new TensorSpec("y", DataType.FP32, new long[] {-1, 16})).build();
        }
        return b.input(new TensorSpec("text", DataType.BYTES, new long[] {-1}))
                .output(new TensorSpec("embedding", DataType.FP32, new long[] {-1, 384}))
                .preprocessing(Map.of("type", "hf-tokenizer", "tokenizer", "tokenizer.json", "maxLength", 256))
                .postprocessing(Map.of("type", "mean-pooling", "graphOutput", "last_hidden_state", "normalize", true))
                .build();
    }

    /** HTTP rounds in a c=1 point. */
    static final int ONE_CALLER_ROUNDS = 3;
    /** A key of the in-process grid: batch size and caller count. */
    private static final java.util.regex.Pattern GRID_KEY = java.util.regex.Pattern.compile("batch(\\d+)x(\\d+)");

    /**
     * A point's ratios to the in-process limit measured just before and just after it: the goal's ratio, and
     * where the limit keeps more rows in flight than {@code c} callers can, the ratio to the engine's best
     * with at most {@code c} in flight, scaled to the limit around.
     */
    static void aroundRatios(Map<String, Object> row, Rate before, Rate after, Map<String, Object> limitOf, int c) {
        double limit = (double) limitOf.get("limitPerSecond");
        double mean = (before.rowsPerSecond() + after.rowsPerSecond()) / 2;
        row.put("limitBeforePerSecond", before.rowsPerSecond());
        row.put("limitAfterPerSecond", after.rowsPerSecond());
        // the engine's own CPU per row at the limit, around the point: the machine's drift moves it as much
        // as it moves the limit
        row.put("limitAroundCpuMsPerRow", round((before.cpuMsPerRow() + after.cpuMsPerRow()) / 2, 4));
        row.put("ratioToLimitAround", round((double) row.get("perSecond") / mean, 3));
        double within = bestWithin(limitOf, c);
        if (within < limit) {
            double same = mean * within / limit;
            row.put("limitSameRowsAroundPerSecond", round(same, 1));
            row.put("ratioToLimitSameRowsAround", round((double) row.get("perSecond") / same, 3));
        }
    }

    /** The point the reference server is set beside: the goal's workload at c=32, batching on. */
    static final String REFERENCE_WORKLOAD = "minilm 1.0.0 short";

    /**
     * The {@link ReferenceServer} at the point Enclave just ran: the same request from the same wrk, the same
     * engine (the in-process model, in this JVM), batch size and worker count, warmed up the same way, and
     * held against the limit measured around it too. The row keeps the limit after it under
     * {@code limitAfter}, for the caller to take out.
     */
    private Map<String, Object> reference(Server server, LoadedModel inProcess, Workload w, Map<String, Object> limitOf,
            Map<String, Object> enclave, Rate before) throws Exception {
        int maxBatch = (int) enclave.get("maxBatchSize");
        Map<String, Object> row;
        try (ReferenceServer ref = new ReferenceServer(inProcess, w.model(), maxBatch, Server.BATCH_WORKERS)) {
            int port = ref.start();
            Target target = new Target("http://127.0.0.1:" + port + "/v2/models/" + w.model() + "/infer",
                    ProcessHandle.current().pid(), ReferenceServer.WORKER_PREFIX);
            // under the same rule as Enclave's: in a 9 s cap, this JVM's compiler still took 0.13 of a core meanwhile
            Map<String, Object> warmUp = server.warmUp(target, w, WARM_UP_LIMIT_SECONDS);
            ref.rowsPerBatchSinceLast();
            row = new LinkedHashMap<>();
            row.put("workload", w.name());
            row.putAll(server.wrk(target, w, (int) enclave.get("concurrency"), seconds, false));
            row.put("maxBatchSize", maxBatch);
            row.put("workers", Server.BATCH_WORKERS);
            row.put("rowsPerBatch", round(ref.rowsPerBatchSinceLast(), 2));
            row.put("warmUpSeconds", warmUp.get("seconds"));
        }
        Rate after = limitNow(inProcess, w, limitOf);
        aroundRatios(row, before, after, limitOf, (int) row.get("concurrency"));
        row.put("enclavePerSecond", enclave.get("perSecond"));
        row.put("enclaveRatioToLimitAround", enclave.get("ratioToLimitAround"));
        row.put("enclaveRowsPerEngineCall", enclave.get("rowsPerEngineCall"));
        // each against the limit around it, so the machine's drift between the two rounds cancels
        row.put("enclaveOverReference", round((double) enclave.get("ratioToLimitAround") / (double) row.get("ratioToLimitAround"), 3));
        row.put("limitAfter", after);
        return row;
    }

    /**
     * A server a load round drives: the URL it is asked, its process, and how its batch workers' thread names start;
     * {@code stats}, for Enclave, is where its Triton statistics for the version are read (null for the reference).
     */
    record Target(String url, long pid, String workers, String stats) {
        Target(String url, long pid, String workers) {
            this(url, pid, workers, null);
        }
    }

    /** Rows per second at each batch size and caller count; the best is the limit. */
    private Map<String, Object> limit(InferenceEngine engine, Workload w, Path dir) throws Exception {
        LoadedModel model = engine.load(descriptor(w, dir), descriptor(w, dir).artifacts());
        Map<String, Object> out = new LinkedHashMap<>();
        // the callers' own CPU time per row: what the engine costs, to set beside what the server's workers spend
        Map<String, Object> cpu = new LinkedHashMap<>();
        try {
            double best = 0;
            String bestAt = "";
            for (int batch : new int[] {1, 8, 16, 32}) {
                List<NamedTensor> inputs = repeat(w.inputs(), batch);
                // batch 16 is there for two callers' 32 rows in flight (see bestWithin); alone it adds nothing
                for (int callers : batch == 16 ? new int[] {2} : new int[] {1, 2}) {
                    Rate rate = rowsPerSecond(model, inputs, batch, callers, limitSeconds());
                    double perSecond = rate.rowsPerSecond();
                    String key = "batch" + batch + "x" + callers;
                    out.put(key, round(perSecond, 1));
                    cpu.put(key, round(rate.cpuMsPerRow(), 4));
                    if (perSecond > best) {
                        best = perSecond;
                        bestAt = "batch " + batch + ", " + callers + " caller" + (callers > 1 ? "s" : "");
                        out.put("bestBatch", batch);
                        out.put("bestCallers", callers);
                    }
                }
            }
            out.put("cpuMsPerRow", cpu);
            double p50 = p50Millis(model, w.inputs(), 400);
            out.put("batch1P50Ms", round(p50, 3));
            out.put("limitPerSecond", round(best, 1));
            out.put("limitAt", bestAt);
            System.out.printf(Locale.ROOT, "in-process %-20s limit %8.1f rows/s (%s), batch-1 p50 %.3f ms%n", w.name(), best,
                    bestAt, p50);
        } finally {
            model.close();
        }
        return out;
    }

    /**
     * The engine's best in-process rows per second with at most {@code rows} rows in flight (batch size times
     * callers), from the measurements at the start. The limit itself may be at more rows in flight than a
     * point's callers can keep there: 32 callers, one row each, fill two batches of 16 at most, never two of 32.
     */
    static double bestWithin(Map<String, Object> limit, int rows) {
        String key = bestWithinKey(limit, rows);
        return key == null ? 0 : ((Number) limit.get(key)).doubleValue();
    }

    /** The grid key ({@code batch16x2}) of {@link #bestWithin}, or null when no measurement fits. */
    static String bestWithinKey(Map<String, Object> limit, int rows) {
        double best = 0;
        String bestKey = null;
        for (Map.Entry<String, Object> e : limit.entrySet()) {
            java.util.regex.Matcher m = GRID_KEY.matcher(e.getKey());
            if (m.matches() && Integer.parseInt(m.group(1)) * Integer.parseInt(m.group(2)) <= rows
                    && ((Number) e.getValue()).doubleValue() > best) {
                best = ((Number) e.getValue()).doubleValue();
                bestKey = e.getKey();
            }
        }
        return bestKey;
    }

    /**
     * Where Enclave's CPU went at every batched text point at c=32 and c=64, per answered request (one row
     * each): all of it, the batch workers' (the engine's calls) beside what the engine's callers took per row
     * in-process at the limit (around the point) and with at most c rows in flight, and Jetty's threads (HTTP,
     * JSON, routing).
     */
    static Map<String, Object> cpuPerRequest(Map<String, Map<String, Object>> limits, List<Map<String, Object>> http) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map<String, Object> r : http) {
            if (!batchedTextPoint(r) || !r.containsKey("engineThreadsCpuMsPerRequest")) {
                continue;
            }
            int c = (int) r.get("concurrency");
            String name = (String) r.get("workload");
            Map<String, Object> limit = limits.get(name);
            @SuppressWarnings("unchecked")
            Map<String, Object> cpu = (Map<String, Object>) limit.get("cpuMsPerRow");
            if (cpu == null) {
                continue;
            }
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("serverMs", r.get("serverCpuMsPerRequest"));
            one.put("workersMs", r.get("engineThreadsCpuMsPerRequest"));
            double atStart = ((Number) cpu.get("batch" + limit.get("bestBatch") + "x" + limit.get("bestCallers"))).doubleValue();
            double withinAtStart = ((Number) cpu.get(bestWithinKey(limit, c))).doubleValue();
            // measured around the point where it was, the start's grid otherwise; the same rows in flight
            // scaled from the grid, as the same-rows limit is
            double atLimit = r.containsKey("limitAroundCpuMsPerRow") ? ((Number) r.get("limitAroundCpuMsPerRow")).doubleValue() : atStart;
            one.put("engineAtLimitMs", round(atLimit, 4));
            one.put("engineWithinRowsMs", round(atLimit * withinAtStart / atStart, 4));
            one.put("httpThreadsMs", r.get("httpThreadsCpuMsPerRequest"));
            out.put(name + " c=" + c, one);
        }
        return out;
    }

    /**
     * The most any HTTP server could reach at {@code c} one-row callers, as a share of the limit: the engine's
     * best with at most {@code c} rows in flight, with each request also paying the serving cost that the
     * dense model's points measure (Enclave's CPU per request there, less the little the engine itself
     * took). It is generous: a text answer costs more to serve than dense's, 384 floats against 16.
     *
     * @param limit          the engine's best rows per second in-process
     * @param withinRows     its best with at most {@code c} rows in flight
     * @param cores          the cores both the limit and the server use
     * @param servingSeconds CPU seconds the server spends on a request besides the engine's work
     */
    static double ceiling(double limit, double withinRows, int cores, double servingSeconds) {
        double secondsPerRequest = cores / withinRows + servingSeconds;
        return cores / secondsPerRequest / limit;
    }

    /**
     * {@link #ceiling} for every batched text point at c=32 and c=64, with the serving cost measured on
     * dense's batched c=32 point; empty when this run measured no such point.
     */
    static Map<String, Object> ceilings(Map<String, Map<String, Object>> limits, List<Map<String, Object>> http) {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> dense = http.stream().filter(r -> "dense 1.0.0".equals(r.get("workload"))
                && Boolean.TRUE.equals(r.get("batching")) && Integer.valueOf(32).equals(r.get("concurrency"))
                && r.containsKey("serverCpuMsPerRequest")).findFirst().orElse(null);
        if (dense == null || !limits.containsKey("dense 1.0.0")) {
            return out;
        }
        int cores = CORES;
        double denseEngineSeconds = cores / ((Number) limits.get("dense 1.0.0").get("limitPerSecond")).doubleValue();
        double serving = Math.max(0, ((Number) dense.get("serverCpuMsPerRequest")).doubleValue() / 1000 - denseEngineSeconds);
        out.put("servingMsPerRequest", round(serving * 1000, 4));
        out.put("cores", cores);
        for (Map<String, Object> r : http) {
            if (!batchedTextPoint(r)) {
                continue;
            }
            int c = (int) r.get("concurrency");
            String name = (String) r.get("workload");
            Map<String, Object> limit = limits.get(name);
            double best = ((Number) limit.get("limitPerSecond")).doubleValue();
            double within = bestWithin(limit, c);
            if (within <= 0) {
                continue;
            }
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("engineWithinRowsRatio", round(within / best, 3));
            one.put("ceilingRatio", round(ceiling(best, within, cores, serving), 3));
            one.put("measuredRatio", r.getOrDefault("ratioToLimitAround", r.get("ratioToLimit")));
            out.put(name + " c=" + c, one);
        }
        return out;
    }

    /** A batched text point at c=32 or c=64: the points the ceiling and the CPU table cover. */
    private static boolean batchedTextPoint(Map<String, Object> r) {
        int c = (int) r.get("concurrency");
        return (c == 32 || c == 64) && Boolean.TRUE.equals(r.get("batching"))
                && !((String) r.get("workload")).startsWith("dense");
    }

    /**
     * The batch size an operator would tune the model to for this input: the engine's best in-process
     * batch, and at least 8. Long inputs run slower per row in large batches (minilm 1.0.0 at ~120 tokens:
     * 119 rows/s at batch 8, 101 at batch 32), short ones gain a little from them.
     */
    static int maxBatch(Map<String, Object> limit) {
        return Math.max(8, (int) limit.get("bestBatch"));
    }

    private int limitSeconds() {
        return Math.max(2, seconds / 2);
    }

    /**
     * The in-process limit again, now, at the batch size and caller count that were best at the start (the
     * server idle meanwhile). The shared machine's speed drifts by a quarter over minutes (the same
     * in-process round gave 1 030 to 1 160 rows/s in one JVM, and 1 260 to 1 420 twenty minutes later), so
     * a high-concurrency point is held against the limit measured just before and just after it.
     */
    private Rate limitNow(LoadedModel model, Workload w, Map<String, Object> limit) throws InterruptedException {
        int batch = (int) limit.get("bestBatch");
        Rate now = rowsPerSecond(model, repeat(w.inputs(), batch), batch, (int) limit.get("bestCallers"), limitSeconds());
        return new Rate(round(now.rowsPerSecond(), 1), now.cpuMsPerRow());
    }

    /**
     * The engine's p50 for one row, in-process, after at least 20 calls and {@code warmMillis} of them.
     * A session just loaded (the first c=1 point of a workload) ran twice as slow after 20 calls as after
     * a few hundred, which read as HTTP adding -2 ms: the first measurement of a point warms for 0.5 s.
     */
    private static double batch1P50(LoadedModel model, Workload w, long warmMillis) {
        long warmUntil = System.nanoTime() + warmMillis * 1_000_000L;
        for (int i = 0; i < 20 || System.nanoTime() < warmUntil; i++) {
            model.infer(w.inputs());
        }
        // 120 calls, or as many as fit in 0.6 s (at least 30): a ~120-token row takes 15 ms on one core
        return round(p50Millis(model, w.inputs(), 120, 30, 600), 3);
    }

    /**
     * The c=1 point: HTTP p50 against the engine's own batch-1 p50, in alternating rounds. The shared
     * machine's speed drifts within seconds, and with one core, ONNX Runtime's two intra-op threads
     * contend for it in a pattern that holds for a while and then changes (the same point gave +0.2, +0.4
     * and +1.6 ms in three runs when measured once). So the point is {@value #ONE_CALLER_ROUNDS} HTTP
     * rounds, each bracketed by an engine p50 just before and just after it; each round's added p50 is its
     * HTTP p50 less the mean of the two brackets, and the point reports the median round. Enclave, the
     * in-process engine and wrk are held to one core meanwhile (the two cores are not equally fast).
     */
    private Map<String, Object> oneCaller(Server server, LoadedModel inProcess, Workload w) throws Exception {
        boolean pinned = server.pinForOneCaller(true);
        List<Map<String, Object>> rounds = new ArrayList<>();
        double[] engine = new double[ONE_CALLER_ROUNDS + 1];
        double[] added = new double[ONE_CALLER_ROUNDS];
        try {
            engine[0] = batch1P50(inProcess, w, 500);
            for (int i = 0; i < ONE_CALLER_ROUNDS; i++) {
                rounds.add(server.load(w, 1, Math.max(1, seconds / ONE_CALLER_ROUNDS), i == 0));
                engine[i + 1] = batch1P50(inProcess, w, 0);
                added[i] = round((double) rounds.get(i).get("p50Ms") - (engine[i] + engine[i + 1]) / 2, 3);
            }
        } finally {
            if (pinned) {
                server.pinForOneCaller(false);
            }
        }
        Map<String, Object> row = new LinkedHashMap<>(rounds.get(0));
        double secs = 0;
        long requests = 0;
        long failed = 0;
        double p99 = 0;
        double[] p50 = new double[rounds.size()];
        for (int i = 0; i < rounds.size(); i++) {
            Map<String, Object> r = rounds.get(i);
            requests += ((Number) r.get("requests")).longValue();
            failed += ((Number) r.get("failed")).longValue();
            secs += ((Number) r.get("requests")).doubleValue() / Math.max(1e-9, (double) r.get("perSecond"));
            p99 = Math.max(p99, (double) r.get("p99Ms"));
            p50[i] = (double) r.get("p50Ms");
        }
        row.put("requests", requests);
        row.put("perSecond", round(secs == 0 ? 0 : requests / secs, 1));
        row.put("p50Ms", median(p50));
        // the worst round's: a p99 is not a median
        row.put("p99Ms", p99);
        row.put("failed", failed);
        for (String cores : List.of("serverCores", "clientCores", "jitCores")) {
            if (!row.containsKey(cores)) {
                continue;
            }
            row.put(cores, round(rounds.stream().mapToDouble(r -> ((Number) r.get(cores)).doubleValue()).average().orElse(0), 2));
        }
        row.put("pinned", pinned);
        row.put("rounds", rounds.size());
        row.put("p50MsPerRound", Arrays.stream(p50).boxed().toList());
        row.put("engineP50MsAround", Arrays.stream(engine).boxed().toList());
        row.put("addedP50MsPerRound", Arrays.stream(added).boxed().toList());
        row.put("engineP50Ms", median(engine));
        row.put("addedP50Ms", median(added));
        return row;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : round((v[v.length / 2 - 1] + v[v.length / 2]) / 2, 3);
    }

    /** The median of {@code calls} timed calls, in milliseconds. */
    private static double p50Millis(LoadedModel model, List<NamedTensor> inputs, int calls) {
        // every call runs: with atLeast = calls the time bound is never consulted
        return p50Millis(model, inputs, calls, calls, 0);
    }

    /** The median of up to {@code calls} timed calls, stopping after {@code millis} once {@code atLeast} ran. */
    private static double p50Millis(LoadedModel model, List<NamedTensor> inputs, int calls, int atLeast, long millis) {
        long[] lat = new long[calls];
        long end = System.nanoTime() + millis * 1_000_000L;
        int n = 0;
        while (n < calls && (n < atLeast || System.nanoTime() < end)) {
            long t = System.nanoTime();
            model.infer(inputs);
            lat[n++] = System.nanoTime() - t;
        }
        Arrays.sort(lat, 0, n);
        return lat[n / 2] / 1e6;
    }

    private static List<NamedTensor> repeat(List<NamedTensor> one, int n) {
        NamedTensor t = one.get(0);
        Object data = java.lang.reflect.Array.newInstance(t.data().getClass().getComponentType(),
                java.lang.reflect.Array.getLength(t.data()) * n);
        int len = java.lang.reflect.Array.getLength(t.data());
        for (int i = 0; i < n; i++) {
            System.arraycopy(t.data(), 0, data, i * len, len);
        }
        long[] shape = t.shape().clone();
        shape[0] = n;
        return List.of(new NamedTensor(t.name(), t.datatype(), shape, data));
    }

    /** An in-process round: rows per second, and the callers' CPU time per row. */
    record Rate(double rowsPerSecond, double cpuMsPerRow) {
    }

    private static Rate rowsPerSecond(LoadedModel model, List<NamedTensor> inputs, int batch, int callers, int secs)
            throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            model.infer(inputs);
        }
        AtomicLong rows = new AtomicLong();
        AtomicLong cpuNanos = new AtomicLong();
        java.lang.management.ThreadMXBean threadsBean = java.lang.management.ManagementFactory.getThreadMXBean();
        long end = System.nanoTime() + secs * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < callers; c++) {
            Thread t = new Thread(() -> {
                long cpuStart = threadsBean.getCurrentThreadCpuTime();
                while (System.nanoTime() < end) {
                    model.infer(inputs);
                    rows.addAndGet(batch);
                }
                cpuNanos.addAndGet(threadsBean.getCurrentThreadCpuTime() - cpuStart);
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        return new Rate(rows.get() / ((System.nanoTime() - start) / 1e9), rows.get() == 0 ? 0 : cpuNanos.get() / 1e6 / rows.get());
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static void print(Object row) {
        System.out.println(row);
    }

    private static String table(Map<String, Map<String, Object>> limits, Map<String, Object> results) {
        StringBuilder s = new StringBuilder("\n| workload | batching | c | req/s | p50 ms | p99 ms | ratio to limit "
                + "| limit around: before, after; ratio | errors | Enclave cores | of which JIT | wrk cores "
                + "| c=1: engine p50 ms, added |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> http = (List<Map<String, Object>>) results.get("http");
        for (Map<String, Object> r : http) {
            String added = "";
            if (r.containsKey("addedP50Ms")) {
                StringBuilder perRound = new StringBuilder();
                for (Object a : (List<?>) r.get("addedP50MsPerRound")) {
                    perRound.append(perRound.length() == 0 ? "" : ", ").append(signed((double) a));
                }
                added = r.get("engineP50Ms") + ", " + signed((double) r.get("addedP50Ms")) + " (rounds " + perRound
                        + (Boolean.TRUE.equals(r.get("pinned")) ? "; one core" : "") + ")";
            }
            String around = r.containsKey("ratioToLimitAround") ? r.get("limitBeforePerSecond") + ", "
                    + r.get("limitAfterPerSecond") + "; **" + r.get("ratioToLimitAround") + "**"
                    + (r.containsKey("ratioToLimitSameRowsAround") ? " (same rows in flight: "
                            + r.get("ratioToLimitSameRowsAround") + ")" : "") : "";
            s.append(String.format(Locale.ROOT, "| %s | %s | %s | %.1f | %.2f | %.2f | %.3f | %s | %s | %s | %s | %s | %s |%n",
                    r.get("workload"), (boolean) r.get("batching") ? "on, ≤ " + r.get("maxBatchSize") : "off", r.get("concurrency"), r.get("perSecond"),
                    r.get("p50Ms"), r.get("p99Ms"), r.get("ratioToLimit"), around, r.get("failed"), r.getOrDefault("serverCores", "-"),
                    r.getOrDefault("jitCores", "-"), r.getOrDefault("clientCores", "-"), added));
        }
        s.append("\n| workload | in-process limit rows/s | at | batch-1 p50 ms |\n|---|---|---|---|\n");
        limits.forEach((k, v) -> s.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", k, v.get("limitPerSecond"),
                v.get("limitAt") + (v.containsKey("sameEngineWorkAs") ? " (as " + v.get("sameEngineWorkAs") + ")" : ""),
                v.get("batch1P50Ms"))));
        @SuppressWarnings("unchecked")
        Map<String, Object> ceilings = (Map<String, Object>) results.get("ceiling");
        if (ceilings != null) {
            s.append("\nceiling: what any HTTP server could reach on these ").append(ceilings.get("cores"))
                    .append(" cores, the engine at its best with at most c rows in flight plus ")
                    .append(ceilings.get("servingMsPerRequest")).append(" ms of serving CPU per request (dense's c=32 point)\n")
                    .append("\n| point | engine alone, ≤ c rows in flight | ceiling | measured |\n|---|---|---|---|\n");
            ceilings.forEach((k, v) -> {
                if (v instanceof Map<?, ?> m) {
                    s.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", k, m.get("engineWithinRowsRatio"),
                            m.get("ceilingRatio"), m.get("measuredRatio")));
                }
            });
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> cpu = (Map<String, Object>) results.get("cpuPerRequest");
        if (cpu != null) {
            s.append("\nEnclave's CPU per request (one row each), ms: all of it; its batch workers (the engine); the engine's")
                    .append(" callers per row in-process, at the limit measured around the point and with at most c rows in flight;"
                            + " Jetty's threads\n")
                    .append("\n| point | Enclave | batch workers | in-process engine: limit, ≤ c rows | Jetty threads |\n")
                    .append("|---|---|---|---|---|\n");
            cpu.forEach((k, v) -> {
                if (v instanceof Map<?, ?> m) {
                    s.append(String.format(Locale.ROOT, "| %s | %s | %s | %s, %s | %s |%n", k, m.get("serverMs"), m.get("workersMs"),
                            m.get("engineAtLimitMs"), m.get("engineWithinRowsMs"), m.get("httpThreadsMs")));
                }
            });
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> ref = (Map<String, Object>) results.get("reference");
        if (ref != null) {
            s.append("\nreference: the same Jetty, engine, batch size (").append(ref.get("maxBatchSize")).append(") and ")
                    .append(ref.get("workers")).append(" batch workers, with nothing else (no OSGi, authentication, routing,")
                    .append(" metrics or deadlines); the ratios are each to the limit measured around that round\n")
                    .append("\n| point | server | req/s | p50 ms | p99 ms | limit around: before, after; ratio | rows per batch")
                    .append(" | CPU ms per request: all, batch workers, Jetty threads |\n|---|---|---|---|---|---|---|---|\n");
            s.append(String.format(Locale.ROOT, "| %s c=%s | reference | %.1f | %.2f | %.2f | %s, %s; **%s** (same rows in flight: %s) "
                    + "| %s | %s, %s, %s |%n", ref.get("workload"), ref.get("concurrency"), ref.get("perSecond"), ref.get("p50Ms"),
                    ref.get("p99Ms"), ref.get("limitBeforePerSecond"), ref.get("limitAfterPerSecond"), ref.get("ratioToLimitAround"),
                    ref.get("ratioToLimitSameRowsAround"), ref.get("rowsPerBatch"), ref.get("serverCpuMsPerRequest"),
                    ref.get("engineThreadsCpuMsPerRequest"), ref.get("httpThreadsCpuMsPerRequest")));
            s.append(String.format(Locale.ROOT, "| | Enclave | %s | | | **%s** | %s | |%n", ref.get("enclavePerSecond"),
                    ref.get("enclaveRatioToLimitAround"), ref.get("enclaveRowsPerEngineCall")));
            s.append("\nEnclave over the reference, each against the limit around it: ").append(ref.get("enclaveOverReference"))
                    .append('\n');
        }
        s.append("\nidle RSS with both minilm versions and dense loaded: ").append(results.get("idleRssMiB")).append(" MiB\n");
        s.append("warm-up (wrk at c=32 until the JIT is quiet): ").append(results.get("warmUp")).append('\n');
        s.append("2x overload: ").append(results.get("overload")).append('\n');
        s.append("retry storm: ").append(results.get("retryStorm")).append('\n');
        return s.toString();
    }

    private static String signed(double v) {
        return (v < 0 ? "" : "+") + v;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var all = Files.walk(p)) {
            for (Path x : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(x);
            }
        }
    }

    /** The real distribution, unpacked and started with its own scripts, plain HTTP on loopback. */
    final class Server {
        /** At most this many batches compute at once with batching on, in Enclave and in the reference. */
        static final int BATCH_WORKERS = 2;
        private final Path dir;
        private Path home;
        private int http;
        private int rmiRegistry;
        private int rmiServer;
        private String auth;
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();

        Server(Path dir) {
            this.dir = dir;
        }

        private Map<String, String> env() {
            Map<String, String> env = new HashMap<>();
            env.put("OPT_OUT_TRACKING", "true");
            env.put("DJL_OFFLINE", "true");
            env.put("ENCLAVE_PLAIN_HTTP", "true");
            env.put("ENCLAVE_HTTP_PORT", Integer.toString(http));
            env.put("ENCLAVE_HTTPS_PORT", Integer.toString(free()));
            env.put("ENCLAVE_HTTPS_ADDRESS", "127.0.0.1");
            env.put("ENCLAVE_SSH_PORT", Integer.toString(free()));
            env.put("ENCLAVE_RMI_REGISTRY_PORT", Integer.toString(rmiRegistry));
            env.put("ENCLAVE_RMI_SERVER_PORT", Integer.toString(rmiServer));
            return env;
        }

        void start(Path dense) throws Exception {
            Path tarball;
            try (var s = Files.list(root.resolve("assembly/target"))) {
                tarball = s.filter(p -> p.getFileName().toString().matches("enclave-.*\\.tar\\.gz")).findFirst().orElseThrow();
            }
            Process untar = new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", dir.toString()).inheritIO().start();
            if (untar.waitFor() != 0) {
                throw new IOException("cannot unpack " + tarball);
            }
            try (var s = Files.list(dir)) {
                home = s.filter(p -> p.getFileName().toString().startsWith("enclave-") && Files.isDirectory(p)).findFirst()
                        .orElseThrow();
            }
            http = free();
            rmiRegistry = free();
            rmiServer = free();
            copyTree(dense, home.resolve("deploy/dense"));
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/start").toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("start.log").toFile());
            pb.environment().putAll(env());
            if (pb.start().waitFor() != 0) {
                throw new IOException("bin/start failed");
            }
            long end = System.nanoTime() + Duration.ofMinutes(4).toNanos();
            while (System.nanoTime() < end) {
                if (Files.exists(home.resolve("etc/admin.password"))) {
                    auth = "Basic " + Base64.getEncoder().encodeToString(("admin:"
                            + Files.readString(home.resolve("etc/admin.password")).trim()).getBytes(StandardCharsets.UTF_8));
                    if (allReady()) {
                        System.out.println("distribution ready at http://127.0.0.1:" + http);
                        return;
                    }
                }
                Thread.sleep(500);
            }
            throw new IOException("Enclave did not become ready; see " + home.resolve("data/log/karaf.log"));
        }

        private boolean allReady() {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base() + "/enclave/v1/models"))
                        .header("Authorization", auth).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    return false;
                }
                JsonNode models = JSON.readTree(r.body()).get("models");
                int ready = 0;
                for (JsonNode m : models) {
                    for (JsonNode v : m.get("versions")) {
                        if (!"READY".equals(v.get("state").asText())) {
                            return false;
                        }
                        ready++;
                    }
                }
                return ready >= 3;
            } catch (IOException | InterruptedException e) {
                return false;
            }
        }

        String base() {
            return "http://127.0.0.1:" + http;
        }

        long pid() throws IOException {
            return Long.parseLong(Files.readString(home.resolve("karaf.pid")).trim());
        }

        double rssMiB() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return round(Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0, 1);
                }
            }
            return -1;
        }

        /**
         * Batching on or off for a model, through its ConfigAdmin file, as an operator would.
         *
         * @param maxBatch the largest batch when on
         */
        void batching(String model, boolean on, int maxBatch) throws Exception {
            // on: the model's own queue delay (model.json), as shipped
            String settings = on ? "maxBatchSize = " + maxBatch + "\nminWorkers = 1\nmaxWorkers = " + BATCH_WORKERS + "\n"
                    : "maxBatchSize = 1\nmaxQueueDelayMicros = 0\nminWorkers = 2\nmaxWorkers = 2\n";
            tune(model, settings + "queueCapacity = 1024\ndeadlineMs = 30000\n");
        }

        /** Batches of up to 32 on up to two workers, as the short sentence's points run, with this padding ratio. */
        void paddingRatio(String model, int ratio) throws Exception {
            tune(model, "maxBatchSize = 32\nminWorkers = 1\nmaxWorkers = " + BATCH_WORKERS + "\nqueueCapacity = 1024\n"
                    + "deadlineMs = 30000\nmaxPaddingRatio = " + ratio + "\n");
        }

        /**
         * wrk at {@code concurrency} callers, each sending {@code rare}'s body as every {@code every}-th request
         * of the run and {@code common}'s otherwise (both to {@code common}'s version).
         */
        Map<String, Object> mixed(Workload common, Workload rare, int every, int concurrency, int secs) throws Exception {
            Path script = dir.resolve("wrk-mixed.lua");
            Files.writeString(script, "wrk.method = \"POST\"\n"
                    + "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
                    + "wrk.headers[\"Authorization\"] = \"" + auth + "\"\n"
                    + "local common = [==[" + common.body() + "]==]\n"
                    + "local rare = [==[" + rare.body() + "]==]\n"
                    + "local n = 0\n"
                    + "request = function()\n"
                    + "  n = n + 1\n"
                    + "  return wrk.format(nil, nil, nil, n % " + every + " == 0 and rare or common)\n"
                    + "end\n");
            return wrk(target(common), script, concurrency, secs, true);
        }

        /**
         * The version's text tokens computed and, of those, padding, as {@code /metrics} counts them
         * ({@code enclave_text_tokens_total}, {@code enclave_text_padding_tokens_total}); 0 when absent.
         */
        long[] tokens(Workload w) throws Exception {
            String labels = "{model=\"" + w.model() + "\",version=\"" + w.version() + "\"} ";
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base() + "/metrics"))
                    .header("Authorization", auth).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET /metrics: " + r.statusCode() + " " + r.body());
            }
            long[] counts = new long[2];
            String[] names = {"enclave_text_tokens_total", "enclave_text_padding_tokens_total"};
            for (String l : r.body().lines().toList()) {
                for (int i = 0; i < names.length; i++) {
                    if (l.startsWith(names[i] + labels)) {
                        counts[i] = (long) Double.parseDouble(l.substring((names[i] + labels).length()));
                    }
                }
            }
            return counts;
        }

        /** Batches of up to 8 on up to two workers, as the long sentence's points run, with this many levels. */
        void priorityLevels(String model, int levels) throws Exception {
            tune(model, "maxBatchSize = 8\nminWorkers = 1\nmaxWorkers = " + BATCH_WORKERS + "\nqueueCapacity = 1024\n"
                    + "deadlineMs = 30000\npriorityLevels = " + levels + "\n");
        }

        /**
         * wrk drives {@code bulk} at 32 callers for a second more than {@code secs}; from its second second on,
         * one caller sends {@code urgentBody} again as soon as each answer is back, and times each.
         */
        Map<String, Object> urgentBesideBulk(Workload bulk, Workload urgent, String urgentBody, int secs) throws Exception {
            java.util.concurrent.CompletableFuture<Map<String, Object>> load = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        try {
                            return wrk(target(bulk), bulk, 32, secs + 1, false);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
            Thread.sleep(1000);
            HttpRequest request = HttpRequest.newBuilder(URI.create(base() + path(urgent))).header("Authorization", auth)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(urgentBody)).build();
            List<Long> nanos = new ArrayList<>();
            int failed = 0;
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(secs)
                    - java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < end) {
                long t0 = System.nanoTime();
                HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    nanos.add(System.nanoTime() - t0);
                } else {
                    failed++;
                }
            }
            Map<String, Object> row = load.get(secs + 60L, java.util.concurrent.TimeUnit.SECONDS);
            long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
            row.put("urgentRequests", sorted.length);
            row.put("urgentFailed", failed);
            row.put("urgentP50Ms", round(pct(sorted, 0.50) / 1e6, 2));
            row.put("urgentP99Ms", round(pct(sorted, 0.99) / 1e6, 2));
            return row;
        }

        private void tune(String model, String settings) throws Exception {
            Path cfg = home.resolve("etc/io.enclave.batching-" + model + ".cfg");
            String content = "model = " + model + "\n" + settings;
            if (Files.exists(cfg) && Files.readString(cfg).equals(content)) {
                // File Install would not even read it again
                return;
            }
            Path log = home.resolve("data/log/karaf.log");
            long logBefore = Files.exists(log) ? Files.size(log) : 0;
            Path tmp = home.resolve("etc/.batching.tmp");
            Files.writeString(tmp, content);
            Files.move(tmp, cfg, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            // File Install looks once a second; Enclave logs the settings it applies. Without that line in
            // 3 s (a log that rolled over, say), the point's own one-second warm-up still follows
            long end = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < end && !logged(log, logBefore, "batching for " + model + ": ")) {
                Thread.sleep(50);
            }
        }

        /** Whether the log has {@code text} past {@code from} (bytes), read from there only. */
        private static boolean logged(Path log, long from, String text) throws IOException {
            if (!Files.exists(log) || Files.size(log) <= from) {
                return false;
            }
            try (var in = Files.newByteChannel(log)) {
                in.position(from);
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) Math.min(1 << 20, in.size() - from));
                in.read(b);
                return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).contains(text);
            }
        }

        /**
         * Closed loop with wrk (Debian's, written in C, one thread) when it is installed, so the load
         * generator takes as little of the shared cores as it can; else with {@link RawLoad}.
         *
         * @param warm whether a one-second round runs first, unmeasured
         */
        Map<String, Object> load(Workload w, int concurrency, int secs, boolean warm) throws Exception {
            return WRK != null ? wrk(target(w), w, concurrency, secs, warm) : rawLoad(w, concurrency, secs, warm);
        }

        /** Enclave, for a workload: its URL, its process, and its batch workers' thread names. */
        Target target(Workload w) throws IOException {
            return new Target(base() + path(w), pid(), "enclave-worker",
                    base() + "/v2/models/" + w.model() + "/versions/" + w.version() + "/stats");
        }

        /** Closed loop with wrk against any server on this machine, with the same request as Enclave gets. */
        Map<String, Object> wrk(Target target, Workload w, int concurrency, int secs, boolean warm) throws Exception {
            return wrk(target, script(w), concurrency, secs, warm);
        }

        /** Closed loop with wrk, each request as {@code script} makes it. */
        Map<String, Object> wrk(Target target, Path script, int concurrency, int secs, boolean warm) throws Exception {
            String url = target.url();
            if (warm) {
                runWrk(script, url, concurrency, 1);
            }
            long[] callsBefore = engineCalls(target);
            long serverBefore = cpuTicks(target.pid());
            ThreadTicks threadsBefore = threadTicks(target);
            long wallBefore = System.nanoTime();
            String out = runWrk(script, url, concurrency, secs);
            double wall = (System.nanoTime() - wallBefore) / 1e9;
            long serverTicks = cpuTicks(target.pid()) - serverBefore;
            ThreadTicks threadsAfter = threadTicks(target);
            long[] callsAfter = engineCalls(target);
            double serverCores = serverTicks / 100.0 / wall;
            double jitCores = Math.max(0, threadsAfter.jit() - threadsBefore.jit()) / 100.0 / wall;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("concurrency", concurrency);
            row.put("client", "wrk");
            java.util.regex.Matcher total = java.util.regex.Pattern.compile("(\\d+) requests in").matcher(out);
            long requests = total.find() ? Long.parseLong(total.group(1)) : 0;
            java.util.regex.Matcher non2xx = java.util.regex.Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
            long failed = non2xx.find() ? Long.parseLong(non2xx.group(1)) : 0;
            java.util.regex.Matcher errors = java.util.regex.Pattern.compile("Socket errors: connect (\\d+), read (\\d+), "
                    + "write (\\d+), timeout (\\d+)").matcher(out);
            if (errors.find()) {
                for (int g = 1; g <= 4; g++) {
                    failed += Long.parseLong(errors.group(g));
                }
            }
            java.util.regex.Matcher rate = java.util.regex.Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
            double perSecond = rate.find() ? Double.parseDouble(rate.group(1)) : 0;
            row.put("requests", requests - failed);
            row.put("perSecond", round(perSecond * (requests == 0 ? 0 : (double) (requests - failed) / requests), 1));
            row.put("p50Ms", wrkPercentile(out, "50%"));
            row.put("p99Ms", wrkPercentile(out, "99%"));
            row.put("failed", failed);
            // where the machine's cores went: Enclave's process and the load generator beside it
            row.put("serverCores", round(serverCores, 2));
            row.put("serverCpuMsPerRequest", requests > failed ? round(serverTicks * 10.0 / (requests - failed), 4) : 0.0);
            if (requests > failed) {
                // of that, the batch workers' (the engine, once per row) and Jetty's threads' (the HTTP side); an
                // idle version runs a lone request on Jetty's thread, so at low concurrency the engine shows there
                row.put("engineThreadsCpuMsPerRequest", round(Math.max(0, threadsAfter.engine() - threadsBefore.engine())
                        * 10.0 / (requests - failed), 4));
                row.put("httpThreadsCpuMsPerRequest", round(Math.max(0, threadsAfter.http() - threadsBefore.http())
                        * 10.0 / (requests - failed), 4));
            }
            row.put("clientCores", round(childCpuSeconds(out) / wall, 2));
            if (callsBefore != null && callsAfter != null && callsAfter[1] > callsBefore[1]) {
                // Enclave's own word (Triton's statistics) on how full its batches ran, beside the reference's rowsPerBatch
                row.put("rowsPerEngineCall", round((double) (callsAfter[0] - callsBefore[0]) / (callsAfter[1] - callsBefore[1]), 2));
            }
            // of Enclave's share, what its JIT compiler took (near 0 once warm)
            row.put("jitCores", round(jitCores, 2));
            return row;
        }

        /**
         * wrk at concurrency 32 in rounds until the server's JIT compiler threads stay nearly idle
         * through a round (under 2 % of a core), at most {@link #WARM_UP_LIMIT_SECONDS}.
         */
        Map<String, Object> warmUp(Workload w) throws Exception {
            return warmUp(target(w), w, WARM_UP_LIMIT_SECONDS);
        }

        /** {@link #warmUp(Workload)} for any server, for at most {@code limitSeconds}; without wrk, only Enclave. */
        Map<String, Object> warmUp(Target target, Workload w, int limitSeconds) throws Exception {
            Path script = script(w);
            long started = System.nanoTime();
            double jitCores;
            do {
                long jitBefore = threadTicks(target).jit();
                long t = System.nanoTime();
                if (WRK != null) {
                    runWrk(script, target.url(), 32, 3);
                } else {
                    RawLoad.closedLoop(address(), path(w), auth, w.body(), 32, 3);
                }
                jitCores = Math.max(0, threadTicks(target).jit() - jitBefore) / 100.0 / ((System.nanoTime() - t) / 1e9);
            } while (jitCores >= 0.02 && System.nanoTime() - started < limitSeconds * 1_000_000_000L);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("seconds", round((System.nanoTime() - started) / 1e9, 1));
            out.put("jitCoresLastRound", round(jitCores, 3));
            return out;
        }

        /**
         * CPU ticks of a server's threads by what they do, from their names: the JIT compiler, the batch
         * workers that call the engine ({@code enclave-worker-…} in Enclave, the batcher's) and Jetty's pool
         * ({@code qtp…}, which parses requests and writes answers). Threads that ended drop out.
         */
        private ThreadTicks threadTicks(Target target) throws IOException {
            long jit = 0;
            long engine = 0;
            long http = 0;
            try (var tasks = Files.list(Path.of("/proc/" + target.pid() + "/task"))) {
                for (Path task : (Iterable<Path>) tasks::iterator) {
                    String stat;
                    try {
                        stat = Files.readString(task.resolve("stat"));
                    } catch (IOException gone) {
                        continue;
                    }
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
                        jit += ticks(stat);
                    } else if (name.startsWith(target.workers())) {
                        engine += ticks(stat);
                    } else if (name.startsWith("qtp")) {
                        http += ticks(stat);
                    }
                }
            }
            return new ThreadTicks(jit, engine, http);
        }

        /**
         * For the c=1 point: every thread of the server, of this JVM and wrk on the first core, so the
         * engine's batch-1 p50 and the server's answer are timed on the same core (one request at a time
         * leaves wrk and the server taking turns, as the kernel would place them anyway);
         * {@code false} gives every core back. Without taskset, or with one core, nothing is pinned.
         */
        boolean pinForOneCaller(boolean pin) throws Exception {
            if (CORES < 2 || !Files.isExecutable(Path.of("/usr/bin/taskset"))) {
                return false;
            }
            String cpus = pin ? "0" : "0-" + (CORES - 1);
            // taskset -a stops at a thread that ended meanwhile, and a thread started while pinned inherits
            // the pin: so again until every thread of both processes reads back as asked
            boolean done = false;
            for (int attempt = 0; attempt < 5 && !done; attempt++) {
                done = true;
                for (long p : new long[] {pid(), ProcessHandle.current().pid()}) {
                    Process t = new ProcessBuilder("bash", "-c", "/usr/bin/taskset -a -p -c \"$1\" \"$0\" >/dev/null 2>&1; "
                            + "grep -h '^Cpus_allowed_list' /proc/$0/task/*/status 2>/dev/null | sort -u",
                            Long.toString(p), cpus).redirectErrorStream(true).start();
                    String allowed = new String(t.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                    t.waitFor();
                    done &= !allowed.isEmpty() && allowed.lines().allMatch(l -> l.endsWith("\t" + cpus));
                }
            }
            if (!done) {
                throw new IOException("could not " + (pin ? "pin the server to one core" : "give the server its cores back"));
            }
            wrkCpu = pin ? "0" : null;
            return true;
        }

        /** The core wrk is held to, or null for any. */
        private String wrkCpu;

        private Path script(Workload w) throws IOException {
            Path script = dir.resolve("wrk-" + w.model() + ".lua");
            Files.writeString(script, "wrk.method = \"POST\"\nwrk.body = [==[" + w.body() + "]==]\n"
                    + "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
                    + "wrk.headers[\"Authorization\"] = \"" + auth + "\"\n");
            return script;
        }

        private String runWrk(Path script, String url, int concurrency, int secs) throws Exception {
            List<String> cmd = new ArrayList<>(List.of("bash", "-c", "\"$0\" \"$@\" && times"));
            if (wrkCpu != null) {
                cmd.addAll(List.of("/usr/bin/taskset", "-c", wrkCpu));
            }
            cmd.addAll(List.of(WRK, "-t1", "-c" + concurrency, "-d" + secs + "s", "--timeout", "60s", "--latency", "-s",
                    script.toString(), url));
            // bash's 'times' prints the CPU time its children (wrk) used
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("wrk failed: " + out);
            }
            return out;
        }

        /** user + system CPU seconds of the children, from the last line bash's {@code times} printed. */
        private double childCpuSeconds(String out) {
            String[] lines = out.strip().split("\n");
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)m([0-9.]+)s\\s+(\\d+)m([0-9.]+)s")
                    .matcher(lines[lines.length - 1]);
            if (!m.find()) {
                return Double.NaN;
            }
            return Long.parseLong(m.group(1)) * 60 + Double.parseDouble(m.group(2)) + Long.parseLong(m.group(3)) * 60
                    + Double.parseDouble(m.group(4));
        }

        /** Clock ticks of the server's threads by role; see {@link #threadTicks}. */
        private record ThreadTicks(long jit, long engine, long http) {
        }

        /** utime + stime of a process, in clock ticks (100 a second on Linux). */
        private long cpuTicks(long pid) throws IOException {
            return ticks(Files.readString(Path.of("/proc/" + pid + "/stat")));
        }

        /** utime + stime from a {@code /proc/.../stat} line of a process or a thread. */
        private static long ticks(String stat) {
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }

        private double wrkPercentile(String out, String which) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s" + java.util.regex.Pattern.quote(which)
                    + "\\s+([0-9.]+)(us|ms|s)").matcher(out);
            if (!m.find()) {
                return Double.NaN;
            }
            double v = Double.parseDouble(m.group(1));
            return round(switch (m.group(2)) {
                case "us" -> v / 1000;
                case "s" -> v * 1000;
                default -> v;
            }, 3);
        }

        /** Closed loop with {@link RawLoad}: after a one-second warm-up, {@code concurrency} connections for {@code secs}. */
        private Map<String, Object> rawLoad(Workload w, int concurrency, int secs, boolean warm) throws Exception {
            if (warm) {
                RawLoad.closedLoop(address(), path(w), auth, w.body(), concurrency, 1);
            }
            long serverBefore = cpuTicks(pid());
            long clientBefore = ownCpuNanos();
            RawLoad.Result r = RawLoad.closedLoop(address(), path(w), auth, w.body(), concurrency, secs);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("concurrency", concurrency);
            row.put("client", "raw closed loop");
            answers(row, r, serverBefore, clientBefore);
            return row;
        }

        /** The figures of one {@link RawLoad} round, with the cores the server and this JVM used meanwhile. */
        private void answers(Map<String, Object> row, RawLoad.Result r, long serverBefore, long clientBefore)
                throws IOException {
            row.put("requests", r.served().length);
            row.put("perSecond", round(r.served().length / r.seconds(), 1));
            row.put("p50Ms", round(pct(r.served(), 0.50) / 1e6, 3));
            row.put("p99Ms", round(pct(r.served(), 0.99) / 1e6, 3));
            row.put("maxMs", round(r.served().length == 0 ? Double.NaN : r.served()[r.served().length - 1] / 1e6, 3));
            row.put("failed", r.failed());
            row.put("rejected503", r.rejected().length);
            row.put("rejectedP50Ms", round(pct(r.rejected(), 0.50) / 1e6, 3));
            row.put("rejectedP99Ms", round(pct(r.rejected(), 0.99) / 1e6, 3));
            row.put("serverCores", round((cpuTicks(pid()) - serverBefore) / 100.0 / r.seconds(), 2));
            row.put("clientCores", round((ownCpuNanos() - clientBefore) / 1e9 / r.seconds(), 2));
        }

        /** CPU this benchmark's JVM (its load generator) has used, in nanoseconds. */
        private long ownCpuNanos() {
            return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        }

        private java.net.InetSocketAddress address() {
            return new java.net.InetSocketAddress("127.0.0.1", http);
        }

        /**
         * Rows answered and engine calls so far, from Enclave's Triton statistics for the target's version; null for
         * a server without them.
         */
        private long[] engineCalls(Target target) throws Exception {
            if (target.stats() == null) {
                return null;
            }
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(target.stats()))
                    .header("Authorization", auth).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("statistics: " + r.statusCode() + " " + r.body());
            }
            com.fasterxml.jackson.databind.JsonNode m = JSON.readTree(r.body()).get("model_stats").get(0);
            return new long[] {m.get("inference_count").asLong(), m.get("execution_count").asLong()};
        }

        private String path(Workload w) {
            return "/v2/models/" + w.model() + "/versions/" + w.version() + "/infer";
        }

        private double pct(long[] sorted, double q) {
            return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
        }

        /**
         * 2× overload against a small queue (16, deadline 1 s): requests arrive, open loop, at twice the
         * in-process limit whatever the answers do, as many independent clients send them. The served
         * p99 should stay within the deadline, the excess get 503 at once, and the heap stay flat.
         */
        Map<String, Object> overload(Workload w, double limitPerSecond, int secs) throws Exception {
            smallQueue(w);
            double rate = 2 * limitPerSecond;
            // a first, shorter round sizes what a server keeps for its connections (threads, buffer
            // pools); what the measured round adds on top of that would be a leak
            openLoad(w, rate, Math.max(2, secs / 2));
            long before = heapAfterGc();
            Map<String, Object> row = openLoad(w, rate, secs);
            long after = heapAfterGc();
            row.put("workload", w.name() + " (open loop at 2x the limit measured just before, queue 16, deadline 1000 ms)");
            row.put("limitPerSecond", limitPerSecond);
            heap(row, before, after);
            return row;
        }

        /**
         * Harsher than 2×: 256 callers in a closed loop that ignore {@code Retry-After} and send again at
         * once, so the 503s themselves take most of the two cores (with this benchmark's Java client on
         * them too).
         */
        Map<String, Object> retryStorm(Workload w, int secs) throws Exception {
            smallQueue(w);
            rawLoad(w, 256, Math.max(2, secs / 2), true);
            long before = heapAfterGc();
            Map<String, Object> row = rawLoad(w, 256, secs, true);
            long after = heapAfterGc();
            row.put("workload", w.name() + " (256 callers, no back-off, queue 16, deadline 1000 ms)");
            heap(row, before, after);
            return row;
        }

        private void smallQueue(Workload w) throws Exception {
            tune(w.model(), "maxBatchSize = 32\nminWorkers = 1\nmaxWorkers = 2\n"
                    + "queueCapacity = 16\ndeadlineMs = 1000\n");
        }

        private void heap(Map<String, Object> row, long before, long after) {
            row.put("heapBeforeMiB", round(before / 1048576.0, 1));
            row.put("heapAfterMiB", round(after / 1048576.0, 1));
            row.put("heapChange", round((after - before) / (double) before, 3));
        }

        /** Open loop with {@link RawLoad}: requests due at a fixed rate, each timed from when it was due. */
        private Map<String, Object> openLoad(Workload w, double perSecond, int secs) throws Exception {
            long serverBefore = cpuTicks(pid());
            long clientBefore = ownCpuNanos();
            RawLoad.Result r = RawLoad.openLoop(address(), path(w), auth, w.body(), perSecond, secs, OPEN_LOOP_CONNECTIONS);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("client", "raw open loop");
            row.put("offeredPerSecond", round(perSecond, 1));
            answers(row, r, serverBefore, clientBefore);
            row.put("notSent", r.notSent());
            return row;
        }

        private long heapAfterGc() throws Exception {
            JMXServiceURL url = new JMXServiceURL("service:jmx:rmi://127.0.0.1:" + rmiServer + "/jndi/rmi://127.0.0.1:"
                    + rmiRegistry + "/karaf-root");
            String password = Files.readString(home.resolve("etc/admin.password")).trim();
            try (JMXConnector c = JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS,
                    new String[] {"admin", password}))) {
                MBeanServerConnection s = c.getMBeanServerConnection();
                ObjectName memory = new ObjectName(ManagementFactory.MEMORY_MXBEAN_NAME);
                // the least of three collections: one GC can leave garbage a concurrent phase is still marking
                long least = Long.MAX_VALUE;
                for (int i = 0; i < 3; i++) {
                    s.invoke(memory, "gc", null, null);
                    Thread.sleep(300);
                    least = Math.min(least, MemoryUsage.from((CompositeData) s.getAttribute(memory, "HeapMemoryUsage")).getUsed());
                }
                return least;
            }
        }

        void stop() throws Exception {
            if (home == null) {
                return;
            }
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/stop").toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stop.log").toFile());
            pb.environment().putAll(env());
            pb.start().waitFor();
            long pid = pid();
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < end) {
                Thread.sleep(200);
            }
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** The longest the JIT may take to settle on one workload before its points are measured anyway. */
    static final int WARM_UP_LIMIT_SECONDS = 18;

    /** The most connections, so requests outstanding, the open-loop client keeps. */
    static final int OPEN_LOOP_CONNECTIONS = 256;

    /** The machine's cores, counted before anything is pinned (the JVM counts only the cores it may use). */
    static final int CORES = Runtime.getRuntime().availableProcessors();

    /** Debian's wrk, when installed. */
    static final String WRK = Files.isExecutable(Path.of("/usr/bin/wrk")) ? "/usr/bin/wrk" : null;

    /** Ports this run has handed out already. */
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A port free on loopback now and not handed out before: two binds in a row may get the same one. */
    static int free() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("no free port on loopback that was not handed out already");
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, to.resolve(p.getFileName().toString()));
            }
        }
    }
}
