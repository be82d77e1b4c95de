package io.enclave.api;

import java.security.AccessController;
import java.security.Principal;

import javax.security.auth.Subject;

/** Who is calling, as far as the container knows: the user of the current JAAS subject. */
public final class Callers {
    private Callers() {
    }

    /** @return the name of the current subject's user principal, or {@code system} when there is none */
    @SuppressWarnings("removal")
    public static String current() {
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject != null) {
            for (Principal p : subject.getPrincipals()) {
                if (p.getClass().getSimpleName().equals("UserPrincipal")) {
                    return p.getName();
                }
            }
        }
        return "system";
    }

    /**
     * @return where the current subject connected from, as the container recorded it (e.g.
     *         {@code ssh(/10.0.0.7:53122)}), or null for the local console and background work
     */
    @SuppressWarnings("removal")
    public static String from() {
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject != null) {
            for (Principal p : subject.getPrincipals()) {
                if (p.getClass().getSimpleName().equals("ClientPrincipal")) {
                    return p.getName();
                }
            }
        }
        return null;
    }
}
