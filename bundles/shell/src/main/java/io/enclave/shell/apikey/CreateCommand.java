package io.enclave.shell.apikey;

import java.util.List;
import java.util.Set;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.ApiKeys;
import io.enclave.shell.user.RoleCompleter;

@Service
@Command(scope = "apikey", name = "create", description = "Creates a bearer API key for a machine client; the token is shown once")
public class CreateCommand implements Action {
    @Reference
    ApiKeys keys;

    @Argument(index = 0, name = "name", required = true, description = "What the key is for, e.g. erp")
    String name;

    @Argument(index = 1, name = "roles", required = true, multiValued = true, description = "Roles")
    @Completion(RoleCompleter.class)
    List<String> roles;

    @Override
    public Object execute() {
        ApiKeys.Created c = keys.create(name, Set.copyOf(roles));
        System.out.println("API key " + c.key().id() + " (" + name + ", roles " + roles + ")");
        System.out.println("token (shown only now): " + c.token());
        System.out.println("use it as: Authorization: Bearer <token>");
        return null;
    }
}
