package io.enclave.shell.model;

import java.util.Locale;
import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.osgi.framework.Version;

import io.enclave.api.InferenceStats;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;
import io.enclave.api.Router;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;
import io.enclave.api.VersionStats;

@Service
@Command(scope = "model", name = "info", description = "Shows one model's traffic rules and how each version is doing")
public class InfoCommand implements Action {
    @Reference
    ModelRegistry registry;
    @Reference
    Router router;
    @Reference
    TrafficControl traffic;
    @Reference
    InferenceStats stats;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Override
    public Object execute() {
        if (registry.versions(model).isEmpty()) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        TrafficRules rules = traffic.rules(model);
        System.out.println(TrafficText.describe(rules));
        Map<Version, Double> weights = router.weights(model);
        ShellTable table = new ShellTable();
        table.column("Version");
        table.column("State");
        table.column("Role");
        table.column("Weight %").alignRight();
        table.column("Requests").alignRight();
        table.column("Errors").alignRight();
        table.column("Fallbacks").alignRight();
        table.column("p50 ms").alignRight();
        table.column("p99 ms").alignRight();
        table.column("Shadow agreement");
        table.column("Fallback model");
        for (ModelVersion v : registry.versions(model)) {
            Version ver = v.descriptor().version();
            VersionStats s = stats.stats(model, ver);
            String agreement = s.shadowCompared() == 0 ? "-" : String.format(Locale.ROOT, "%.3f (%d/%d, %d dropped)",
                    s.shadowAgreement(), s.shadowAgreed(), s.shadowCompared(), s.shadowDropped());
            table.addRow().addContent(ver, v.state(), TrafficText.role(rules, ver),
                    TrafficText.percent(weights.getOrDefault(ver, 0.0)), s.requests(), s.errors(), s.fallbacks(),
                    TrafficText.millis(s.p50Millis()), TrafficText.millis(s.p99Millis()), agreement,
                    v.descriptor().fallback() == null ? "-" : v.descriptor().fallback());
        }
        table.print(System.out);
        return null;
    }
}
