package io.enclave.engine.internal;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.djl.engine.Engine;
import io.enclave.api.CryptoService;
import io.enclave.api.InferenceEngine;

/**
 * Starts DJL's ONNX Runtime engine and registers one {@link InferenceEngine} service per device it
 * can run on. Only the CPU is offered for now; the device is a service property from the start so
 * GPU services can sit beside it.
 */
@Component(immediate = true, configurationPid = "io.enclave.engine.onnxruntime")
@Designate(ocd = EngineRegistrar.Config.class)
public class EngineRegistrar {
    private static final Logger LOG = LoggerFactory.getLogger(EngineRegistrar.class);

    @ObjectClassDefinition(name = "Enclave ONNX Runtime engine",
            description = "Threads ONNX Runtime uses for each loaded model")
    public @interface Config {
        @AttributeDefinition(description = "Threads one call may use; 0 sizes them from the cores: the cores over "
                + "the most workers the version's model.json allows, at least 1")
        int intraOpThreads() default 0;

        @AttributeDefinition(description = "Operators run in parallel within one inference; 1 runs them in sequence")
        int interOpThreads() default 1;

        @AttributeDefinition(description = "Let ONNX Runtime's intra-op threads spin while waiting for work; "
                + "faster for one caller alone, slower when they compete with the server's own threads")
        boolean intraOpSpinning() default true;
    }

    private final List<ServiceRegistration<InferenceEngine>> registrations = new ArrayList<>();

    /** Decrypts {@code .enc} artifacts in memory; optional, so plain models load without enclave-security. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile CryptoService crypto;

    @Activate
    void activate(BundleContext context, Config config) throws Exception {
        String version = Djl.call(() -> Engine.getEngine(Djl.ONNX_RUNTIME).getVersion());
        EngineSettings settings = new EngineSettings(config.intraOpThreads(), config.interOpThreads(), config.intraOpSpinning());
        OnnxRuntimeEngine cpu = new OnnxRuntimeEngine("cpu", version, settings, () -> crypto);
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(InferenceEngine.PROP_ENGINE, cpu.name());
        props.put(InferenceEngine.PROP_DEVICE, cpu.device());
        props.put("engine.version", version);
        registrations.add(context.registerService(InferenceEngine.class, cpu, props));
        LOG.info("ONNX Runtime {} ready on cpu ({})", version, settings);
    }

    @Deactivate
    void deactivate() {
        for (ServiceRegistration<InferenceEngine> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework unregisters everything when the bundle stops
            }
        }
        registrations.clear();
    }
}
