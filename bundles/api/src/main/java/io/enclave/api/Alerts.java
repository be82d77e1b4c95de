package io.enclave.api;

import java.time.Instant;
import java.util.List;

/**
 * The alerts Enclave raises by itself, for sites without Prometheus: the same headline rules as the
 * shipped Prometheus rules (GPU utilization, p99 latency per model version). Each is raised once
 * when its condition has held for its whole duration and cleared once when it no longer holds, as a
 * log line, an EventAdmin event ({@code enclave/alert/RAISED}, {@code enclave/alert/CLEARED}) and a
 * JMX notification.
 */
public interface Alerts {

    /**
     * An active alert.
     *
     * @param name      the rule, e.g. {@code EnclaveP99LatencyHigh}
     * @param subject   what it is about, e.g. {@code minilm 1.1.0} or {@code gpu 0}
     * @param summary   one line for people
     * @param value     the figure that breaks the threshold
     * @param threshold the threshold
     * @param since     when it was raised
     */
    record Alert(String name, String subject, String summary, double value, double threshold, Instant since) {
    }

    /** @return the alerts active now, oldest first */
    List<Alert> active();
}
