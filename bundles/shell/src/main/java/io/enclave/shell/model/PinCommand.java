package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.TrafficControl;

@Service
@Command(scope = "model", name = "pin", description = "Sends every request naming no version to one version "
        + "(overrides the split); without a version, unpins")
public class PinCommand implements Action {
    @Reference
    TrafficControl traffic;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Argument(index = 1, name = "version", description = "The version; leave out to unpin")
    @Completion(ModelVersionCompleter.class)
    String version;

    @Override
    public Object execute() {
        System.out.println(TrafficText.describe(traffic.pin(model, version == null ? null : TrafficText.version(version))));
        return null;
    }
}
