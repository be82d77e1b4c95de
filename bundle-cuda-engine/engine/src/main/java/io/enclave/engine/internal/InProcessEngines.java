package io.enclave.engine.internal;

import ai.djl.engine.Engine;
import io.enclave.api.InferenceEngine;

/**
 * The ONNX Runtime engine outside any container, as the benchmark measures it: the limit a serving
 * layer is compared against is this adapter called in-process (tokenize, run, pool). Not exported:
 * inside Karaf the engine is a service.
 */
public final class InProcessEngines {
    private InProcessEngines() {
    }

    /** @param intraOpThreads 0 sizes them from the cores over the version's workers, as the server does by default */
    public static InferenceEngine onnxRuntime(int intraOpThreads, int interOpThreads) throws Exception {
        String version = Djl.call(() -> Engine.getEngine(Djl.ONNX_RUNTIME).getVersion());
        return new OnnxRuntimeEngine("cpu", version, new EngineSettings(intraOpThreads, interOpThreads), () -> null);
    }
}
