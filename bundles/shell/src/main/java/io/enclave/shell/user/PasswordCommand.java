package io.enclave.shell.user;

import java.security.AccessController;
import java.security.Principal;

import javax.security.auth.Subject;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;

import io.enclave.api.Permission;
import io.enclave.api.UserDirectory;

@Service
@Command(scope = "user", name = "password", description = "Changes a password: your own, or anyone's when you are an admin")
public class PasswordCommand implements Action {
    @Reference
    UserDirectory users;

    @Reference
    Session session;

    @Option(name = "--password", description = "The new password (prompted for when absent)")
    String password;

    @Argument(index = 0, name = "user", required = true, description = "User name")
    @Completion(UserNameCompleter.class)
    String name;

    @Override
    @SuppressWarnings("removal")
    public Object execute() throws Exception {
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject != null && !may(subject)) {
            throw new SecurityException("only an admin may change another user's password");
        }
        char[] secret = Passwords.read(session, password);
        try {
            users.setPassword(name, secret);
        } finally {
            Passwords.clear(secret);
        }
        System.out.println("password of " + name + " changed");
        return null;
    }

    private boolean may(Subject subject) {
        for (Principal p : subject.getPrincipals()) {
            if (p.getName().equals(Permission.Roles.ADMIN) && p.getClass().getSimpleName().equals("RolePrincipal")) {
                return true;
            }
            if (p.getName().equals(name) && p.getClass().getSimpleName().equals("UserPrincipal")) {
                return true;
            }
        }
        return false;
    }
}
