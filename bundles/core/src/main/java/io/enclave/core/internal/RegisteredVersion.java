package io.enclave.core.internal;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import io.enclave.api.InferenceEngine;
import io.enclave.api.InferenceException;
import io.enclave.api.LoadedModel;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelState;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;

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
    private LoadedModel loaded;
    private boolean removed;

    private final double faultRate;
    private final long faultMillis;

    RegisteredVersion(ModelDescriptor descriptor) {
        this.descriptor = descriptor;
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

    @Override
    public List<NamedTensor> infer(List<NamedTensor> inputs) {
        lock.readLock().lock();
        try {
            if (state != ModelState.READY) {
                throw new ModelUnavailableException("model " + descriptor.name() + " version " + descriptor.version()
                        + " is " + state + (failure == null ? "" : ": " + failure));
            }
            injectFaults();
            return loaded.infer(inputs);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * model.json's {@code "faults"}: added latency and a share of failed calls, for game days and for
     * proving that canary checks and fallbacks work. Never applied to the warm-up call.
     */
    private void injectFaults() {
        if (faultMillis > 0) {
            try {
                Thread.sleep(faultMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
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
