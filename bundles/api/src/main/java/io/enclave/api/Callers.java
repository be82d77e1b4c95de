package io.enclave.api;

import java.security.AccessController;
import java.security.Principal;

import javax.security.auth.Subject;

/** Who is calling, as far as the container knows: the principals of the current JAAS subject. */
public final class Callers {
    private Callers() {
    }

    /** @return the name of the current subject's user principal, or {@code system} when there is none */
    public static String current() {
        String user = principal("UserPrincipal");
        return user == null ? "system" : user;
    }

    /**
     * @return where the current subject connected from, as the container recorded it (e.g.
     *         {@code ssh(/10.0.0.7:53122)}), or null for the local console and background work
     */
    public static String from() {
        return principal("ClientPrincipal");
    }

    /** @return whether the current JAAS subject holds the role (a {@code RolePrincipal} of that name) */
    @SuppressWarnings("removal")
    public static boolean hasRole(String role) {
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject != null) {
            for (Principal p : subject.getPrincipals()) {
                if (p.getClass().getSimpleName().equals("RolePrincipal") && p.getName().equals(role)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Matched by simple class name: the API must not depend on Karaf's principal classes. */
    @SuppressWarnings("removal")
    private static String principal(String simpleClassName) {
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject != null) {
            for (Principal p : subject.getPrincipals()) {
                if (p.getClass().getSimpleName().equals(simpleClassName)) {
                    return p.getName();
                }
            }
        }
        return null;
    }
}
