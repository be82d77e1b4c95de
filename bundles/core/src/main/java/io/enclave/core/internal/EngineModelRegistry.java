package io.enclave.core.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.AuditLog;
import io.enclave.api.BatchingSettings;
import io.enclave.api.InferenceEngine;
import io.enclave.api.InferenceObserver;
import io.enclave.api.LoadedModel;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelLoadException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;

/**
 * Puts every installed {@link ModelDescriptor} on an {@link InferenceEngine} that can run it.
 * Descriptors and engines come and go as bundles start and stop; loading happens on a small pool,
 * never on the thread that delivered the service event.
 */
@Component(service = {ModelRegistry.class, EngineModelRegistry.class}, immediate = true)
public class EngineModelRegistry implements ModelRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(EngineModelRegistry.class);
    private static final Comparator<ModelVersion> ORDER = Comparator
            .comparing((ModelVersion v) -> v.descriptor().name())
            .thenComparing(v -> v.descriptor().version());

    /**
     * Mandatory: a model version does not come or go unrecorded. Null only in unit tests. Named so it
     * sorts, and is bound, before the descriptors.
     */
    @Reference(name = "Audit")
    private volatile AuditLog audit;

    private final Map<String, RegisteredVersion> versions = new ConcurrentHashMap<>();
    /**
     * Each model's versions, oldest first, rebuilt whenever a version comes or goes. Every request reads
     * it (to route, and to count under the right model), so it is read as it is: no scan, copy or sort.
     */
    private volatile Map<String, List<ModelVersion>> byModel = Map.of();
    private final List<InferenceEngine> engines = new CopyOnWriteArrayList<>();
    private final ExecutorService loader = Executors.newFixedThreadPool(2, new ThreadFactory() {
        private final AtomicInteger n = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "enclave-model-loader-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    });

    private final List<InferenceObserver> observers = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindObserver(InferenceObserver o) {
        observers.add(o);
    }

    void unbindObserver(InferenceObserver o) {
        observers.remove(o);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindEngine(InferenceEngine engine) {
        engines.add(engine);
        LOG.info("engine {} {} available on {}", engine.name(), engine.version(), engine.device());
        for (RegisteredVersion v : versions.values()) {
            if (v.state() == ModelState.LOADING && v.loadedOn() == null && v.descriptor().engine().equals(engine.name())) {
                scheduleLoad(v);
            }
        }
    }

    void unbindEngine(InferenceEngine engine) {
        engines.remove(engine);
        for (RegisteredVersion v : versions.values()) {
            if (v.loadedOn() == engine) {
                v.unload(ModelState.LOADING, "engine " + engine.name() + " on " + engine.device() + " went away");
                LOG.info("{} unloaded: its engine {} on {} went away", v.descriptor(), engine.name(), engine.device());
                scheduleLoad(v);
            }
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDescriptor(ModelDescriptor descriptor) {
        RegisteredVersion v = new RegisteredVersion(descriptor);
        BatchingSettings override = overrides.apply(descriptor);
        if (override != null) {
            v.tune(override);
        }
        RegisteredVersion previous = versions.putIfAbsent(descriptor.id(), v);
        if (previous != null) {
            LOG.error("{} from {} ignored: that version is already installed from {}", descriptor,
                    descriptor.artifacts().describe(), previous.descriptor().artifacts().describe());
            return;
        }
        reindex();
        audit("model.install", descriptor, "success", "from " + descriptor.artifacts().describe());
        scheduleLoad(v);
    }

    private void audit(String action, ModelDescriptor d, String outcome, String detail) {
        AuditLog a = audit;
        if (a != null) {
            try {
                a.append(new AuditLog.Event(null, null, action, d.id(), outcome, detail));
            } catch (RuntimeException e) {
                LOG.error("cannot write the audit log: {}", e.getMessage());
            }
        }
    }

    void unbindDescriptor(ModelDescriptor descriptor) {
        RegisteredVersion v = versions.get(descriptor.id());
        if (v == null || v.descriptor() != descriptor) {
            return;
        }
        versions.remove(descriptor.id(), v);
        reindex();
        v.unload(null, null);
        audit("model.remove", descriptor, "success", null);
        LOG.info("{} removed", descriptor);
    }

    private void scheduleLoad(RegisteredVersion v) {
        if (!v.queueLoad()) {
            return;
        }
        try {
            loader.execute(() -> load(v));
        } catch (RejectedExecutionException shuttingDown) {
            // the registry is going away; nothing to load into
        }
    }

    void load(RegisteredVersion v) {
        v.loadStarted();
        // two loader threads may both be asked to load a version (an engine leaving and another
        // arriving); one at a time, and the second finds it READY and stops
        synchronized (v.loading) {
            loadOnce(v);
        }
    }

    private void loadOnce(RegisteredVersion v) {
        ModelDescriptor d = v.descriptor();
        if (v.isRemoved() || v.state() == ModelState.READY) {
            return;
        }
        InferenceEngine engine = choose(d);
        if (engine == null) {
            v.waiting("waiting for engine " + d.engine());
            LOG.info("{} waits for engine {}", d, d.engine());
            return;
        }
        long start = System.nanoTime();
        try {
            LoadedModel model = engine.load(d, d.artifacts());
            try {
                warmUp(d, model, v.settings().maxBatchSize());
            } catch (RuntimeException e) {
                model.close();
                throw new ModelLoadException("warm-up on the declared sample failed: " + e.getMessage(), e);
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (v.ready(model, engine, millis)) {
                LOG.info("{} ready on {} {} in {} ms", d, engine.name(), engine.device(), millis);
                long nanos = System.nanoTime() - start;
                for (InferenceObserver o : observers) {
                    try {
                        o.loaded(d.name(), d.version().toString(), nanos);
                    } catch (RuntimeException e) {
                        LOG.debug("observer {} failed: {}", o, e.toString());
                    }
                }
            }
        } catch (ModelLoadException | RuntimeException | LinkageError e) {
            v.failed(e.getMessage());
            audit("model.load", d, "failure", e.getMessage());
            LOG.error("{} failed to load: {}", d, e.getMessage(), e);
        }
    }

    /**
     * Inference on model.json's {@code "sample"} before the version may take traffic, alone and as a
     * full batch: the first real requests then pay no lazy initialization (the engine's first large
     * shapes cost seconds), and a model that loads but cannot run fails here.
     */
    static void warmUp(ModelDescriptor d, LoadedModel model, int maxBatchRows) {
        List<NamedTensor> sample = Samples.inputs(d);
        if (sample.isEmpty()) {
            return;
        }
        List<NamedTensor> out = model.infer(sample);
        if (out.size() != d.outputs().size()) {
            throw new IllegalStateException("it produced " + out.size() + " outputs, model.json declares "
                    + d.outputs().size());
        }
        int rows = Tensors.rows(sample);
        if (rows > 0 && maxBatchRows / rows > 1) {
            model.infer(Tensors.concat(java.util.Collections.nCopies(maxBatchRows / rows, sample)));
        }
    }

    /** The engine with the model's engine name, on the device it asks for, else the first such engine. */
    private InferenceEngine choose(ModelDescriptor d) {
        Object wanted = d.properties().get("device");
        InferenceEngine any = null;
        for (InferenceEngine e : engines) {
            if (!e.name().equals(d.engine())) {
                continue;
            }
            if (wanted == null || wanted.toString().equals(e.device())) {
                return e;
            }
            if (any == null) {
                any = e;
            }
        }
        return any;
    }

    @Deactivate
    void deactivate() {
        loader.shutdownNow();
        for (RegisteredVersion v : versions.values()) {
            v.unload(null, null);
        }
        versions.clear();
        reindex();
    }

    /** Rebuilds {@link #byModel} from {@link #versions}; serialized, so the last rebuild sees every change. */
    private synchronized void reindex() {
        Map<String, List<ModelVersion>> m = new HashMap<>();
        for (RegisteredVersion v : versions.values()) {
            m.computeIfAbsent(v.descriptor().name(), k -> new ArrayList<>()).add(v);
        }
        m.replaceAll((model, list) -> {
            list.sort(ORDER);
            return List.copyOf(list);
        });
        byModel = Map.copyOf(m);
    }

    private volatile java.util.function.Function<ModelDescriptor, BatchingSettings> overrides = model -> null;

    /** What a version being installed runs with when its model has a batching override (null: its model.json). */
    void batchingOverrides(java.util.function.Function<ModelDescriptor, BatchingSettings> lookup) {
        overrides = lookup;
    }

    /** @return the registry's own record of a version, or null */
    RegisteredVersion registered(String model, Version version) {
        return versions.get(model + ":" + version);
    }

    @Override
    public List<ModelVersion> versions() {
        List<ModelVersion> all = new ArrayList<>(versions.values());
        all.sort(ORDER);
        return all;
    }

    @Override
    public List<ModelVersion> versions(String model) {
        return model == null ? List.of() : byModel.getOrDefault(model, List.of());
    }

    @Override
    public Optional<ModelVersion> find(String model, Version version) {
        for (ModelVersion v : versions(model)) {
            if (v.descriptor().version().equals(version)) {
                return Optional.of(v);
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean allReady() {
        if (versions.isEmpty()) {
            return false;
        }
        for (RegisteredVersion v : versions.values()) {
            if (v.state() != ModelState.READY) {
                return false;
            }
        }
        return true;
    }
}
