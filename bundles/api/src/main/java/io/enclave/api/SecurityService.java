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

    /** The longest Authorization header looked at. */
    int MAX_AUTHORIZATION_HEADER = 8192;

    /**
     * Authenticates an HTTP {@code Authorization} header: {@code Basic} user and password, or a
     * {@code Bearer} API key. Every HTTP door (REST, SOAP, /metrics) goes through here.
     *
     * @param header the header as sent, or null
     * @param remote where the request comes from
     * @throws AuthenticationException when it is missing, malformed or wrong
     */
    default Identity authenticateHeader(String header, String remote) {
        if (header == null || header.isBlank()) {
            throw new AuthenticationException("authentication required");
        }
        if (header.length() > MAX_AUTHORIZATION_HEADER) {
            throw new AuthenticationException("Authorization header too long");
        }
        if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return authenticateToken(header.substring(7).trim(), remote);
        }
        if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
            throw new AuthenticationException("use HTTP Basic authentication or a Bearer API key");
        }
        byte[] decoded;
        try {
            decoded = java.util.Base64.getDecoder().decode(header.substring(6).trim());
        } catch (IllegalArgumentException e) {
            throw new AuthenticationException("malformed Basic credentials");
        }
        String pair = new String(decoded, java.nio.charset.StandardCharsets.UTF_8);
        java.util.Arrays.fill(decoded, (byte) 0);
        int colon = pair.indexOf(':');
        if (colon <= 0) {
            throw new AuthenticationException("malformed Basic credentials");
        }
        char[] password = pair.substring(colon + 1).toCharArray();
        try {
            return authenticate(pair.substring(0, colon), password, remote);
        } finally {
            java.util.Arrays.fill(password, '\0');
        }
    }

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
