package io.enclave.monitor.internal;

import java.io.IOException;
import java.io.OutputStream;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.http.whiteboard.HttpWhiteboardConstants;

import io.enclave.api.AccessDeniedException;
import io.enclave.api.AuthenticationException;
import io.enclave.api.Identity;
import io.enclave.api.Permission;
import io.enclave.api.SecurityService;

/**
 * {@code GET /metrics} through the HTTP whiteboard, on the same HTTPS port as everything else. Only
 * callers with {@code metrics:read} (admin, auditor, or an API key with one of those roles, which is
 * how Prometheus scrapes: {@code authorization: credentials_file}) get the figures.
 */
@Component(service = Servlet.class, property = {
        HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_PATTERN + "=/metrics",
        HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_NAME + "=enclave-metrics"})
public class MetricsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final transient PrometheusMetrics metrics;
    private final transient SecurityService security;

    @Activate
    public MetricsServlet(@Reference(name = "metrics") PrometheusMetrics metrics,
            @Reference(name = "security") SecurityService security) {
        this.metrics = metrics;
        this.security = security;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
            Identity caller = security.authenticateHeader(req.getHeader("Authorization"), req.getRemoteAddr());
            security.check(caller, Permission.METRICS_READ);
        } catch (AuthenticationException e) {
            if (e.retryAfterSeconds() > 0) {
                resp.setHeader("Retry-After", Long.toString(e.retryAfterSeconds()));
                error(resp, 429, e.getMessage());
            } else {
                resp.setHeader("WWW-Authenticate", "Basic realm=\"Enclave\", charset=\"UTF-8\"");
                error(resp, 401, e.getMessage());
            }
            return;
        } catch (AccessDeniedException e) {
            error(resp, 403, e.getMessage());
            return;
        }
        resp.setStatus(200);
        resp.setContentType(metrics.contentType());
        resp.setHeader("Cache-Control", "no-store");
        try (OutputStream out = resp.getOutputStream()) {
            metrics.write(out);
        }
    }

    private static void error(HttpServletResponse resp, int status, String message) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        String safe = message == null ? "error" : message.replace("\\", "\\\\").replace("\"", "\\\"");
        resp.getOutputStream().write(("{\"error\":\"" + safe + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
