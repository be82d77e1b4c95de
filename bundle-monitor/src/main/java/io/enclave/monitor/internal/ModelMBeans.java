package io.enclave.monitor.internal;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;

import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.BatchingControl;
import io.enclave.api.Callers;
import io.enclave.api.InferenceStats;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelVersion;
import io.enclave.api.Permission;
import io.enclave.api.Router;
import io.enclave.api.TokenCounts;
import io.enclave.api.TrafficControl;
import io.enclave.api.VersionStats;

/**
 * One MBean per installed model version, {@code io.enclave:type=Model,name=<m>,version=<v>}, so an
 * operator can watch and act from Hawtio or any JMX console. Reading follows Karaf's JMX ACLs;
 * the operations also check for the admin role themselves, because Hawtio's own Jolokia does not
 * apply those ACLs.
 */
@Component(immediate = true)
public class ModelMBeans {
    private static final Logger LOG = LoggerFactory.getLogger(ModelMBeans.class);

    /** What Hawtio shows for a model version. */
    public interface ModelVersionMBean {
        String getModel();

        String getVersion();

        String getState();

        String getRole();

        double getWeightPercent();

        long getRequests();

        long getErrors();

        long getFallbacks();

        double getP50Millis();

        double getP99Millis();

        double getShadowAgreement();

        /** Over the last minute's answers, how many requests each shared its engine call with (NaN: none). */
        double getMeanBatch();

        /**
         * For a text model, since it last loaded: the share of the token positions its batches computed
         * that only padded a shorter text (NaN: no text model, or nothing computed yet).
         */
        double getPaddingShare();

        /** Requests admitted and waiting for a worker or their batch, now. */
        int getQueued();

        /** Engine calls running now. */
        int getRunning();

        /** Worker threads held now, busy or idle. */
        int getWorkerThreads();

        /** Makes this version's model promote its canary (admin only). */
        String promote();

        /** Rolls the model's canary back (admin only). */
        String rollback(String reason);

        /** Gives this version a canary share (admin only). */
        String canary(double percent);
    }

    private final ModelRegistry registry;
    private final Router router;
    private final TrafficControl traffic;
    private final InferenceStats stats;
    private final BatchingControl batching;
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private final Map<String, ObjectName> registered = new ConcurrentHashMap<>();
    private volatile boolean active;

    @Activate
    public ModelMBeans(@Reference(name = "registry") ModelRegistry registry, @Reference(name = "router") Router router,
            @Reference(name = "traffic") TrafficControl traffic, @Reference(name = "stats") InferenceStats stats,
            @Reference(name = "batching") BatchingControl batching) {
        this.batching = batching;
        this.registry = registry;
        this.router = router;
        this.traffic = traffic;
        this.stats = stats;
        active = true;
        registry.versions().forEach(v -> register(v.descriptor()));
    }

    @Deactivate
    void deactivate() {
        active = false;
        for (ObjectName n : registered.values()) {
            unregister(n);
        }
        registered.clear();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDescriptor(ModelDescriptor d) {
        if (active) {
            register(d);
        }
    }

    void unbindDescriptor(ModelDescriptor d) {
        ObjectName n = registered.remove(d.id());
        if (n != null) {
            unregister(n);
        }
    }

    private void register(ModelDescriptor d) {
        try {
            ObjectName name = new ObjectName("io.enclave:type=Model,name=" + ObjectName.quote(d.name()) + ",version="
                    + ObjectName.quote(d.version().toString()));
            if (!server.isRegistered(name)) {
                server.registerMBean(new StandardMBean(new VersionBean(d.name(), d.version()), ModelVersionMBean.class),
                        name);
            }
            registered.put(d.id(), name);
        } catch (Exception e) {
            LOG.warn("no MBean for {}: {}", d, e.getMessage());
        }
    }

    private void unregister(ObjectName n) {
        try {
            server.unregisterMBean(n);
        } catch (Exception e) {
            LOG.debug("{} was not registered: {}", n, e.getMessage());
        }
    }

    private static void requireAdmin(String what) {
        if (!Callers.hasRole(Permission.Roles.ADMIN)) {
            throw new SecurityException("only an admin may " + what + " (caller: " + Callers.current() + ")");
        }
    }

    final class VersionBean implements ModelVersionMBean {
        private final String model;
        private final Version version;

        VersionBean(String model, Version version) {
            this.model = model;
            this.version = version;
        }

        private VersionStats s() {
            return stats.stats(model, version);
        }

        @Override
        public String getModel() {
            return model;
        }

        @Override
        public String getVersion() {
            return version.toString();
        }

        @Override
        public String getState() {
            return registry.find(model, version).map(v -> v.state().name()).orElse("REMOVED");
        }

        @Override
        public String getRole() {
            String role = traffic.rules(model).role(version);
            return role == null ? "-" : role;
        }

        @Override
        public double getWeightPercent() {
            return router.weights(model).getOrDefault(version, 0.0);
        }

        @Override
        public long getRequests() {
            return s().requests();
        }

        @Override
        public long getErrors() {
            return s().errors();
        }

        @Override
        public long getFallbacks() {
            return s().fallbacks();
        }

        @Override
        public double getP50Millis() {
            return s().p50Millis();
        }

        @Override
        public double getP99Millis() {
            return s().p99Millis();
        }

        @Override
        public double getShadowAgreement() {
            return s().shadowAgreement();
        }

        @Override
        public double getMeanBatch() {
            return s().windowMeanBatch();
        }

        @Override
        public double getPaddingShare() {
            TokenCounts t = registry.find(model, version).map(ModelVersion::tokenCounts).orElse(null);
            return t == null ? Double.NaN : t.paddingShare();
        }

        @Override
        public int getQueued() {
            return batching.queued(model, version);
        }

        @Override
        public int getRunning() {
            return batching.running(model, version);
        }

        @Override
        public int getWorkerThreads() {
            return batching.workers(model, version);
        }

        @Override
        public String promote() {
            requireAdmin("promote");
            return traffic.promote(model).toString();
        }

        @Override
        public String rollback(String reason) {
            requireAdmin("roll back");
            return traffic.rollback(model, reason == null || reason.isBlank() ? null : reason).toString();
        }

        @Override
        public String canary(double percent) {
            requireAdmin("change traffic");
            return traffic.canary(model, version, percent).toString();
        }
    }
}
