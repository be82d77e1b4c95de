package io.enclave.api;

import org.osgi.framework.Version;

/** Live figures per model version, as the router records them. Thread-safe. */
public interface InferenceStats {

    /**
     * @param windowSeconds the window for the window figures, 1 to {@link Slo#MAX_WINDOW_SECONDS}
     * @return the figures, {@link VersionStats#EMPTY} when the version has seen nothing
     */
    VersionStats stats(String model, Version version, int windowSeconds);

    /** @return the figures over the last 60 seconds */
    default VersionStats stats(String model, Version version) {
        return stats(model, version, 60);
    }

    /**
     * @return what the version has done since it was first installed, summed as Triton's statistics extension
     *         gives it; {@link CumulativeStats#EMPTY} when it has seen nothing, or when the implementation does not
     *         keep these sums
     * @since 2.9
     */
    default CumulativeStats cumulative(String model, Version version) {
        return CumulativeStats.EMPTY;
    }
}
