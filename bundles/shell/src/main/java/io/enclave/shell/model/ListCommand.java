package io.enclave.shell.model;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;

@Service
@Command(scope = "model", name = "list", description = "Lists installed model versions, where they run and their state")
public class ListCommand implements Action {
    @Reference
    ModelRegistry registry;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Version");
        table.column("Engine");
        table.column("Device");
        table.column("State");
        table.column("Detail").maxSize(80);
        for (ModelVersion v : registry.versions()) {
            table.addRow().addContent(v.descriptor().name(), v.descriptor().version(), v.engine(),
                    v.device() == null ? "-" : v.device(), v.state(), v.failure() == null ? "" : v.failure());
        }
        table.print(System.out);
        return null;
    }
}
