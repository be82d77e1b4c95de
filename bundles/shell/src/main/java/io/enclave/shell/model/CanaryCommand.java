package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.Slo;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;

@Service
@Command(scope = "model", name = "canary", description = "Gives a version a share of a model's traffic, optionally "
        + "with limits that roll it back by themselves")
public class CanaryCommand implements Action {
    @Reference
    TrafficControl traffic;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Argument(index = 1, name = "version", required = true, description = "The canary version")
    @Completion(ModelVersionCompleter.class)
    String version;

    @Argument(index = 2, name = "percent", required = true, description = "Its share, 0 to 100, whole or tenths")
    double percent;

    @Option(name = "--max-error-rate", description = "Roll back when more than this share of its requests fail (0-1)")
    Double maxErrorRate;

    @Option(name = "--max-p99", description = "Roll back when its p99 latency exceeds this many milliseconds")
    Double maxP99;

    @Option(name = "--min-agreement", description = "Roll back when its shadow agreement falls below this (0-1)")
    Double minAgreement;

    @Option(name = "--min-requests", description = "Requests the window must hold before judging (default 100)")
    int minRequests = Slo.NONE.minRequests();

    @Option(name = "--window", description = "Seconds the limits are judged over (default 60)")
    int window = Slo.NONE.windowSeconds();

    @Option(name = "--auto-promote", description = "Promote it after a full window within its limits")
    boolean autoPromote;

    @Override
    public Object execute() {
        TrafficRules rules = traffic.canary(model, TrafficText.version(version), percent);
        if (maxErrorRate != null || maxP99 != null || minAgreement != null) {
            Slo slo = new Slo(maxErrorRate == null ? Double.NaN : maxErrorRate, maxP99 == null ? Double.NaN : maxP99,
                    minAgreement == null ? Double.NaN : minAgreement, minRequests, window, autoPromote);
            rules = traffic.set(rules.toBuilder().slo(slo).build());
        }
        System.out.println(TrafficText.describe(rules));
        return null;
    }
}
