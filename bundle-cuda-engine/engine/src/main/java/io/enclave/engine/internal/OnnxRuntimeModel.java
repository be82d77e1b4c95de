package io.enclave.engine.internal;

import java.util.List;

import ai.djl.Model;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.enclave.api.EnclaveException;
import io.enclave.api.EngineThreads;
import io.enclave.api.InferenceException;
import io.enclave.api.LoadedModel;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.NamedTensor;
import io.enclave.api.TokenCounts;

/** A model loaded into an ONNX Runtime session, wrapped by DJL, with its pre- and post-processing. */
final class OnnxRuntimeModel implements LoadedModel {
    private final ModelDescriptor descriptor;
    private final Model model;
    private final Pipeline pipeline;
    private final EngineThreads threads;
    private volatile boolean closed;

    OnnxRuntimeModel(ModelDescriptor descriptor, Model model, Pipeline pipeline, EngineThreads threads) {
        this.descriptor = descriptor;
        this.model = model;
        this.pipeline = pipeline;
        this.threads = threads;
    }

    @Override
    public List<NamedTensor> infer(List<NamedTensor> inputs) {
        if (closed) {
            throw new InferenceException(descriptor + " is unloaded");
        }
        // a sub-manager per call frees every native tensor of the call at once, whatever path it takes
        try (NDManager manager = model.getNDManager().newSubManager()) {
            return pipeline.run(inputs, manager, this::forward);
        } catch (EnclaveException e) {
            throw e;
        } catch (EngineException | IllegalArgumentException | IllegalStateException e) {
            throw new InferenceException(descriptor + " failed in ONNX Runtime: " + e.getMessage(), e);
        }
    }

    private NDList forward(NDManager manager, NDList inputs) {
        return model.getBlock().forward(new ParameterStore(manager, false), inputs, false);
    }

    @Override
    public TokenCounts tokenCounts() {
        return pipeline.tokenCounts();
    }

    @Override
    public EngineThreads threads() {
        return threads;
    }

    @Override
    public void close() {
        closed = true;
        model.close();
    }

    @Override
    public String toString() {
        return descriptor.toString();
    }
}
