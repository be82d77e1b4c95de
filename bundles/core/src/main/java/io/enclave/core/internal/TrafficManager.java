package io.enclave.core.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.Version;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.cm.ManagedServiceFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.AuditLog;
import io.enclave.api.Callers;
import io.enclave.api.ConflictException;
import io.enclave.api.EnclaveException;
import io.enclave.api.InferenceObserver;
import io.enclave.api.InferenceStats;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelVersion;
import io.enclave.api.Slo;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;
import io.enclave.api.VersionStats;

/**
 * Owns every model's traffic rules. The rules live in memory, so a change is whole and immediate for
 * the next request, and in ConfigAdmin (one named factory configuration per model, written whole to
 * {@code etc/io.enclave.traffic-<model>.cfg} too: {@link ConfigFiles}), so they survive restarts and
 * {@code config:edit} or an edited file changes them too. Each write carries a revision: the echo
 * of an older write that ConfigAdmin delivers late never undoes a newer change.
 *
 * <p>Also where a new version is held at 0 % (or at the share its {@code model.json} asks for) and
 * where canary limits are checked once a second, rolling back or promoting by itself.
 */
@Component(service = {TrafficControl.class, ManagedServiceFactory.class}, immediate = true,
        configurationPolicy = ConfigurationPolicy.IGNORE,
        property = Constants.SERVICE_PID + "=" + TrafficControl.FACTORY_PID)
public class TrafficManager implements TrafficControl, ManagedServiceFactory {
    private static final Logger LOG = LoggerFactory.getLogger(TrafficManager.class);

    private final Map<String, TrafficRules> rules = new ConcurrentHashMap<>();
    private final Map<String, Long> canarySince = new ConcurrentHashMap<>();
    private final List<ModelDescriptor> pendingArrivals = new ArrayList<>();
    private final ModelRegistry registry;
    private final ConfigurationAdmin configAdmin;
    private final AuditLog audit;
    private volatile InferenceStats stats;
    private final ConfigFiles files;
    private volatile boolean active;
    private ScheduledExecutorService checker;

    /**
     * @param configAdmin null only in unit tests: nothing is persisted
     * @param audit       null only in unit tests
     */
    @Activate
    public TrafficManager(@Reference(name = "Audit") AuditLog audit, @Reference(name = "Config") ConfigurationAdmin configAdmin,
            @Reference(name = "Registry") ModelRegistry registry) {
        this.audit = audit;
        this.configAdmin = configAdmin;
        this.registry = registry;
        this.files = configAdmin == null ? null : new ConfigFiles(configAdmin, ConfigFiles.karafEtc());
    }

    @Activate
    void activate() {
        if (configAdmin != null) {
            try {
                Configuration[] existing = configAdmin.listConfigurations(
                        "(" + ConfigurationAdmin.SERVICE_FACTORYPID + "=" + FACTORY_PID + ")");
                if (existing != null) {
                    for (Configuration c : existing) {
                        if (c.getProperties() != null) {
                            accept(c.getPid(), c.getProperties(), false);
                        }
                    }
                }
            } catch (IOException | InvalidSyntaxException e) {
                LOG.error("cannot read the stored traffic rules: {}", e.getMessage());
            }
        }
        List<ModelDescriptor> arrivals;
        synchronized (pendingArrivals) {
            active = true;
            arrivals = new ArrayList<>(pendingArrivals);
            pendingArrivals.clear();
        }
        arrivals.forEach(this::arrived);
        checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "enclave-canary-check");
            t.setDaemon(true);
            return t;
        });
        checker.scheduleWithFixedDelay(this::checkCanaries, 1, 1, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        active = false;
        if (checker != null) {
            checker.shutdownNow();
        }
    }

    private final List<InferenceObserver> observers = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindObserver(InferenceObserver o) {
        observers.add(o);
    }

    void unbindObserver(InferenceObserver o) {
        observers.remove(o);
    }

    private void decided(String model, Version version, String decision) {
        for (InferenceObserver o : observers) {
            try {
                o.trafficDecision(model, String.valueOf(version), decision);
            } catch (RuntimeException e) {
                LOG.debug("observer {} failed: {}", o, e.toString());
            }
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindStats(InferenceStats s) {
        stats = s;
    }

    void unbindStats(InferenceStats s) {
        if (stats == s) {
            stats = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDescriptor(ModelDescriptor d) {
        synchronized (pendingArrivals) {
            if (!active) {
                pendingArrivals.add(d);
                return;
            }
        }
        arrived(d);
    }

    void unbindDescriptor(ModelDescriptor d) {
        synchronized (pendingArrivals) {
            pendingArrivals.remove(d);
        }
    }

    /**
     * A new version arrives without traffic: when other versions of its model are installed and no
     * stable version is recorded, the highest of the others is recorded as stable. Its model.json may
     * ask for a first canary share.
     */
    void arrived(ModelDescriptor d) {
        String model = d.name();
        synchronized (this) {
            TrafficRules current = rules(model);
            TrafficRules.Builder next = current.toBuilder();
            boolean changed = false;
            if (current.stable() == null) {
                Version others = null;
                for (ModelVersion v : registry.versions(model)) {
                    Version ver = v.descriptor().version();
                    if (!ver.equals(d.version()) && (others == null || ver.compareTo(others) > 0)) {
                        others = ver;
                    }
                }
                if (others != null) {
                    next.stable(others);
                    changed = true;
                }
            }
            double initial = initialCanaryPercent(d);
            if (initial > 0 && current.canary() == null && changed | current.stable() != null) {
                next.canary(d.version(), initial);
                changed = true;
            }
            if (changed) {
                try {
                    apply(current, next, "traffic.arrival", "version " + d.version() + " arrived", "system", null);
                } catch (EnclaveException e) {
                    LOG.error("cannot hold {} back from traffic: {}", d, e.getMessage());
                }
            }
        }
    }

    private static double initialCanaryPercent(ModelDescriptor d) {
        Object canary = d.properties().get("canary");
        if (canary instanceof Map<?, ?> m && m.get("percent") instanceof Number n) {
            return n.doubleValue();
        }
        return 0;
    }

    @Override
    public TrafficRules rules(String model) {
        TrafficRules r = rules.get(model);
        return r != null ? r : TrafficRules.none(model);
    }

    @Override
    public Map<String, TrafficRules> all() {
        return Collections.unmodifiableMap(new TreeMap<>(rules));
    }

    @Override
    public synchronized TrafficRules canary(String model, Version version, double percent) {
        TrafficRules current = rules(model);
        requireInstalled(model, version);
        TrafficRules.Builder next = current.toBuilder();
        Version stable = effectiveStable(current, version);
        if (version.equals(stable) && current.stable() != null) {
            throw new InvalidInputException("version " + version + " is the stable version of " + model
                    + "; give another version the canary share");
        }
        if (current.stable() == null && stable != null && !stable.equals(version)) {
            next.stable(stable);
        }
        next.canary(version, percent);
        if (version.equals(current.rolledBack())) {
            next.rolledBack(null, null);
        }
        return apply(current, next, "traffic.canary", version + " at " + TrafficRulesCodec.format(percent) + "%",
                Callers.current(), Callers.from());
    }

    @Override
    public synchronized TrafficRules shadow(String model, Version version) {
        TrafficRules current = rules(model);
        if (version != null) {
            requireInstalled(model, version);
        } else {
            requireModel(model);
        }
        return apply(current, current.toBuilder().shadow(version), "traffic.shadow",
                version == null ? "shadow off" : "shadow " + version, Callers.current(), Callers.from());
    }

    @Override
    public synchronized TrafficRules promote(String model) {
        return promote(model, Callers.current(), Callers.from(), "traffic.promote", null);
    }

    private TrafficRules promote(String model, String who, String from, String action, String why) {
        requireModel(model);
        TrafficRules current = rules(model);
        if (current.canary() == null) {
            throw new ConflictException("model '" + model + "' has no canary to promote");
        }
        Version old = effectiveStable(current, current.canary());
        TrafficRules.Builder next = current.toBuilder().stable(current.canary()).canary(null, 0).previous(old);
        TrafficRules done = apply(current, next, action, current.canary() + " is stable" + (old == null ? "" : ", was " + old)
                + (why == null ? "" : " (" + why + ")"), who, from);
        decided(model, current.canary(), action.endsWith(".auto") ? "promote.auto" : "promote");
        return done;
    }

    @Override
    public synchronized TrafficRules rollback(String model, String reason) {
        return rollback(model, reason, Callers.current(), Callers.from(), "traffic.rollback");
    }

    private TrafficRules rollback(String model, String reason, String who, String from, String action) {
        requireModel(model);
        TrafficRules current = rules(model);
        TrafficRules.Builder next = current.toBuilder();
        String what;
        if (current.canary() != null) {
            next.canary(null, 0).rolledBack(current.canary(), reason == null ? "rolled back by " + who : reason);
            what = "canary " + current.canary() + " to 0%";
        } else if (current.previous() != null && registry.find(model, current.previous()).isPresent()) {
            Version was = effectiveStable(current, null);
            next.stable(current.previous()).previous(was).rolledBack(was, reason == null ? "rolled back by " + who : reason);
            what = "stable back to " + current.previous() + (was == null ? "" : " from " + was);
        } else {
            throw new ConflictException("model '" + model + "' has nothing to roll back: no canary and no earlier "
                    + "stable version installed");
        }
        TrafficRules done = apply(current, next, action, what + (reason == null ? "" : " (" + reason + ")"), who, from);
        decided(model, done.rolledBack(), action.endsWith(".auto") ? "rollback.auto" : "rollback");
        return done;
    }

    @Override
    public synchronized TrafficRules pin(String model, Version version) {
        TrafficRules current = rules(model);
        if (version != null) {
            requireInstalled(model, version);
        } else {
            requireModel(model);
        }
        return apply(current, current.toBuilder().pinned(version), "traffic.pin",
                version == null ? "unpinned" : "pinned to " + version, Callers.current(), Callers.from());
    }

    @Override
    public synchronized TrafficRules set(TrafficRules wanted) {
        String model = wanted.model();
        requireModel(model);
        for (Version v : new Version[] {wanted.pinned(), wanted.stable(), wanted.canary(), wanted.shadow()}) {
            if (v != null) {
                requireInstalled(model, v);
            }
        }
        TrafficRules current = rules(model);
        TrafficRules.Builder next = wanted.toBuilder().previous(current.previous())
                .rolledBack(current.rolledBack(), current.rolledBackReason());
        if (wanted.canary() != null && wanted.canary().equals(current.rolledBack())) {
            next.rolledBack(null, null);
        }
        return apply(current, next, "traffic.change", null, Callers.current(), Callers.from());
    }

    /** Persists, then publishes; a failure to persist changes nothing. */
    private TrafficRules apply(TrafficRules current, TrafficRules.Builder next, String action, String what, String who,
            String from) {
        TrafficRules updated = next.revision(current.revision() + 1).build();
        if (configAdmin != null) {
            try {
                store(updated);
            } catch (IOException | RuntimeException e) {
                record(who, from, action, updated.model(), "failure", "cannot store the rules: " + e.getMessage());
                throw new EnclaveException("cannot store the traffic rules of " + updated.model() + ": " + e.getMessage(), e);
            }
        }
        publish(updated);
        record(who, from, action, updated.model(), "success", (what == null ? "" : what + "; ")
                + TrafficRulesCodec.describe(updated));
        LOG.info("traffic for {}: {}", updated.model(), TrafficRulesCodec.describe(updated));
        return updated;
    }

    /**
     * Into ConfigAdmin and {@code etc/io.enclave.traffic-<model>.cfg} (or the file the model's rules
     * came from), the file replaced whole: see {@link ConfigFiles}.
     */
    private void store(TrafficRules updated) throws IOException {
        // keys the file lacks are added in this order, after those it has
        Map<String, String> props = new TreeMap<>();
        TrafficRulesCodec.write(updated).forEach((k, v) -> props.put(k, v.toString()));
        String pid = files.write(pidOf(updated.model()), FACTORY_PID, updated.model(), props);
        pids.put(pid, updated.model());
    }

    private String pidOf(String model) {
        for (Map.Entry<String, String> e : pids.entrySet()) {
            if (e.getValue().equals(model)) {
                return e.getKey();
            }
        }
        return null;
    }

    private void publish(TrafficRules updated) {
        TrafficRules before = rules.put(updated.model(), updated);
        if (updated.canary() != null && (before == null || !updated.canary().equals(before.canary()))) {
            canarySince.put(updated.model(), System.nanoTime());
        }
    }

    private void record(String who, String from, String action, String target, String outcome, String detail) {
        if (audit != null) {
            try {
                audit.append(new AuditLog.Event(who, from, action, target, outcome, detail));
            } catch (RuntimeException e) {
                LOG.error("cannot write the audit log: {}", e.getMessage());
            }
        }
    }

    /** The stable version a request would reach now, ignoring {@code besides}. */
    private Version effectiveStable(TrafficRules r, Version besides) {
        if (r.stable() != null) {
            return r.stable();
        }
        List<ModelVersion> all = registry.versions(r.model());
        Version best = null;
        for (ModelVersion v : all) {
            Version ver = v.descriptor().version();
            if (!ver.equals(besides) && !ver.equals(r.canary()) && v.state() == ModelState.READY) {
                best = ver;
            }
        }
        return best;
    }

    private void requireModel(String model) {
        if (registry.versions(model).isEmpty() && !rules.containsKey(model)) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
    }

    private void requireInstalled(String model, Version version) {
        List<ModelVersion> all = registry.versions(model);
        if (all.isEmpty()) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        if (registry.find(model, version).isEmpty()) {
            List<String> installed = new ArrayList<>();
            all.forEach(v -> installed.add(v.descriptor().version().toString()));
            throw new ModelNotFoundException("model '" + model + "' has no version '" + version + "' (installed: "
                    + String.join(", ", installed) + ")");
        }
    }

    /** Once a second: a canary that breaks its limits is rolled back; a clean one may be promoted. */
    void checkCanaries() {
        InferenceStats s = stats;
        if (s == null) {
            return;
        }
        for (TrafficRules r : new ArrayList<>(rules.values())) {
            try {
                check(s, r);
            } catch (RuntimeException e) {
                LOG.error("canary check for {} failed: {}", r.model(), e.getMessage(), e);
            }
        }
    }

    private synchronized void check(InferenceStats s, TrafficRules seen) {
        TrafficRules r = rules(seen.model());
        Slo slo = r.slo();
        if (r.canary() == null || !slo.active()) {
            return;
        }
        long now = System.nanoTime();
        long since = canarySince.getOrDefault(r.model(), now);
        int age = (int) Math.min(Slo.MAX_WINDOW_SECONDS, TimeUnit.NANOSECONDS.toSeconds(now - since));
        // the figures sit in slots of whole clock seconds: look at every slot the canary has touched,
        // its first partial one included, or a check just after a second boundary would look at an
        // empty slot and miss every request so far
        long slots = now / 1_000_000_000L - since / 1_000_000_000L + 1;
        int window = (int) Math.max(1, Math.min(slo.windowSeconds(), slots));
        VersionStats v = s.stats(r.model(), r.canary(), window);
        String breach = breach(slo, v);
        if (breach != null) {
            LOG.warn("canary {} {} breached its limits, rolling back: {}", r.model(), r.canary(), breach);
            rollback(r.model(), "automatic: " + breach, "system", null, "traffic.rollback.auto");
        } else if (slo.autoPromote() && age >= slo.windowSeconds() && v.windowRequests() >= slo.minRequests()) {
            LOG.info("canary {} {} kept its limits for {} s, promoting", r.model(), r.canary(), slo.windowSeconds());
            promote(r.model(), "system", null, "traffic.promote.auto", "a clean " + slo.windowSeconds() + " s window");
        }
    }

    /** @return what the figures break, or null */
    static String breach(Slo slo, VersionStats v) {
        if (v.windowRequests() < slo.minRequests()) {
            return null;
        }
        String over = " over " + v.windowSeconds() + " s (" + v.windowRequests() + " requests)";
        if (!Double.isNaN(slo.maxErrorRate()) && v.windowErrorRate() > slo.maxErrorRate()) {
            return String.format(java.util.Locale.ROOT, "error rate %.3f > %s", v.windowErrorRate(),
                    TrafficRulesCodec.format(slo.maxErrorRate())) + over;
        }
        if (!Double.isNaN(slo.maxP99Millis()) && v.p99Millis() > slo.maxP99Millis()) {
            return String.format(java.util.Locale.ROOT, "p99 %.1f ms > %s ms", v.p99Millis(),
                    TrafficRulesCodec.format(slo.maxP99Millis())) + over;
        }
        if (!Double.isNaN(slo.minAgreement()) && v.shadowCompared() >= slo.minRequests()
                && v.shadowAgreement() < slo.minAgreement()) {
            return String.format(java.util.Locale.ROOT, "shadow agreement %.3f < %s (%d compared)", v.shadowAgreement(),
                    TrafficRulesCodec.format(slo.minAgreement()), v.shadowCompared());
        }
        return null;
    }

    // ConfigAdmin: a file edited by hand, config:edit, or the echo of our own write

    @Override
    public String getName() {
        return "Enclave traffic rules";
    }

    @Override
    public void updated(String pid, Dictionary<String, ?> properties) {
        accept(pid, properties, true);
    }

    /** Where a check that must wait for a configuration's writer runs, seconds later; tests run it at once. */
    Executor later = CompletableFuture.delayedExecutor(3, TimeUnit.SECONDS);

    private static Map<String, Object> map(Dictionary<String, ?> properties) {
        Map<String, Object> p = new HashMap<>();
        for (java.util.Enumeration<String> keys = properties.keys(); keys.hasMoreElements();) {
            String k = keys.nextElement();
            p.put(k, properties.get(k));
        }
        return p;
    }

    private synchronized void accept(String pid, Dictionary<String, ?> properties, boolean announce) {
        Map<String, Object> p = map(properties);
        TrafficRules read;
        try {
            read = TrafficRulesCodec.read(pid, p);
        } catch (EnclaveException e) {
            LOG.error("traffic configuration {} ignored, the rules in force stay: {}", pid, e.getMessage());
            record("config", null, "traffic.change", pid, "failure", e.getMessage());
            return;
        }
        pids.put(pid, read.model());
        TrafficRules current = rules.get(read.model());
        if (current != null && !p.containsKey(TrafficRulesCodec.REVISION)) {
            if (TrafficRulesCodec.empty(p, read) && !TrafficRulesCodec.sameRouting(read, current)) {
                // an empty file is how one looks while something rewrites it in place (Karaf's config
                // commands do), so it is not taken for "no rules": deleting the file is how to go back.
                // The writer's own update follows; only if none has come is the empty copy replaced
                LOG.warn("an empty traffic configuration for {} ({}) was ignored; the rules in force stay. "
                        + "Delete the file to go back to the default routing", read.model(), pid);
                String model = read.model();
                later.execute(() -> storeIfStillEmpty(pid, model));
                return;
            }
            // Enclave's own writes all carry a revision: one without was written by a person or a tool
            // (a deployment's template, say), and is their word over whatever came before
            read = read.toBuilder().revision(current.revision() + 1).build();
        } else if (current != null && read.revision() < current.revision()) {
            restoreIfStale(pid, current);
            return;
        }
        if (current != null && TrafficRulesCodec.sameRouting(current, read)) {
            return;
        }
        publish(read);
        if (announce) {
            record("config", null, "traffic.change", read.model(), "success", TrafficRulesCodec.describe(read));
            LOG.info("traffic for {} from configuration: {}", read.model(), TrafficRulesCodec.describe(read));
        }
    }

    private final Map<String, String> pids = new ConcurrentHashMap<>();

    /**
     * An older revision arrived: usually the late echo of our own earlier write, and then the stored
     * configuration already holds the newer one. Otherwise an old copy was put back (a file from a
     * backup that kept its revision line): the rules in force stay, and are stored again, so that the
     * file and the next start agree with what is served. A file without a revision line is taken as
     * written (see {@link #accept}).
     */
    private void restoreIfStale(String pid, TrafficRules current) {
        storeOver(pid, current, stored -> {
            Object revision = stored.get(TrafficRulesCodec.REVISION);
            long storedRevision;
            try {
                storedRevision = revision == null ? 0 : Long.parseLong(revision.toString().trim());
            } catch (NumberFormatException e) {
                storedRevision = 0;
            }
            return storedRevision < current.revision() ? "older than those in force (revision " + storedRevision + " < "
                    + current.revision() + ")" : null;
        });
    }

    /** An empty copy that no full one followed would be where the next start begins. */
    private synchronized void storeIfStillEmpty(String pid, String model) {
        TrafficRules current = rules.get(model);
        if (current != null && active) {
            storeOver(pid, current, stored -> TrafficRulesCodec.empty(stored, TrafficRulesCodec.read(pid, stored))
                    ? "still empty" : null);
        }
    }

    /**
     * Stores the rules in force over ConfigAdmin's copy of {@code pid} when {@code behind} says, of that
     * copy, why it must not stay (null: it may).
     */
    private void storeOver(String pid, TrafficRules current, Function<Map<String, Object>, String> behind) {
        if (configAdmin == null) {
            return;
        }
        try {
            Dictionary<String, Object> stored = configAdmin.getConfiguration(pid, "?").getProperties();
            String why = behind.apply(stored == null ? Map.of() : map(stored));
            if (why != null) {
                LOG.warn("the stored traffic rules of {} ({}) were {}: the rules in force were stored again", current.model(),
                        pid, why);
                store(current);
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot check the stored traffic rules of {}: {}", current.model(), e.getMessage());
        }
    }

    @Override
    public synchronized void deleted(String pid) {
        String model = pids.remove(pid);
        if (model != null && rules.remove(model) != null) {
            canarySince.remove(model);
            record("config", null, "traffic.change", model, "success", "rules removed: default routing");
            LOG.info("traffic rules for {} removed: default routing", model);
        }
    }
}
