package io.enclave.engine.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

import ai.djl.engine.Engine;
import io.enclave.api.ArtifactSource;
import io.enclave.api.DataType;
import io.enclave.api.InvalidInputException;
import io.enclave.api.LoadedModel;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelLoadException;
import io.enclave.api.NamedTensor;
import io.enclave.api.TokenCounts;
import io.enclave.api.TensorSpec;

/** The engine adapter on the real INT8 all-MiniLM-L6-v2 model, outside any container. */
class OnnxRuntimeEngineTest {
    private static final Path MODEL = Path.of(System.getProperty("enclave.test.model", "target/test-model"));

    private static OnnxRuntimeEngine engine;
    private static LoadedModel minilm;

    /** Reads entries from a folder, under the names model.json would use. */
    record Folder(Path root, Map<String, String> names) implements ArtifactSource {
        @Override
        public boolean exists(String entry) {
            return names.containsKey(entry) && Files.exists(root.resolve(names.get(entry)));
        }

        @Override
        public InputStream open(String entry) throws IOException {
            return Files.newInputStream(root.resolve(names.get(entry)));
        }

        @Override
        public String describe() {
            return root.toString();
        }
    }

    static ModelDescriptor.Builder descriptor(ArtifactSource source) {
        return ModelDescriptor.builder().name("minilm").version(new Version(1, 1, 0)).engine("onnxruntime")
                .artifact("model.onnx").artifacts(source)
                .input(new TensorSpec("text", DataType.BYTES, new long[] {-1}))
                .output(new TensorSpec("embedding", DataType.FP32, new long[] {-1, 384}))
                .preprocessing(Map.of("type", "hf-tokenizer", "tokenizer", "tokenizer.json", "maxLength", 256))
                .postprocessing(Map.of("type", "mean-pooling", "normalize", true));
    }

    @BeforeAll
    static void load() throws Exception {
        String version = Djl.call(() -> Engine.getEngine(Djl.ONNX_RUNTIME).getVersion());
        engine = new OnnxRuntimeEngine("cpu", version, new EngineSettings(1, 1), () -> null);
        ArtifactSource source = new Folder(MODEL, Map.of("model.onnx", "all-minilm-l6-v2-q.onnx",
                "tokenizer.json", "all-minilm-l6-v2-q-tokenizer.json"));
        minilm = engine.load(descriptor(source).build(), source);
    }

    @AfterAll
    static void close() {
        if (minilm != null) {
            minilm.close();
        }
    }

    private static float[][] embed(String... texts) {
        List<NamedTensor> out = minilm.infer(List.of(NamedTensor.ofStrings("text", texts)));
        assertEquals(1, out.size());
        NamedTensor e = out.get(0);
        assertEquals("embedding", e.name());
        assertArrayEquals(new long[] {texts.length, 384}, e.shape());
        float[][] rows = new float[texts.length][384];
        for (int i = 0; i < texts.length; i++) {
            System.arraycopy(e.floats(), i * 384, rows[i], 0, 384);
        }
        return rows;
    }

    static double cos(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void embeddingsAreUnitLengthAndMeaningful() {
        float[][] e = embed("a cat sits on the mat", "a kitten rests on a rug", "quarterly revenue grew 4%");
        for (float[] row : e) {
            double norm = 0;
            for (float v : row) {
                norm += v * v;
            }
            assertEquals(1.0, Math.sqrt(norm), 1e-4);
        }
        double close = cos(e[0], e[1]);
        double far = cos(e[0], e[2]);
        assertTrue(close > far + 0.3, "cat/kitten " + close + " vs cat/revenue " + far);
    }

    @Test
    void paddingToTheLongestInBatchKeepsShortRowsStable() {
        float[] alone = embed("a cat sits on the mat")[0];
        float[] padded = embed("a cat sits on the mat",
                "a much longer sentence about the financial results of the third quarter and the outlook")[0];
        assertTrue(cos(alone, padded) > 0.98, "cosine " + cos(alone, padded));
    }

    /**
     * "hello" is [CLS] hello [SEP], 3 tokens, and "hello world how are you" 7: run together, the short
     * row is padded by 4 to 7. Counted on a model of the test's own, so no other call adds to them.
     */
    @Test
    void tokensComputedAndThosePaddingAShorterTextAreCounted() throws Exception {
        ArtifactSource source = new Folder(MODEL, Map.of("model.onnx", "all-minilm-l6-v2-q.onnx",
                "tokenizer.json", "all-minilm-l6-v2-q-tokenizer.json"));
        try (LoadedModel own = engine.load(descriptor(source).build(), source)) {
            TokenCounts start = own.tokenCounts();
            own.infer(List.of(NamedTensor.ofStrings("text", "hello", "hello world how are you")));
            TokenCounts both = own.tokenCounts();
            assertEquals(14, both.tokens() - start.tokens(), "two rows of 7");
            assertEquals(4, both.padding() - start.padding(), "the short row padded from 3 to 7");
            own.infer(List.of(NamedTensor.ofStrings("text", "hello world how are you")));
            TokenCounts alone = own.tokenCounts();
            assertEquals(21, alone.tokens() - start.tokens());
            assertEquals(4, alone.padding() - start.padding(), "a batch of one pads nothing");
        }
    }

    @Test
    void buffersReusedAcrossCallsCarryNothingOver() {
        float[] before = embed("a cat sits on the mat")[0];
        // fills the pooled buffers with longer rows; the next, shorter call reuses them
        embed("a much longer sentence about the financial results of the third quarter and the outlook",
                "another long sentence, so that the batch has more than one row of many tokens in it");
        float[] after = embed("a cat sits on the mat")[0];
        assertArrayEquals(before, after, 1e-6f);
    }

    @Test
    void concurrentCallsEachGetTheirOwnAnswer() throws Exception {
        String[] texts = {"a cat sits on the mat", "quarterly revenue grew 4%", "the invoice was paid on time",
            "a much longer sentence about the financial results of the third quarter and the outlook"};
        float[][] alone = new float[texts.length][];
        for (int i = 0; i < texts.length; i++) {
            alone[i] = embed(texts[i])[0];
        }
        ExecutorService pool = Executors.newFixedThreadPool(texts.length);
        try {
            List<Future<Void>> done = new ArrayList<>();
            for (int t = 0; t < texts.length; t++) {
                int i = t;
                done.add(pool.submit(() -> {
                    for (int k = 0; k < 25; k++) {
                        assertArrayEquals(alone[i], embed(texts[i])[0], 1e-5f, texts[i]);
                    }
                    return null;
                }));
            }
            for (Future<Void> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void emptyBatchGivesEmptyOutput() {
        List<NamedTensor> out = minilm.infer(List.of(NamedTensor.ofStrings("text")));
        assertArrayEquals(new long[] {0, 384}, out.get(0).shape());
    }

    @Test
    void textThatIsNotUtf8IsTheClientsMistake() {
        NamedTensor bad = new NamedTensor("text", DataType.BYTES, new long[] {1}, new byte[][] {{(byte) 0xC3, 0x28}});
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> minilm.infer(List.of(bad)));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    /**
     * A version's own thread count reaches its session: ONNX Runtime's intra-op pool threads start on the
     * thread that creates the session and carry its name, so they can be counted; they end with the model.
     */
    @Test
    void aVersionsThreadsInModelJsonSizeItsSessionAndEndWithIt() throws Exception {
        ArtifactSource source = new Folder(MODEL, Map.of("model.onnx", "all-minilm-l6-v2-q.onnx",
                "tokenizer.json", "all-minilm-l6-v2-q-tokenizer.json"));
        LoadedModel three = loadOn("ortprobe3", descriptor(source).properties(Map.of("threads", Map.of("intraOp", 3))).build(),
                source);
        LoadedModel engines = loadOn("ortprobe1", descriptor(source).build(), source);
        try {
            assertEquals(2, threadsNamed("ortprobe3"), "intra-op 3: two pool threads beside the thread that called");
            assertEquals(0, threadsNamed("ortprobe1"), "the engine's intra-op 1: no pool");
            NamedTensor text = NamedTensor.ofStrings("text", "the invoice was paid on time", "a cat sits on the mat");
            assertArrayEquals(engines.infer(List.of(text)).get(0).floats(), three.infer(List.of(text)).get(0).floats(), 1e-5f);
        } finally {
            three.close();
            engines.close();
        }
        assertEquals(0, threadsNamed("ortprobe3"), "closing the model ends its pool");

        ModelLoadException wrong = assertThrows(ModelLoadException.class, () -> engine.load(
                descriptor(source).properties(Map.of("threads", Map.of("intraOp", 1.5))).build(), source));
        assertTrue(wrong.getMessage().contains("'threads.intraOp' must be a whole number from 0 to 256, not 1.5"),
                wrong.getMessage());
    }

    /**
     * The engine's default intra-op threads (0) are sized from the cores over the workers the version may
     * run at once, not left to ONNX Runtime, which gives every call a thread per physical core: a version
     * with a worker per core (the default) gets one thread a call, one held to a single worker all cores.
     */
    @Test
    void theDefaultIntraOpThreadsShareTheCoresAmongTheVersionsWorkers() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        OnnxRuntimeEngine sized = new OnnxRuntimeEngine("cpu", engine.version(), new EngineSettings(0, 1, false), () -> null);
        ArtifactSource source = new Folder(MODEL, Map.of("model.onnx", "all-minilm-l6-v2-q.onnx",
                "tokenizer.json", "all-minilm-l6-v2-q-tokenizer.json"));
        LoadedModel perCore = loadOn(sized, "ortsizedn", descriptor(source).build(), source);
        LoadedModel single = loadOn(sized, "ortsized1", descriptor(source)
                .properties(Map.of("batching", Map.of("maxWorkers", 1))).build(), source);
        try {
            assertEquals(0, threadsNamed("ortsizedn"), "a worker per core: one thread a call, no pool");
            assertEquals(cores - 1, threadsNamed("ortsized1"), "one worker: every core, the caller and a pool of "
                    + (cores - 1));
            // and the model says what it runs with, for operators to see
            assertEquals(new io.enclave.api.EngineThreads(1, 1, false), perCore.threads());
            assertEquals(new io.enclave.api.EngineThreads(cores, 1, false), single.threads());
            NamedTensor text = NamedTensor.ofStrings("text", "the invoice was paid on time");
            assertArrayEquals(perCore.infer(List.of(text)).get(0).floats(), single.infer(List.of(text)).get(0).floats(), 1e-5f);
        } finally {
            perCore.close();
            single.close();
        }

        EngineSettings auto = new EngineSettings(0, 1);
        assertEquals(1, auto.sizedFor(2, 2).intraOpThreads());
        assertEquals(8, auto.sizedFor(16, 2).intraOpThreads());
        assertEquals(5, auto.sizedFor(16, 3).intraOpThreads(), "what does not divide evenly is left over");
        assertEquals(1, auto.sizedFor(16, 16).intraOpThreads());
        assertEquals(1, auto.sizedFor(2, 8).intraOpThreads(), "never below one");
        assertEquals(3, new EngineSettings(3, 1).sizedFor(16, 2).intraOpThreads(), "a number set stays as set");
    }

    private static LoadedModel loadOn(String threadName, ModelDescriptor d, ArtifactSource source) throws Exception {
        return loadOn(engine, threadName, d, source);
    }

    private static LoadedModel loadOn(OnnxRuntimeEngine engine, String threadName, ModelDescriptor d, ArtifactSource source)
            throws Exception {
        LoadedModel[] loaded = new LoadedModel[1];
        Exception[] failed = new Exception[1];
        Path[] task = new Path[1];
        Thread t = new Thread(() -> {
            try {
                task[0] = Path.of("/proc/self/task").resolve(
                        Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
                loaded[0] = engine.load(d, source);
            } catch (Exception e) {
                failed[0] = e;
            }
        }, threadName);
        t.start();
        t.join();
        // join returns once the JVM is done with the thread, a moment before the OS thread has exited, and
        // it is still listed under its name until then: wait, so only the session's pool carries the name
        for (int i = 0; i < 500 && task[0] != null && Files.exists(task[0]); i++) {
            Thread.sleep(10);
        }
        assertTrue(task[0] == null || !Files.exists(task[0]), "the loading thread has exited");
        if (failed[0] != null) {
            throw failed[0];
        }
        return loaded[0];
    }

    private static long threadsNamed(String name) throws IOException {
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(task -> {
                try {
                    return Files.readString(task.resolve("comm")).trim().equals(name);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void missingArtifactFailsTheLoadWithItsName() {
        ArtifactSource empty = new Folder(MODEL, Map.of());
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> engine.load(descriptor(empty).build(), empty));
        assertTrue(e.getMessage().contains("model.onnx is missing"), e.getMessage());
    }

    @Test
    void aSignatureTheGraphCannotServeIsRejectedAtLoad() {
        ArtifactSource source = new Folder(MODEL, Map.of("model.onnx", "all-minilm-l6-v2-q.onnx"));
        ModelDescriptor tensors = ModelDescriptor.builder().name("raw").version(Version.emptyVersion).engine("onnxruntime")
                .artifact("model.onnx").artifacts(source)
                .input(new TensorSpec("pixels", DataType.FP32, new long[] {-1, 4}))
                .output(new TensorSpec("logits", DataType.FP32, new long[] {-1, 2})).build();
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> engine.load(tensors, source));
        assertTrue(e.getMessage().contains("'pixels' is not a graph input"), e.getMessage());
    }

    @Test
    void anEncryptedArtifactNeedsACryptoService() {
        ArtifactSource source = new Folder(MODEL, Map.of("model.onnx.enc", "all-minilm-l6-v2-q.onnx",
                "tokenizer.json", "all-minilm-l6-v2-q-tokenizer.json"));
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> engine.load(descriptor(source).artifact("model.onnx.enc").build(), source));
        assertTrue(e.getMessage().contains("is encrypted but no CryptoService is installed"), e.getMessage());
    }

    @Test
    void meanPoolingIgnoresPaddingAndNormalises() {
        // one row, three tokens of dim 2, the last one padding
        float[] hidden = {1, 0, 3, 0, 100, 100};
        float[] pooled = TextEmbeddingPipeline.meanPool(FloatBuffer.wrap(hidden), new float[2], new long[] {1, 1, 0}, 1, 3,
                2, false);
        assertArrayEquals(new float[] {2, 0}, pooled, 1e-6f);
        float[] unit = TextEmbeddingPipeline.meanPool(FloatBuffer.wrap(new float[] {3, 4}), new float[2], new long[] {1}, 1,
                1, 2, true);
        assertArrayEquals(new float[] {0.6f, 0.8f}, unit, 1e-6f);
    }
}
