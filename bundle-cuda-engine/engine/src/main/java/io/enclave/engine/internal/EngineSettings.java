package io.enclave.engine.internal;

/**
 * Thread settings applied to every ONNX Runtime session an engine service creates.
 *
 * @param spinning whether ONNX Runtime's intra-op threads spin between operators (faster alone on a
 *                 machine, but they take cores from the HTTP threads of a busy server)
 */
record EngineSettings(int intraOpThreads, int interOpThreads, boolean spinning) {
    EngineSettings {
        if (intraOpThreads < 0 || interOpThreads < 1) {
            throw new IllegalArgumentException("intraOpThreads must be >= 0 and interOpThreads >= 1");
        }
    }

    EngineSettings(int intraOpThreads, int interOpThreads) {
        this(intraOpThreads, interOpThreads, true);
    }
}
