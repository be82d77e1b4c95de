package io.enclave.core.internal;

import java.io.IOException;
import java.util.Dictionary;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

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
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.AuditLog;
import io.enclave.api.BatchingControl;
import io.enclave.api.BatchingOverride;
import io.enclave.api.BatchingSettings;
import io.enclave.api.Callers;
import io.enclave.api.EnclaveException;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelVersion;

/**
 * Per-model batching overrides from ConfigAdmin ({@code etc/io.enclave.batching-<model>.cfg}) and
 * {@code model:tune}, pushed to the model's running versions; a version loaded later picks its
 * model's override up when it becomes ready. An override holds the settings it names: a configuration
 * that sets only {@code maxBatchSize} changes only that, and every other setting stays as each
 * version's model.json declares it. {@code model:tune} changes what it is given and keeps the rest of the
 * override.
 */
@Component(service = {BatchingControl.class, ManagedServiceFactory.class}, immediate = true,
        configurationPolicy = ConfigurationPolicy.IGNORE,
        property = Constants.SERVICE_PID + "=" + BatchingControl.FACTORY_PID)
public class BatchingManager implements BatchingControl, ManagedServiceFactory {
    private static final Logger LOG = LoggerFactory.getLogger(BatchingManager.class);

    /**
     * What a configuration of {@link BatchingControl#FACTORY_PID} may hold, for configuration tools
     * (Karaf's {@code config:} commands, the web console). Every setting is optional: one left out stays
     * as each version's model.json says. Read by {@link #updated}, not by Declarative Services, which
     * is why nothing is designated to this component.
     */
    @ObjectClassDefinition(factoryPid = BatchingControl.FACTORY_PID, name = "Enclave batching (per model)",
            description = "Batching and workers for every version of one model, over each version's model.json")
    @interface Config {
        @AttributeDefinition(description = "The model these settings are for (a model name, not a version)")
        String model();

        @AttributeDefinition(required = false, min = "1", max = "4096", description = "Most rows run together; 1 turns batching off")
        int maxBatchSize();

        @AttributeDefinition(required = false, min = "0", max = "1000000",
                description = "Longest wait for more rows once a batch is forming, in microseconds")
        long maxQueueDelayMicros();

        @AttributeDefinition(required = false, min = "1", max = "1000000",
                description = "Requests that may wait; more are refused at once with 503 and Retry-After")
        int queueCapacity();

        @AttributeDefinition(required = false, min = "1", max = "256", description = "Workers kept even when idle")
        int minWorkers();

        @AttributeDefinition(required = false, min = "1", max = "256", description = "Most workers")
        int maxWorkers();

        @AttributeDefinition(required = false, min = "1", max = "3600000",
                description = "A request still queued this many milliseconds after it arrived is refused before it runs")
        long deadlineMs();

        @AttributeDefinition(required = false, min = "0", max = "100", description = "Priority levels the queue keeps "
                + "apart (Triton's request priority: 1 is taken first); 0 queues every request in order of arrival")
        int priorityLevels();

        @AttributeDefinition(required = false, min = "0", max = "100", description = "The level of a request that names "
                + "no priority (or one past the levels), 1 to priorityLevels; 0 for the middle level")
        int defaultPriorityLevel();

        @AttributeDefinition(required = false, min = "0", max = "100", description = "How many times the longest text "
                + "of each of its requests a batch's longest text may be (text is padded to the longest in its batch): "
                + "1 batches only equal lengths, 2 (the default) keeps padding to at most double a request's own cost, "
                + "0 pads every length into one batch")
        int maxPaddingRatio();
    }

    private final EngineModelRegistry registry;
    private final ConfigurationAdmin configAdmin;
    private final AuditLog audit;
    /** Per model, the settings its override names. */
    private final Map<String, BatchingOverride> overrides = new ConcurrentHashMap<>();
    private final Map<String, String> pids = new ConcurrentHashMap<>();
    private final ConfigFiles files;

    @Activate
    public BatchingManager(@Reference(name = "Audit") AuditLog audit, @Reference(name = "Config") ConfigurationAdmin configAdmin,
            @Reference(name = "Registry") EngineModelRegistry registry) {
        this.audit = audit;
        this.configAdmin = configAdmin;
        this.registry = registry;
        this.files = configAdmin == null ? null : new ConfigFiles(configAdmin, ConfigFiles.karafEtc());
        if (configAdmin != null) {
            try {
                Configuration[] existing = configAdmin.listConfigurations(
                        "(" + ConfigurationAdmin.SERVICE_FACTORYPID + "=" + FACTORY_PID + ")");
                if (existing != null) {
                    for (Configuration c : existing) {
                        if (c.getProperties() != null) {
                            updated(c.getPid(), c.getProperties());
                        }
                    }
                }
            } catch (IOException | InvalidSyntaxException e) {
                LOG.error("cannot read the stored batching settings: {}", e.getMessage());
            }
        }
        registry.batchingOverrides(d -> {
            BatchingOverride named = overrides.get(d.name());
            if (named == null) {
                return null;
            }
            try {
                return named.over(RegisteredVersion.declaredBatching(d));
            } catch (InvalidInputException e) {
                LOG.error("{} keeps its model.json batching: its model's override does not fit it: {}", d, e.getMessage());
                return null;
            }
        });
    }

    @Override
    public BatchingSettings settings(String model, Version version) {
        RegisteredVersion v = registry.registered(model, version);
        if (v == null) {
            throw new ModelNotFoundException("model '" + model + "' has no version '" + version + "'");
        }
        return v.settings();
    }

    @Override
    public int queued(String model, Version version) {
        Batcher b = batcher(model, version);
        return b == null ? 0 : b.queueDepth();
    }

    @Override
    public int running(String model, Version version) {
        Batcher b = batcher(model, version);
        return b == null ? 0 : b.busy();
    }

    @Override
    public int workers(String model, Version version) {
        Batcher b = batcher(model, version);
        return b == null ? 0 : b.workers();
    }

    /** The version's batcher; null when it is not installed or not loaded. */
    private Batcher batcher(String model, Version version) {
        RegisteredVersion v = registry.registered(model, version);
        return v == null ? null : v.batcher();
    }

    @Override
    public Optional<BatchingOverride> override(String model) {
        return Optional.ofNullable(overrides.get(model));
    }

    @Override
    public void tune(String model, BatchingOverride override) {
        if (registry.versions(model).isEmpty()) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        BatchingOverride settings = override == null || override.isEmpty() ? null : override;
        if (settings != null) {
            try {
                fits(model, settings);
            } catch (InvalidInputException e) {
                record(model, "failure", e.getMessage());
                throw e;
            }
        }
        if (configAdmin != null) {
            try {
                store(model, settings);
            } catch (IOException | RuntimeException e) {
                record(model, "failure", e.getMessage());
                throw new EnclaveException("cannot store the batching settings of " + model + ": " + e.getMessage(), e);
            }
        }
        apply(model, settings);
        record(model, "success", settings == null ? "back to model.json" : settings + " over each version's model.json");
    }

    /** The caller knows every version takes the override: {@link #fits} said so. */
    private void apply(String model, BatchingOverride named) {
        if (named == null) {
            overrides.remove(model);
        } else {
            overrides.put(model, named);
        }
        for (ModelVersion v : registry.versions(model)) {
            if (v instanceof RegisteredVersion r) {
                BatchingSettings own = RegisteredVersion.declaredBatching(r.descriptor());
                r.tune(named != null ? named.over(own) : own);
            }
        }
        LOG.info("batching for {}: {}", model, named == null ? "as model.json says" : named + " over each version's model.json");
    }

    /** @throws InvalidInputException naming the version the override would put out of range */
    private void fits(String model, BatchingOverride named) {
        for (ModelVersion v : registry.versions(model)) {
            try {
                named.over(RegisteredVersion.declaredBatching(v.descriptor()));
            } catch (InvalidInputException e) {
                throw new InvalidInputException("for " + v.descriptor() + ": " + e.getMessage());
            }
        }
        // and for a version that declares nothing: one installed later may not
        named.over(BatchingSettings.defaults());
    }

    private void store(String model, BatchingOverride s) throws IOException {
        String pid = null;
        for (Map.Entry<String, String> e : pids.entrySet()) {
            if (e.getValue().equals(model)) {
                pid = e.getKey();
            }
        }
        if (s == null) {
            if (pid != null) {
                files.delete(pid);
                // at once, not when ConfigAdmin calls deleted: a setting made meanwhile writes a new factory
                // configuration, not a plain one under the deleted one's PID
                pids.remove(pid);
            }
            return;
        }
        // only what the override names: the file then says what an operator chose, and the rest follows
        // each version's model.json, as when the file is written by hand
        Map<String, String> props = new LinkedHashMap<>();
        props.put("model", model);
        s.named().forEach((key, value) -> props.put(key, value.toString()));
        pids.put(files.write(pid, FACTORY_PID, model, props), model);
    }

    private void record(String model, String outcome, String detail) {
        if (audit != null) {
            try {
                audit.append(new AuditLog.Event(Callers.current(), Callers.from(), "model.tune", model, outcome, detail));
            } catch (RuntimeException e) {
                LOG.error("cannot write the audit log: {}", e.getMessage());
            }
        }
    }

    @Override
    public String getName() {
        return "Enclave batching settings";
    }

    @Override
    public synchronized void updated(String pid, Dictionary<String, ?> p) {
        Object m = p.get("model");
        Object file = p.get("felix.fileinstall.filename");
        String model = m != null ? m.toString().trim() : file != null ? batchingModel(file) : null;
        if (model == null && pid.indexOf('~') > 0) {
            model = pid.substring(pid.indexOf('~') + 1);
        }
        if (model == null || !ModelDescriptor.NAME.matcher(model).matches()) {
            LOG.error("batching configuration {} ignored: it names no valid model", pid);
            return;
        }
        // only what the file names: the rest stays as each version's model.json says
        BatchingOverride named;
        try {
            named = parse(p);
            fits(model, named);
        } catch (InvalidInputException e) {
            LOG.error("batching configuration {} ignored, the settings in force stay: {}", pid, e.getMessage());
            return;
        }
        pids.put(pid, model);
        BatchingOverride current = overrides.get(model);
        if (named.isEmpty() && current != null && configAdmin != null) {
            // an empty file is how one looks while something rewrites it in place (Karaf's config
            // commands do), so it does not drop the settings: model:tune --reset or deleting the file does.
            // The writer's own update follows; only if none has come is the empty copy replaced
            LOG.warn("an empty batching configuration for {} ({}) was ignored; the settings in force stay. "
                    + "Run model:tune --reset {} or delete the file to go back to model.json", model, pid, model);
            String tuned = model;
            later.execute(() -> storeIfStillEmpty(pid, tuned));
            return;
        }
        if (!named.equals(current)) {
            apply(model, named);
        }
    }

    /** Where a check that must wait for a configuration's writer runs, seconds later; tests run it at once. */
    Executor later = CompletableFuture.delayedExecutor(3, TimeUnit.SECONDS);

    private volatile boolean stopped;

    @Deactivate
    void deactivate() {
        stopped = true;
    }

    /** An empty copy that no full one followed would be where the next start begins. */
    private synchronized void storeIfStillEmpty(String pid, String model) {
        BatchingOverride current = overrides.get(model);
        if (current == null || stopped) {
            return;
        }
        try {
            Dictionary<String, Object> stored = configAdmin.getConfiguration(pid, "?").getProperties();
            boolean empty;
            try {
                empty = stored == null || parse(stored).isEmpty();
            } catch (InvalidInputException written) {
                return; // not empty: a value that is wrong, already reported when it arrived
            }
            if (empty) {
                LOG.warn("the stored batching settings of {} ({}) were still empty: the settings in force were stored again",
                        model, pid);
                store(model, current);
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot check the stored batching settings of {}: {}", model, e.getMessage());
        }
    }

    /**
     * The settings a configuration names; a blank value names nothing.
     *
     * @throws InvalidInputException a value that is not a whole number, or (for the int settings) is past an int
     */
    static BatchingOverride parse(Dictionary<String, ?> p) {
        Long[] v = new Long[BatchingOverride.KEYS.size()];
        for (int i = 0; i < v.length; i++) {
            String key = BatchingOverride.KEYS.get(i);
            Object raw = p.get(key);
            if (raw == null || raw.toString().isBlank()) {
                continue;
            }
            try {
                v[i] = Long.parseLong(raw.toString().trim());
            } catch (NumberFormatException e) {
                throw new InvalidInputException(key + " must be a whole number, not '" + raw + "'");
            }
        }
        return new BatchingOverride(asInt(v[0], "maxBatchSize"), v[1], asInt(v[2], "queueCapacity"), asInt(v[3], "minWorkers"),
                asInt(v[4], "maxWorkers"), v[5], asInt(v[6], "priorityLevels"), asInt(v[7], "defaultPriorityLevel"),
                asInt(v[8], "maxPaddingRatio"));
    }

    private static Integer asInt(Long v, String key) {
        if (v == null) {
            return null;
        }
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new InvalidInputException(key + " is out of range: " + v);
        }
        return (int) (long) v;
    }

    private static String batchingModel(Object file) {
        String f = file.toString();
        f = f.substring(f.lastIndexOf('/') + 1);
        String prefix = FACTORY_PID + "-";
        return f.startsWith(prefix) && f.endsWith(".cfg") ? f.substring(prefix.length(), f.length() - 4) : null;
    }

    @Override
    public synchronized void deleted(String pid) {
        if (storedAgain(pid)) {
            // ConfigAdmin tells of a deletion after the fact: a reset followed at once by a new setting
            // stores the new one under the same PID, and that one stays
            LOG.debug("batching configuration {} was stored again since it was deleted: its settings stay", pid);
            return;
        }
        String model = pids.remove(pid);
        if (model != null && overrides.containsKey(model)) {
            apply(model, null);
        }
    }

    /** Whether ConfigAdmin holds the configuration {@code pid} with properties now. */
    private boolean storedAgain(String pid) {
        if (configAdmin == null) {
            return false;
        }
        try {
            return configAdmin.listConfigurations("(" + org.osgi.framework.Constants.SERVICE_PID + "="
                    + pid.replaceAll("([\\\\()*])", "\\\\$1") + ")") != null;
        } catch (IOException | InvalidSyntaxException e) {
            LOG.error("cannot read the batching configuration {}: {}", pid, e.getMessage());
            return false;
        }
    }
}
