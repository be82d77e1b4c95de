package io.enclave.shell.model;

import java.util.List;
import java.util.Optional;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.BatchingControl;
import io.enclave.api.BatchingOverride;
import io.enclave.api.BatchingSettings;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;

@Service
@Command(scope = "model", name = "tune", description = "Shows or changes a model's batching and workers, live, for "
        + "every version; a setting not given stays as it was, and one never set follows each version's model.json. "
        + "Without options it shows them")
public class TuneCommand implements Action {
    @Reference
    BatchingControl batching;
    @Reference
    ModelRegistry registry;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Option(name = "--max-batch", description = "Most rows run together; 1 turns batching off")
    Integer maxBatch;

    @Option(name = "--max-delay-us", description = "Longest wait for more rows once a batch is forming, in µs")
    Long maxDelayMicros;

    @Option(name = "--queue", description = "Requests that may wait before new ones get 503")
    Integer queue;

    @Option(name = "--min-workers", description = "Workers kept when idle")
    Integer minWorkers;

    @Option(name = "--max-workers", description = "Most workers")
    Integer maxWorkers;

    @Option(name = "--deadline-ms", description = "A request still queued after this long is dropped")
    Long deadline;

    @Option(name = "--priority-levels", description = "Priority levels the queue keeps apart (a request's priority 1 "
            + "is taken first); 0 queues in order of arrival")
    Integer priorityLevels;

    @Option(name = "--default-priority", description = "The level of a request that names no priority, 1 to the "
            + "levels; 0 for the middle one")
    Integer defaultPriority;

    @Option(name = "--max-padding-ratio", description = "How many times the longest text of each of its requests a "
            + "batch's longest text may be: 1 batches only equal lengths, 2 the default, 0 pads every length into one batch")
    Integer maxPaddingRatio;

    @Option(name = "--reset", description = "Back to each version's model.json")
    boolean reset;

    @Override
    public Object execute() {
        if (reset) {
            batching.tune(model, null);
        } else {
            // what is given changes; what the override already named stays; the rest is each version's model.json
            BatchingOverride change = new BatchingOverride(maxBatch, maxDelayMicros, queue, minWorkers, maxWorkers, deadline,
                    priorityLevels, defaultPriority, maxPaddingRatio);
            if (!change.isEmpty()) {
                batching.tune(model, change.over(batching.override(model).orElse(null)));
            }
        }
        List<ModelVersion> versions = registry.versions(model);
        if (versions.isEmpty()) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        Optional<BatchingOverride> override = batching.override(model).filter(o -> !o.isEmpty());
        ShellTable table = new ShellTable();
        table.column("Version");
        table.column("Max batch").alignRight();
        table.column("Max delay µs").alignRight();
        table.column("Queue").alignRight();
        table.column("Workers").alignRight();
        table.column("Threads a call").alignRight();
        table.column("Deadline ms").alignRight();
        table.column("Priorities");
        table.column("Padding");
        table.column("Set by the override");
        String named = override.map(o -> String.join(", ", o.names())).orElse("none (model.json)");
        for (ModelVersion v : versions) {
            BatchingSettings s = batching.settings(model, v.descriptor().version());
            table.addRow().addContent(v.descriptor().version(), s.maxBatchSize(), s.maxQueueDelayMicros(), s.queueCapacity(),
                    s.minWorkers() + ".." + s.maxWorkers(), threads(v), s.deadlineMillis(), priorities(s),
                    padding(s), named);
        }
        table.print(System.out);
        return null;
    }

    /** The engine threads each of the version's calls uses, as its session loaded; "-" when its engine does not say. */
    static String threads(ModelVersion v) {
        io.enclave.api.EngineThreads t = v.threads();
        return t == null || t.intraOp() == null ? "-" : t.intraOp().toString();
    }

    /** "any length", or how far apart texts of one batch may be: "up to 2x". */
    static String padding(BatchingSettings s) {
        return s.maxPaddingRatio() == 0 ? "any length" : "up to " + s.maxPaddingRatio() + "x";
    }

    /** "off", or the levels and the default one: "1..3, default 2". */
    static String priorities(BatchingSettings s) {
        return s.priorityLevels() == 0 ? "off" : "1.." + s.priorityLevels() + ", default " + s.defaultPriorityLevel();
    }
}
