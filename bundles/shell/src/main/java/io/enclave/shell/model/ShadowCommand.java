package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.TrafficControl;

@Service
@Command(scope = "model", name = "shadow", description = "Sends a copy of every request to a version that answers "
        + "nobody, and counts how often it agrees; without a version, stops")
public class ShadowCommand implements Action {
    @Reference
    TrafficControl traffic;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Argument(index = 1, name = "version", description = "The shadow version; leave out to stop shadowing")
    @Completion(ModelVersionCompleter.class)
    String version;

    @Override
    public Object execute() {
        System.out.println(TrafficText.describe(traffic.shadow(model, version == null ? null : TrafficText.version(version))));
        return null;
    }
}
