package io.enclave.models.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

import io.enclave.api.ArtifactSource;
import io.enclave.api.ModelDescriptor;

class ModelJsonTest {
    private static final ArtifactSource NONE = new ArtifactSource() {
        @Override
        public boolean exists(String entry) {
            return false;
        }

        @Override
        public InputStream open(String entry) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String describe() {
            return "none";
        }
    };

    private static ModelDescriptor read(String json, String header) throws Exception {
        return ModelJson.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                ModelHeader.parse(header, Version.emptyVersion), NONE);
    }

    private static String error(String json, String header) {
        return assertThrows(IllegalArgumentException.class, () -> read(json, header)).getMessage();
    }

    @Test
    void theHeaderNamesTheModelAndModelJsonDescribesIt() throws Exception {
        ModelDescriptor d = read(ModelBundles.MODEL_JSON, "tiny;version=\"3.1\"");
        assertEquals("tiny", d.name());
        assertEquals(new Version(3, 1, 0), d.version());
        assertEquals("onnxruntime", d.engine());
        assertNull(d.fallback());
    }

    @Test
    void headerMistakesAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelHeader.parse("Tiny", Version.emptyVersion))
                .getMessage().contains("not a model name"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelHeader.parse("tiny;colour=red", Version.emptyVersion))
                .getMessage().contains("attribute 'colour' is unknown"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelHeader.parse("tiny;version=x.y", Version.emptyVersion))
                .getMessage().contains("'x.y' is not a version"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelHeader.parse("tiny;version", Version.emptyVersion))
                .getMessage().contains("not key=value"));
    }

    @Test
    void modelJsonMistakesAreNamed() {
        assertTrue(error("[1]", "tiny").contains("must hold a JSON object"));
        assertTrue(error("{\"name\": ", "tiny").contains("not valid JSON"));
        assertTrue(error(ModelBundles.MODEL_JSON.replace("\"labels\"", "\"lables\""), "tiny").contains("unknown field 'lables'"));
        assertTrue(error(ModelBundles.MODEL_JSON.replace("\"FP32\"", "\"FLOAT\""), "tiny").contains("unknown datatype 'FLOAT'"));
        assertTrue(error(ModelBundles.MODEL_JSON.replace("\"inputs\"", "\"description\": \"x\", \"ignored\""), "tiny")
                .contains("unknown field 'ignored'"));
        assertTrue(error(ModelBundles.MODEL_JSON, "tiny;engine=pytorch").contains("says engine onnxruntime but the manifest says pytorch"));
        assertTrue(error(ModelBundles.MODEL_JSON.replace("\"name\": \"tiny\",", "\"name\": \"tiny\", \"version\": \"2.0\","),
                "tiny;version=1.0").contains("says version 2.0 but the manifest says 1.0.0"));
        assertTrue(error("{\"name\": \"tiny\", \"name\": \"tiny\"}", "tiny").contains("Duplicate field"));
        String deep = "{\"preprocessing\":" + "{\"a\":".repeat(40) + "1" + "}".repeat(41);
        assertTrue(error(deep, "tiny").contains("not valid JSON"));
    }

    @Test
    void aVersionsThreadCountsReachItsDescriptorAndMistakesFailTheInstall() throws Exception {
        String threads = "\"labels\": [\"a\", \"b\"], \"threads\": ";
        ModelDescriptor d = read(ModelBundles.MODEL_JSON.replace("\"labels\": [\"a\", \"b\"]",
                threads + "{\"intraOp\": 2, \"spinning\": false}"), "tiny");
        assertEquals(java.util.Map.of("intraOp", 2, "spinning", false), d.properties().get("threads"));
        for (String[] wrong : new String[][] {
                {"{\"intraOp\": 2.5}", "'threads.intraOp' must be a whole number from 0 to 256, not 2.5"},
                {"{\"intraOp\": -1}", "'threads.intraOp' must be a whole number from 0 to 256, not -1"},
                {"{\"interOp\": 0}", "'threads.interOp' must be a whole number from 1 to 256, not 0"},
                {"{\"intraOp\": 257}", "not 257"},
                {"{\"spinning\": \"no\"}", "'threads.spinning' must be true or false"},
                {"{\"intraop\": 2}", "'threads' has unknown key 'intraop'"},
                {"4", "'threads' must be an object"}}) {
            String message = error(ModelBundles.MODEL_JSON.replace("\"labels\": [\"a\", \"b\"]", threads + wrong[0]), "tiny");
            assertTrue(message.contains(wrong[1]), message);
        }
    }

    @Test
    void aVersionsBatchingIsCheckedAtInstallSoATypoIsNamedInsteadOfIgnored() throws Exception {
        String batching = "\"labels\": [\"a\", \"b\"], \"batching\": ";
        ModelDescriptor d = read(ModelBundles.MODEL_JSON.replace("\"labels\": [\"a\", \"b\"]",
                batching + "{\"maxBatchSize\": 16, \"maxQueueDelayMicros\": 2000, \"maxWorkers\": 3}"), "tiny");
        io.enclave.api.BatchingSettings s = io.enclave.api.BatchingSettings.declared(d.properties().get("batching"));
        assertEquals(16, s.maxBatchSize());
        assertEquals(2000, s.maxQueueDelayMicros());
        assertEquals(3, s.maxWorkers());
        assertEquals(0, s.priorityLevels(), "one queue in order of arrival unless levels are declared");
        io.enclave.api.BatchingSettings levels = io.enclave.api.BatchingSettings.declared(read(ModelBundles.MODEL_JSON.replace(
                "\"labels\": [\"a\", \"b\"]", batching + "{\"priorityLevels\": 4, \"defaultPriorityLevel\": 4}"), "tiny")
                .properties().get("batching"));
        assertEquals(4, levels.priorityLevels());
        assertEquals(4, levels.defaultPriorityLevel());
        assertEquals(1500, io.enclave.api.BatchingSettings.declared(read(ModelBundles.MODEL_JSON.replace(
                "\"labels\": [\"a\", \"b\"]", batching + "{\"maxQueueDelayMs\": 1.5}"), "tiny").properties().get("batching"))
                .maxQueueDelayMicros());
        for (String[] wrong : new String[][] {
                {"{\"maxBatchsize\": 16}", "model.json 'batching' has unknown key 'maxBatchsize'"},
                {"{\"maxBatchSize\": \"16\"}", "model.json 'batching.maxBatchSize' must be a whole number, not 16"},
                {"{\"maxBatchSize\": 16.5}", "model.json 'batching.maxBatchSize' must be a whole number, not 16.5"},
                {"{\"maxBatchSize\": 0}", "model.json 'batching': max batch size must be 1 to 4096, not 0"},
                {"{\"queueCapacity\": 4294967296}", "model.json 'batching.queueCapacity' is out of range: 4294967296"},
                {"{\"minWorkers\": 4, \"maxWorkers\": 2}", "model.json 'batching': workers must be 1 <= min <= max <= 256, not 4..2"},
                {"{\"maxQueueDelayMs\": 2, \"maxQueueDelayMicros\": 2000}", "takes maxQueueDelayMicros or maxQueueDelayMs, not both"},
                {"{\"maxQueueDelayMs\": -1}", "'batching.maxQueueDelayMs' must be a number from 0 to 1000, not -1"},
                {"{\"priorityLevels\": 0, \"defaultPriorityLevel\": 1}", "model.json 'batching': a default priority level (1) "
                        + "needs priority levels"},
                {"{\"priorityLevels\": 3, \"defaultPriorityLevel\": 4}", "model.json 'batching': default priority level must "
                        + "be 1 to 3 (the priority levels), not 4"},
                {"{\"priorityLevels\": -1}", "model.json 'batching': priority levels must be 0 to 100, not -1"},
                {"{\"maxPaddingRatio\": 101}", "model.json 'batching': max padding ratio must be 0 to 100 (0 pads every "
                        + "length into one batch), not 101"},
                {"32", "model.json 'batching' must be an object, not 32"}}) {
            String message = error(ModelBundles.MODEL_JSON.replace("\"labels\": [\"a\", \"b\"]", batching + wrong[0]), "tiny");
            assertTrue(message.contains(wrong[1]), message);
        }
        // a minWorkers above the default maxWorkers raises it when maxWorkers is not declared
        int many = Runtime.getRuntime().availableProcessors() + 1;
        assertEquals(many, io.enclave.api.BatchingSettings.declared(java.util.Map.of("minWorkers", many)).maxWorkers());
    }

    @Test
    void aTypoOrAWrongValueInAServingHintFailsTheInstallNamingIt() {
        String labels = "\"labels\": [\"a\", \"b\"]";
        for (String[] wrong : new String[][] {
                {"\"circuitBreaker\": {\"failureRatePercnt\": 30}", "'circuitBreaker' has unknown key 'failureRatePercnt'"},
                {"\"circuitBreaker\": {\"failureRatePercent\": 130}", "'circuitBreaker.failureRatePercent' must be a number from 1 to 100, not 130"},
                {"\"circuitBreaker\": {\"window\": 2.5}", "'circuitBreaker.window' must be a whole number from 1 to 3600000, not 2.5"},
                {"\"faults\": {\"errorrate\": 0.5}", "'faults' has unknown key 'errorrate'"},
                {"\"faults\": {\"latencyMs\": 1.5}", "'faults.latencyMs' must be a whole number from 0 to 60000, not 1.5"},
                {"\"shadow\": {\"cosin\": 0.9}", "'shadow' has unknown key 'cosin'"},
                {"\"canary\": {\"percent\": 10, \"version\": \"1.0.0\"}", "'canary' has unknown key 'version'"},
                {"\"canary\": 10", "field 'canary' must be an object"},
                {"\"timeoutMs\": 2.5", "'timeoutMs' must be a whole number from 1 to 600000, not 2.5"}}) {
            String message = error(ModelBundles.MODEL_JSON.replace(labels, labels + ", " + wrong[0]), "tiny");
            assertTrue(message.contains(wrong[1]), message);
        }
        String shape = error(ModelBundles.MODEL_JSON.replace("\"shape\": [-1, 4]", "\"shape\": [-1, 4.5]"), "tiny");
        assertTrue(shape.contains("tensor 'embedding' has a non-integer dimension"), shape);
        String name = error(ModelBundles.MODEL_JSON.replace("\"name\": \"embedding\"", "\"name\": 7"), "tiny");
        assertTrue(name.contains("every tensor needs a name (a string)"), name);
        String type = error(ModelBundles.MODEL_JSON.replace("\"datatype\": \"FP32\"", "\"datatype\": 32"), "tiny");
        assertTrue(type.contains("tensor 'embedding' needs a datatype"), type);
    }

    @Test
    void aHugeModelJsonIsRefusedUnread() {
        String huge = "{\"description\": \"" + "x".repeat(ModelJson.MAX_BYTES) + "\"}";
        assertTrue(error(huge, "tiny").contains("larger than"));
    }
}
