package io.enclave.api;

import java.util.List;
import java.util.Set;

/**
 * Enclave's own user store: names, password hashes (Argon2id) and roles. The login module of the
 * {@code karaf} JAAS realm reads it, so a change applies to every door at once. Thread-safe;
 * every change is written to disk before the call returns.
 */
public interface UserDirectory {

    /** A user as listed: never the hash. */
    record User(String name, Set<String> roles) {
        public User {
            roles = Set.copyOf(roles);
        }
    }

    /** @return every user, sorted by name */
    List<User> users();

    /**
     * @param roles a non-empty subset of {@link Permission.Roles#ALL}
     * @throws IllegalArgumentException for a bad name, an existing user, a weak password or an unknown role
     */
    void add(String name, char[] password, Set<String> roles);

    /** @throws IllegalArgumentException for an unknown user or a weak password */
    void setPassword(String name, char[] password);

    /** @throws IllegalArgumentException for an unknown user or role, or when it would leave no admin */
    void setRoles(String name, Set<String> roles);

    /** @throws IllegalArgumentException for an unknown user, or when it would leave no admin */
    void remove(String name);
}
