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
        request.setProperty(IDENTITY, caller);
    }

    private Identity authenticate(String header) {
        if (header == null || header.isBlank()) {
            throw new AuthenticationException("authentication required");
        }
        if (header.length() > MAX_HEADER) {
            throw new AuthenticationException("Authorization header too long");
        }
        if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return security.authenticateToken(header.substring(7).trim(), remote());
        }
        if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
            throw new AuthenticationException("use HTTP Basic authentication or a Bearer API key");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(header.substring(6).trim());
        } catch (IllegalArgumentException e) {
            throw new AuthenticationException("malformed Basic credentials");
        }
        String pair = new String(decoded, StandardCharsets.UTF_8);
        Arrays.fill(decoded, (byte) 0);
        int colon = pair.indexOf(':');
        if (colon <= 0) {
            throw new AuthenticationException("malformed Basic credentials");
        }
        char[] password = pair.substring(colon + 1).toCharArray();
        try {
            return security.authenticate(pair.substring(0, colon), password, remote());
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private String remote() {
        return servletRequest == null ? "unknown" : servletRequest.getRemoteAddr();
    }
}
