package io.enclave.monitor.internal;

import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import javax.management.MBeanNotificationInfo;
import javax.management.MBeanServer;
import javax.management.Notification;
import javax.management.NotificationBroadcasterSupport;
import javax.management.ObjectName;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.Alerts;
import io.enclave.api.InferenceStats;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelVersion;
import io.enclave.api.VersionStats;

/**
 * The two headline alerts of the shipped Prometheus rules, checked inside Enclave so a site without
 * Prometheus still hears of them: a GPU busier than 80 % and a model version whose p99 is over
 * 200 ms, each for 5 minutes. Run by Karaf's scheduler ({@code scheduler.period}), in the manner of
 * Karaf Decanter's checkers.
 */
@Component(service = {Runnable.class, Alerts.class}, configurationPid = "io.enclave.alerts", immediate = true,
        property = {"scheduler.name=enclave-alert-checker", "scheduler.period:Long=10", "scheduler.concurrent:Boolean=false"})
@Designate(ocd = AlertChecker.Config.class)
public class AlertChecker implements Runnable, Alerts {
    private static final Logger LOG = LoggerFactory.getLogger(AlertChecker.class);
    static final String P99 = "EnclaveP99LatencyHigh";
    static final String GPU = "EnclaveGpuUtilizationHigh";
    static final String OBJECT_NAME = "io.enclave:type=Alerts";

    @ObjectClassDefinition(name = "Enclave alerts", description = "Enclave's own alert checker")
    public @interface Config {
        @AttributeDefinition(description = "p99 latency above which a model version alerts, in milliseconds")
        double p99Millis() default 200;

        @AttributeDefinition(description = "GPU utilization above which a GPU alerts, 0 to 1")
        double gpuUtilization() default 0.8;

        @AttributeDefinition(description = "How long a condition must hold before it alerts, in seconds")
        int forSeconds() default 300;

        @AttributeDefinition(description = "The p99 is taken over this many seconds of requests (at most 300)")
        int windowSeconds() default 300;

        @AttributeDefinition(description = "Fewer requests than this in the window raise no latency alert")
        int minRequests() default 20;

        @AttributeDefinition(name = "scheduler.period", description = "Seconds between checks")
        long scheduler_period() default 10;
    }

    /** JMX face: notifications for every raise and clear, and the active list. */
    public interface AlertsMBean {
        int getActiveCount();

        String[] getActive();
    }

    final class AlertsJmx extends NotificationBroadcasterSupport implements AlertsMBean {
        AlertsJmx() {
            super(new MBeanNotificationInfo(new String[] {"enclave.alert.raised", "enclave.alert.cleared"},
                    Notification.class.getName(), "Enclave alerts raised and cleared"));
        }

        @Override
        public int getActiveCount() {
            return active.size();
        }

        @Override
        public String[] getActive() {
            return active().stream().map(a -> a.name() + " " + a.subject() + ": " + a.summary()).toArray(String[]::new);
        }
    }

    private final ModelRegistry registry;
    private final InferenceStats stats;
    private final PrometheusMetrics metrics;
    private volatile Config config;
    private volatile EventAdmin events;
    private final Map<String, Long> pendingSince = new HashMap<>();
    private final Map<String, Alert> active = new LinkedHashMap<>();
    private final AlertsJmx jmx = new AlertsJmx();
    private final AtomicLong sequence = new AtomicLong();
    private ObjectName objectName;

    @Activate
    public AlertChecker(@Reference(name = "registry") ModelRegistry registry, @Reference(name = "stats") InferenceStats stats,
            @Reference(name = "metrics") PrometheusMetrics metrics, Config config) {
        this.registry = registry;
        this.stats = stats;
        this.metrics = metrics;
        this.config = config;
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            objectName = new ObjectName(OBJECT_NAME);
            if (!server.isRegistered(objectName)) {
                server.registerMBean(new javax.management.StandardEmitterMBean(jmx, AlertsMBean.class, jmx), objectName);
            }
        } catch (Exception e) {
            LOG.warn("alerts are not published over JMX: {}", e.getMessage());
        }
    }

    @Modified
    void modified(Config c) {
        this.config = c;
    }

    @Deactivate
    void deactivate() {
        try {
            if (objectName != null) {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
            }
        } catch (Exception e) {
            LOG.debug("{} was not registered: {}", OBJECT_NAME, e.getMessage());
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindEvents(EventAdmin e) {
        events = e;
    }

    void unbindEvents(EventAdmin e) {
        if (events == e) {
            events = null;
        }
    }

    @Override
    public synchronized List<Alert> active() {
        return new ArrayList<>(active.values());
    }

    @Override
    public void run() {
        try {
            check(System.nanoTime());
        } catch (RuntimeException e) {
            LOG.error("alert check failed: {}", e.getMessage(), e);
        }
    }

    synchronized void check(long now) {
        Config c = config;
        Map<String, double[]> breaking = new HashMap<>();
        Map<String, String[]> about = new HashMap<>();
        for (ModelVersion v : registry.versions()) {
            if (v.state() != ModelState.READY) {
                continue;
            }
            String subject = v.descriptor().name() + " " + v.descriptor().version();
            VersionStats s = stats.stats(v.descriptor().name(), v.descriptor().version(),
                    Math.min(300, Math.max(1, c.windowSeconds())));
            if (s.windowRequests() >= c.minRequests() && s.p99Millis() > c.p99Millis()) {
                breaking.put(P99 + "|" + subject, new double[] {s.p99Millis(), c.p99Millis()});
                about.put(P99 + "|" + subject, new String[] {P99, subject, String.format(Locale.ROOT,
                        "p99 latency %.1f ms is over %.0f ms", s.p99Millis(), c.p99Millis())});
            }
        }
        for (GpuTelemetry.Gpu g : metrics.gpus().read()) {
            if (g.utilizationRatio() > c.gpuUtilization()) {
                String subject = "gpu " + g.index();
                breaking.put(GPU + "|" + subject, new double[] {g.utilizationRatio(), c.gpuUtilization()});
                about.put(GPU + "|" + subject, new String[] {GPU, subject, String.format(Locale.ROOT,
                        "utilization %.0f %% is over %.0f %%", g.utilizationRatio() * 100, c.gpuUtilization() * 100)});
            }
        }
        pendingSince.keySet().retainAll(breaking.keySet());
        for (Map.Entry<String, double[]> b : breaking.entrySet()) {
            long since = pendingSince.computeIfAbsent(b.getKey(), k -> now);
            if (!active.containsKey(b.getKey()) && now - since >= c.forSeconds() * 1_000_000_000L) {
                String[] a = about.get(b.getKey());
                Alert alert = new Alert(a[0], a[1], a[2], b.getValue()[0], b.getValue()[1], Instant.now());
                active.put(b.getKey(), alert);
                announce("RAISED", alert);
            }
        }
        for (String key : new ArrayList<>(active.keySet())) {
            if (!breaking.containsKey(key)) {
                announce("CLEARED", active.remove(key));
            }
        }
    }

    private void announce(String what, Alert a) {
        if ("RAISED".equals(what)) {
            LOG.warn("ALERT {} {}: {}", a.name(), a.subject(), a.summary());
        } else {
            LOG.info("alert cleared: {} {}", a.name(), a.subject());
        }
        EventAdmin e = events;
        if (e != null) {
            Map<String, Object> props = new HashMap<>();
            props.put("name", a.name());
            props.put("subject", a.subject());
            props.put("summary", a.summary());
            props.put("value", a.value());
            props.put("threshold", a.threshold());
            e.postEvent(new Event("enclave/alert/" + what, props));
        }
        Notification n = new Notification("enclave.alert." + what.toLowerCase(Locale.ROOT), OBJECT_NAME,
                sequence.incrementAndGet(), System.currentTimeMillis(), a.name() + " " + a.subject() + ": " + a.summary());
        jmx.sendNotification(n);
    }
}
