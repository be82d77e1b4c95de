package io.enclave.api;

/**
 * Authenticates callers against the container's user base (the Karaf JAAS realm {@code karaf}, so
 * the shell, JMX and HTTP share one set of users) and checks permissions. Repeated failures for a
 * user or from an address are throttled. Thread-safe.
 */
public interface SecurityService {

    /**
     * @param user     the user name
     * @param password the password; not retained
     * @param remote   where the attempt comes from (an address), for throttling and the audit log
     * @return the caller and its roles
     * @throws AuthenticationException when the credentials are wrong, or too many attempts failed
     */
    Identity authenticate(String user, char[] password, String remote);

    /**
     * Authenticates a bearer API key.
     *
     * @param token  the token as sent, {@code enc_<id>_<secret>}
     * @param remote where the attempt comes from, for throttling and the audit log
     * @return the key's identity ({@code key:<name>}) and roles
     * @throws AuthenticationException when the key is unknown or revoked, or too many attempts failed
     */
    Identity authenticateToken(String token, String remote);

    /**
     * @throws AccessDeniedException naming the caller and what it may not do
     */
    default void check(Identity caller, Permission permission) {
        if (!caller.may(permission)) {
            throw new AccessDeniedException("user '" + caller.name() + "' may not " + describe(permission));
        }
    }

    /** @return a short phrase for messages, e.g. {@code run inference} */
    static String describe(Permission permission) {
        return switch (permission) {
            case MODEL_READ -> "read model metadata";
            case MODEL_INFER -> "run inference";
            case MODEL_MANAGE -> "manage models";
            case AUDIT_READ -> "read the audit log";
            case METRICS_READ -> "read metrics";
            case USER_MANAGE -> "manage users";
        };
    }
}
