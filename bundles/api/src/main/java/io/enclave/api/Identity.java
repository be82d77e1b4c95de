package io.enclave.api;

import java.util.Objects;
import java.util.Set;

/**
 * An authenticated caller.
 *
 * @param name  the user name (or API key name)
 * @param roles every role the login produced, Enclave's and the container's
 */
public record Identity(String name, Set<String> roles) {
    public Identity {
        Objects.requireNonNull(name, "name");
        roles = Set.copyOf(roles);
    }

    /** @return whether this caller holds the permission */
    public boolean may(Permission permission) {
        return permission.grantedTo(roles);
    }
}
