package io.enclave.shell.engine;

import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.InferenceEngine;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;

@Service
@Command(scope = "engine", name = "list", description = "Lists inference engines, their devices and the models loaded on each")
public class ListCommand implements Action {
    @Reference
    List<InferenceEngine> engines;

    @Reference
    ModelRegistry registry;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Engine");
        table.column("Device");
        table.column("Version");
        table.column("Models");
        for (InferenceEngine e : engines) {
            long loaded = registry.versions().stream()
                    .filter(v -> e.name().equals(v.engine()) && e.device().equals(v.device()))
                    .map(ModelVersion::descriptor).count();
            table.addRow().addContent(e.name(), e.device(), e.version(), loaded);
        }
        table.print(System.out);
        return null;
    }
}
