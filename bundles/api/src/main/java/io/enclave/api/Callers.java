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
}
