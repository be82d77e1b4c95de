package io.enclave.shell.model;

import java.util.Locale;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.osgi.framework.Version;

import io.enclave.api.BatchingControl;
import io.enclave.api.InferenceStats;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;
import io.enclave.api.Slo;
import io.enclave.api.TokenCounts;
import io.enclave.api.VersionStats;

@Service
@Command(scope = "model", name = "stats", description = "Counts, latency percentiles, error ratio and mean batch per "
        + "model version over a recent window, a text model's padding since it loaded, and what waits, what computes "
        + "and the worker threads now")
public class StatsCommand implements Action {
    @Reference
    ModelRegistry registry;
    @Reference
    InferenceStats stats;
    @Reference
    BatchingControl batching;

    @Argument(index = 0, name = "model", description = "Only this model")
    @Completion(ModelNameCompleter.class)
    String model;

    @Option(name = "--window", aliases = "-w", description = "Seconds of history, 1 to 300 (default 60)")
    int window = 60;

    @Override
    public Object execute() {
        if (window < 1 || window > Slo.MAX_WINDOW_SECONDS) {
            throw new IllegalArgumentException("--window must be 1 to " + Slo.MAX_WINDOW_SECONDS + " seconds");
        }
        ShellTable table = new ShellTable();
        table.column("Model");
        table.column("Version");
        table.column("Requests").alignRight();
        table.column("In window").alignRight();
        table.column("Req/s").alignRight();
        table.column("p50 ms").alignRight();
        table.column("p95 ms").alignRight();
        table.column("p99 ms").alignRight();
        table.column("Error ratio").alignRight();
        // what a request shared its engine call with, averaged over the window's answers
        table.column("Mean batch").alignRight();
        // a text model's token positions that only padded a shorter text, since it last loaded
        table.column("Padding share").alignRight();
        // live: admitted and waiting, engine calls under way, worker threads held
        table.column("Queued").alignRight();
        table.column("Running").alignRight();
        table.column("Workers").alignRight();
        for (ModelVersion v : model == null ? registry.versions() : registry.versions(model)) {
            String name = v.descriptor().name();
            Version version = v.descriptor().version();
            VersionStats s = stats.stats(name, version, window);
            table.addRow().addContent(name, version, s.requests(), s.windowRequests(),
                    String.format(Locale.ROOT, "%.1f", (double) s.windowRequests() / window), TrafficText.millis(s.p50Millis()),
                    TrafficText.millis(s.p95Millis()), TrafficText.millis(s.p99Millis()),
                    String.format(Locale.ROOT, "%.4f", s.windowErrorRate()),
                    Double.isNaN(s.windowMeanBatch()) ? "-" : String.format(Locale.ROOT, "%.2f", s.windowMeanBatch()),
                    padding(v.tokenCounts()),
                    batching.queued(name, version), batching.running(name, version), batching.workers(name, version));
        }
        table.print(System.out);
        return null;
    }

    /** "12.5 %" of the tokens computed, or "-" for a model without text or before its first batch. */
    static String padding(TokenCounts t) {
        return t == null || t.tokens() == 0 ? "-" : String.format(Locale.ROOT, "%.1f %%", 100 * t.paddingShare());
    }
}
