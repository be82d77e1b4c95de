package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

import io.enclave.api.DataType;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelState;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;

class EngineModelRegistryTest {
    private final EngineModelRegistry registry = new EngineModelRegistry();
    private final Fakes.Engine engine = new Fakes.Engine();

    @AfterEach
    void stop() {
        registry.deactivate();
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met in 10 s");
            }
            Thread.sleep(5);
        }
    }

    private List<String> versionsOf(String model) {
        return registry.versions(model).stream().map(v -> v.descriptor().version().toString()).toList();
    }

    private ModelState state(String name, String version) {
        return registry.find(name, Version.parseVersion(version)).map(ModelVersion::state).orElse(null);
    }

    @Test
    void aVersionIsWarmedOnItsSampleBeforeItIsReadyAndFailsWhenTheSampleCannotRun() throws Exception {
        registry.bindEngine(engine);
        registry.bindDescriptor(Fakes.model("w", "1.0.0", java.util.Map.of("sample", java.util.Map.of("x",
                java.util.List.of(java.util.List.of(1, 2)))), null));
        registry.bindDescriptor(Fakes.model("w", "2.0.0", java.util.Map.of("sample", java.util.Map.of("x",
                java.util.List.of(java.util.List.of(1, 2, 3)))), null));
        await(() -> registry.versions("w").stream().noneMatch(v -> v.state() == io.enclave.api.ModelState.LOADING));
        assertEquals(io.enclave.api.ModelState.READY, registry.versions("w").get(0).state());
        io.enclave.api.ModelVersion bad = registry.versions("w").get(1);
        assertEquals(io.enclave.api.ModelState.FAILED, bad.state());
        assertTrue(bad.failure().startsWith("warm-up on the declared sample failed: sample 'x' has shape [1, 3]"),
                bad.failure());
        assertEquals(1, engine.closed.get(), "the model that failed its warm-up is freed");
    }

    @Test
    void aModelWaitsForItsEngineThenBecomesReady() throws Exception {
        registry.bindDescriptor(Fakes.model("m", "1.0.0"));
        await(() -> registry.versions("m").get(0).failure() != null);
        assertEquals(ModelState.LOADING, state("m", "1.0.0"));
        assertTrue(registry.versions("m").get(0).failure().contains("waiting for engine fake"));
        assertFalse(registry.allReady());

        registry.bindEngine(engine);
        await(() -> state("m", "1.0.0") == ModelState.READY);
        assertTrue(registry.allReady());
        assertEquals("cpu", registry.versions("m").get(0).device());
    }

    @Test
    void aFailedLoadSaysWhyAndTakesNoTraffic() throws Exception {
        engine.failWith = "graph is corrupt";
        registry.bindEngine(engine);
        registry.bindDescriptor(Fakes.model("m", "1.0.0"));
        await(() -> state("m", "1.0.0") == ModelState.FAILED);
        ModelVersion v = registry.versions("m").get(0);
        assertEquals("graph is corrupt", v.failure());
        assertThrows(ModelUnavailableException.class, () -> v.infer(List.of()));
        assertFalse(registry.allReady());
    }

    @Test
    void removingAVersionUnloadsItAndLeavesTheOthers() throws Exception {
        registry.bindEngine(engine);
        ModelDescriptor one = Fakes.model("m", "1.0.0");
        registry.bindDescriptor(Fakes.model("m", "1.10.0"));
        registry.bindDescriptor(one);
        registry.bindDescriptor(Fakes.model("m", "1.9.0"));
        registry.bindDescriptor(Fakes.model("n", "1.0.0"));
        await(registry::allReady);
        assertEquals(List.of("1.0.0", "1.9.0", "1.10.0"), versionsOf("m"), "oldest first, by version, not by text");

        registry.unbindDescriptor(one);
        assertEquals(1, engine.closed.get());
        assertTrue(registry.find("m", Version.parseVersion("1.0.0")).isEmpty());
        assertEquals(List.of("1.9.0", "1.10.0"), versionsOf("m"));
        assertEquals(List.of("1.0.0"), versionsOf("n"));
        assertEquals(ModelState.READY, state("m", "1.9.0"));
        assertTrue(registry.versions("nothing").isEmpty());
        assertTrue(registry.versions(null).isEmpty());
    }

    @Test
    void aRequestInFlightFinishesBeforeItsVersionIsFreed() throws Exception {
        registry.bindEngine(engine);
        ModelDescriptor d = Fakes.model("m", "1.0.0");
        registry.bindDescriptor(d);
        await(registry::allReady);
        ModelVersion v = registry.versions("m").get(0);
        engine.gate = new CountDownLatch(1);
        NamedTensor x = new NamedTensor("x", DataType.FP32, new long[] {1, 2}, new float[] {1, 2});
        CompletableFuture<List<NamedTensor>> inFlight = CompletableFuture.supplyAsync(() -> v.infer(List.of(x)));
        Thread.sleep(50);
        CompletableFuture<Void> removal = CompletableFuture.runAsync(() -> registry.unbindDescriptor(d));
        Thread.sleep(50);
        assertFalse(removal.isDone(), "removal must wait for the request in flight");
        assertEquals(0, engine.closed.get());
        engine.gate.countDown();
        assertEquals(2f, inFlight.get().get(0).floats()[0]);
        removal.get();
        assertEquals(1, engine.closed.get());
    }

    @Test
    void losingTheEngineUnloadsAndANewEngineReloads() throws Exception {
        registry.bindEngine(engine);
        registry.bindDescriptor(Fakes.model("m", "1.0.0"));
        await(registry::allReady);
        registry.unbindEngine(engine);
        assertEquals(1, engine.closed.get());
        await(() -> state("m", "1.0.0") == ModelState.LOADING);

        Fakes.Engine replacement = new Fakes.Engine();
        registry.bindEngine(replacement);
        await(() -> state("m", "1.0.0") == ModelState.READY);
        assertEquals(1, replacement.loads.get());
    }

    @Test
    void aDuplicateVersionIsIgnored() throws Exception {
        registry.bindEngine(engine);
        ModelDescriptor first = Fakes.model("m", "1.0.0");
        registry.bindDescriptor(first);
        registry.bindDescriptor(Fakes.model("m", "1.0.0"));
        await(registry::allReady);
        assertEquals(1, registry.versions().size());
        assertEquals(first, registry.versions().get(0).descriptor());
    }
}
