package io.enclave.rest.internal;

import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;

import javax.security.auth.Subject;

import org.apache.cxf.jaxrs.JAXRSInvoker;
import org.apache.cxf.message.Exchange;
import org.apache.karaf.jaas.boot.principal.ClientPrincipal;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;

import io.enclave.api.Identity;

/**
 * Runs each management call as the caller {@link AuthFilter} authenticated: a JAAS subject with
 * Karaf's principals, as the shell and JMX run theirs. So what a call changes is recorded in the audit
 * log under the caller's name and address ({@link io.enclave.api.Callers}), not as {@code system}.
 */
final class CallerInvoker extends JAXRSInvoker {

    @Override
    @SuppressWarnings("removal")
    public Object invoke(Exchange exchange, Object request, Object resourceObject) {
        Object identity = exchange.getInMessage().get(AuthFilter.IDENTITY);
        if (!(identity instanceof Identity caller)) {
            // an open endpoint: nobody to run as
            return super.invoke(exchange, request, resourceObject);
        }
        Subject subject = new Subject();
        subject.getPrincipals().add(new UserPrincipal(caller.name()));
        caller.roles().forEach(role -> subject.getPrincipals().add(new RolePrincipal(role)));
        if (exchange.getInMessage().get(AuthFilter.FROM) instanceof String address) {
            // named as the shell names an SSH client's: ssh(/10.0.0.7:53122)
            subject.getPrincipals().add(new ClientPrincipal("https", address));
        }
        subject.setReadOnly();
        try {
            return Subject.doAs(subject, (PrivilegedExceptionAction<Object>) () -> super.invoke(exchange, request, resourceObject));
        } catch (PrivilegedActionException e) {
            // the action declares no checked exception of its own: whatever it threw is unchecked
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }
}
