package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.TrafficControl;

@Service
@Command(scope = "model", name = "rollback", description = "Sends the canary to 0 %; without a canary, returns to the "
        + "stable version before the last promote")
public class RollbackCommand implements Action {
    @Reference
    TrafficControl traffic;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Option(name = "--reason", aliases = "-r", description = "Why, for the audit log and model:info")
    String reason;

    @Override
    public Object execute() {
        System.out.println(TrafficText.describe(traffic.rollback(model, reason)));
        return null;
    }
}
