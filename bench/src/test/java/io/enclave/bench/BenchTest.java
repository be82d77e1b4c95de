package io.enclave.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
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
}
