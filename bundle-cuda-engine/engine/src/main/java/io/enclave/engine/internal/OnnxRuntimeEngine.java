package io.enclave.engine.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.onnxruntime.engine.OrtNDManager;
import ai.djl.onnxruntime.engine.OrtSymbolBlock;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.enclave.api.ArtifactSource;
import io.enclave.api.BatchingSettings;
import io.enclave.api.CryptoService;
import io.enclave.api.EngineThreads;
import io.enclave.api.InferenceEngine;
import io.enclave.api.LoadedModel;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelLoadException;

/**
 * ONNX Runtime through DJL on one device. The session is created from bytes held in memory, so an
 * artifact never has to exist as a plain file (encrypted models are decrypted into memory only).
 */
final class OnnxRuntimeEngine implements InferenceEngine {
    static final String NAME = "onnxruntime";
    private static final Logger LOG = LoggerFactory.getLogger(OnnxRuntimeEngine.class);

    static final String ENCRYPTED_SUFFIX = ".enc";

    private final String device;
    private final String version;
    private final EngineSettings settings;
    private final Supplier<CryptoService> crypto;

    OnnxRuntimeEngine(String device, String version, EngineSettings settings, Supplier<CryptoService> crypto) {
        this.device = device;
        this.version = version;
        this.settings = settings;
        this.crypto = crypto;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String device() {
        return device;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public LoadedModel load(ModelDescriptor descriptor, ArtifactSource source) throws ModelLoadException {
        if (!NAME.equals(descriptor.engine())) {
            throw new ModelLoadException(descriptor + " needs engine " + descriptor.engine() + ", not " + NAME);
        }
        byte[] graph = read(descriptor, source, descriptor.artifact(), crypto);
        try {
            return Djl.call(() -> open(descriptor, source, graph));
        } catch (ModelLoadException e) {
            throw e;
        } catch (Exception e) {
            throw new ModelLoadException("cannot load " + descriptor + " from " + source.describe() + ": "
                    + e.getMessage(), e);
        }
    }

    private LoadedModel open(ModelDescriptor descriptor, ArtifactSource source, byte[] graph) throws Exception {
        EngineSettings threads;
        int cores = Runtime.getRuntime().availableProcessors();
        int maxWorkers;
        try {
            threads = settings.over(EngineThreads.from(descriptor.properties().get(EngineThreads.PROPERTY)));
            // the workers its model.json allows; a later model:tune changes them, not a loaded session
            maxWorkers = BatchingSettings.declared(descriptor.properties().get(BatchingSettings.PROPERTY)).maxWorkers();
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(descriptor + ": " + e.getMessage(), e);
        }
        EngineSettings sized = threads.sizedFor(cores, maxWorkers);
        OrtSession session = createSession(graph, sized);
        LOG.info("{}: ONNX Runtime session with {}{}", descriptor, sized, threads.intraOpThreads() == 0
                ? " (" + cores + " cores over up to " + maxWorkers + " workers)"
                : threads.equals(settings) ? "" : " (its model.json's \"threads\"; the engine's: " + settings + ")");
        Model model;
        try {
            model = Model.newInstance(descriptor.id(), Device.cpu(), Djl.ONNX_RUNTIME);
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
        try {
            // the block attaches itself, and so the session, to the model's manager: closing the model frees both
            model.setBlock(new OrtSymbolBlock(session, (OrtNDManager) model.getNDManager()));
            Pipeline pipeline = Pipeline.create(descriptor, session, source, crypto);
            return new OnnxRuntimeModel(descriptor, model, pipeline, sized.named());
        } catch (Exception | Error e) {
            model.close();
            throw e;
        }
    }

    private static OrtSession createSession(byte[] graph, EngineSettings settings) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(settings.intraOpThreads());
            options.setInterOpNumThreads(settings.interOpThreads());
            options.addConfigEntry("session.intra_op.allow_spinning", settings.spinning() ? "1" : "0");
            options.setExecutionMode(settings.interOpThreads() > 1
                    ? OrtSession.SessionOptions.ExecutionMode.PARALLEL
                    : OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            return env.createSession(graph, options);
        }
    }

    /**
     * Reads an entry whole. An entry ending in {@code .enc} is decrypted on the way in: the plaintext
     * exists only in this array, never in a file.
     */
    static byte[] read(ModelDescriptor descriptor, ArtifactSource source, String entry, Supplier<CryptoService> crypto)
            throws ModelLoadException {
        if (!source.exists(entry)) {
            throw new ModelLoadException(descriptor + ": " + entry + " is missing from " + source.describe());
        }
        boolean encrypted = entry.endsWith(ENCRYPTED_SUFFIX);
        CryptoService c = encrypted ? crypto.get() : null;
        if (encrypted && c == null) {
            throw new ModelLoadException(descriptor + ": " + entry + " is encrypted but no CryptoService is installed "
                    + "(feature enclave-security)");
        }
        try (InputStream raw = source.open(entry); InputStream in = encrypted ? c.decrypt(raw) : raw) {
            return in.readAllBytes();
        } catch (IOException | OutOfMemoryError e) {
            throw new ModelLoadException(descriptor + ": cannot read " + entry + " from " + source.describe()
                    + ": " + e.getMessage(), e);
        }
    }

    static String text(Map<String, Object> settings, String key, String fallback) {
        Object v = settings.get(key);
        return v == null ? fallback : v.toString();
    }

    @Override
    public String toString() {
        return NAME + " " + version + " on " + device;
    }
}
