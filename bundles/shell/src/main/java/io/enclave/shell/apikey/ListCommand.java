package io.enclave.shell.apikey;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.ApiKeys;

@Service
@Command(scope = "apikey", name = "list", description = "Lists API keys (never their secrets)")
public class ListCommand implements Action {
    @Reference
    ApiKeys keys;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Id");
        table.column("Name");
        table.column("Roles");
        table.column("Created");
        for (ApiKeys.Key k : keys.list()) {
            table.addRow().addContent(k.id(), k.name(), String.join(", ", new java.util.TreeSet<>(k.roles())), k.created());
        }
        table.print(System.out);
        return null;
    }
}
