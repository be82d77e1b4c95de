package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.BatchingControl;
import io.enclave.api.BatchingSettings;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;

@Service
@Command(scope = "model", name = "tune", description = "Shows or changes a model's batching and workers, live; "
        + "without options it shows them")
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

    @Option(name = "--reset", description = "Back to each version's model.json")
    boolean reset;

    @Override
    public Object execute() {
        if (reset) {
            batching.tune(model, null);
        } else if (maxBatch != null || maxDelayMicros != null || queue != null || minWorkers != null || maxWorkers != null
                || deadline != null) {
            BatchingSettings now = batching.override(model).orElseGet(() -> {
                var versions = registry.versions(model);
                if (versions.isEmpty()) {
                    throw new io.enclave.api.ModelNotFoundException("unknown model '" + model + "'");
                }
                ModelVersion last = versions.get(versions.size() - 1);
                return batching.settings(model, last.descriptor().version());
            });
            batching.tune(model, new BatchingSettings(maxBatch != null ? maxBatch : now.maxBatchSize(),
                    maxDelayMicros != null ? maxDelayMicros : now.maxQueueDelayMicros(),
                    queue != null ? queue : now.queueCapacity(), minWorkers != null ? minWorkers : now.minWorkers(),
                    maxWorkers != null ? maxWorkers : Math.max(now.maxWorkers(), minWorkers != null ? minWorkers : 0),
                    deadline != null ? deadline : now.deadlineMillis()));
        }
        ShellTable table = new ShellTable();
        table.column("Version");
        table.column("Max batch").alignRight();
        table.column("Max delay µs").alignRight();
        table.column("Queue").alignRight();
        table.column("Workers").alignRight();
        table.column("Deadline ms").alignRight();
        table.column("From");
        for (ModelVersion v : registry.versions(model)) {
            BatchingSettings s = batching.settings(model, v.descriptor().version());
            table.addRow().addContent(v.descriptor().version(), s.maxBatchSize(), s.maxQueueDelayMicros(), s.queueCapacity(),
                    s.minWorkers() + ".." + s.maxWorkers(), s.deadlineMillis(),
                    batching.override(model).isPresent() ? "override" : "model.json");
        }
        table.print(System.out);
        return null;
    }
}
