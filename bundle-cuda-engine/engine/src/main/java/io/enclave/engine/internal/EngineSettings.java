package io.enclave.engine.internal;

import io.enclave.api.EngineThreads;

/**
 * Thread settings for the ONNX Runtime sessions an engine service creates: the engine's own, which a
 * model version may override in its {@code model.json} ({@link EngineThreads}).
 *
 * @param intraOpThreads threads one call may use (0: sized from the cores, {@link #sizedFor})
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

    /**
     * Resolves intra-op threads 0 for a version whose batches may run on up to {@code maxWorkers} workers at
     * once: each worker gets an equal share of the cores, at least one, so a busy version uses each core
     * once. ONNX Runtime's own answer to 0 is one thread per physical core for every call, whatever else
     * runs: with a worker per core that asks for cores × cores threads, and it differs from one machine
     * to the next (one thread per call on a VM whose two vCPUs it reads as one core, two on another).
     *
     * @return these settings, with 0 intra-op threads replaced by {@code max(1, cores / maxWorkers)}
     */
    EngineSettings sizedFor(int cores, int maxWorkers) {
        if (intraOpThreads != 0) {
            return this;
        }
        return new EngineSettings(Math.max(1, cores / Math.max(1, maxWorkers)), interOpThreads, spinning);
    }

    /** @return these settings as the API names a session's threads, every component given */
    EngineThreads named() {
        return new EngineThreads(intraOpThreads, interOpThreads, spinning);
    }

    @Override
    public String toString() {
        return "intra-op threads " + (intraOpThreads == 0 ? "sized from the cores" : intraOpThreads) + ", inter-op threads "
                + interOpThreads + ", spinning " + spinning;
    }
}
