package io.enclave.itests;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A closed-loop load of inference requests, counted per phase: the test moves the phase, and a
 * request counts in a phase only when it started and ended in it. Every failure is kept.
 */
final class Load implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What answered: model, version, whether as fallback. */
    record Answer(String model, String version, boolean fallback) {
    }

    private final List<Thread> threads = new ArrayList<>();
    private final AtomicInteger phase = new AtomicInteger();
    private final Map<Integer, Map<Answer, AtomicInteger>> counts = new ConcurrentHashMap<>();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final AtomicLong total = new AtomicLong();
    private final Map<String, String> stickyFirst = new ConcurrentHashMap<>();
    private final List<String> stickyBroken = new CopyOnWriteArrayList<>();
    private volatile boolean running = true;

    /**
     * @param routeKey per thread, the sticky header's value to send (null: none)
     */
    Load(HttpClient http, String url, String auth, int threadCount, String body, String header, IntFunction<String> routeKey) {
        for (int t = 0; t < threadCount; t++) {
            String key = routeKey == null ? null : routeKey.apply(t);
            Thread thread = new Thread(() -> {
                while (running) {
                    int started = phase.get();
                    try {
                        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                                .header("Content-Type", "application/json").header("Authorization", auth)
                                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
                        if (key != null) {
                            b.header(header, key);
                        }
                        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                        total.incrementAndGet();
                        if (r.statusCode() != 200) {
                            failures.add(r.statusCode() + " " + r.body());
                            continue;
                        }
                        JsonNode j = JSON.readTree(r.body());
                        Answer a = new Answer(j.get("model_name").asText(), j.get("model_version").asText(),
                                j.path("parameters").path("enclave_fallback").asBoolean(false));
                        if (key != null) {
                            String first = stickyFirst.putIfAbsent(key, a.version());
                            if (first != null && !first.equals(a.version())) {
                                stickyBroken.add(key + ": " + first + " then " + a.version());
                            }
                        }
                        if (phase.get() == started) {
                            counts.computeIfAbsent(started, p -> new ConcurrentHashMap<>())
                                    .computeIfAbsent(a, x -> new AtomicInteger()).incrementAndGet();
                        }
                    } catch (Exception e) {
                        total.incrementAndGet();
                        failures.add(e.toString());
                    }
                }
            }, "load-" + t);
            thread.setDaemon(true);
            threads.add(thread);
        }
        threads.forEach(Thread::start);
    }

    void phase(int p) {
        phase.set(p);
    }

    int inPhase(int p) {
        return counts.getOrDefault(p, Map.of()).values().stream().mapToInt(AtomicInteger::get).sum();
    }

    Map<Answer, AtomicInteger> counts(int p) {
        return counts.getOrDefault(p, Map.of());
    }

    /** @return share of phase {@code p}'s answers that came from this version, in percent */
    double share(int p, String version) {
        int all = inPhase(p);
        int mine = counts(p).entrySet().stream().filter(e -> e.getKey().version().equals(version))
                .mapToInt(e -> e.getValue().get()).sum();
        return all == 0 ? Double.NaN : 100.0 * mine / all;
    }

    void awaitInPhase(int p, int requests, Duration timeout) throws InterruptedException {
        EnclaveTestSupport.await(requests + " requests in phase " + p + " (have " + inPhase(p) + ", failures " + failures.size()
                + ")", timeout, () -> inPhase(p) >= requests);
    }

    List<String> failures() {
        return failures;
    }

    List<String> stickyBroken() {
        return stickyBroken;
    }

    Map<String, String> stickyFirst() {
        return stickyFirst;
    }

    long total() {
        return total.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(70_000);
        }
    }
}
