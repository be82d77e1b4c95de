package io.enclave.api;

import java.util.Set;

/**
 * What a caller may do, and which of Enclave's roles grants it. The same table holds on every door:
 * REST, SOAP, the shell and JMX.
 *
 * <table>
 * <caption>roles</caption>
 * <tr><th>role</th><th>may</th></tr>
 * <tr><td>{@code admin}</td><td>everything</td></tr>
 * <tr><td>{@code analyst}</td><td>run inference, read model metadata and outputs</td></tr>
 * <tr><td>{@code auditor}</td><td>read the audit log, metrics and model metadata</td></tr>
 * </table>
 */
public enum Permission {
    /** List models and read their metadata and readiness. */
    MODEL_READ("model:read", Roles.ADMIN, Roles.ANALYST, Roles.AUDITOR),
    /** Run inference. */
    MODEL_INFER("model:infer", Roles.ADMIN, Roles.ANALYST),
    /** Deploy, undeploy, change traffic, configure. */
    MODEL_MANAGE("model:manage", Roles.ADMIN),
    /** Read the audit log. */
    AUDIT_READ("audit:read", Roles.ADMIN, Roles.AUDITOR),
    /** Read metrics. */
    METRICS_READ("metrics:read", Roles.ADMIN, Roles.AUDITOR),
    /** Create, change and remove users and API keys. */
    USER_MANAGE("user:manage", Roles.ADMIN);

    private final String wildcard;
    private final Set<String> roles;

    Permission(String wildcard, String... roles) {
        this.wildcard = wildcard;
        this.roles = Set.of(roles);
    }

    /**
     * @return the permission as a Shiro wildcard string ({@code domain:action}), so a role granted
     *         {@code model:*} holds every model permission
     */
    public String wildcard() {
        return wildcard;
    }

    /** @return the Enclave roles that grant this permission by default */
    public Set<String> roles() {
        return roles;
    }

    /** @return whether any of the given roles grants this permission */
    public boolean grantedTo(Set<String> callerRoles) {
        for (String r : callerRoles) {
            if (roles.contains(r)) {
                return true;
            }
        }
        return false;
    }

    /** Enclave's role names. */
    public static final class Roles {
        public static final String ADMIN = "admin";
        public static final String ANALYST = "analyst";
        public static final String AUDITOR = "auditor";
        /** Every Enclave role. */
        public static final Set<String> ALL = Set.of(ADMIN, ANALYST, AUDITOR);

        private Roles() {
        }
    }
}
