package io.enclave.core.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

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
import io.enclave.api.Router;
import io.enclave.api.TensorSpec;
import io.enclave.api.TrafficPolicy;

/**
 * Chooses the version that answers: the one named in the request, else the policy's pinned default
 * when it is ready, else the highest ready version. Then checks the request against that version's
 * signature, so every transport rejects the same mistakes with the same words.
 */
@Component(service = Router.class)
public class VersionRouter implements Router {

    private final ModelRegistry registry;
    private final List<TrafficPolicy> policies = new CopyOnWriteArrayList<>();

    @org.osgi.service.component.annotations.Activate
    public VersionRouter(@Reference(name = "registry") ModelRegistry registry) {
        this.registry = registry;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindPolicy(TrafficPolicy policy) {
        policies.add(policy);
    }

    void unbindPolicy(TrafficPolicy policy) {
        policies.remove(policy);
    }

    @Override
    public List<String> models() {
        return registry.versions().stream().map(v -> v.descriptor().name()).distinct().sorted().toList();
    }

    @Override
    public ModelVersion resolve(String model, String version) {
        return resolve(model, version, null);
    }

    @Override
    public Optional<String> stickyHeader(String model) {
        return policy(model).flatMap(TrafficPolicy::stickyHeader);
    }

    @Override
    public ModelVersion resolve(String model, String version, String routeKey) {
        List<ModelVersion> all = registry.versions(model);
        if (all.isEmpty()) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        if (version != null) {
            Version wanted;
            try {
                wanted = Version.parseVersion(version);
            } catch (IllegalArgumentException e) {
                throw new ModelNotFoundException("model '" + model + "' has no version '" + version + "'");
            }
            return registry.find(model, wanted).orElseThrow(() -> new ModelNotFoundException(
                    "model '" + model + "' has no version '" + version + "' (installed: " + list(all) + ")"));
        }
        Optional<TrafficPolicy> policy = policy(model);
        Optional<Version> pinned = policy.flatMap(TrafficPolicy::defaultVersion);
        if (pinned.isPresent()) {
            ModelVersion v = ready(model, pinned.get());
            if (v != null) {
                return v;
            }
        }
        Optional<Version> canaryVersion = policy.flatMap(TrafficPolicy::canaryVersion);
        ModelVersion canary = canaryVersion.map(v -> ready(model, v)).orElse(null);
        ModelVersion stable = policy.flatMap(TrafficPolicy::stableVersion).map(v -> ready(model, v)).orElse(null);
        if (stable == null) {
            for (int i = all.size() - 1; i >= 0 && stable == null; i--) {
                ModelVersion v = all.get(i);
                if (v.state() == ModelState.READY && !canaryVersion.equals(Optional.of(v.descriptor().version()))) {
                    stable = v;
                }
            }
        }
        if (canary != null && stable != null) {
            int bucket = routeKey != null ? bucket(model, routeKey) : ThreadLocalRandom.current().nextInt(1000);
            return bucket < Math.round(policy.get().canaryPercent() * 10) ? canary : stable;
        }
        if (stable != null) {
            return stable;
        }
        if (canary != null) {
            return canary;
        }
        throw new ModelUnavailableException("model '" + model + "' has no ready version (" + all.stream()
                .map(v -> v.descriptor().version() + " " + v.state() + (v.failure() == null ? "" : ": " + v.failure()))
                .collect(Collectors.joining("; ")) + ")");
    }

    private ModelVersion ready(String model, Version version) {
        return registry.find(model, version).filter(v -> v.state() == ModelState.READY).orElse(null);
    }

    /** The same key lands in the same of 1000 buckets, across requests and restarts. */
    static int bucket(String model, String key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((model + "\0" + key).getBytes(StandardCharsets.UTF_8));
            return Math.floorMod(ByteBuffer.wrap(d).getInt(), 1000);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private Optional<TrafficPolicy> policy(String model) {
        for (TrafficPolicy p : policies) {
            if (model.equals(p.model())) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Override
    public InferenceResponse infer(InferenceRequest request) {
        ModelVersion version = resolve(request.model(), request.version(), request.routeKey());
        ModelDescriptor d = version.descriptor();
        check(d, request);
        List<NamedTensor> outputs = version.infer(order(d, request.inputs()));
        return new InferenceResponse(d.name(), d.version(), select(d, outputs, request.requestedOutputs()));
    }

    /** Every declared input exactly once, with its declared type and a shape that fits. */
    static void check(ModelDescriptor d, InferenceRequest request) {
        Map<String, NamedTensor> given = new HashMap<>();
        for (NamedTensor t : request.inputs()) {
            TensorSpec spec = d.input(t.name());
            if (spec == null) {
                throw new InvalidInputException("unexpected input '" + t.name() + "' for model '" + d.name()
                        + "' (it takes " + names(d.inputs()) + ")");
            }
            if (given.put(t.name(), t) != null) {
                throw new InvalidInputException("input '" + t.name() + "' is given more than once");
            }
            if (t.datatype() != spec.datatype()) {
                throw new InvalidInputException("input '" + t.name() + "' has datatype " + t.datatype()
                        + " but model '" + d.name() + "' expects " + spec.datatype());
            }
            if (!spec.accepts(t.shape())) {
                throw new InvalidInputException("input '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                        + " but model '" + d.name() + "' expects " + Arrays.toString(spec.shape())
                        + " (-1 is any size)");
            }
        }
        for (TensorSpec spec : d.inputs()) {
            if (!given.containsKey(spec.name())) {
                throw new InvalidInputException("missing input '" + spec.name() + "' for model '" + d.name() + "'");
            }
        }
        if (request.requestedOutputs() != null) {
            TreeSet<String> seen = new TreeSet<>();
            for (String o : request.requestedOutputs()) {
                if (d.output(o) == null) {
                    throw new InvalidInputException("unknown output '" + o + "' for model '" + d.name()
                            + "' (it has " + names(d.outputs()) + ")");
                }
                if (!seen.add(o)) {
                    throw new InvalidInputException("output '" + o + "' is requested more than once");
                }
            }
        }
    }

    private static List<NamedTensor> order(ModelDescriptor d, List<NamedTensor> inputs) {
        if (inputs.size() == 1) {
            return inputs;
        }
        List<NamedTensor> ordered = new ArrayList<>(inputs.size());
        for (TensorSpec spec : d.inputs()) {
            for (NamedTensor t : inputs) {
                if (t.name().equals(spec.name())) {
                    ordered.add(t);
                }
            }
        }
        return ordered;
    }

    private static List<NamedTensor> select(ModelDescriptor d, List<NamedTensor> outputs, List<String> requested) {
        if (requested == null) {
            return outputs;
        }
        List<NamedTensor> chosen = new ArrayList<>(requested.size());
        for (String name : requested) {
            for (NamedTensor t : outputs) {
                if (t.name().equals(name)) {
                    chosen.add(t);
                }
            }
        }
        return chosen;
    }

    private static String list(List<ModelVersion> all) {
        return all.stream().map(v -> v.descriptor().version().toString()).collect(Collectors.joining(", "));
    }

    private static String names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).collect(Collectors.joining(", "));
    }
}
