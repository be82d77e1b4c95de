package io.enclave.shell.user;

import java.util.List;
import java.util.Set;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.UserDirectory;

@Service
@Command(scope = "user", name = "roles", description = "Replaces a user's roles")
public class RolesCommand implements Action {
    @Reference
    UserDirectory users;

    @Argument(index = 0, name = "user", required = true, description = "User name")
    @Completion(UserNameCompleter.class)
    String name;

    @Argument(index = 1, name = "roles", required = true, multiValued = true, description = "Roles")
    @Completion(RoleCompleter.class)
    List<String> roles;

    @Override
    public Object execute() {
        users.setRoles(name, Set.copyOf(roles));
        System.out.println("user " + name + " now has roles " + roles);
        return null;
    }
}
