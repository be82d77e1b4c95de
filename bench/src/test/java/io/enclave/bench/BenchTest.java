package io.enclave.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class BenchTest {

    @Test
    void theSameRowsInFlightLimitLeavesOutConfigurationsWithMoreRowsThanCallers() {
        Map<String, Object> limit = new LinkedHashMap<>();
        limit.put("batch8x2", 1155.9);
        limit.put("batch16x2", 1280.0);
        limit.put("batch32x1", 660.4);
        limit.put("batch32x2", 1349.1);
        limit.put("batch1P50Ms", 2.849);
        limit.put("bestBatch", 32);
        assertEquals(1280.0, Bench.bestWithin(limit, 32), 1e-9);
        assertEquals(1349.1, Bench.bestWithin(limit, 64), 1e-9);
        // one caller's batch of 32 is 32 rows in flight: too many for 31, and 8 x 2 is the best left
        assertEquals(1155.9, Bench.bestWithin(limit, 31), 1e-9);
        assertEquals(0, Bench.bestWithin(limit, 8), 1e-9, "no configuration fits, nothing to compare with");
    }

    @Test
    void theCeilingChargesEachRequestTheServingCostOnTopOfTheEngineWithTheRowsItCanHaveInFlight() {
        // run Q: the engine's best 1234.3 rows/s (batch 32, 2 callers), 1140.1 with at most 32 rows in flight
        assertEquals(1234.3 / 1234.3, Bench.ceiling(1234.3, 1234.3, 2, 0), 1e-9, "a server costing nothing reaches the limit");
        assertEquals(1140.1 / 1234.3, Bench.ceiling(1234.3, 1140.1, 2, 0), 1e-9);
        // 82 microseconds of serving per request on top of 2 / 1140.1 s of engine CPU per row
        assertEquals(2 / (2 / 1140.1 + 82e-6) / 1234.3, Bench.ceiling(1234.3, 1140.1, 2, 82e-6), 1e-9);
        assertEquals(0.882, Bench.ceiling(1234.3, 1140.1, 2, 82e-6), 0.001);
    }

    @Test
    void ceilingsComeFromDensesBatchedPointAtThirtyTwoAndCoverTheBatchedTextPoints() {
        Map<String, Map<String, Object>> limits = new LinkedHashMap<>();
        Map<String, Object> text = new LinkedHashMap<>();
        text.put("batch16x2", 1140.1);
        text.put("batch32x2", 1234.3);
        text.put("limitPerSecond", 1234.3);
        limits.put("minilm 1.0.0 short", text);
        limits.put("dense 1.0.0", Map.of("limitPerSecond", 1e12));
        Map<String, Object> point = new LinkedHashMap<>(Map.of("workload", "minilm 1.0.0 short", "batching", true,
                "concurrency", 32, "ratioToLimitAround", 0.803));
        Map<String, Object> unbatched = new LinkedHashMap<>(Map.of("workload", "minilm 1.0.0 short", "batching", false,
                "concurrency", 32));
        Map<String, Object> dense = new LinkedHashMap<>(Map.of("workload", "dense 1.0.0", "batching", true,
                "concurrency", 32, "serverCpuMsPerRequest", 0.082));
        assertEquals(Map.of(), Bench.ceilings(limits, List.of(point)), "no dense point, no serving cost to charge");
        Map<String, Object> out = Bench.ceilings(limits, List.of(point, unbatched, dense));
        assertEquals(0.082, (double) out.get("servingMsPerRequest"), 1e-6);
        int cores = Runtime.getRuntime().availableProcessors();
        Map<?, ?> c32 = (Map<?, ?>) out.get("minilm 1.0.0 short c=32");
        assertEquals(0.924, (double) c32.get("engineWithinRowsRatio"), 1e-9);
        assertEquals(Bench.round(Bench.ceiling(1234.3, 1140.1, cores, 82e-6), 3), (double) c32.get("ceilingRatio"), 1e-9);
        assertEquals(0.803, c32.get("measuredRatio"));
        assertEquals(3, out.size(), "serving cost, cores and the one batched text point: " + out);
    }

    @Test
    void cpuPerRequestSetsTheWorkersBesideTheEnginesOwnCostAtTheLimitAndWithTheSameRowsInFlight() {
        Map<String, Object> text = new LinkedHashMap<>();
        text.put("batch8x2", 1295.7);
        text.put("batch16x2", 1328.5);
        text.put("batch32x2", 1411.8);
        text.put("bestBatch", 32);
        text.put("bestCallers", 2);
        text.put("cpuMsPerRow", Map.of("batch8x2", 1.52, "batch16x2", 1.49, "batch32x2", 1.4));
        Map<String, Map<String, Object>> limits = Map.of("minilm 1.0.0 short", text);
        Map<String, Object> c32 = new LinkedHashMap<>(Map.of("workload", "minilm 1.0.0 short", "batching", true,
                "concurrency", 32, "serverCpuMsPerRequest", 1.87, "engineThreadsCpuMsPerRequest", 1.63,
                "httpThreadsCpuMsPerRequest", 0.22));
        Map<String, Object> c8 = new LinkedHashMap<>(c32);
        c8.put("concurrency", 8);
        Map<String, Object> unbatched = new LinkedHashMap<>(c32);
        unbatched.put("batching", false);
        Map<String, Object> out = Bench.cpuPerRequest(limits, List.of(c8, c32, unbatched));
        assertEquals(Map.of("minilm 1.0.0 short c=32", Map.of("serverMs", 1.87, "workersMs", 1.63, "engineAtLimitMs", 1.4,
                "engineWithinRowsMs", 1.49, "httpThreadsMs", 0.22)), out, "only the batched point at c=32 or c=64");
        // measured around the point, the machine 10 % slower than at the start: both engine figures follow it
        c32.put("limitAroundCpuMsPerRow", 1.54);
        Map<?, ?> around = (Map<?, ?>) Bench.cpuPerRequest(limits, List.of(c32)).get("minilm 1.0.0 short c=32");
        assertEquals(1.54, (double) around.get("engineAtLimitMs"), 1e-9);
        assertEquals(1.639, (double) around.get("engineWithinRowsMs"), 1e-9);
    }

    @Test
    void aPointIsHeldAgainstTheMeanOfTheLimitsAroundItAndTheSameRowsScaledToThem() {
        Map<String, Object> limit = new LinkedHashMap<>();
        limit.put("batch16x2", 1200.0);
        limit.put("batch32x2", 1300.0);
        limit.put("limitPerSecond", 1300.0);
        Map<String, Object> c32 = new LinkedHashMap<>(Map.of("perSecond", 1000.0));
        Bench.aroundRatios(c32, new Bench.Rate(1400, 1.40), new Bench.Rate(1200, 1.50), limit, 32);
        assertEquals(1000.0 / 1300, (double) c32.get("ratioToLimitAround"), 0.001);
        assertEquals(1.45, (double) c32.get("limitAroundCpuMsPerRow"), 1e-9);
        // 32 callers keep 32 rows in flight at most: batch 16 by 2, 1200 / 1300 of the limit, at the mean around
        assertEquals(1300.0 * 1200 / 1300, (double) c32.get("limitSameRowsAroundPerSecond"), 0.1);
        assertEquals(1000.0 / 1200, (double) c32.get("ratioToLimitSameRowsAround"), 0.001);
        Map<String, Object> c64 = new LinkedHashMap<>(Map.of("perSecond", 1000.0));
        Bench.aroundRatios(c64, new Bench.Rate(1400, 1.40), new Bench.Rate(1200, 1.50), limit, 64);
        assertEquals(false, c64.containsKey("ratioToLimitSameRowsAround"), "64 callers can keep the limit's rows in flight");
    }
}
