package io.enclave.rest.internal;

import java.util.List;

import org.apache.cxf.Bus;
import org.apache.cxf.BusFactory;
import org.apache.cxf.endpoint.Server;
import org.apache.cxf.jaxrs.JAXRSServerFactoryBean;
import org.apache.cxf.jaxrs.lifecycle.SingletonResourceProvider;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.ApiKeys;
import io.enclave.api.AuditLog;
import io.enclave.api.BatchingControl;
import io.enclave.api.InferenceStats;
import io.enclave.api.ModelDeployer;
import io.enclave.api.TrafficControl;
import io.enclave.api.ModelRegistry;
import io.enclave.api.Router;
import io.enclave.api.SecurityService;

/**
 * Publishes the management API on CXF JAX-RS at {@code /enclave/v1}, and holds the REST settings (PID
 * {@code io.enclave.rest}) that {@link OpenInferenceServlet} at {@code /v2} shares.
 */
@Component(immediate = true, configurationPid = "io.enclave.rest")
@Designate(ocd = RestServer.Config.class)
public class RestServer {
    private static final Logger LOG = LoggerFactory.getLogger(RestServer.class);

    @ObjectClassDefinition(name = "Enclave REST API", description = "Open Inference Protocol v2 and management endpoints")
    public @interface Config {
        @AttributeDefinition(description = "Largest request body accepted, in bytes; larger ones get 413")
        int maxRequestBytes() default 64 * 1024 * 1024;

        @AttributeDefinition(description = "Longest single JSON string accepted (e.g. one text), in bytes")
        int maxStringBytes() default 1024 * 1024;
    }

    @Reference
    private Router router;
    @Reference
    private ModelRegistry registry;
    @Reference
    private SecurityService security;
    @Reference
    private AuditLog audit;
    @Reference
    private ApiKeys apiKeys;
    @Reference
    private TrafficControl traffic;
    @Reference
    private InferenceStats stats;
    @Reference
    private BatchingControl batching;
    /** Optional: without the model deployer the management API serves everything but uploads. */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    private volatile ModelDeployer deployer;
    private Server management;

    @Activate
    void start(BundleContext context, Config config) {
        InferenceCodec codec = new InferenceCodec(config.maxStringBytes());
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        // CXF looks providers up through the context class loader
        t.setContextClassLoader(RestServer.class.getClassLoader());
        try {
            Bus bus = BusFactory.getDefaultBus();
            JAXRSServerFactoryBean manage = new JAXRSServerFactoryBean();
            manage.setBus(bus);
            manage.setAddress("/enclave/v1");
            manage.setResourceClasses(AuditResource.class, ApiKeyResource.class, ModelResource.class, OpenApiResource.class);
            manage.setResourceProvider(ModelResource.class, new SingletonResourceProvider(
                    new ModelResource(registry, router, traffic, stats, codec, deployer, batching)));
            manage.setResourceProvider(OpenApiResource.class, new SingletonResourceProvider(new OpenApiResource()));
            manage.setResourceProvider(AuditResource.class, new SingletonResourceProvider(new AuditResource(audit, codec)));
            manage.setResourceProvider(ApiKeyResource.class, new SingletonResourceProvider(new ApiKeyResource(apiKeys, codec)));
            manage.setProviders(List.of(new AuthFilter(security), new ErrorMapper(codec)));
            manage.setInvoker(new CallerInvoker());
            management = manage.create();
        } finally {
            t.setContextClassLoader(previous);
        }
        LOG.info("management API published at /enclave/v1");
    }

    @Deactivate
    void stop() {
        if (management != null) {
            management.destroy();
        }
        management = null;
    }
}
