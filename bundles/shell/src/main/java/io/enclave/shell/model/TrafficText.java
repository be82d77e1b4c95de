package io.enclave.shell.model;

import java.util.Locale;

import org.osgi.framework.Version;

import io.enclave.api.Slo;
import io.enclave.api.TrafficRules;

/** How traffic rules read in the shell. */
final class TrafficText {
    private TrafficText() {
    }

    static String describe(TrafficRules r) {
        StringBuilder s = new StringBuilder(r.model()).append(": stable ")
                .append(r.stable() == null ? "(highest ready)" : r.stable());
        if (r.canary() != null) {
            s.append(", canary ").append(r.canary()).append(" at ").append(percent(r.canaryPercent())).append('%');
        }
        if (r.pinned() != null) {
            s.append(", pinned to ").append(r.pinned());
        }
        if (r.shadow() != null) {
            s.append(", shadow ").append(r.shadow());
        }
        if (r.stickyHeader() != null) {
            s.append(", sticky by header ").append(r.stickyHeader());
        }
        if (r.rolledBack() != null) {
            s.append(", rolled back ").append(r.rolledBack()).append(" (").append(r.rolledBackReason()).append(')');
        }
        if (r.slo().active()) {
            s.append(", limits ").append(slo(r.slo()));
        }
        return s.toString();
    }

    static String slo(Slo slo) {
        StringBuilder s = new StringBuilder();
        if (!Double.isNaN(slo.maxErrorRate())) {
            s.append("errors <= ").append(percent(slo.maxErrorRate() * 100)).append("% ");
        }
        if (!Double.isNaN(slo.maxP99Millis())) {
            s.append("p99 <= ").append(percent(slo.maxP99Millis())).append(" ms ");
        }
        if (!Double.isNaN(slo.minAgreement())) {
            s.append("agreement >= ").append(percent(slo.minAgreement() * 100)).append("% ");
        }
        s.append("over ").append(slo.windowSeconds()).append(" s, at least ").append(slo.minRequests()).append(" requests");
        if (slo.autoPromote()) {
            s.append(", promote when clean");
        }
        return s.toString();
    }

    static String role(TrafficRules r, Version v) {
        String role = r.role(v);
        return role == null ? "" : role.equals("ROLLED_BACK") ? role : role.toLowerCase(Locale.ROOT);
    }

    static String percent(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : String.format(Locale.ROOT, "%.1f", d);
    }

    static String millis(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.1f", d);
    }

    static Version version(String v) {
        try {
            return Version.parseVersion(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + v + "' is not a version");
        }
    }
}
