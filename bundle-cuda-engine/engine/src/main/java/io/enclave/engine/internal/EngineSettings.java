package io.enclave.engine.internal;

/** Thread settings applied to every ONNX Runtime session an engine service creates. */
record EngineSettings(int intraOpThreads, int interOpThreads) {
    EngineSettings {
        if (intraOpThreads < 0 || interOpThreads < 1) {
            throw new IllegalArgumentException("intraOpThreads must be >= 0 and interOpThreads >= 1");
        }
    }
}
