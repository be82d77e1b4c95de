package io.enclave.engine.internal;

import io.enclave.api.EngineThreads;

/**
 * Thread settings for the ONNX Runtime sessions an engine service creates: the engine's own, which a
 * model version may override in its {@code model.json} ({@link EngineThreads}).
 *
 * @param intraOpThreads threads one call may use (0: ONNX Runtime decides)
 * @param interOpThreads threads that run independent operators side by side
 * @param spinning       whether ONNX Runtime's intra-op threads spin between operators (faster alone on a
 *                       machine, but they take cores from the HTTP threads of a busy server)
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

    /** @return these settings with what a version's {@code model.json} names laid over them */
    EngineSettings over(EngineThreads threads) {
        return new EngineSettings(threads.intraOp() == null ? intraOpThreads : threads.intraOp(),
                threads.interOp() == null ? interOpThreads : threads.interOp(),
                threads.spinning() == null ? spinning : threads.spinning());
    }

    @Override
    public String toString() {
        return "intra-op threads " + (intraOpThreads == 0 ? "auto" : intraOpThreads) + ", inter-op threads "
                + interOpThreads + ", spinning " + spinning;
    }
}
