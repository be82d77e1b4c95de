package io.enclave.rest.internal;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.ResourceInfo;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.HttpHeaders;

import io.enclave.api.AccessDeniedException;
import io.enclave.api.AuthenticationException;
import io.enclave.api.Identity;
import io.enclave.api.SecurityService;

/**
 * Authenticates every request (HTTP Basic against the one user base, or a Bearer API key) and checks the permission its
 * resource method declares with {@link Guard}. Methods marked {@link Open} need no credentials;
 * a method with neither is refused, so a forgotten annotation fails closed.
 */
final class AuthFilter implements ContainerRequestFilter {
    static final String IDENTITY = "enclave.identity";
    /** The address the caller connected from. */
    static final String FROM = "enclave.from";
    private static final int MAX_HEADER = 4096;

    private final SecurityService security;

    @Context
    private ResourceInfo resource;

    @Context
    private HttpServletRequest servletRequest;

    AuthFilter(SecurityService security) {
        this.security = security;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        Method method = resource.getResourceMethod();
        if (method == null) {
            // no resource matched: CXF answers 404/405 itself
            return;
        }
        if (method.isAnnotationPresent(Open.class)) {
            return;
        }
        Guard guard = method.getAnnotation(Guard.class);
        if (guard == null) {
            throw new AccessDeniedException("this endpoint is not available");
        }
        Identity caller = authenticate(request.getHeaderString(HttpHeaders.AUTHORIZATION));
        security.check(caller, guard.value());
        // on the CXF message itself, where CallerInvoker finds them (a filter's own properties live on the
        // servlet request here)
        org.apache.cxf.message.Message message = org.apache.cxf.phase.PhaseInterceptorChain.getCurrentMessage();
        message.put(IDENTITY, caller);
        message.put(FROM, remote());
    }

    private Identity authenticate(String header) {
        return security.authenticateHeader(header, remote());
    }

    private String remote() {
        return servletRequest == null ? "unknown" : servletRequest.getRemoteAddr();
    }
}
