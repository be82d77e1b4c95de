package io.enclave.shell.user;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.UserDirectory;

@Service
@Command(scope = "user", name = "remove", description = "Removes an Enclave user (never the last admin)")
public class RemoveCommand implements Action {
    @Reference
    UserDirectory users;

    @Argument(index = 0, name = "user", required = true, description = "User name")
    @Completion(UserNameCompleter.class)
    String name;

    @Override
    public Object execute() {
        users.remove(name);
        System.out.println("user " + name + " removed");
        return null;
    }
}
