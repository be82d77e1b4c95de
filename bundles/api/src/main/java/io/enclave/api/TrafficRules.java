package io.enclave.api;

import java.util.Objects;

import org.osgi.framework.Version;

/**
 * How one model's requests are routed, as one immutable snapshot: a request reads it once, so a
 * change (promote, rollback) is atomic from the client's view. Versions that are not set are null.
 *
 * <p>Precedence: a version in the URL, then the {@link #pinned()} version, then the sticky key (the
 * same key always lands on the same side of the split), then the weights: the canary gets
 * {@link #canaryPercent()} of requests, the stable version the rest. Without a stable version the
 * highest READY version that is not the canary is stable.
 *
 * @param model            the model
 * @param pinned           the version that answers every request naming none (overrides the split)
 * @param stable           the stable version
 * @param canary           the canary version
 * @param canaryPercent    the canary's share, 0 to 100, whole or tenths
 * @param shadow           the version that gets a copy of every request, answers nobody
 * @param stickyHeader     the request header that keeps a caller on one side, or null
 * @param previous         the stable version before the last promote: where rollback returns to
 * @param rolledBack       the version last taken out of traffic by a rollback
 * @param rolledBackReason why (an operator's words, or the breached limit)
 * @param slo              the canary's limits
 * @param revision         increases with every change Enclave makes
 */
public record TrafficRules(String model, Version pinned, Version stable, Version canary, double canaryPercent,
        Version shadow, String stickyHeader, Version previous, Version rolledBack, String rolledBackReason, Slo slo,
        long revision) {

    /**
     * @throws InvalidInputException naming the value that is wrong
     */
    public TrafficRules {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(slo, "slo");
        if (!(canaryPercent >= 0 && canaryPercent <= 100)
                || Math.abs(canaryPercent * 10 - Math.rint(canaryPercent * 10)) > 1e-9) {
            throw new InvalidInputException("canary percent must be 0 to 100, whole or tenths, not " + canaryPercent);
        }
        if (canary != null && canary.equals(stable)) {
            throw new InvalidInputException("version " + canary + " of " + model + " cannot be both stable and canary");
        }
        if (stickyHeader != null && (stickyHeader.isBlank() || !stickyHeader.matches("[A-Za-z0-9-]{1,64}"))) {
            throw new InvalidInputException("sticky header '" + stickyHeader + "' is not a header name");
        }
    }

    /** @return rules that route by the defaults alone */
    public static TrafficRules none(String model) {
        return new TrafficRules(model, null, null, null, 0, null, null, null, null, null, Slo.NONE, 0);
    }

    /**
     * @return what a version is to this model's traffic: {@code PINNED}, {@code CANARY},
     *         {@code STABLE}, {@code SHADOW} or {@code ROLLED_BACK}; null when it has no part
     */
    public String role(Version v) {
        if (v.equals(pinned)) {
            return "PINNED";
        }
        if (v.equals(canary)) {
            return "CANARY";
        }
        if (v.equals(stable)) {
            return "STABLE";
        }
        if (v.equals(shadow)) {
            return "SHADOW";
        }
        return v.equals(rolledBack) ? "ROLLED_BACK" : null;
    }

    /** @return a builder starting from these rules */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Changes a copy; {@link #build()} validates. */
    public static final class Builder {
        private final String model;
        private Version pinned;
        private Version stable;
        private Version canary;
        private double canaryPercent;
        private Version shadow;
        private String stickyHeader;
        private Version previous;
        private Version rolledBack;
        private String rolledBackReason;
        private Slo slo;
        private long revision;

        private Builder(TrafficRules r) {
            model = r.model;
            pinned = r.pinned;
            stable = r.stable;
            canary = r.canary;
            canaryPercent = r.canaryPercent;
            shadow = r.shadow;
            stickyHeader = r.stickyHeader;
            previous = r.previous;
            rolledBack = r.rolledBack;
            rolledBackReason = r.rolledBackReason;
            slo = r.slo;
            revision = r.revision;
        }

        public Builder pinned(Version v) {
            pinned = v;
            return this;
        }

        public Builder stable(Version v) {
            stable = v;
            return this;
        }

        public Builder canary(Version v, double percent) {
            canary = v;
            canaryPercent = v == null ? 0 : percent;
            return this;
        }

        public Builder shadow(Version v) {
            shadow = v;
            return this;
        }

        public Builder stickyHeader(String header) {
            stickyHeader = header;
            return this;
        }

        public Builder previous(Version v) {
            previous = v;
            return this;
        }

        public Builder rolledBack(Version v, String reason) {
            rolledBack = v;
            rolledBackReason = v == null ? null : reason;
            return this;
        }

        public Builder slo(Slo value) {
            slo = value;
            return this;
        }

        public Builder revision(long value) {
            revision = value;
            return this;
        }

        public TrafficRules build() {
            return new TrafficRules(model, pinned, stable, canary, canaryPercent, shadow, stickyHeader, previous,
                    rolledBack, rolledBackReason, slo, revision);
        }
    }
}
