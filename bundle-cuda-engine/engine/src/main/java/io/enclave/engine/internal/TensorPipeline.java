package io.enclave.engine.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.enclave.api.DataType;
import io.enclave.api.InferenceException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelLoadException;
import io.enclave.api.NamedTensor;
import io.enclave.api.TensorSpec;

/** Tensors in, tensors out: declared inputs are the graph's inputs, declared outputs its outputs. */
final class TensorPipeline implements Pipeline {
    private final ModelDescriptor descriptor;

    private TensorPipeline(ModelDescriptor descriptor) {
        this.descriptor = descriptor;
    }

    static Pipeline create(ModelDescriptor descriptor, OrtSession session) throws ModelLoadException, OrtException {
        Set<String> graphInputs = session.getInputNames();
        Set<String> graphOutputs = session.getOutputNames();
        for (TensorSpec in : descriptor.inputs()) {
            if (!graphInputs.contains(in.name())) {
                throw new ModelLoadException(descriptor + ": declared input '" + in.name()
                        + "' is not a graph input " + graphInputs);
            }
            supported(descriptor, in);
        }
        if (descriptor.inputs().size() != graphInputs.size()) {
            throw new ModelLoadException(descriptor + ": the graph needs inputs " + graphInputs
                    + " but model.json declares " + descriptor.inputs());
        }
        for (TensorSpec out : descriptor.outputs()) {
            if (!graphOutputs.contains(out.name())) {
                throw new ModelLoadException(descriptor + ": declared output '" + out.name()
                        + "' is not a graph output " + graphOutputs);
            }
            supported(descriptor, out);
        }
        return new TensorPipeline(descriptor);
    }

    private static void supported(ModelDescriptor descriptor, TensorSpec spec) throws ModelLoadException {
        switch (spec.datatype()) {
            case BOOL, UINT8, INT8, INT32, INT64, FP32, FP64:
                return;
            default:
                throw new ModelLoadException(descriptor + ": tensor '" + spec.name() + "' of type " + spec.datatype()
                        + " is not supported by the onnxruntime engine yet");
        }
    }

    @Override
    public List<NamedTensor> run(List<NamedTensor> inputs, NDManager manager, Graph graph) {
        NDList list = new NDList(inputs.size());
        for (NamedTensor t : inputs) {
            NDArray a = toArray(manager, t);
            a.setName(t.name());
            list.add(a);
        }
        NDList out = graph.forward(manager, list);
        List<NamedTensor> result = new ArrayList<>(descriptor.outputs().size());
        for (TensorSpec spec : descriptor.outputs()) {
            NDArray a = out.get(spec.name());
            if (a == null) {
                throw new InferenceException(descriptor + ": the graph returned no output '" + spec.name() + "'");
            }
            result.add(fromArray(spec, a));
        }
        return result;
    }

    private static NDArray toArray(NDManager m, NamedTensor t) {
        Shape shape = new Shape(t.shape());
        return switch (t.datatype()) {
            case BOOL -> m.create((boolean[]) t.data(), shape);
            case INT8 -> m.create((byte[]) t.data(), shape);
            case UINT8 -> m.create(ByteBuffer.wrap((byte[]) t.data()), shape, ai.djl.ndarray.types.DataType.UINT8);
            case INT32 -> m.create((int[]) t.data(), shape);
            case INT64 -> m.create((long[]) t.data(), shape);
            case FP32 -> m.create((float[]) t.data(), shape);
            case FP64 -> m.create((double[]) t.data(), shape);
            default -> throw new IllegalArgumentException("datatype " + t.datatype() + " is not supported");
        };
    }

    private NamedTensor fromArray(TensorSpec spec, NDArray a) {
        long[] shape = a.getShape().getShape();
        Object data = switch (spec.datatype()) {
            case BOOL -> a.toBooleanArray();
            case INT8, UINT8 -> a.toByteArray();
            case INT32 -> a.toIntArray();
            case INT64 -> a.toLongArray();
            case FP32 -> a.toFloatArray();
            case FP64 -> a.toDoubleArray();
            default -> throw new InferenceException(descriptor + ": output type " + spec.datatype() + " is not supported");
        };
        return new NamedTensor(spec.name(), spec.datatype(), shape, data);
    }

    @Override
    public String toString() {
        return "tensors → " + descriptor;
    }
}
