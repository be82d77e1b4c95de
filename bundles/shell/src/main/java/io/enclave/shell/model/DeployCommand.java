package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.enclave.api.ModelDeployer;

@Service
@Command(scope = "model", name = "deploy", description = "Installs a model version beside the running ones, with no "
        + "traffic: a model bundle jar, a folder or zip with model.json and the model file, or mvn:group/artifact/version")
public class DeployCommand implements Action {
    @Reference
    ModelDeployer deployer;

    @Argument(index = 0, name = "source", required = true, description = "A file, a folder or an mvn: URL")
    @Completion(FileCompleter.class)
    String source;

    @Override
    public Object execute() {
        ModelDeployer.Deployment d = deployer.deploy(source);
        System.out.println("deployed " + d.model() + " " + d.version() + " as bundle " + d.bundleId() + ": " + d.state());
        return null;
    }
}
