package io.enclave.monitor.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.ToLongFunction;

import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.enclave.api.BatchingControl;
import io.enclave.api.InferenceObserver;
import io.enclave.api.InferenceStats;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelVersion;
import io.enclave.api.Router;
import io.enclave.api.TokenCounts;
import io.enclave.api.VersionStats;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Enclave's metrics, in Prometheus conventions: base units, {@code _total} counters, {@code model}
 * and {@code version} labels and nothing unbounded (a request for a model that is not installed
 * counts under {@code model="_unknown"}). Latency histograms have 24 buckets growing by half from
 * 1 ms to 11 s, so a p99 is resolved within one bucket across that range.
 */
@Component(service = {InferenceObserver.class, PrometheusMetrics.class}, immediate = true)
public class PrometheusMetrics implements InferenceObserver {
    /** 1 ms × 1.5^k, k = 0..23: 1 ms to 11.2 s. */
    static final double[] LATENCY_BUCKETS = exponential(0.001, 1.5, 24);

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Counter requests;
    private final Histogram duration;
    private final Histogram queue;
    private final Histogram compute;
    private final Histogram batch;
    private final Counter fallbacks;
    private final Counter decisions;
    private final Gauge loadSeconds;
    private final GpuTelemetry gpus;
    /**
     * Each version's data points, found once: a label lookup hashes and allocates, and a request makes
     * six. Holds what the registry holds (a model and version's series live as long as the process).
     */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Series>> series = new ConcurrentHashMap<>();

    /**
     * One model version's data points, each looked up the first time it is needed, so a series appears
     * when it first counts something, as it would without this cache. Two threads may look one up at
     * once: both get the same data point from the registry.
     */
    private final class Series {
        private final String model;
        private final String version;
        private final AtomicReferenceArray<CounterDataPoint> requests = new AtomicReferenceArray<>(
                Outcome.values().length);
        private volatile DistributionDataPoint[] latencies;
        private volatile CounterDataPoint fallbacks;

        Series(String model, String version) {
            this.model = model;
            this.version = version;
        }

        CounterDataPoint requests(Outcome o) {
            CounterDataPoint c = requests.get(o.ordinal());
            if (c == null) {
                c = PrometheusMetrics.this.requests.labelValues(model, version, o.name().toLowerCase(Locale.ROOT));
                requests.set(o.ordinal(), c);
            }
            return c;
        }

        /** duration, queue, compute and batch size, in that order. */
        DistributionDataPoint[] latencies() {
            DistributionDataPoint[] l = latencies;
            if (l == null) {
                l = new DistributionDataPoint[] {duration.labelValues(model, version), queue.labelValues(model, version),
                    compute.labelValues(model, version), batch.labelValues(model, version)};
                latencies = l;
            }
            return l;
        }

        CounterDataPoint fallbacks() {
            CounterDataPoint f = fallbacks;
            if (f == null) {
                f = PrometheusMetrics.this.fallbacks.labelValues(model, version);
                fallbacks = f;
            }
            return f;
        }
    }

    @Activate
    public PrometheusMetrics(@Reference(name = "registry") ModelRegistry models, @Reference(name = "router") Router router,
            @Reference(name = "stats") InferenceStats stats, @Reference(name = "batching") BatchingControl batching) {
        this(models, router, stats, batching, new GpuTelemetry());
    }

    PrometheusMetrics(ModelRegistry models, Router router, InferenceStats stats, BatchingControl batching,
            GpuTelemetry gpus) {
        this.gpus = gpus;
        requests = Counter.builder().name("enclave_inference_requests_total")
                .help("Inference requests by how they ended").labelNames("model", "version", "outcome").register(registry);
        duration = latency("enclave_inference_duration_seconds", "End-to-end inference latency inside Enclave");
        queue = latency("enclave_queue_duration_seconds", "Time a request waited before the engine started on it");
        compute = latency("enclave_compute_duration_seconds", "Time the engine spent on a request's batch");
        batch = Histogram.builder().name("enclave_batch_size").help("Requests the engine ran together")
                .labelNames("model", "version").classicOnly().classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128)
                .register(registry);
        fallbacks = Counter.builder().name("enclave_fallback_total")
                .help("Requests the model's fallback answered instead of it").labelNames("model", "version").register(registry);
        decisions = Counter.builder().name("enclave_rollbacks_total")
                .help("Canary rollbacks, by who decided (operator or automatic)").labelNames("model", "version", "trigger")
                .register(registry);
        loadSeconds = Gauge.builder().name("enclave_model_load_seconds")
                .help("How long the version's last load took, warm-up included").labelNames("model", "version").register(registry);
        GaugeWithCallback.builder().name("enclave_queue_depth")
                .help("Requests admitted and not yet running on an engine").labelNames("model", "version")
                .callback(cb -> models.versions().forEach(v -> cb.call(batching.queued(v.descriptor().name(),
                        v.descriptor().version()), v.descriptor().name(), v.descriptor().version().toString())))
                .register(registry);
        GaugeWithCallback.builder().name("enclave_workers")
                .help("Engine calls running now: batches, and lone requests on their own thread").labelNames("model", "version")
                .callback(cb -> models.versions().forEach(v -> cb.call(batching.running(v.descriptor().name(),
                        v.descriptor().version()), v.descriptor().name(), v.descriptor().version().toString())))
                .register(registry);
        GaugeWithCallback.builder().name("enclave_worker_threads")
                .help("Worker threads the version holds, busy or idle: minWorkers, more while requests queue, up to maxWorkers")
                .labelNames("model", "version")
                .callback(cb -> models.versions().forEach(v -> cb.call(batching.workers(v.descriptor().name(),
                        v.descriptor().version()), v.descriptor().name(), v.descriptor().version().toString())))
                .register(registry);
        // read from the engine's own counts (since the version last loaded), so a batch costs nothing more;
        // a version without text to pad has no series
        tokenCounter(models, "enclave_text_tokens_total",
                "Token positions a text model's batches computed since it loaded, padding included", TokenCounts::tokens);
        tokenCounter(models, "enclave_text_padding_tokens_total",
                "Of those, positions that only padded a shorter text to its batch's longest (see maxPaddingRatio)",
                TokenCounts::padding);
        GaugeWithCallback.builder().name("enclave_traffic_weight")
                .help("Share of the model's unversioned requests the version takes, 0 to 1").labelNames("model", "version")
                .callback(cb -> {
                    for (String m : router.models()) {
                        for (Map.Entry<Version, Double> w : router.weights(m).entrySet()) {
                            cb.call(w.getValue() / 100.0, m, w.getKey().toString());
                        }
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("enclave_shadow_agreement_ratio")
                .help("Share of shadow answers that agreed with the real answer").labelNames("model", "version")
                .callback(cb -> {
                    for (ModelVersion v : models.versions()) {
                        VersionStats s = stats.stats(v.descriptor().name(), v.descriptor().version());
                        if (s.shadowCompared() > 0) {
                            cb.call(s.shadowAgreement(), v.descriptor().name(), v.descriptor().version().toString());
                        }
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("enclave_model_state")
                .help("1 for the state each installed version is in").labelNames("model", "version", "state")
                .callback(cb -> {
                    for (ModelVersion v : models.versions()) {
                        for (ModelState s : ModelState.values()) {
                            cb.call(v.state() == s ? 1 : 0, v.descriptor().name(), v.descriptor().version().toString(),
                                    s.name());
                        }
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("enclave_gpu_utilization_ratio")
                .help("GPU utilization from NVML, 0 to 1").labelNames("gpu")
                .callback(cb -> gpus.read().forEach(g -> cb.call(g.utilizationRatio(), Integer.toString(g.index()))))
                .register(registry);
        GaugeWithCallback.builder().name("enclave_gpu_memory_used_bytes")
                .help("GPU memory in use, from NVML").labelNames("gpu")
                .callback(cb -> gpus.read().forEach(g -> cb.call(g.memoryUsedBytes(), Integer.toString(g.index()))))
                .register(registry);
        JvmMetrics.builder().register(registry);
    }

    /** A counter per text version, read from its engine's {@link TokenCounts} at scrape time. */
    private void tokenCounter(ModelRegistry models, String name, String help, ToLongFunction<TokenCounts> count) {
        CounterWithCallback.builder().name(name).help(help).labelNames("model", "version")
                .callback(cb -> models.versions().forEach(v -> {
                    TokenCounts t = v.tokenCounts();
                    if (t != null) {
                        cb.call(count.applyAsLong(t), v.descriptor().name(), v.descriptor().version().toString());
                    }
                })).register(registry);
    }

    private Histogram latency(String name, String help) {
        return Histogram.builder().name(name).help(help).labelNames("model", "version").classicOnly()
                .classicUpperBounds(LATENCY_BUCKETS).register(registry);
    }

    static double[] exponential(double start, double factor, int count) {
        double[] b = new double[count];
        double v = start;
        for (int i = 0; i < count; i++) {
            b[i] = Math.round(v * 1e7) / 1e7;
            v *= factor;
        }
        return b;
    }

    GpuTelemetry gpus() {
        return gpus;
    }

    @Override
    public void completed(String model, String version, Outcome outcome, long totalNanos, long queueNanos,
            long computeNanos, int batchSize) {
        Series s = series(model, version);
        s.requests(outcome).inc();
        if (outcome == Outcome.CLIENT_ERROR || outcome == Outcome.REJECTED) {
            return;
        }
        DistributionDataPoint[] l = s.latencies();
        l[0].observe(totalNanos / 1e9);
        l[1].observe(queueNanos / 1e9);
        l[2].observe(computeNanos / 1e9);
        l[3].observe(batchSize);
        if (outcome == Outcome.FALLBACK) {
            s.fallbacks().inc();
        }
    }

    private Series series(String model, String version) {
        ConcurrentHashMap<String, Series> ofModel = series.get(model);
        Series s = ofModel == null ? null : ofModel.get(version);
        if (s != null) {
            return s;
        }
        return series.computeIfAbsent(model, m -> new ConcurrentHashMap<>()).computeIfAbsent(version,
                v -> new Series(model, v));
    }

    @Override
    public void loaded(String model, String version, long nanos) {
        loadSeconds.labelValues(model, version).set(nanos / 1e9);
        // counted from zero, so a rate() over them works from the first event on
        fallbacks.labelValues(model, version);
        decisions.labelValues(model, version, "operator");
        decisions.labelValues(model, version, "automatic");
    }

    @Override
    public void trafficDecision(String model, String version, String decision) {
        if (decision.startsWith("rollback")) {
            decisions.labelValues(model, version, decision.endsWith(".auto") ? "automatic" : "operator").inc();
        }
    }

    /** Writes every metric in the Prometheus text format (0.0.4). */
    void write(OutputStream out) throws IOException {
        writer.write(out, registry.scrape(), EscapingScheme.DEFAULT);
    }

    String contentType() {
        return writer.getContentType();
    }
}
