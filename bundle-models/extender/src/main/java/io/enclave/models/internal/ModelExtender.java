package io.enclave.models.internal;

import java.io.InputStream;
import java.net.URL;
import java.util.Hashtable;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.util.tracker.BundleTracker;
import org.osgi.util.tracker.BundleTrackerCustomizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.ModelDescriptor;

/**
 * The model extender: every active bundle whose manifest carries {@code Enclave-Model} becomes a
 * model version. The {@link ModelDescriptor} is registered in the model bundle's own context, so
 * stopping or uninstalling that bundle removes the version and nothing else.
 */
@Component(immediate = true)
public class ModelExtender implements BundleTrackerCustomizer<ServiceRegistration<ModelDescriptor>> {
    private static final Logger LOG = LoggerFactory.getLogger(ModelExtender.class);

    private BundleTracker<ServiceRegistration<ModelDescriptor>> tracker;

    @Activate
    void activate(BundleContext context) {
        tracker = new BundleTracker<>(context, Bundle.ACTIVE, this);
        tracker.open();
    }

    @Deactivate
    void deactivate() {
        tracker.close();
    }

    @Override
    public ServiceRegistration<ModelDescriptor> addingBundle(Bundle bundle, BundleEvent event) {
        String header = bundle.getHeaders("").get(ModelHeader.NAME);
        if (header == null) {
            return null;
        }
        ModelDescriptor descriptor;
        try {
            descriptor = describe(bundle, header);
        } catch (Exception e) {
            LOG.error("bundle {} ({}) carries {} but is not a valid model: {}", bundle.getBundleId(),
                    bundle.getSymbolicName(), ModelHeader.NAME, e.getMessage());
            return null;
        }
        BundleContext context = bundle.getBundleContext();
        if (context == null) {
            return null;
        }
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(ModelDescriptor.PROP_NAME, descriptor.name());
        props.put(ModelDescriptor.PROP_VERSION, descriptor.version().toString());
        props.put(ModelDescriptor.PROP_ENGINE, descriptor.engine());
        LOG.info("bundle {} provides {}", bundle.getBundleId(), descriptor);
        return context.registerService(ModelDescriptor.class, descriptor, props);
    }

    static ModelDescriptor describe(Bundle bundle, String header) throws Exception {
        String location = bundle.getHeaders("").get(BareModel.LOCATION_HEADER);
        if (location != null) {
            ExternalArtifactSource external = new ExternalArtifactSource(BareModel.location(location, ModelRoots.all()));
            ModelDescriptor d = BareModel.describe(external);
            ModelHeader h = ModelHeader.parse(header, bundle.getVersion());
            if (!h.name().equals(d.name()) || !h.version().equals(d.version())) {
                throw new IllegalArgumentException("model.json at " + location + " now says " + d.name() + " "
                        + d.version() + ", not " + h.name() + " " + h.version());
            }
            return d;
        }
        ModelHeader h = ModelHeader.parse(header, bundle.getVersion());
        URL json = bundle.getEntry(BundleArtifactSource.ROOT + "model.json");
        if (json == null) {
            throw new IllegalArgumentException(BundleArtifactSource.ROOT + "model.json is missing");
        }
        BundleArtifactSource source = new BundleArtifactSource(bundle, h.name() + " " + h.version());
        ModelDescriptor d;
        try (InputStream in = json.openStream()) {
            d = ModelJson.read(in, h, source);
        }
        BundleArtifactSource.checkEntry(d.artifact());
        if (!source.exists(d.artifact())) {
            throw new IllegalArgumentException("artifact " + BundleArtifactSource.ROOT + d.artifact() + " is missing");
        }
        return d;
    }

    @Override
    public void modifiedBundle(Bundle bundle, BundleEvent event, ServiceRegistration<ModelDescriptor> registration) {
        // a model bundle's content cannot change while it stays active
    }

    @Override
    public void removedBundle(Bundle bundle, BundleEvent event, ServiceRegistration<ModelDescriptor> registration) {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregisters a stopping bundle's services itself
        }
        LOG.info("bundle {} no longer provides a model", bundle.getBundleId());
    }
}
