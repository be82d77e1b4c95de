package io.enclave.core.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.EnclaveException;
import io.enclave.api.InferenceException;
import io.enclave.api.InferenceObserver;
import io.enclave.api.InferenceRequest;
import io.enclave.api.InferenceResponse;
import io.enclave.api.InferenceStats;
import io.enclave.api.InferenceTimeoutException;
import io.enclave.api.OverloadedException;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;
import io.enclave.api.Router;
import io.enclave.api.TensorSpec;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;
import io.enclave.api.VersionStats;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

/**
 * Chooses the version that answers and runs it. The choice: the version named in the request, else
 * the pinned version, else the canary or the stable version by the sticky key's bucket or by
 * chance, in proportion to the canary's share. A request reads the model's rules once, so a
 * promote or rollback is never half seen.
 *
 * <p>When the chosen version fails (an error, its timeout, or its circuit breaker open), a canary's
 * request is answered by the stable version, and any other by the model's declared fallback model,
 * flagged as such. A shadow version gets a copy of the request on a separate thread after the
 * answer is made; only the comparison is kept. Counts and latencies per version feed
 * {@link InferenceStats}, which the canary checks read.
 */
@Component(service = Router.class)
public class VersionRouter implements Router, InferenceStats {
    private static final Logger LOG = LoggerFactory.getLogger(VersionRouter.class);
    private static final int SHADOW_QUEUE = 64;

    private final ModelRegistry registry;
    private final TrafficControl traffic;
    private final VersionMeters meters;
    private final List<InferenceObserver> observers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<ModelDescriptor, CircuitBreaker> breakers = new ConcurrentHashMap<>();
    /** The fallback each model named when last seen: it still answers while the model is gone. */
    private final Map<String, String> fallbackOf = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();
    private final ThreadPoolExecutor shadows;

    @Activate
    public VersionRouter(@Reference(name = "registry") ModelRegistry registry,
            @Reference(name = "traffic") TrafficControl traffic, @Reference(name = "meters") VersionMeters meters) {
        this.meters = meters;
        this.registry = registry;
        this.traffic = traffic;
        this.shadows = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(SHADOW_QUEUE), r -> {
            Thread t = new Thread(r, "enclave-shadow");
            t.setDaemon(true);
            return t;
        });
    }

    @Deactivate
    void deactivate() {
        shadows.shutdownNow();
    }

    @Override
    public List<String> models() {
        return registry.versions().stream().map(v -> v.descriptor().name()).distinct().sorted().toList();
    }

    @Override
    public ModelVersion resolve(String model, String version) {
        return resolve(model, version, null);
    }

    @Override
    public Optional<String> stickyHeader(String model) {
        return Optional.ofNullable(traffic.rules(model).stickyHeader());
    }

    @Override
    public ModelVersion resolve(String model, String version, String routeKey) {
        return choose(model, version, routeKey, traffic.rules(model)).version;
    }

    /** The same figures the {@link VersionMeters} service gives. */
    @Override
    public VersionStats stats(String model, Version version, int windowSeconds) {
        return meters.stats(model, version, windowSeconds);
    }

    /** The same sums the {@link VersionMeters} service gives. */
    @Override
    public io.enclave.api.CumulativeStats cumulative(String model, Version version) {
        return meters.cumulative(model, version);
    }

    @Override
    public Map<Version, Double> weights(String model) {
        Map<Version, Double> w = new java.util.LinkedHashMap<>();
        List<ModelVersion> all = registry.versions(model);
        all.forEach(v -> w.put(v.descriptor().version(), 0.0));
        if (all.isEmpty()) {
            return w;
        }
        TrafficRules rules = traffic.rules(model);
        if (rules.pinned() != null && ready(model, rules.pinned()) != null) {
            w.put(rules.pinned(), 100.0);
            return w;
        }
        ModelVersion canary = rules.canary() == null ? null : ready(model, rules.canary());
        ModelVersion stable = stable(all, rules);
        if (canary != null && stable != null) {
            w.put(rules.canary(), rules.canaryPercent());
            w.put(stable.descriptor().version(), 100 - rules.canaryPercent());
        } else if (stable != null || canary != null) {
            w.put((stable != null ? stable : canary).descriptor().version(), 100.0);
        }
        return w;
    }

    @Override
    public boolean ready() {
        List<String> names = models();
        if (names.isEmpty()) {
            return false;
        }
        for (String model : names) {
            TrafficRules r = traffic.rules(model);
            boolean any = false;
            for (ModelVersion v : registry.versions(model)) {
                Version ver = v.descriptor().version();
                boolean serving = ver.equals(r.stable()) || ver.equals(r.pinned())
                        || (ver.equals(r.canary()) && r.canaryPercent() > 0);
                if (v.state() == ModelState.READY) {
                    any = true;
                } else if (serving) {
                    return false;
                }
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean serves(String model) {
        return !registry.versions(model).isEmpty() || fallbackOf.containsKey(model);
    }

    /** The version that answers, and who answers instead when it is a canary that fails. */
    private record Choice(ModelVersion version, ModelVersion instead) {
    }

    private Choice choose(String model, String version, String routeKey, TrafficRules rules) {
        List<ModelVersion> all = registry.versions(model);
        if (all.isEmpty()) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        if (version != null) {
            Version wanted;
            try {
                wanted = Version.parseVersion(version);
            } catch (IllegalArgumentException e) {
                throw new ModelNotFoundException("model '" + model + "' has no version '" + version + "'");
            }
            return new Choice(registry.find(model, wanted).orElseThrow(() -> new ModelNotFoundException(
                    "model '" + model + "' has no version '" + version + "' (installed: " + list(all) + ")")), null);
        }
        if (rules.pinned() != null) {
            ModelVersion v = ready(model, rules.pinned());
            if (v != null) {
                return new Choice(v, null);
            }
        }
        ModelVersion canary = rules.canary() == null ? null : ready(model, rules.canary());
        ModelVersion stable = stable(all, rules);
        if (canary != null && stable != null) {
            int bucket = routeKey != null ? bucket(model, routeKey) : nextBucket();
            return bucket < Math.round(rules.canaryPercent() * 10) ? new Choice(canary, stable) : new Choice(stable, null);
        }
        if (stable != null) {
            return new Choice(stable, null);
        }
        if (canary != null) {
            return new Choice(canary, null);
        }
        throw new ModelUnavailableException("model '" + model + "' has no ready version (" + all.stream()
                .map(v -> v.descriptor().version() + " " + v.state() + (v.failure() == null ? "" : ": " + v.failure()))
                .collect(Collectors.joining("; ")) + ")");
    }

    /** The recorded stable version when READY, else the highest READY one not in the canary's place. */
    private ModelVersion stable(List<ModelVersion> all, TrafficRules rules) {
        ModelVersion stable = rules.stable() == null ? null : ready(rules.model(), rules.stable());
        for (int i = all.size() - 1; i >= 0 && stable == null; i--) {
            ModelVersion v = all.get(i);
            Version ver = v.descriptor().version();
            if (v.state() == ModelState.READY && !ver.equals(rules.canary()) && !ver.equals(rules.rolledBack())) {
                stable = v;
            }
        }
        return stable;
    }

    private ModelVersion ready(String model, Version version) {
        return registry.find(model, version).filter(v -> v.state() == ModelState.READY).orElse(null);
    }

    /**
     * Unkeyed requests walk the 1000 buckets in a scrambled order (617 is coprime with 1000), so every
     * run of 1000 requests holds exactly the canary's share, and shorter runs come close: a split
     * that chance alone would blur by several points is exact.
     */
    private int nextBucket() {
        return (int) Math.floorMod(sequence.getAndIncrement() * 617L, 1000L);
    }

    /** The same key lands in the same of 1000 buckets, across requests and restarts. */
    static int bucket(String model, String key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((model + "\0" + key).getBytes(StandardCharsets.UTF_8));
            return Math.floorMod(ByteBuffer.wrap(d).getInt(), 1000);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What one request went through, for the observers. */
    private static final class Trace {
        String version = "";
        long computeStart;
        long computeNanos;
        boolean timedOut;
        boolean rejected;
        int batchSize = 1;
        /** When the transport received the request: the version's deadline counts from then. */
        long arrived;
        /** When the router first saw it. */
        long routed;
        /** The caller's own limit on when its computation must start, from {@link #arrived}; 0 for none. */
        long timeout;
        long priority;
    }

    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.MULTIPLE,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    void bindObserver(InferenceObserver o) {
        observers.add(o);
    }

    void unbindObserver(InferenceObserver o) {
        observers.remove(o);
    }

    @Override
    public InferenceResponse infer(InferenceRequest request) {
        return Futures.await(inferAsync(request), "model '" + request.model() + "'");
    }

    @Override
    public CompletionStage<InferenceResponse> inferAsync(InferenceRequest request) {
        long start = System.nanoTime();
        Trace t = new Trace();
        t.routed = start;
        t.arrived = request.arrivedNanos();
        t.timeout = request.timeoutNanos();
        t.priority = request.priority();
        CompletableFuture<InferenceResponse> answer;
        try {
            answer = route(request, t);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        if (observers.isEmpty()) {
            return answer;
        }
        return answer.whenComplete((r, e) -> observe(request, t, start, r, e));
    }

    private void observe(InferenceRequest request, Trace t, long start, InferenceResponse r, Throwable e) {
        InferenceObserver.Outcome outcome;
        if (e == null) {
            outcome = r.fallback() ? InferenceObserver.Outcome.FALLBACK : InferenceObserver.Outcome.SUCCESS;
        } else {
            Throwable c = Futures.cause(e);
            outcome = c instanceof InvalidInputException || c instanceof ModelNotFoundException
                    ? InferenceObserver.Outcome.CLIENT_ERROR
                    : t.rejected ? InferenceObserver.Outcome.REJECTED
                    : t.timedOut ? InferenceObserver.Outcome.TIMEOUT : InferenceObserver.Outcome.SERVER_ERROR;
        }
        long total = System.nanoTime() - start;
        String model = serves(request.model()) ? request.model() : InferenceObserver.UNKNOWN;
        long queue = t.computeStart == 0 ? 0 : t.computeStart - start;
        for (InferenceObserver o : observers) {
            try {
                o.completed(model, model == InferenceObserver.UNKNOWN ? "" : t.version, outcome, total, queue,
                        t.computeNanos, t.batchSize);
            } catch (RuntimeException x) {
                LOG.debug("observer {} failed: {}", o, x.toString());
            }
        }
    }

    /** The chosen version's answer; when it fails, the version routing would use instead, then the fallback model. */
    private CompletableFuture<InferenceResponse> route(InferenceRequest request, Trace t) {
        TrafficRules rules = traffic.rules(request.model());
        Choice choice;
        try {
            choice = choose(request.model(), request.version(), request.routeKey(), rules);
        } catch (ModelNotFoundException | ModelUnavailableException gone) {
            String fallback = request.version() == null ? fallbackOf.get(request.model()) : null;
            if (fallback == null) {
                throw gone;
            }
            return viaFallback(request, fallback, gone, null, t);
        }
        ModelDescriptor d = choice.version.descriptor();
        t.version = d.version().toString();
        // written only when it changes: every request passes here, and a write on a shared map is not free
        if (d.fallback() != null) {
            if (!d.fallback().equals(fallbackOf.get(d.name()))) {
                fallbackOf.put(d.name(), d.fallback());
            }
        } else if (fallbackOf.containsKey(d.name())) {
            fallbackOf.remove(d.name());
        }
        check(d, request);
        List<NamedTensor> inputs = order(d, request.inputs());
        return call(choice.version, inputs, t).handle((outputs, e) -> e == null
                ? CompletableFuture.completedFuture(answer(rules, choice.version, inputs, outputs, request))
                : recover(e, request, rules, d, choice, t)).thenCompose(r -> r);
    }

    private CompletableFuture<InferenceResponse> recover(Throwable e, InferenceRequest request, TrafficRules rules,
            ModelDescriptor d, Choice choice, Trace t) {
        Throwable failed = Futures.cause(e);
        if (failed instanceof InvalidInputException || !(failed instanceof EnclaveException cause)) {
            return CompletableFuture.failedFuture(failed);
        }
        if (t.timeout > 0 && System.nanoTime() - t.arrived >= t.timeout) {
            // the caller's own time is up, whatever failed: another version could not start it in time
            // either, so the caller hears why this one failed, not that the fallback failed too
            return CompletableFuture.failedFuture(failed);
        }
        if (choice.instead != null) {
            ModelVersion instead = choice.instead;
            t.version = instead.descriptor().version().toString();
            t.timedOut = false;
            t.rejected = false;
            List<NamedTensor> inputs = order(instead.descriptor(), request.inputs());
            return call(instead, inputs, t).handle((outputs, e2) -> {
                if (e2 == null) {
                    return CompletableFuture.completedFuture(answer(rules, instead, inputs, outputs, request));
                }
                Throwable also = Futures.cause(e2);
                if (also instanceof InvalidInputException || !(also instanceof EnclaveException alsoFailed)
                        || d.fallback() == null) {
                    return CompletableFuture.<InferenceResponse>failedFuture(also);
                }
                return viaFallback(request, d.fallback(), alsoFailed, meter(d), t);
            }).thenCompose(r -> r);
        }
        if (d.fallback() != null) {
            return viaFallback(request, d.fallback(), cause, meter(d), t);
        }
        return CompletableFuture.failedFuture(failed);
    }

    private InferenceResponse answer(TrafficRules rules, ModelVersion answered, List<NamedTensor> inputs,
            List<NamedTensor> outputs, InferenceRequest request) {
        ModelDescriptor ad = answered.descriptor();
        shadow(rules, ad, inputs, outputs);
        return new InferenceResponse(ad.name(), ad.version(), select(outputs, request.requestedOutputs()));
    }

    private CompletableFuture<InferenceResponse> viaFallback(InferenceRequest request, String fallback,
            EnclaveException cause, VersionMeter primary, Trace t) {
        ModelVersion v;
        try {
            v = choose(fallback, null, null, traffic.rules(fallback)).version;
            check(v.descriptor(), request);
        } catch (EnclaveException e) {
            return CompletableFuture.failedFuture(new ModelUnavailableException("model '" + request.model() + "' failed ("
                    + cause.getMessage() + ") and its fallback '" + fallback + "' cannot answer: " + e.getMessage(), cause));
        }
        return call(v, order(v.descriptor(), request.inputs()), t).handle((outputs, e) -> {
            if (e != null) {
                throw new ModelUnavailableException("model '" + request.model() + "' failed (" + cause.getMessage()
                        + ") and so did its fallback '" + fallback + "': " + Futures.cause(e).getMessage(), cause);
            }
            if (primary != null) {
                primary.fallback();
            }
            return new InferenceResponse(v.descriptor().name(), v.descriptor().version(),
                    select(outputs, request.requestedOutputs()), true);
        });
    }

    /**
     * Runs one version through its circuit breaker and timeout, and records how it went. Never throws:
     * the result fails with an {@link EnclaveException}.
     */
    private CompletableFuture<List<NamedTensor>> call(ModelVersion v, List<NamedTensor> inputs, Trace t) {
        ModelDescriptor d = v.descriptor();
        VersionMeter meter = meter(d);
        CircuitBreaker breaker = breaker(d);
        if (!breaker.tryAcquirePermission()) {
            t.rejected = true;
            meter.record(0, true);
            meter.failedAfter(sinceArrival(t, System.nanoTime()));
            return CompletableFuture.failedFuture(new ModelUnavailableException("model '" + d.name() + "' version "
                    + d.version() + " is failing: its circuit breaker is open"));
        }
        long start = System.nanoTime();
        t.computeStart = start;
        meter.enter();
        RegisteredVersion.Call c = v instanceof RegisteredVersion rv ? rv.call(inputs, t.arrived, t.timeout, t.priority)
                : RegisteredVersion.Call.unqueued(v.inferAsync(inputs, t.arrived, t.timeout, t.priority).toCompletableFuture());
        return c.result().handle((out, e) -> {
            meter.leave();
            long now = System.nanoTime();
            long took = now - start;
            if (e == null) {
                Batcher.Job job = c.job();
                int batch = 1;
                if (job != null && job.started > 0) {
                    t.computeStart = job.started;
                    t.computeNanos += now - job.started;
                    batch = Math.max(1, job.batchSize);
                    t.batchSize = batch;
                } else {
                    t.computeNanos += took;
                }
                answered(meter, job, inputs, sinceArrival(t, now), start, now);
                breaker.onSuccess(took, TimeUnit.NANOSECONDS);
                meter.record(took, false, batch);
                return out;
            }
            Throwable x = Futures.cause(e);
            if (x instanceof InvalidInputException invalid) {
                breaker.releasePermission();
                throw invalid;
            }
            if (x instanceof OverloadedException overloaded) {
                // refused for lack of room, not a failure of the version: the breaker does not count it
                breaker.releasePermission();
                t.rejected = true;
                meter.record(took, true);
                meter.failedAfter(sinceArrival(t, now));
                throw overloaded;
            }
            t.computeNanos += took;
            if (x instanceof InferenceTimeoutException) {
                t.timedOut = true;
            }
            breaker.onError(took, TimeUnit.NANOSECONDS, x);
            meter.record(took, true);
            meter.failedAfter(sinceArrival(t, now));
            throw x instanceof EnclaveException ee ? ee
                    : new InferenceException("model '" + d.name() + "' version " + d.version() + " failed: " + x, x);
        });
    }

    /**
     * Adds an answered request to its version's sums: its batch's figures when a batcher ran it, else as an engine
     * call of its own from {@code start}.
     */
    private static void answered(VersionMeter meter, Batcher.Job job, List<NamedTensor> inputs, long total, long start,
            long now) {
        if (job != null && job.started > 0) {
            meter.answered(total, job.started - start, job.rows, job.batchRows, job.inputNanos, job.inferNanos,
                    job.outputNanos, job.leads);
        } else {
            int rows = Tensors.rows(inputs);
            meter.answered(total, 0, rows, rows, 0, now - start, 0, true);
        }
    }

    /** From the request's arrival at the server (or, when the transport did not say, at the router) to {@code now}. */
    private static long sinceArrival(Trace t, long now) {
        return t.arrived != 0 && now - t.arrived >= 0 ? now - t.arrived : now - t.routed;
    }

    static long timeoutMillis(ModelDescriptor d) {
        return d.properties().get("timeoutMs") instanceof Number n ? n.longValue() : 0;
    }

    private VersionMeter meter(ModelDescriptor d) {
        return meters.meter(d);
    }

    private CircuitBreaker breaker(ModelDescriptor d) {
        CircuitBreaker b = breakers.get(d);
        if (b == null) {
            breakers.keySet().removeIf(old -> old.id().equals(d.id()) && old != d);
            b = breakers.computeIfAbsent(d, VersionRouter::newBreaker);
        }
        return b;
    }

    /**
     * Opens at half the last 20 calls failing (or, with a timeout, 80 % running past it), stays open
     * 5 s, then lets 3 calls test the version: model.json's {@code "circuitBreaker"} may change these.
     */
    static CircuitBreaker newBreaker(ModelDescriptor d) {
        Map<?, ?> c = d.properties().get("circuitBreaker") instanceof Map<?, ?> m ? m : Map.of();
        long timeout = timeoutMillis(d);
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(number(c, "window", 20).intValue())
                .minimumNumberOfCalls(number(c, "minCalls", 10).intValue())
                .failureRateThreshold(number(c, "failureRatePercent", 50).floatValue())
                .slowCallRateThreshold(number(c, "slowCallRatePercent", timeout > 0 ? 80 : 100).floatValue())
                .slowCallDurationThreshold(Duration.ofMillis(number(c, "slowCallMs", timeout > 0 ? timeout : 60_000).longValue()))
                .waitDurationInOpenState(Duration.ofMillis(number(c, "openMs", 5_000).longValue()))
                .permittedNumberOfCallsInHalfOpenState(number(c, "halfOpenCalls", 3).intValue())
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .build();
        return CircuitBreaker.of(d.id(), config);
    }

    private static Number number(Map<?, ?> m, String key, Number otherwise) {
        return m.get(key) instanceof Number n ? n : otherwise;
    }

    /** A copy for the shadow, after the answer is made; a full queue drops the copy, never waits. */
    private void shadow(TrafficRules rules, ModelDescriptor answered, List<NamedTensor> inputs, List<NamedTensor> answer) {
        Version sv = rules.shadow();
        if (sv == null || sv.equals(answered.version())) {
            return;
        }
        ModelVersion shadow = ready(answered.name(), sv);
        if (shadow == null) {
            return;
        }
        VersionMeter meter = meter(shadow.descriptor());
        try {
            shadows.execute(() -> {
                long start = System.nanoTime();
                try {
                    // queued like any request, so that a batch it shares with them is counted whole
                    List<NamedTensor> copy = order(shadow.descriptor(), inputs);
                    RegisteredVersion.Call c = shadow instanceof RegisteredVersion rv ? rv.call(copy, start, 0, 0)
                            : RegisteredVersion.Call.unqueued(shadow.inferAsync(copy, start).toCompletableFuture());
                    List<NamedTensor> got = Futures.await(c.result(), "model '" + answered.name() + "' (shadow)");
                    long now = System.nanoTime();
                    answered(meter, c.job(), copy, now - start, start, now);
                    meter.shadow(Agreement.of(shadow.descriptor()).agree(answer, got));
                } catch (RuntimeException e) {
                    meter.failedAfter(System.nanoTime() - start);
                    meter.shadow(false);
                    LOG.debug("shadow {} failed: {}", shadow.descriptor(), e.getMessage());
                }
            });
        } catch (RejectedExecutionException full) {
            meter.shadowDropped();
        }
    }

    /** Every declared input exactly once, with its declared type and a shape that fits. */
    static void check(ModelDescriptor d, InferenceRequest request) {
        Map<String, NamedTensor> given = new HashMap<>();
        for (NamedTensor t : request.inputs()) {
            TensorSpec spec = d.input(t.name());
            if (spec == null) {
                throw new InvalidInputException("unexpected input '" + t.name() + "' for model '" + d.name()
                        + "' (it takes " + names(d.inputs()) + ")");
            }
            if (given.put(t.name(), t) != null) {
                throw new InvalidInputException("input '" + t.name() + "' is given more than once");
            }
            if (t.datatype() != spec.datatype()) {
                throw new InvalidInputException("input '" + t.name() + "' has datatype " + t.datatype()
                        + " but model '" + d.name() + "' expects " + spec.datatype());
            }
            if (!spec.accepts(t.shape())) {
                throw new InvalidInputException("input '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                        + " but model '" + d.name() + "' expects " + Arrays.toString(spec.shape())
                        + " (-1 is any size)");
            }
        }
        for (TensorSpec spec : d.inputs()) {
            if (!given.containsKey(spec.name())) {
                throw new InvalidInputException("missing input '" + spec.name() + "' for model '" + d.name() + "'");
            }
        }
        if (request.requestedOutputs() != null) {
            TreeSet<String> seen = new TreeSet<>();
            for (String o : request.requestedOutputs()) {
                if (d.output(o) == null) {
                    throw new InvalidInputException("unknown output '" + o + "' for model '" + d.name()
                            + "' (it has " + names(d.outputs()) + ")");
                }
                if (!seen.add(o)) {
                    throw new InvalidInputException("output '" + o + "' is requested more than once");
                }
            }
        }
    }

    private static List<NamedTensor> order(ModelDescriptor d, List<NamedTensor> inputs) {
        if (inputs.size() == 1) {
            return inputs;
        }
        List<NamedTensor> ordered = new ArrayList<>(inputs.size());
        for (TensorSpec spec : d.inputs()) {
            for (NamedTensor t : inputs) {
                if (t.name().equals(spec.name())) {
                    ordered.add(t);
                }
            }
        }
        return ordered;
    }

    private static List<NamedTensor> select(List<NamedTensor> outputs, List<String> requested) {
        if (requested == null) {
            return outputs;
        }
        List<NamedTensor> chosen = new ArrayList<>(requested.size());
        for (String name : requested) {
            for (NamedTensor t : outputs) {
                if (t.name().equals(name)) {
                    chosen.add(t);
                }
            }
        }
        return chosen;
    }

    private static String list(List<ModelVersion> all) {
        return all.stream().map(v -> v.descriptor().version().toString()).collect(Collectors.joining(", "));
    }

    private static String names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).collect(Collectors.joining(", "));
    }
}
