package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.ModelDeployer;

@Service
@Command(scope = "model", name = "undeploy", description = "Removes a model version; requests it is running finish first")
public class UndeployCommand implements Action {
    @Reference
    ModelDeployer deployer;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Argument(index = 1, name = "version", required = true, description = "The version to remove")
    @Completion(ModelVersionCompleter.class)
    String version;

    @Override
    public Object execute() {
        deployer.undeploy(model, TrafficText.version(version));
        System.out.println("undeployed " + model + " " + version);
        return null;
    }
}
