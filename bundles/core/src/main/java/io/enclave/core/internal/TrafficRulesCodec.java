package io.enclave.core.internal;

import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.Version;

import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.Slo;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;

/**
 * Traffic rules as ConfigAdmin properties, the keys an operator sees in
 * {@code etc/io.enclave.traffic-<model>.cfg}. Values arrive as strings from files and as whatever
 * type {@code config:property-set} chose, so everything is read through its text.
 */
final class TrafficRulesCodec {
    static final String MODEL = "model";
    static final String PINNED = "version.default";
    static final String STABLE = "version.stable";
    static final String PREVIOUS = "version.previous";
    static final String CANARY = "canary.version";
    static final String PERCENT = "canary.percent";
    static final String SHADOW = "shadow.version";
    static final String STICKY = "sticky.header";
    static final String ROLLED_BACK = "rolledback.version";
    static final String ROLLED_BACK_REASON = "rolledback.reason";
    static final String SLO_ERROR_RATE = "slo.error.rate.max";
    static final String SLO_P99 = "slo.p99.ms.max";
    static final String SLO_AGREEMENT = "slo.agreement.min";
    static final String SLO_REQUESTS = "slo.requests.min";
    static final String SLO_WINDOW = "slo.window.seconds";
    static final String SLO_AUTO_PROMOTE = "slo.auto.promote";
    static final String REVISION = "revision";
    private static final String FILE_PREFIX = TrafficControl.FACTORY_PID + "-";

    private TrafficRulesCodec() {
    }

    /**
     * @param pid the configuration's PID ({@code io.enclave.traffic~minilm} for a named factory
     *            configuration), used for the model name when the properties do not carry one
     * @throws InvalidInputException naming the key that is wrong
     */
    static TrafficRules read(String pid, Map<String, ?> p) {
        String model = text(p, MODEL);
        if (model == null) {
            model = fromFileName(p.get("felix.fileinstall.filename"));
        }
        if (model == null && pid != null && pid.indexOf('~') > 0) {
            model = pid.substring(pid.indexOf('~') + 1);
        }
        if (model == null || !ModelDescriptor.NAME.matcher(model).matches()) {
            throw new InvalidInputException("traffic rules need a valid '" + MODEL + "' property, got '" + model + "'");
        }
        String m = model;
        double percent = number(m, p, PERCENT, 0);
        if (!(percent >= 0 && percent <= 100)) {
            // checked even without a canary version: a file saying 150 means something went wrong in it
            throw new InvalidInputException("traffic rules for " + m + ": " + PERCENT + " must be 0 to 100, not " + text(p, PERCENT));
        }
        Slo slo = new Slo(number(m, p, SLO_ERROR_RATE, Double.NaN), number(m, p, SLO_P99, Double.NaN),
                number(m, p, SLO_AGREEMENT, Double.NaN), (int) number(m, p, SLO_REQUESTS, Slo.NONE.minRequests()),
                (int) number(m, p, SLO_WINDOW, Slo.NONE.windowSeconds()), Boolean.parseBoolean(text(p, SLO_AUTO_PROMOTE)));
        Version canary = version(m, p, CANARY);
        return new TrafficRules(model, version(m, p, PINNED), version(m, p, STABLE), canary, canary == null ? 0 : percent,
                version(m, p, SHADOW), text(p, STICKY), version(m, p, PREVIOUS), version(m, p, ROLLED_BACK),
                text(p, ROLLED_BACK_REASON), slo, (long) number(m, p, REVISION, 0));
    }

    /** @return the properties to store; unset values are left out, so the file stays readable */
    static Hashtable<String, Object> write(TrafficRules r) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(MODEL, r.model());
        put(p, PINNED, r.pinned());
        put(p, STABLE, r.stable());
        put(p, PREVIOUS, r.previous());
        put(p, CANARY, r.canary());
        if (r.canary() != null) {
            p.put(PERCENT, format(r.canaryPercent()));
        }
        put(p, SHADOW, r.shadow());
        put(p, STICKY, r.stickyHeader());
        put(p, ROLLED_BACK, r.rolledBack());
        put(p, ROLLED_BACK_REASON, r.rolledBackReason());
        Slo s = r.slo();
        if (!Double.isNaN(s.maxErrorRate())) {
            p.put(SLO_ERROR_RATE, format(s.maxErrorRate()));
        }
        if (!Double.isNaN(s.maxP99Millis())) {
            p.put(SLO_P99, format(s.maxP99Millis()));
        }
        if (!Double.isNaN(s.minAgreement())) {
            p.put(SLO_AGREEMENT, format(s.minAgreement()));
        }
        if (s.active()) {
            p.put(SLO_REQUESTS, Integer.toString(s.minRequests()));
            p.put(SLO_WINDOW, Integer.toString(s.windowSeconds()));
            p.put(SLO_AUTO_PROMOTE, Boolean.toString(s.autoPromote()));
        }
        p.put(REVISION, Long.toString(r.revision()));
        return p;
    }

    /**
     * A configuration with no revision line and no routing: what a file looks like to a reader while it
     * is rewritten in place, never what Enclave writes.
     *
     * @param read the rules {@code p} reads as
     */
    static boolean empty(Map<String, ?> p, TrafficRules read) {
        return !p.containsKey(REVISION) && sameRouting(read, TrafficRules.none(read.model()));
    }

    /** The same rules apart from the revision. */
    static boolean sameRouting(TrafficRules a, TrafficRules b) {
        return a.toBuilder().revision(0).build().equals(b.toBuilder().revision(0).build());
    }

    static String describe(TrafficRules r) {
        StringBuilder s = new StringBuilder();
        s.append("stable=").append(r.stable() == null ? "auto" : r.stable());
        if (r.canary() != null) {
            s.append(" canary=").append(r.canary()).append(' ').append(format(r.canaryPercent())).append('%');
        }
        if (r.pinned() != null) {
            s.append(" pinned=").append(r.pinned());
        }
        if (r.shadow() != null) {
            s.append(" shadow=").append(r.shadow());
        }
        if (r.stickyHeader() != null) {
            s.append(" sticky=").append(r.stickyHeader());
        }
        if (r.slo().active()) {
            s.append(" slo=").append(r.slo());
        }
        return s.toString();
    }

    static String format(double d) {
        return d == Math.rint(d) && !Double.isInfinite(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static void put(Hashtable<String, Object> p, String key, Object value) {
        if (value != null) {
            p.put(key, value.toString());
        }
    }

    private static String text(Map<String, ?> p, String key) {
        Object v = p.get(key);
        if (v == null) {
            return null;
        }
        String s = v.toString().trim();
        return s.isEmpty() ? null : s;
    }

    private static Version version(String model, Map<String, ?> p, String key) {
        String v = text(p, key);
        if (v == null) {
            return null;
        }
        try {
            return Version.parseVersion(v);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("traffic rules for " + model + ": " + key + " '" + v + "' is not a version");
        }
    }

    private static double number(String model, Map<String, ?> p, String key, double otherwise) {
        String v = text(p, key);
        if (v == null) {
            return otherwise;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new InvalidInputException("traffic rules for " + model + ": " + key + " '" + v + "' is not a number");
        }
    }

    static String fromFileName(Object file) {
        if (file == null) {
            return null;
        }
        String f = file.toString();
        f = f.substring(f.lastIndexOf('/') + 1);
        if (!f.startsWith(FILE_PREFIX) || !f.endsWith(".cfg")) {
            return null;
        }
        return f.substring(FILE_PREFIX.length(), f.length() - ".cfg".length());
    }
}
