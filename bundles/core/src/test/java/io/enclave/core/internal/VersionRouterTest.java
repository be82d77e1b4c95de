package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Hashtable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.osgi.framework.Version;

import io.enclave.api.ConflictException;
import io.enclave.api.DataType;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.Slo;
import io.enclave.api.TrafficRules;
import io.enclave.api.VersionStats;
import io.enclave.api.InferenceException;
import io.enclave.api.InferenceRequest;
import io.enclave.api.InferenceResponse;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.NamedTensor;

class VersionRouterTest {
    private final EngineModelRegistry registry = new EngineModelRegistry();
    private final Fakes.Engine engine = new Fakes.Engine();
    private final TrafficManager traffic = new TrafficManager(null, null, registry);
    private final VersionRouter router = new VersionRouter(registry, traffic, new VersionMeters());

    private static final NamedTensor X = new NamedTensor("x", DataType.FP32, new long[] {2, 2}, new float[] {1, 2, 3, 4});

    @BeforeEach
    void start() throws Exception {
        registry.bindEngine(engine);
        registry.bindDescriptor(Fakes.model("m", "1.0.0"));
        registry.bindDescriptor(Fakes.model("m", "1.1.0"));
        EngineModelRegistryTest.await(registry::allReady);
        traffic.activate();
    }

    @AfterEach
    void stop() {
        traffic.deactivate();
        router.deactivate();
        registry.deactivate();
    }

    private InferenceResponse infer(String version, List<NamedTensor> inputs, List<String> outputs) {
        return router.infer(new InferenceRequest("m", version, inputs, outputs));
    }

    @Test
    void noVersionGoesToTheHighestUnlessAPolicyPinsOne() {
        assertEquals("1.1.0", infer(null, List.of(X), null).version().toString());
        traffic.pin("m", v("1.0.0"));
        assertEquals("1.0.0", infer(null, List.of(X), null).version().toString());
        assertEquals("1.0.0", infer("1.0", List.of(X), null).version().toString(), "1.0 names 1.0.0");
    }

    @Test
    void allOutputsUnlessSomeAreRequested() {
        InferenceResponse all = infer(null, List.of(X), null);
        assertEquals(List.of("y", "z"), all.outputs().stream().map(NamedTensor::name).toList());
        assertArrayEquals(new float[] {2, 4, 6, 8}, all.outputs().get(0).floats());
        InferenceResponse some = infer(null, List.of(X), List.of("z"));
        assertEquals(List.of("z"), some.outputs().stream().map(NamedTensor::name).toList());
        assertArrayEquals(new float[] {3, 7}, some.outputs().get(0).floats());
    }

    @Test
    void unknownModelOrVersionIsNotFound() {
        ModelNotFoundException m = assertThrows(ModelNotFoundException.class,
                () -> router.infer(new InferenceRequest("nope", null, List.of(X), null)));
        assertEquals("unknown model 'nope'", m.getMessage());
        ModelNotFoundException v = assertThrows(ModelNotFoundException.class, () -> infer("2.0.0", List.of(X), null));
        assertTrue(v.getMessage().contains("no version '2.0.0' (installed: 1.0.0, 1.1.0)"), v.getMessage());
        assertThrows(ModelNotFoundException.class, () -> infer("latest", List.of(X), null));
    }

    @Test
    void requestsThatDoNotFitTheSignatureAreRejectedByName() {
        NamedTensor wrongType = new NamedTensor("x", DataType.INT32, new long[] {1, 2}, new int[] {1, 2});
        NamedTensor wrongShape = new NamedTensor("x", DataType.FP32, new long[] {1, 3}, new float[] {1, 2, 3});
        NamedTensor stranger = new NamedTensor("w", DataType.FP32, new long[] {1, 2}, new float[] {1, 2});
        assertMessage("datatype INT32 but model 'm' expects FP32", () -> infer(null, List.of(wrongType), null));
        assertMessage("shape [1, 3] but model 'm' expects [-1, 2]", () -> infer(null, List.of(wrongShape), null));
        assertMessage("unexpected input 'w'", () -> infer(null, List.of(X, stranger), null));
        assertMessage("missing input 'x'", () -> infer(null, List.of(), null));
        assertMessage("given more than once", () -> infer(null, List.of(X, X), null));
        assertMessage("unknown output 'q' for model 'm' (it has y, z)", () -> infer(null, List.of(X), List.of("q")));
    }

    @Test
    void aModelWithNothingReadyIsUnavailable() throws Exception {
        EngineModelRegistry other = new EngineModelRegistry();
        try {
            Fakes.Engine broken = new Fakes.Engine();
            broken.failWith = "bad graph";
            other.bindEngine(broken);
            other.bindDescriptor(Fakes.model("m", "1.0.0"));
            EngineModelRegistryTest.await(() -> other.versions("m").get(0).failure() != null);
            ModelUnavailableException e = assertThrows(ModelUnavailableException.class,
                    () -> new VersionRouter(other, new TrafficManager(null, null, other), new VersionMeters()).resolve("m", null));
            assertTrue(e.getMessage().contains("1.0.0 FAILED: bad graph"), e.getMessage());
        } finally {
            other.deactivate();
        }
    }

    private int canaryShare(int requests, java.util.function.IntFunction<String> key) {
        int canary = 0;
        for (int i = 0; i < requests; i++) {
            if (router.resolve("m", null, key.apply(i)).descriptor().version().toString().equals("1.1.0")) {
                canary++;
            }
        }
        return canary;
    }

    @Test
    void aCanaryTakesItsShareAndAStickyKeyAlwaysLandsOnTheSameSide() {
        traffic.set(rules().stable(v("1.0.0")).canary(v("1.1.0"), 30).stickyHeader("Enclave-Route-Key").build());
        assertEquals(java.util.Optional.of("Enclave-Route-Key"), router.stickyHeader("m"));
        int random = canaryShare(4000, i -> null);
        assertTrue(random > 1000 && random < 1400, "30% of 4000 requests, got " + random);
        int keyed = canaryShare(4000, i -> "customer-" + i);
        assertTrue(keyed > 1000 && keyed < 1400, "30% of 4000 keys, got " + keyed);
        for (String key : List.of("alice", "bob", "carol")) {
            String first = router.resolve("m", null, key).descriptor().version().toString();
            for (int i = 0; i < 50; i++) {
                assertEquals(first, router.resolve("m", null, key).descriptor().version().toString(), key);
            }
        }
        assertEquals("1.0.0", router.resolve("m", "1.0.0", "anyone").descriptor().version().toString(), "the URL wins");

        traffic.canary("m", v("1.1.0"), 0);
        assertEquals(0, canaryShare(500, i -> null), "a canary at 0 % takes nothing, even as the highest version");
        traffic.canary("m", v("1.1.0"), 100);
        assertEquals(500, canaryShare(500, i -> null));
        traffic.pin("m", v("1.0.0"));
        assertEquals(0, canaryShare(500, i -> null), "a pin overrides the split");
        traffic.pin("m", null);
        traffic.canary("m", v("1.1.0"), 12.5);
        int tenths = canaryShare(4000, i -> null);
        assertTrue(tenths > 350 && tenths < 650, "12.5% of 4000, got " + tenths);
    }

    @Test
    void promoteMakesTheCanaryStableAndRollbackReturns() {
        traffic.canary("m", v("1.1.0"), 10);
        assertEquals(v("1.0.0"), traffic.rules("m").stable(), "the version serving so far is recorded as stable");
        TrafficRules promoted = traffic.promote("m");
        assertEquals(v("1.1.0"), promoted.stable());
        assertEquals(v("1.0.0"), promoted.previous());
        assertNull(promoted.canary());
        assertEquals(0, 500 - canaryShare(500, i -> null));
        TrafficRules back = traffic.rollback("m", "bad quality");
        assertEquals(v("1.0.0"), back.stable());
        assertEquals(v("1.1.0"), back.rolledBack());
        assertEquals("bad quality", back.rolledBackReason());
        assertEquals(0, canaryShare(500, i -> null));

        traffic.canary("m", v("1.1.0"), 50);
        assertNull(traffic.rules("m").rolledBack(), "a new canary share clears the mark");
        TrafficRules rolled = traffic.rollback("m", null);
        assertNull(rolled.canary());
        assertEquals(v("1.1.0"), rolled.rolledBack());
        assertEquals(0, canaryShare(500, i -> null));
    }

    @Test
    void badChangesAreRefusedAndChangeNothing() {
        traffic.canary("m", v("1.1.0"), 10);
        TrafficRules before = traffic.rules("m");
        assertThrows(InvalidInputException.class, () -> traffic.canary("m", v("1.1.0"), 101));
        assertThrows(InvalidInputException.class, () -> traffic.canary("m", v("1.1.0"), 12.34));
        assertThrows(InvalidInputException.class, () -> traffic.canary("m", v("1.0.0"), 5), "the stable version");
        assertThrows(ModelNotFoundException.class, () -> traffic.canary("m", v("9.0.0"), 5));
        assertThrows(ModelNotFoundException.class, () -> traffic.canary("nope", v("1.0.0"), 5));
        assertThrows(ModelNotFoundException.class, () -> traffic.pin("m", v("9.0.0")));
        assertThrows(InvalidInputException.class, () -> rules().stickyHeader("bad header!").build());
        assertEquals(before, traffic.rules("m"));
        traffic.rollback("m", null);
        ConflictException none = assertThrows(ConflictException.class, () -> traffic.promote("m"));
        assertEquals("model 'm' has no canary to promote", none.getMessage());
    }

    @Test
    void rulesFromConfigurationAndTheirStaleEchoes() {
        assertEquals("minilm", TrafficRulesCodec.fromFileName("file:/opt/enclave/etc/io.enclave.traffic-minilm.cfg"));
        assertEquals("bert", TrafficRulesCodec.read("io.enclave.traffic~bert", Map.of()).model());
        assertThrows(InvalidInputException.class, () -> TrafficRulesCodec.read(null, Map.of("model", "../etc")));
        assertThrows(InvalidInputException.class,
                () -> TrafficRulesCodec.read(null, Map.of("model", "m", "version.default", "not a version")));
        assertThrows(InvalidInputException.class,
                () -> TrafficRulesCodec.read(null, Map.of("model", "m", "canary.version", "1.1.0", "canary.percent", "ten")));

        traffic.updated("io.enclave.traffic~m", dict("model", "m", "version.default", "1.0.0", "revision", "5"));
        assertEquals("1.0.0", infer(null, List.of(X), null).version().toString(), "a pin from a file");
        traffic.updated("io.enclave.traffic~m", dict("model", "m", "version.default", "3.0.0", "revision", "5"));
        assertEquals("1.1.0", infer(null, List.of(X), null).version().toString(), "a pin to a missing version is ignored");
        traffic.pin("m", v("1.0.0"));
        traffic.updated("io.enclave.traffic~m", dict("model", "m", "revision", "5"));
        assertEquals(v("1.0.0"), traffic.rules("m").pinned(), "an older write delivered late changes nothing");
        traffic.updated("io.enclave.traffic~m", dict("model", "m", "canary.percent", "150"));
        assertEquals(v("1.0.0"), traffic.rules("m").pinned(), "a broken file changes nothing");
        Hashtable<String, Object> written = TrafficRulesCodec.write(traffic.rules("m"));
        assertEquals(traffic.rules("m"), TrafficRulesCodec.read(null, written), "what is written reads back the same");
        traffic.deleted("io.enclave.traffic~m");
        assertNull(traffic.rules("m").pinned());
    }

    @Test
    void aNewVersionArrivesWithoutTraffic() throws Exception {
        registry.bindDescriptor(Fakes.model("n", "1.0.0"));
        traffic.bindDescriptor(Fakes.model("n", "1.0.0"));
        ModelDescriptor next = Fakes.model("n", "2.0.0");
        registry.bindDescriptor(next);
        traffic.bindDescriptor(next);
        EngineModelRegistryTest.await(registry::allReady);
        assertEquals(v("1.0.0"), traffic.rules("n").stable());
        for (int i = 0; i < 100; i++) {
            assertEquals("1.0.0", router.resolve("n", null).descriptor().version().toString());
        }
        ModelDescriptor third = Fakes.model("n", "3.0.0", Map.of("canary", Map.of("percent", 20)), null);
        registry.bindDescriptor(third);
        traffic.bindDescriptor(third);
        assertEquals(v("3.0.0"), traffic.rules("n").canary(), "model.json asked for a first share");
        assertEquals(20.0, traffic.rules("n").canaryPercent());
    }

    @Test
    void aFailingCanaryIsAnsweredByTheStableVersionAndRolledBackByItsLimits() throws Exception {
        ModelDescriptor bad = Fakes.model("m", "1.2.0", Map.of("faults", Map.of("errorRate", 0.5)), null);
        registry.bindDescriptor(bad);
        EngineModelRegistryTest.await(registry::allReady);
        traffic.bindStats(router);
        traffic.set(rules().stable(v("1.1.0")).canary(v("1.2.0"), 50)
                .slo(new Slo(0.1, Double.NaN, Double.NaN, 20, 60, false)).build());
        for (int i = 0; i < 200; i++) {
            assertEquals("1.1.0", infer(null, List.of(X), null).version().toString().replace("1.2.0", "1.1.0"));
        }
        VersionStats canary = router.stats("m", v("1.2.0"));
        assertTrue(canary.errors() > 10, "the canary failed some: " + canary);
        assertTrue(canary.windowErrorRate() > 0.1, canary.toString());
        traffic.checkCanaries();
        TrafficRules after = traffic.rules("m");
        assertNull(after.canary(), "rolled back");
        assertEquals(v("1.2.0"), after.rolledBack());
        assertTrue(after.rolledBackReason().startsWith("automatic: error rate"), after.rolledBackReason());
        assertEquals(0, java.util.stream.IntStream.range(0, 200)
                .filter(i -> infer(null, List.of(X), null).version().toString().equals("1.2.0")).count());
    }

    @Test
    void theFallbackAnswersWhenTheModelFailsOrIsGoneAndSaysSo() throws Exception {
        ModelDescriptor primary = Fakes.model("p", "1.0.0", Map.of("faults", Map.of("errorRate", 1.0)), "m");
        registry.bindDescriptor(primary);
        EngineModelRegistryTest.await(registry::allReady);
        for (int i = 0; i < 40; i++) {
            InferenceResponse r = router.infer(new InferenceRequest("p", null, List.of(X), null));
            assertTrue(r.fallback());
            assertEquals("m", r.model());
            assertArrayEquals(new float[] {2, 4, 6, 8}, r.outputs().get(0).floats());
        }
        assertEquals(40, router.stats("p", v("1.0.0")).fallbacks());
        assertTrue(router.stats("p", v("1.0.0")).requests() == 40);
        registry.unbindDescriptor(primary);
        InferenceResponse gone = router.infer(new InferenceRequest("p", null, List.of(X), null));
        assertTrue(gone.fallback(), "a stopped model is still answered by its fallback");
        assertFalse(infer(null, List.of(X), null).fallback());
    }

    @Test
    @Timeout(60)
    void theCumulativeSumsCountRowsRequestsAndBatchesAsTritonsStatisticsDo() throws Exception {
        // one computation at a time: the three requests that come while it is held run as one batch after it
        registry.bindDescriptor(Fakes.model("p", "1.0.0", Map.of("batching", Map.of("maxWorkers", 1, "maxBatchSize", 8)), null));
        EngineModelRegistryTest.await(registry::allReady);
        assertEquals(io.enclave.api.CumulativeStats.EMPTY, router.cumulative("p", v("1.0.0")));
        long before = System.currentTimeMillis();
        CompletableFuture<InferenceResponse> first = occupy("p");
        List<CompletableFuture<InferenceResponse>> queued = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            queued.add(router.inferAsync(new InferenceRequest("p", null, List.of(X), null)).toCompletableFuture());
        }
        Thread.sleep(200);
        engine.gate.countDown();
        first.get(10, TimeUnit.SECONDS);
        for (CompletableFuture<InferenceResponse> q : queued) {
            q.get(10, TimeUnit.SECONDS);
        }
        io.enclave.api.CumulativeStats s = router.cumulative("p", v("1.0.0"));
        assertEquals(8, s.inferenceCount(), "four requests of two rows");
        assertEquals(2, s.executionCount(), "the held request alone, then the three that waited together");
        assertEquals(4, s.success().count());
        assertEquals(0, s.fail().count());
        assertEquals(List.of(2, 6), s.batches().stream().map(io.enclave.api.CumulativeStats.Batch::rows).toList());
        for (io.enclave.api.CumulativeStats.Batch b : s.batches()) {
            assertEquals(1, b.computeInfer().count());
            assertEquals(1, b.computeInput().count());
            assertEquals(1, b.computeOutput().count());
        }
        // each request counts its batch's time: the held one and the three behind it each waited out the gate
        long held = TimeUnit.MILLISECONDS.toNanos(200);
        assertTrue(s.batches().get(0).computeInfer().nanos() >= held, s.toString());
        assertTrue(s.computeInfer().nanos() >= held, s.toString());
        assertTrue(s.queue().nanos() >= 3 * held, "the three queued behind the held one: " + s);
        assertTrue(s.success().nanos() >= s.queue().nanos() + s.computeInput().nanos() + s.computeInfer().nanos()
                + s.computeOutput().nanos(), "a request's whole time holds its stages: " + s);
        assertTrue(s.lastInferenceMillis() >= before && s.lastInferenceMillis() <= System.currentTimeMillis());

        // a failure counts as such and adds no rows; a request that does not fit is the caller's and counts nowhere
        engine.failingModel = "p";
        assertThrows(InferenceException.class, () -> router.infer(new InferenceRequest("p", null, List.of(X), null)));
        engine.failingModel = null;
        assertThrows(InvalidInputException.class, () -> router.infer(new InferenceRequest("p", null,
                List.of(new NamedTensor("x", DataType.FP32, new long[] {1, 3}, new float[] {1, 2, 3})), null)));
        io.enclave.api.CumulativeStats after = router.cumulative("p", v("1.0.0"));
        assertEquals(1, after.fail().count());
        assertEquals(8, after.inferenceCount());
        assertEquals(4, after.success().count());
        assertEquals(s.batches(), after.batches());
    }

    @Test
    @Timeout(60)
    void requestsHeldBackByInjectedLatencyStillCountTheirBatches() throws Exception {
        // model.json's injected latency queues a request only once it has passed: its batch is still counted once
        registry.bindDescriptor(Fakes.model("slow", "1.0.0", Map.of("faults", Map.of("latencyMs", 30),
                "batching", Map.of("maxBatchSize", 8, "maxWorkers", 1)), null));
        EngineModelRegistryTest.await(registry::allReady);
        int engineCallsBefore = engine.calls.get();
        CompletableFuture<InferenceResponse> first = occupy("slow");
        RegisteredVersion v = (RegisteredVersion) router.resolve("slow", null);
        List<CompletableFuture<InferenceResponse>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(router.inferAsync(new InferenceRequest("slow", null, List.of(X), null)).toCompletableFuture());
        }
        EngineModelRegistryTest.await(() -> v.batcher().queueDepth() == 3);
        engine.gate.countDown();
        first.get(10, TimeUnit.SECONDS);
        for (CompletableFuture<InferenceResponse> c : calls) {
            c.get(10, TimeUnit.SECONDS);
        }
        io.enclave.api.CumulativeStats s = router.cumulative("slow", v("1.0.0"));
        assertEquals(2, engine.calls.get() - engineCallsBefore, "the held request, then the three that waited");
        assertEquals(2, s.executionCount(), "the engine calls that ran, no more: " + s);
        assertEquals(8, s.inferenceCount());
        assertEquals(4, s.success().count());
        assertEquals(List.of(2, 6), s.batches().stream().map(io.enclave.api.CumulativeStats.Batch::rows).toList());
    }

    /** Holds the version's one computation at the engine's gate, from a thread of its own. */
    private CompletableFuture<InferenceResponse> occupy(String model) throws Exception {
        engine.gate = new CountDownLatch(1);
        CompletableFuture<InferenceResponse> first = CompletableFuture.supplyAsync(
                () -> router.infer(new InferenceRequest(model, null, List.of(X), null)));
        RegisteredVersion v = (RegisteredVersion) router.resolve(model, null);
        EngineModelRegistryTest.await(() -> v.batcher().busy() == 1);
        return first;
    }

    @Test
    @Timeout(60) // a stage that held its caller would wait for a gate this thread opens
    void aRequestWaitingForItsBatchHoldsNoThread() throws Exception {
        CompletableFuture<InferenceResponse> first = occupy("m");
        CompletableFuture<InferenceResponse> queued = router.inferAsync(
                new InferenceRequest("m", null, List.of(X), null)).toCompletableFuture();
        assertFalse(queued.isDone(), "the caller got its stage back while the request waits");
        engine.gate.countDown();
        assertArrayEquals(new float[] {2, 4, 6, 8}, queued.get(10, TimeUnit.SECONDS).outputs().get(0).floats());
        assertArrayEquals(new float[] {2, 4, 6, 8}, first.get(10, TimeUnit.SECONDS).outputs().get(0).floats());
        assertEquals(2, router.stats("m", v("1.1.0")).requests());
    }

    @Test
    @Timeout(60)
    void aRequestWhoseOwnTimeoutPassedIsRefusedAsSuchAndNotSentToTheFallback() throws Exception {
        // one computation at a time: what comes while it is held waits in the queue
        registry.bindDescriptor(Fakes.model("p", "1.0.0", Map.of("batching", Map.of("maxWorkers", 1)), "m"));
        EngineModelRegistryTest.await(registry::allReady);
        CompletableFuture<InferenceResponse> first = occupy("p");
        try {
            long fallbackBefore = router.stats("m", v("1.1.0")).requests();
            CompletableFuture<InferenceResponse> impatient = router.inferAsync(new InferenceRequest("p", null, List.of(X),
                    null, null, System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(50))).toCompletableFuture();
            ExecutionException e = assertThrows(ExecutionException.class, () -> impatient.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof io.enclave.api.OverloadedException, e.getCause().toString());
            assertTrue(e.getCause().getMessage().contains("within the timeout of 50000 µs it asked for"),
                    e.getCause().getMessage());
            assertEquals(fallbackBefore, router.stats("m", v("1.1.0")).requests(), "the fallback was not asked: its time was up");
            assertEquals(0, router.stats("p", v("1.0.0")).fallbacks());
        } finally {
            engine.gate.countDown();
        }
        assertFalse(first.get(10, TimeUnit.SECONDS).fallback());
    }

    @Test
    void aQueuedRequestThatFailsIsAnsweredByTheFallbackOrFailsWithItsOwnType() throws Exception {
        registry.bindDescriptor(Fakes.model("p", "1.0.0", Map.of(), "m"));
        registry.bindDescriptor(Fakes.model("q", "1.0.0"));
        EngineModelRegistryTest.await(registry::allReady);
        for (String model : List.of("p", "q")) {
            CompletableFuture<InferenceResponse> first = occupy(model);
            CompletableFuture<InferenceResponse> queued = router.inferAsync(
                    new InferenceRequest(model, null, List.of(X), null)).toCompletableFuture();
            engine.failingModel = model;
            engine.gate.countDown();
            if (model.equals("p")) {
                // the fallback runs after the primary's batch failed, from the primary's worker
                InferenceResponse r = queued.get(10, TimeUnit.SECONDS);
                assertTrue(r.fallback());
                assertEquals("m", r.model());
                assertArrayEquals(new float[] {2, 4, 6, 8}, r.outputs().get(0).floats());
                assertTrue(first.get(10, TimeUnit.SECONDS).fallback());
            } else {
                ExecutionException e = assertThrows(ExecutionException.class, () -> queued.get(10, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof InferenceException, e.getCause().toString());
                assertEquals("q failed in the engine", e.getCause().getMessage());
                InferenceException sync = assertThrows(InferenceException.class,
                        () -> router.infer(new InferenceRequest("q", null, List.of(X), null)));
                assertEquals("q failed in the engine", sync.getMessage(), "the blocking call throws the same");
            }
            engine.failingModel = null;
        }
    }

    @Test
    void aShadowGetsACopyAndItsAgreementIsCounted() throws Exception {
        traffic.set(rules().stable(v("1.1.0")).shadow(v("1.0.0")).build());
        for (int i = 0; i < 30; i++) {
            assertEquals("1.1.0", infer(null, List.of(X), null).version().toString());
            Thread.sleep(2);
        }
        EngineModelRegistryTest.await(() -> {
            VersionStats s = router.stats("m", v("1.0.0"));
            return s.shadowCompared() + s.shadowDropped() == 30;
        });
        VersionStats s = router.stats("m", v("1.0.0"));
        assertTrue(s.shadowCompared() > 0);
        assertEquals(s.shadowCompared(), s.shadowAgreed(), "the same computation agrees");
        assertEquals(0, s.requests(), "shadow copies are not requests");
        // but the shadow version ran them: Triton's statistics count each copy, its rows and its engine call
        io.enclave.api.CumulativeStats sums = router.cumulative("m", v("1.0.0"));
        assertEquals(s.shadowCompared(), sums.success().count());
        assertEquals(2 * s.shadowCompared(), sums.inferenceCount());
        assertEquals(sums.executionCount(), sums.batches().stream().mapToLong(b -> b.computeInfer().count()).sum());
        assertEquals(sums.inferenceCount(), sums.batches().stream().mapToLong(b -> b.rows() * b.computeInfer().count()).sum());
    }

    @Test
    void readyMeansEveryVersionThatShouldServeIsReady() throws Exception {
        assertTrue(router.ready());
        Fakes.Engine broken = new Fakes.Engine();
        EngineModelRegistry other = new EngineModelRegistry();
        TrafficManager rules = new TrafficManager(null, null, other);
        VersionRouter r = new VersionRouter(other, rules, new VersionMeters());
        try {
            assertFalse(r.ready(), "nothing installed");
            other.bindEngine(broken);
            other.bindDescriptor(Fakes.model("m", "1.0.0"));
            EngineModelRegistryTest.await(other::allReady);
            broken.failWith = "bad graph";
            other.bindDescriptor(Fakes.model("m", "2.0.0"));
            EngineModelRegistryTest.await(() -> other.versions("m").get(1).failure() != null);
            rules.activate();
            rules.set(TrafficRules.none("m").toBuilder().stable(v("1.0.0")).canary(v("2.0.0"), 0).build());
            assertTrue(r.ready(), "a failed canary at 0 % takes no traffic");
            rules.canary("m", v("2.0.0"), 10);
            assertFalse(r.ready(), "a failed canary with a share should serve and cannot");
        } finally {
            rules.deactivate();
            other.deactivate();
        }
    }

    private static Version v(String s) {
        return Version.parseVersion(s);
    }

    private TrafficRules.Builder rules() {
        return TrafficRules.none("m").toBuilder();
    }

    private static Hashtable<String, Object> dict(String... kv) {
        Hashtable<String, Object> d = new Hashtable<>();
        for (int i = 0; i < kv.length; i += 2) {
            d.put(kv[i], kv[i + 1]);
        }
        return d;
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable call) {
        InvalidInputException e = assertThrows(InvalidInputException.class, call);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
