package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.enclave.api.DataType;
import io.enclave.api.InferenceRequest;
import io.enclave.api.InferenceResponse;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.NamedTensor;

class VersionRouterTest {
    private final EngineModelRegistry registry = new EngineModelRegistry();
    private final Fakes.Engine engine = new Fakes.Engine();
    private final VersionRouter router = new VersionRouter(registry);

    private static final NamedTensor X = new NamedTensor("x", DataType.FP32, new long[] {2, 2}, new float[] {1, 2, 3, 4});

    @BeforeEach
    void start() throws Exception {
        registry.bindEngine(engine);
        registry.bindDescriptor(Fakes.model("m", "1.0.0"));
        registry.bindDescriptor(Fakes.model("m", "1.1.0"));
        EngineModelRegistryTest.await(registry::allReady);
    }

    @AfterEach
    void stop() {
        registry.deactivate();
    }

    private InferenceResponse infer(String version, List<NamedTensor> inputs, List<String> outputs) {
        return router.infer(new InferenceRequest("m", version, inputs, outputs));
    }

    @Test
    void noVersionGoesToTheHighestUnlessAPolicyPinsOne() {
        assertEquals("1.1.0", infer(null, List.of(X), null).version().toString());
        ConfiguredTrafficPolicy policy = new ConfiguredTrafficPolicy();
        policy.configure(config("m", "1.0.0"), Map.of());
        router.bindPolicy(policy);
        assertEquals("1.0.0", infer(null, List.of(X), null).version().toString());
        policy.configure(config("m", "3.0.0"), Map.of());
        assertEquals("1.1.0", infer(null, List.of(X), null).version().toString(), "a pin to a missing version is ignored");
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
                    () -> new VersionRouter(other).resolve("m", null));
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
        ConfiguredTrafficPolicy policy = new ConfiguredTrafficPolicy();
        policy.configure(config("m", "", "1.0.0", "1.1.0", "30", "Enclave-Route-Key"), Map.of());
        router.bindPolicy(policy);
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

        policy.configure(config("m", "", "1.0.0", "1.1.0", "0", ""), Map.of());
        assertEquals(0, canaryShare(500, i -> null), "a canary at 0 % takes nothing, even as the highest version");
        policy.configure(config("m", "", "1.0.0", "1.1.0", "100", ""), Map.of());
        assertEquals(500, canaryShare(500, i -> null));
        policy.configure(config("m", "1.0.0", "1.0.0", "1.1.0", "100", ""), Map.of());
        assertEquals(0, canaryShare(500, i -> null), "a pin overrides the split");
        policy.configure(config("m", "", "", "1.1.0", "12.5", ""), Map.of());
        int tenths = canaryShare(4000, i -> null);
        assertTrue(tenths > 350 && tenths < 650, "12.5% of 4000, got " + tenths);
    }

    @Test
    void badSplitsAreRefused() {
        ConfiguredTrafficPolicy policy = new ConfiguredTrafficPolicy();
        assertThrows(IllegalArgumentException.class, () -> policy.configure(config("m", "", "", "1.1.0", "101", ""), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> policy.configure(config("m", "", "", "1.1.0", "12.34", ""), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> policy.configure(config("m", "", "", "1.1.0", "ten", ""), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> policy.configure(config("m", "", "1.1.0", "1.1.0", "5", ""), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> policy.configure(config("m", "", "", "1.1.0", "5", "bad header!"), Map.of()));
    }

    @Test
    void policyModelComesFromTheFileNameWhenNotGiven() {
        assertEquals("minilm", ConfiguredTrafficPolicy.fromFileName("file:/opt/enclave/etc/io.enclave.traffic-minilm.cfg"));
        ConfiguredTrafficPolicy policy = new ConfiguredTrafficPolicy();
        policy.configure(config("", ""), Map.of("felix.fileinstall.filename", "file:/x/etc/io.enclave.traffic-bert.cfg"));
        assertEquals("bert", policy.model());
        assertTrue(policy.defaultVersion().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> policy.configure(config("m", "not a version"), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> policy.configure(config("../etc", ""), Map.of()));
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable call) {
        InvalidInputException e = assertThrows(InvalidInputException.class, call);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    private static ConfiguredTrafficPolicy.Config config(String model, String version) {
        return config(model, version, "", "", "0", "");
    }

    private static ConfiguredTrafficPolicy.Config config(String model, String version, String stable, String canary,
            String percent, String sticky) {
        return new ConfiguredTrafficPolicy.Config() {
            @Override
            public String version_stable() {
                return stable;
            }

            @Override
            public String canary_version() {
                return canary;
            }

            @Override
            public String canary_percent() {
                return percent;
            }

            @Override
            public String sticky_header() {
                return sticky;
            }

            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return ConfiguredTrafficPolicy.Config.class;
            }

            @Override
            public String model() {
                return model;
            }

            @Override
            public String version_default() {
                return version;
            }
        };
    }
}
