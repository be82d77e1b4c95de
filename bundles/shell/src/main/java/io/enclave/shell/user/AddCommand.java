package io.enclave.shell.user;

import java.util.List;
import java.util.Set;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;

import io.enclave.api.UserDirectory;

@Service
@Command(scope = "user", name = "add", description = "Adds an Enclave user with one or more roles (admin, analyst, auditor)")
public class AddCommand implements Action {
    @Reference
    UserDirectory users;

    @Reference
    Session session;

    @Option(name = "--password", description = "The password (prompted for when absent; avoid leaving it in shell history)")
    String password;

    @Argument(index = 0, name = "user", required = true, description = "User name")
    String name;

    @Argument(index = 1, name = "roles", required = true, multiValued = true, description = "Roles")
    @Completion(RoleCompleter.class)
    List<String> roles;

    @Override
    public Object execute() throws Exception {
        char[] secret = Passwords.read(session, password);
        try {
            users.add(name, secret, Set.copyOf(roles));
        } finally {
            Passwords.clear(secret);
        }
        System.out.println("user " + name + " added with roles " + roles);
        return null;
    }
}
