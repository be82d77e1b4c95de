package io.enclave.security.internal;

import java.io.IOException;
import java.security.Principal;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;
import javax.security.auth.spi.LoginModule;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;

import io.enclave.api.Permission;

/**
 * The login module of Enclave's {@code karaf} JAAS realm: checks a name and password against
 * {@link FileUserDirectory} and grants the user's Enclave roles plus the container roles each
 * implies, so the shell, SSH and JMX honour the same roles as REST.
 */
public class EnclaveLoginModule implements LoginModule {
    /** Set by {@link EnclaveJaasRealm}: JAAS creates login modules reflectively, so they find the store here. */
    static volatile FileUserDirectory directory;

    /** Karaf's own roles each Enclave role carries: shell access (ssh), read-only views (viewer), full control. */
    static final Map<String, Set<String>> CONTAINER_ROLES = Map.of(
            Permission.Roles.ADMIN, Set.of("admin", "manager", "viewer", "systembundles", "ssh"),
            Permission.Roles.ANALYST, Set.of("ssh"),
            Permission.Roles.AUDITOR, Set.of("viewer", "ssh"));

    private Subject subject;
    private CallbackHandler handler;
    private final Set<Principal> principals = new HashSet<>();

    @Override
    public void initialize(Subject subject, CallbackHandler callbackHandler, Map<String, ?> sharedState,
            Map<String, ?> options) {
        this.subject = subject;
        this.handler = callbackHandler;
    }

    @Override
    public boolean login() throws LoginException {
        FileUserDirectory users = directory;
        if (users == null) {
            throw new LoginException("Enclave's user store is not available");
        }
        NameCallback name = new NameCallback("user: ");
        PasswordCallback password = new PasswordCallback("password: ", false);
        try {
            handler.handle(new Callback[] {name, password});
        } catch (IOException | UnsupportedCallbackException e) {
            throw new LoginException("cannot read credentials: " + e.getMessage());
        }
        char[] secret = password.getPassword();
        String user = name.getName();
        if (user == null || secret == null) {
            throw new FailedLoginException("invalid user name or password");
        }
        Optional<Set<String>> roles;
        try {
            roles = users.verify(user, secret);
        } finally {
            Arrays.fill(secret, '\0');
            password.clearPassword();
        }
        if (roles.isEmpty()) {
            throw new FailedLoginException("invalid user name or password");
        }
        principals.add(new UserPrincipal(user));
        for (String role : roles.get()) {
            principals.add(new RolePrincipal(role));
            for (String container : CONTAINER_ROLES.getOrDefault(role, Set.of())) {
                principals.add(new RolePrincipal(container));
            }
        }
        return true;
    }

    @Override
    public boolean commit() {
        subject.getPrincipals().addAll(principals);
        return !principals.isEmpty();
    }

    @Override
    public boolean abort() {
        principals.clear();
        return true;
    }

    @Override
    public boolean logout() {
        subject.getPrincipals().removeAll(principals);
        principals.clear();
        return true;
    }
}
