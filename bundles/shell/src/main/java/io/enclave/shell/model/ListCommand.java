package io.enclave.shell.model;

import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.osgi.framework.Version;

import io.enclave.api.InferenceStats;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;
import io.enclave.api.Router;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;
import io.enclave.api.VersionStats;

@Service
@Command(scope = "model", name = "list", description = "Lists installed model versions: state, traffic share, "
        + "requests and latency over the last minute")
public class ListCommand implements Action {
    @Reference
    ModelRegistry registry;
    @Reference
    Router router;
    @Reference
    TrafficControl traffic;
    @Reference
    InferenceStats stats;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Version");
        table.column("State");
        table.column("Role");
        table.column("Weight %").alignRight();
        table.column("Requests").alignRight();
        table.column("Errors").alignRight();
        table.column("p99 ms").alignRight();
        table.column("Engine");
        table.column("Device");
        table.column("Detail").maxSize(60);
        for (String model : router.models()) {
            TrafficRules rules = traffic.rules(model);
            Map<Version, Double> weights = router.weights(model);
            for (ModelVersion v : registry.versions(model)) {
                Version ver = v.descriptor().version();
                VersionStats s = stats.stats(model, ver);
                table.addRow().addContent(model, ver, v.state(), TrafficText.role(rules, ver),
                        TrafficText.percent(weights.getOrDefault(ver, 0.0)), s.requests(), s.errors(),
                        TrafficText.millis(s.p99Millis()), v.engine(), v.device() == null ? "-" : v.device(),
                        v.failure() == null ? "" : v.failure());
            }
        }
        table.print(System.out);
        return null;
    }
}
