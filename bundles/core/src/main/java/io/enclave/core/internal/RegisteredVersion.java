package io.enclave.core.internal;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

import io.enclave.api.BatchingSettings;
import io.enclave.api.EngineThreads;
import io.enclave.api.InferenceEngine;
import io.enclave.api.InferenceTimeoutException;
import io.enclave.api.InferenceException;
import io.enclave.api.LoadedModel;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelState;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;
import io.enclave.api.TokenCounts;

/**
 * One installed model version and the engine-loaded model behind it. Requests hold the read lock
 * while they run; unloading takes the write lock, so a version being removed finishes the
 * requests it already has before its native memory is freed.
 */
final class RegisteredVersion implements ModelVersion {
    private final ModelDescriptor descriptor;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile ModelState state = ModelState.LOADING;
    private volatile String failure;
    private volatile InferenceEngine engine;
    private volatile long loadMillis = -1;
    private final AtomicBoolean loadQueued = new AtomicBoolean();
    /** Held while an engine loads this version. */
    final Object loading = new Object();
    private LoadedModel loaded;
    private boolean removed;

    private final double faultRate;
    private final long faultMillis;
    private final long timeoutMillis;
    private volatile BatchingSettings settings;
    private volatile Batcher batcher;

    RegisteredVersion(ModelDescriptor descriptor) {
        this.descriptor = descriptor;
        this.timeoutMillis = descriptor.properties().get("timeoutMs") instanceof Number n ? n.longValue() : 0;
        this.settings = declaredBatching(descriptor);
        Map<?, ?> faults = descriptor.properties().get("faults") instanceof Map<?, ?> m ? m : Map.of();
        this.faultRate = faults.get("errorRate") instanceof Number n ? n.doubleValue() : 0;
        this.faultMillis = faults.get("latencyMs") instanceof Number n ? n.longValue() : 0;
    }

    @Override
    public ModelDescriptor descriptor() {
        return descriptor;
    }

    @Override
    public ModelState state() {
        return state;
    }

    @Override
    public String failure() {
        return failure;
    }

    @Override
    public String device() {
        InferenceEngine e = engine;
        return state == ModelState.READY && e != null ? e.device() : null;
    }

    @Override
    public TokenCounts tokenCounts() {
        return fromLoaded(LoadedModel::tokenCounts);
    }

    @Override
    public EngineThreads threads() {
        return fromLoaded(LoadedModel::threads);
    }

    /** What the loaded model says, read under the read lock so an unload cannot close it meanwhile; null when none is. */
    private <T> T fromLoaded(Function<LoadedModel, T> read) {
        lock.readLock().lock();
        try {
            return loaded == null ? null : read.apply(loaded);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** @return how long the last successful load took, or -1 */
    long loadMillis() {
        return loadMillis;
    }

    /** @return true when no load was queued yet: the caller queues one */
    boolean queueLoad() {
        return loadQueued.compareAndSet(false, true);
    }

    void loadStarted() {
        loadQueued.set(false);
    }

    InferenceEngine loadedOn() {
        return engine;
    }

    /**
     * One call on its way.
     *
     * @param queued the queued request, for its queue time and batch: it gives null while the request has not
     *               reached the queue (an injected delay holds it back) and when it never does
     * @param result the outputs, or why there are none: refusals, a timeout and failures alike
     */
    record Call(java.util.function.Supplier<Batcher.Job> queued, CompletableFuture<List<NamedTensor>> result) {
        Call(Batcher.Job job, CompletableFuture<List<NamedTensor>> result) {
            this(() -> job, result);
        }

        /** A call that never reaches a batcher's queue: refused, or run by other means. */
        static Call unqueued(CompletableFuture<List<NamedTensor>> result) {
            return new Call(() -> null, result);
        }

        /** @return the queued request, null when it is not (or not yet) queued */
        Batcher.Job job() {
            return queued.get();
        }
    }

    @Override
    public List<NamedTensor> infer(List<NamedTensor> inputs) {
        return infer(inputs, System.nanoTime());
    }

    @Override
    public List<NamedTensor> infer(List<NamedTensor> inputs, long arrivedNanos) {
        return Futures.await(call(inputs, arrivedNanos, 0, 0).result(), "model '" + descriptor.name() + "'");
    }

    @Override
    public CompletionStage<List<NamedTensor>> inferAsync(List<NamedTensor> inputs, long arrivedNanos) {
        return call(inputs, arrivedNanos, 0, 0).result();
    }

    @Override
    public CompletionStage<List<NamedTensor>> inferAsync(List<NamedTensor> inputs, long arrivedNanos,
            long timeoutNanos) {
        return call(inputs, arrivedNanos, timeoutNanos, 0).result();
    }

    @Override
    public CompletionStage<List<NamedTensor>> inferAsync(List<NamedTensor> inputs, long arrivedNanos,
            long timeoutNanos, long priority) {
        return call(inputs, arrivedNanos, timeoutNanos, priority).result();
    }

    /**
     * Queues a call. Never throws: a version that is not READY, a full queue or an injected fault fail the result.
     *
     * @param timeoutNanos the caller's own limit on when it must start, from {@code arrivedNanos}; 0 for none
     * @param priority     the caller's priority (1 the most urgent; 0 none), placed by the batching settings
     */
    Call call(List<NamedTensor> inputs, long arrivedNanos, long timeoutNanos, long priority) {
        Batcher b = batcher;
        if (state != ModelState.READY || b == null) {
            return Call.unqueued(CompletableFuture.failedFuture(unavailable()));
        }
        if (faultMillis > 0) {
            // injected latency holds no thread: the request is queued once it has passed
            java.util.concurrent.atomic.AtomicReference<Batcher.Job> queued = new java.util.concurrent.atomic.AtomicReference<>();
            CompletableFuture<List<NamedTensor>> later = CompletableFuture
                    .runAsync(() -> { }, CompletableFuture.delayedExecutor(faultMillis, TimeUnit.MILLISECONDS))
                    .thenCompose(passed -> {
                        Call c = queue(b, inputs, arrivedNanos, timeoutNanos, priority);
                        queued.set(c.job());
                        return c.result();
                    });
            return new Call(queued::get, later);
        }
        return queue(b, inputs, arrivedNanos, timeoutNanos, priority);
    }

    private Call queue(Batcher b, List<NamedTensor> inputs, long arrivedNanos, long timeoutNanos, long priority) {
        Batcher.Job job;
        try {
            injectFault();
            job = b.submit(inputs, arrivedNanos, timeoutNanos, priority);
        } catch (RuntimeException e) {
            return Call.unqueued(CompletableFuture.failedFuture(e));
        }
        long wait = timeoutMillis > 0 ? timeoutMillis : b.settings().deadlineMillis() + 600_000;
        CompletableFuture<List<NamedTensor>> result = new CompletableFuture<>();
        // a timeout completes the job itself, so a batch that has not taken it yet leaves it out
        job.result.orTimeout(wait, TimeUnit.MILLISECONDS).whenComplete((out, e) -> {
            if (e == null) {
                result.complete(out);
                return;
            }
            Throwable cause = Futures.cause(e);
            result.completeExceptionally(cause instanceof TimeoutException
                    ? new InferenceTimeoutException("model '" + descriptor.name() + "' version " + descriptor.version()
                            + " timed out after " + wait + " ms")
                    : cause);
        });
        return new Call(job, result);
    }

    private ModelUnavailableException unavailable() {
        return new ModelUnavailableException("model " + descriptor.name() + " version " + descriptor.version()
                + " is " + state + (failure == null ? "" : ": " + failure));
    }

    /** One batch on the engine, on a worker thread; an unload waits for it. */
    private List<NamedTensor> runBatch(List<NamedTensor> batch) {
        lock.readLock().lock();
        try {
            if (loaded == null || (state != ModelState.READY && state != ModelState.DRAINING)) {
                throw unavailable();
            }
            return loaded.infer(batch);
        } finally {
            lock.readLock().unlock();
        }
    }

    Batcher batcher() {
        return batcher;
    }

    /** Applies new batching settings to the running version, from the next batch on. */
    void tune(BatchingSettings next) {
        settings = next;
        Batcher b = batcher;
        if (b != null) {
            b.reconfigure(next);
        }
    }

    BatchingSettings settings() {
        return settings;
    }

    /** model.json's {@code "batching"} over the defaults (checked when the model was installed). */
    static BatchingSettings declaredBatching(ModelDescriptor d) {
        return BatchingSettings.declared(d.properties().get(BatchingSettings.PROPERTY));
    }

    /**
     * model.json's {@code "faults"} share of failed calls, for game days and for proving that canary
     * checks and fallbacks work (its added latency is applied in {@link #call}). Never applied to the
     * warm-up call.
     */
    private void injectFault() {
        if (faultRate > 0 && ThreadLocalRandom.current().nextDouble() < faultRate) {
            throw new InferenceException("model " + descriptor.name() + " version " + descriptor.version()
                    + " failed: injected fault (model.json 'faults')");
        }
    }

    void waiting(String why) {
        lock.writeLock().lock();
        try {
            if (!removed && loaded == null) {
                state = ModelState.LOADING;
                failure = why;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Takes a freshly loaded model; closes it instead when this version was removed meanwhile. */
    boolean ready(LoadedModel model, InferenceEngine on, long millis) {
        lock.writeLock().lock();
        try {
            if (removed || loaded != null) {
                model.close();
                return false;
            }
            loaded = model;
            engine = on;
            loadMillis = millis;
            failure = null;
            batcher = new Batcher(descriptor.name() + "-" + descriptor.version(), settings, this::runBatch);
            state = ModelState.READY;
            return true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    void failed(String why) {
        lock.writeLock().lock();
        try {
            if (!removed) {
                state = ModelState.FAILED;
                failure = why;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Stops taking requests, waits for those in flight, frees the model. */
    void unload(ModelState next, String why) {
        state = ModelState.DRAINING;
        Batcher b = batcher;
        if (b != null) {
            // what was accepted is answered: the queue runs dry before the model is freed
            b.drain(b.settings().deadlineMillis());
            b.close();
        }
        batcher = null;
        lock.writeLock().lock();
        try {
            if (loaded != null) {
                loaded.close();
                loaded = null;
            }
            engine = null;
            if (next == null) {
                removed = true;
            } else {
                state = next;
                failure = why;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    boolean isRemoved() {
        lock.readLock().lock();
        try {
            return removed;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public String toString() {
        return descriptor.id() + " " + state;
    }
}
