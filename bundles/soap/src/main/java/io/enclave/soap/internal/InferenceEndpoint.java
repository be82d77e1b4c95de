package io.enclave.soap.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import javax.jws.WebService;

import org.apache.cxf.binding.soap.SoapFault;
import org.apache.cxf.message.Exchange;
import org.apache.cxf.message.Message;
import org.apache.cxf.phase.PhaseInterceptorChain;
import org.osgi.framework.Version;

import io.enclave.api.AccessDeniedException;
import io.enclave.api.DataType;
import io.enclave.api.Identity;
import io.enclave.api.InferenceRequest;
import io.enclave.api.InferenceResponse;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;
import io.enclave.api.Permission;
import io.enclave.api.Router;
import io.enclave.api.SecurityService;
import io.enclave.api.TensorSpec;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;
import io.enclave.soap.internal.wsdl.FloatValues;
import io.enclave.soap.internal.wsdl.GetModelMetadata;
import io.enclave.soap.internal.wsdl.GetModelMetadataResponse;
import io.enclave.soap.internal.wsdl.Infer;
import io.enclave.soap.internal.wsdl.InferResponse;
import io.enclave.soap.internal.wsdl.InferText;
import io.enclave.soap.internal.wsdl.InferTextResponse;
import io.enclave.soap.internal.wsdl.InferencePortType;
import io.enclave.soap.internal.wsdl.InvalidInput;
import io.enclave.soap.internal.wsdl.ListModels;
import io.enclave.soap.internal.wsdl.ListModelsResponse;
import io.enclave.soap.internal.wsdl.ModelInfo;
import io.enclave.soap.internal.wsdl.ModelNotFound;
import io.enclave.soap.internal.wsdl.NotAuthorized;
import io.enclave.soap.internal.wsdl.Tensor;
import io.enclave.soap.internal.wsdl.TensorMetadata;
import io.enclave.soap.internal.wsdl.TextResult;
import io.enclave.soap.internal.wsdl.Unavailable;
import io.enclave.soap.internal.wsdl.VersionInfo;

/**
 * The contract's operations over the same {@link Router} REST uses, so routing, canary, fallback
 * and metrics are identical: this class only translates and checks the caller's permission.
 */
@WebService(endpointInterface = "io.enclave.soap.internal.wsdl.InferencePortType",
        targetNamespace = Faults.NS, serviceName = "InferenceService", portName = "InferencePort",
        wsdlLocation = SoapServer.WSDL)
public class InferenceEndpoint implements InferencePortType {
    /** At most this many texts in one InferText call; the batcher splits them anyway. */
    static final int MAX_TEXTS = 1024;
    /** The contract's {@code TimeoutMillis} bound: the longest deadline a model version may have. */
    static final int MAX_TIMEOUT_MILLIS = 3_600_000;

    private final Router router;
    private final ModelRegistry registry;
    private final TrafficControl traffic;
    private final SecurityService security;

    InferenceEndpoint(Router router, ModelRegistry registry, TrafficControl traffic, SecurityService security) {
        this.router = router;
        this.registry = registry;
        this.traffic = traffic;
        this.security = security;
    }

    @Override
    public ListModelsResponse listModels(ListModels parameters) throws NotAuthorized, Unavailable {
        try {
            return serve(Permission.MODEL_READ, () -> {
                ListModelsResponse r = new ListModelsResponse();
                for (String model : router.models()) {
                    r.getModel().add(model(model));
                }
                return r;
            });
        } catch (InvalidInput | ModelNotFound e) {
            throw new SoapFault(e.getMessage(), Faults.CLIENT);
        }
    }

    private ModelInfo model(String model) {
        ModelInfo info = new ModelInfo();
        info.setName(model);
        TrafficRules rules = traffic.rules(model);
        Map<Version, Double> weights = router.weights(model);
        for (ModelVersion v : registry.versions(model)) {
            Version ver = v.descriptor().version();
            VersionInfo vi = new VersionInfo();
            vi.setVersion(ver.toString());
            vi.setState(v.state().name());
            vi.setRole(rules.role(ver));
            vi.setWeightPercent(weights.getOrDefault(ver, 0.0));
            info.getVersion().add(vi);
        }
        // the same answer as GET /v2/models/{model}/ready
        boolean ready;
        try {
            ready = router.resolve(model, null).state() == ModelState.READY;
        } catch (ModelUnavailableException | ModelNotFoundException e) {
            ready = false;
        }
        info.setReady(ready);
        return info;
    }

    @Override
    public GetModelMetadataResponse getModelMetadata(GetModelMetadata parameters)
            throws InvalidInput, ModelNotFound, NotAuthorized, Unavailable {
        return serve(Permission.MODEL_READ, () -> {
            String model = name(parameters.getModel());
            ModelVersion v;
            if (parameters.getVersion() == null) {
                try {
                    v = router.resolve(model, null);
                } catch (ModelUnavailableException notReady) {
                    // metadata is still worth reading while the model warms up
                    List<ModelVersion> all = registry.versions(model);
                    if (all.isEmpty()) {
                        throw notReady;
                    }
                    v = all.get(all.size() - 1);
                }
            } else {
                v = router.resolve(model, parameters.getVersion());
            }
            ModelDescriptor d = v.descriptor();
            GetModelMetadataResponse r = new GetModelMetadataResponse();
            r.setName(model);
            r.setVersion(d.version().toString());
            for (ModelVersion each : registry.versions(model)) {
                r.getVersions().add(each.descriptor().version().toString());
            }
            r.setPlatform(d.platform());
            d.inputs().forEach(s -> r.getInput().add(metadata(s)));
            d.outputs().forEach(s -> r.getOutput().add(metadata(s)));
            r.getLabel().addAll(d.labels());
            return r;
        });
    }

    @Override
    public InferResponse infer(Infer parameters) throws InvalidInput, ModelNotFound, NotAuthorized, Unavailable {
        return serve(Permission.MODEL_INFER, () -> {
            String model = name(parameters.getModel());
            if (!router.serves(model)) {
                throw new ModelNotFoundException("unknown model '" + model + "'");
            }
            if (parameters.getInput().isEmpty()) {
                throw new InvalidInputException("send at least one input");
            }
            List<NamedTensor> inputs = new ArrayList<>(parameters.getInput().size());
            for (Tensor t : parameters.getInput()) {
                inputs.add(SoapTensors.toNamed(t));
            }
            InferenceResponse answer = router.infer(new InferenceRequest(model, parameters.getVersion(), inputs,
                    parameters.getOutput().isEmpty() ? null : List.copyOf(parameters.getOutput()), parameters.getRoutingKey(),
                    arrived(), timeoutNanos(parameters.getTimeoutMillis()), priority(parameters.getPriority())));
            InferResponse r = new InferResponse();
            r.setModel(answer.model());
            r.setVersion(answer.version().toString());
            r.setId(parameters.getId());
            r.setFallback(answer.fallback());
            for (NamedTensor out : answer.outputs()) {
                r.getOutput().add(SoapTensors.toSoap(out));
            }
            return r;
        });
    }

    @Override
    public InferTextResponse inferText(InferText parameters) throws InvalidInput, ModelNotFound, NotAuthorized, Unavailable {
        return serve(Permission.MODEL_INFER, () -> {
            String model = name(parameters.getModel());
            List<String> texts = parameters.getText();
            if (texts.isEmpty()) {
                throw new InvalidInputException("send at least one text");
            }
            if (texts.size() > MAX_TEXTS) {
                throw new InvalidInputException("at most " + MAX_TEXTS + " texts per call, not " + texts.size());
            }
            for (String t : texts) {
                if (t == null) {
                    throw new InvalidInputException("a text element is empty");
                }
            }
            ModelVersion target = router.resolve(model, parameters.getVersion(), parameters.getRoutingKey());
            ModelDescriptor d = target.descriptor();
            TensorSpec in = textInput(d);
            TensorSpec outSpec = parameters.getOutput() == null ? first(d) : d.output(parameters.getOutput());
            if (outSpec == null) {
                throw new InvalidInputException("model '" + model + "' has no output '" + parameters.getOutput() + "'");
            }
            byte[][] bytes = new byte[texts.size()][];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = texts.get(i).getBytes(StandardCharsets.UTF_8);
            }
            NamedTensor tensor = new NamedTensor(in.name(), DataType.BYTES, rows(in, texts.size()), bytes);
            InferenceResponse answer = router.infer(new InferenceRequest(model, parameters.getVersion(), List.of(tensor),
                    List.of(outSpec.name()), parameters.getRoutingKey(), arrived(),
                    timeoutNanos(parameters.getTimeoutMillis()), priority(parameters.getPriority())));
            NamedTensor out = answer.outputs().stream().filter(o -> o.name().equals(outSpec.name())).findFirst()
                    .orElseThrow(() -> new InvalidInputException("the model did not return '" + outSpec.name() + "'"));
            InferTextResponse r = new InferTextResponse();
            r.setModel(answer.model());
            r.setVersion(answer.version().toString());
            r.setFallback(answer.fallback());
            r.setOutput(out.name());
            List<String> labels = registry.find(answer.model(), answer.version())
                    .map(v -> v.descriptor().labels()).orElse(d.labels());
            TextResults.fill(r.getResult(), out, texts.size(), labels);
            return r;
        });
    }

    /** The model's one BYTES input, which InferText fills. */
    private static TensorSpec textInput(ModelDescriptor d) {
        List<TensorSpec> text = d.inputs().stream().filter(s -> s.datatype() == DataType.BYTES).toList();
        if (text.size() != 1 || d.inputs().size() != 1) {
            throw new InvalidInputException("model '" + d.name() + "' is not a text model (InferText needs exactly one BYTES input): use Infer");
        }
        return text.get(0);
    }

    private static TensorSpec first(ModelDescriptor d) {
        if (d.outputs().isEmpty()) {
            throw new InvalidInputException("model '" + d.name() + "' declares no outputs: use Infer");
        }
        return d.outputs().get(0);
    }

    /** The input's shape for {@code n} texts: n along the first dimension, 1 along any other open one. */
    private static long[] rows(TensorSpec in, int n) {
        long[] spec = in.shape();
        if (spec.length == 0) {
            throw new InvalidInputException("model input '" + in.name() + "' takes a single value: use Infer");
        }
        long[] shape = new long[spec.length];
        shape[0] = n;
        for (int i = 1; i < spec.length; i++) {
            if (spec[i] > 1) {
                throw new InvalidInputException("model input '" + in.name() + "' is not one text per row: use Infer");
            }
            shape[i] = 1;
        }
        return shape;
    }

    private static TensorMetadata metadata(TensorSpec s) {
        TensorMetadata m = new TensorMetadata();
        m.setName(s.name());
        m.setDatatype(io.enclave.soap.internal.wsdl.DataType.fromValue(s.datatype().name()));
        m.setShape(SoapTensors.shape(s.shape()));
        return m;
    }

    private static String name(String model) {
        if (model == null || !ModelDescriptor.NAME.matcher(model).matches()) {
            throw new InvalidInputException("'" + abbreviate(model) + "' is not a model name (lower-case letters, digits, '.', '_', '-'; at most 64)");
        }
        return model;
    }

    /** The call's {@code timeoutMillis}, checked against the contract's range; 0 when it sent none. */
    static long timeoutNanos(Integer millis) {
        if (millis == null) {
            return 0;
        }
        if (millis < 1 || millis > MAX_TIMEOUT_MILLIS) {
            throw new InvalidInputException("timeoutMillis must be 1 to " + MAX_TIMEOUT_MILLIS + " ms, not " + millis);
        }
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** The call's {@code priority}: 0 (the default level) when it sent none. */
    static long priority(Integer priority) {
        if (priority == null) {
            return 0;
        }
        if (priority < 0) {
            throw new InvalidInputException("priority must be 0 (the default level) or more, 1 the most urgent, not "
                    + priority);
        }
        return priority;
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() > 64 ? s.substring(0, 64) + "…" : s;
    }

    /** Checks the caller's permission, runs the operation and turns Enclave's failures into typed faults. */
    private <T> T serve(Permission permission, Supplier<T> operation)
            throws InvalidInput, ModelNotFound, NotAuthorized, Unavailable {
        try {
            security.check(caller(), permission);
            return operation.get();
        } catch (RuntimeException e) {
            Exception f = Faults.typed(e);
            if (f instanceof InvalidInput x) {
                throw x;
            } else if (f instanceof ModelNotFound x) {
                throw x;
            } else if (f instanceof NotAuthorized x) {
                throw x;
            } else if (f instanceof Unavailable x) {
                throw x;
            }
            throw (RuntimeException) f;
        }
    }

    /** When the call being served reached the service ({@link ArrivalInterceptor}). */
    private static long arrived() {
        return ArrivalInterceptor.arrived(PhaseInterceptorChain.getCurrentMessage());
    }

    /** Who the interceptors authenticated; nobody means the request never should have got here. */
    private static Identity caller() {
        Message m = PhaseInterceptorChain.getCurrentMessage();
        Exchange exchange = m == null ? null : m.getExchange();
        Identity who = exchange == null ? null : exchange.get(Identity.class);
        if (who == null) {
            throw new AccessDeniedException("authentication required");
        }
        return who;
    }
}
