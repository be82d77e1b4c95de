package io.enclave.monitor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Version;

import io.enclave.api.BatchingControl;
import io.enclave.api.BatchingSettings;
import io.enclave.api.InferenceObserver.Outcome;
import io.enclave.api.InferenceStats;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;
import io.enclave.api.Router;
import io.enclave.api.TokenCounts;
import io.enclave.api.VersionStats;

class MonitorTest {
    private static final Version V = Version.parseVersion("1.1.0");

    private final ModelVersion version = new ModelVersion() {
        @Override
        public ModelDescriptor descriptor() {
            return ModelDescriptor.builder().name("minilm").version(V).engine("onnxruntime").artifact("model.onnx")
                    .input(new io.enclave.api.TensorSpec("text", io.enclave.api.DataType.BYTES, new long[] {-1}))
                    .output(new io.enclave.api.TensorSpec("e", io.enclave.api.DataType.FP32, new long[] {-1, 2}))
                    .artifacts(new io.enclave.api.ArtifactSource() {
                        @Override
                        public boolean exists(String entry) {
                            return false;
                        }

                        @Override
                        public java.io.InputStream open(String entry) {
                            return null;
                        }

                        @Override
                        public String describe() {
                            return "test";
                        }
                    }).build();
        }

        @Override
        public ModelState state() {
            return ModelState.READY;
        }

        @Override
        public String failure() {
            return null;
        }

        @Override
        public String device() {
            return "cpu";
        }

        @Override
        public List<NamedTensor> infer(List<NamedTensor> inputs) {
            return List.of();
        }

        @Override
        public TokenCounts tokenCounts() {
            return new TokenCounts(1200, 300);
        }
    };

    private final ModelRegistry registry = new ModelRegistry() {
        @Override
        public List<ModelVersion> versions() {
            return List.of(version);
        }

        @Override
        public List<ModelVersion> versions(String model) {
            return model.equals("minilm") ? List.of(version) : List.of();
        }

        @Override
        public Optional<ModelVersion> find(String model, Version v) {
            return Optional.of(version);
        }

        @Override
        public boolean allReady() {
            return true;
        }
    };

    private final Router router = new Router() {
        @Override
        public io.enclave.api.InferenceResponse infer(io.enclave.api.InferenceRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ModelVersion resolve(String model, String version) {
            return MonitorTest.this.version;
        }

        @Override
        public Map<Version, Double> weights(String model) {
            return Map.of(V, 100.0);
        }

        @Override
        public List<String> models() {
            return List.of("minilm");
        }
    };

    /** Seven requests wait for a worker or their batch; two batches compute, on two of three workers. */
    private final BatchingControl batching = new BatchingControl() {
        @Override
        public BatchingSettings settings(String model, Version version) {
            return BatchingSettings.defaults();
        }

        @Override
        public int queued(String model, Version version) {
            return 7;
        }

        @Override
        public int running(String model, Version version) {
            return 2;
        }

        @Override
        public int workers(String model, Version version) {
            return 3;
        }

        @Override
        public java.util.Optional<io.enclave.api.BatchingOverride> override(String model) {
            return java.util.Optional.empty();
        }

        @Override
        public void tune(String model, io.enclave.api.BatchingOverride override) {
        }
    };

    private volatile double p99 = 5;
    private final InferenceStats stats = (m, v, w) -> new VersionStats(100, 0, 0, w, 100, 0, 2, 4, p99, 10, 9, 0, 0);

    @Test
    void metricsFollowPrometheusConventions() throws Exception {
        PrometheusMetrics metrics = new PrometheusMetrics(registry, router, stats, batching, new GpuTelemetry(null));
        metrics.completed("minilm", "1.1.0", Outcome.SUCCESS, 3_000_000, 10_000, 2_900_000, 1);
        metrics.completed("minilm", "1.1.0", Outcome.SUCCESS, 40_000_000, 10_000, 39_000_000, 1);
        metrics.completed("minilm", "1.1.0", Outcome.FALLBACK, 5_000_000, 0, 4_000_000, 1);
        metrics.completed("_unknown", "", Outcome.CLIENT_ERROR, 1_000, 0, 0, 1);
        metrics.trafficDecision("minilm", "1.1.0", "rollback.auto");
        metrics.loaded("minilm", "1.1.0", 1_500_000_000L);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("enclave_inference_requests_total{model=\"minilm\",outcome=\"success\",version=\"1.1.0\"} 2.0"), text);
        assertTrue(text.contains("enclave_inference_requests_total{model=\"_unknown\",outcome=\"client_error\",version=\"\"} 1.0"));
        assertTrue(text.contains("enclave_inference_duration_seconds_bucket{model=\"minilm\",version=\"1.1.0\",le=\"0.001\"} 0"));
        assertTrue(text.contains("enclave_inference_duration_seconds_count{model=\"minilm\",version=\"1.1.0\"} 3"));
        assertTrue(text.contains("enclave_fallback_total{model=\"minilm\",version=\"1.1.0\"} 1.0"));
        assertTrue(text.contains("enclave_rollbacks_total{model=\"minilm\",trigger=\"automatic\",version=\"1.1.0\"} 1.0"));
        assertTrue(text.contains("enclave_traffic_weight{model=\"minilm\",version=\"1.1.0\"} 1.0"));
        assertTrue(text.contains("enclave_model_state{model=\"minilm\",state=\"READY\",version=\"1.1.0\"} 1.0"));
        assertTrue(text.contains("enclave_shadow_agreement_ratio{model=\"minilm\",version=\"1.1.0\"} 0.9"));
        assertTrue(text.contains("enclave_model_load_seconds{model=\"minilm\",version=\"1.1.0\"} 1.5"));
        assertTrue(text.contains("enclave_queue_depth{model=\"minilm\",version=\"1.1.0\"} 7.0"), "what waits, as batching counts it");
        assertTrue(text.contains("enclave_workers{model=\"minilm\",version=\"1.1.0\"} 2.0"), "what computes, not what is in flight");
        assertTrue(text.contains("enclave_worker_threads{model=\"minilm\",version=\"1.1.0\"} 3.0"), "the pool, idle workers too");
        assertTrue(text.contains("enclave_text_tokens_total{model=\"minilm\",version=\"1.1.0\"} 1200.0"), "as the engine counted");
        assertTrue(text.contains("enclave_text_padding_tokens_total{model=\"minilm\",version=\"1.1.0\"} 300.0"));
        assertTrue(text.contains("jvm_memory_used_bytes"), "JVM metrics");
        assertTrue(text.contains("process_cpu_seconds_total"), "process metrics");
        assertTrue(!text.contains("enclave_gpu_utilization_ratio{"), "no GPU: absent, not zero");
        assertEquals(24, PrometheusMetrics.LATENCY_BUCKETS.length);
        assertEquals(0.001, PrometheusMetrics.LATENCY_BUCKETS[0]);
        assertTrue(PrometheusMetrics.LATENCY_BUCKETS[23] > 10);
    }

    @Test
    void nvidiaSmiOutputIsRead() {
        List<GpuTelemetry.Gpu> gpus = GpuTelemetry.parse("0, 93, 1024, 81920\n1, [N/A], 0, 81920\n");
        assertEquals(1, gpus.size());
        assertEquals(0.93, gpus.get(0).utilizationRatio(), 1e-9);
        assertEquals(1024.0 * 1024 * 1024, gpus.get(0).memoryUsedBytes());
    }

    /**
     * What an H100's driver (580.159.04) printed for this query, idle and then under a bf16 matrix
     * product holding 20 GiB: read by {@link GpuTelemetry} on that machine as 0.0 and then 1.0, with
     * 21 363 MiB in use. A script stands in for the driver here.
     */
    @Test
    void aDriversFiguresBecomeGpuMetricsAndABusyGpuAlerts(@TempDir Path dir) throws Exception {
        Path figures = dir.resolve("figures.csv");
        Files.writeString(figures, "0, 0, 0, 81559\n");
        Path smi = dir.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\n"
                + "[ \"$*\" = '--query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits' ]"
                + " || exit 2\nexec cat '" + figures + "'\n");
        assertTrue(smi.toFile().setExecutable(true));
        GpuTelemetry idle = new GpuTelemetry(smi);
        assertEquals(List.of(new GpuTelemetry.Gpu(0, 0.0, 0.0, 81559.0 * 1024 * 1024)), idle.read());

        Files.writeString(figures, "0, 100, 21363, 81559\n");
        PrometheusMetrics metrics = new PrometheusMetrics(registry, router, stats, batching, new GpuTelemetry(smi));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("enclave_gpu_utilization_ratio{gpu=\"0\"} 1.0"), text);
        assertTrue(text.contains("enclave_gpu_memory_used_bytes{gpu=\"0\"} 2.2400729088E10"), text);

        AlertChecker checker = new AlertChecker(registry, stats, metrics, config(200, 2));
        try {
            checker.check(0);
            checker.check(2_000_000_000L);
            assertEquals(1, checker.active().size());
            assertEquals("EnclaveGpuUtilizationHigh", checker.active().get(0).name());
            assertEquals("gpu 0", checker.active().get(0).subject());
        } finally {
            checker.deactivate();
        }
    }

    @Test
    void theCheckerRaisesOnceAfterItsDurationAndClears() {
        PrometheusMetrics metrics = new PrometheusMetrics(registry, router, stats, batching, new GpuTelemetry(null));
        AlertChecker checker = new AlertChecker(registry, stats, metrics, config(200, 2));
        try {
            p99 = 350;
            checker.check(0);
            assertEquals(List.of(), checker.active(), "not before it has held for its duration");
            checker.check(1_000_000_000L);
            assertEquals(List.of(), checker.active());
            checker.check(2_000_000_000L);
            assertEquals(1, checker.active().size());
            assertEquals("EnclaveP99LatencyHigh", checker.active().get(0).name());
            assertEquals("minilm 1.1.0", checker.active().get(0).subject());
            checker.check(3_000_000_000L);
            assertEquals(1, checker.active().size(), "raised once");
            p99 = 20;
            checker.check(4_000_000_000L);
            assertEquals(List.of(), checker.active(), "cleared");
        } finally {
            checker.deactivate();
        }
    }

    static AlertChecker.Config config(double p99Millis, int forSeconds) {
        return new AlertChecker.Config() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return AlertChecker.Config.class;
            }

            @Override
            public double p99Millis() {
                return p99Millis;
            }

            @Override
            public double gpuUtilization() {
                return 0.8;
            }

            @Override
            public int forSeconds() {
                return forSeconds;
            }

            @Override
            public int windowSeconds() {
                return 60;
            }

            @Override
            public int minRequests() {
                return 20;
            }

            @Override
            public long scheduler_period() {
                return 10;
            }
        };
    }
}
