package io.enclave.shell.user;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.UserDirectory;

@Service
@Command(scope = "user", name = "list", description = "Lists Enclave users and their roles")
public class ListCommand implements Action {
    @Reference
    UserDirectory users;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("User");
        table.column("Roles");
        for (UserDirectory.User u : users.users()) {
            table.addRow().addContent(u.name(), String.join(", ", new java.util.TreeSet<>(u.roles())));
        }
        table.print(System.out);
        return null;
    }
}
