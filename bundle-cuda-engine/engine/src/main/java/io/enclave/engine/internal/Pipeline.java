package io.enclave.engine.internal;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.enclave.api.ArtifactSource;
import io.enclave.api.CryptoService;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelLoadException;
import io.enclave.api.NamedTensor;
import io.enclave.api.TokenCounts;

/**
 * What happens around the graph: turning the declared inputs into graph inputs and graph outputs
 * into the declared outputs. Chosen by {@code preprocessing.type} in {@code model.json}.
 */
interface Pipeline {

    /** Runs the graph. */
    interface Graph {
        NDList forward(NDManager manager, NDList inputs);
    }

    List<NamedTensor> run(List<NamedTensor> inputs, NDManager manager, Graph graph);

    /** @return for a pipeline that pads texts in a batch, what its calls computed so far; else null */
    default TokenCounts tokenCounts() {
        return null;
    }

    static Pipeline create(ModelDescriptor descriptor, OrtSession session, ArtifactSource source,
            Supplier<CryptoService> crypto) throws ModelLoadException, OrtException {
        Map<String, Object> pre = descriptor.preprocessing();
        String type = OnnxRuntimeEngine.text(pre, "type", "none");
        switch (type) {
            case "none":
                return TensorPipeline.create(descriptor, session);
            case TextEmbeddingPipeline.TYPE:
                return TextEmbeddingPipeline.create(descriptor, session, source, crypto);
            default:
                throw new ModelLoadException(descriptor + ": unknown preprocessing type '" + type
                        + "' (known: none, " + TextEmbeddingPipeline.TYPE + ")");
        }
    }
}
