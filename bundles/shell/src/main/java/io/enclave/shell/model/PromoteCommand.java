package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.TrafficControl;

@Service
@Command(scope = "model", name = "promote", description = "Makes the canary the stable version, at 100 %")
public class PromoteCommand implements Action {
    @Reference
    TrafficControl traffic;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Override
    public Object execute() {
        System.out.println(TrafficText.describe(traffic.promote(model)));
        return null;
    }
}
