package io.enclave.api;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * Bearer API keys for machine clients (ERP systems, batch jobs). A key carries roles like a user;
 * its secret is shown once, at creation, and only its SHA-256 is stored (the secret is 256 random
 * bits, so a slow hash adds nothing). Created, listed and revoked by an admin. Thread-safe.
 */
public interface ApiKeys {

    /** A key as listed: never the secret. */
    record Key(String id, String name, Set<String> roles, Instant created) {
        public Key {
            roles = Set.copyOf(roles);
        }
    }

    /** A new key and its secret token, which is not stored and cannot be shown again. */
    record Created(Key key, String token) {
    }

    /**
     * @param name  what the key is for, an identifier
     * @param roles a non-empty subset of {@link Permission.Roles#ALL}
     * @throws IllegalArgumentException for a bad name or role
     */
    Created create(String name, Set<String> roles);

    /** @return every key, oldest first */
    List<Key> list();

    /** @throws IllegalArgumentException for an unknown id */
    void revoke(String id);

    /**
     * @return the caller the token stands for ({@code key:<name>}), or null when the token is not a
     *         live key
     */
    Identity authenticate(String token);
}
