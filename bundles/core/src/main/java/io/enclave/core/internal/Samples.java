package io.enclave.core.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.enclave.api.DataType;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.NamedTensor;
import io.enclave.api.TensorSpec;

/**
 * Turns model.json's {@code "sample"} into input tensors: one entry per input, either nested arrays
 * (their nesting is the shape) or {@code {"shape": [...], "data": [...]}} with flat data.
 */
final class Samples {
    private Samples() {
    }

    /**
     * @return the sample inputs in declaration order; empty when the model declares no sample
     * @throws IllegalArgumentException naming the input whose sample does not fit
     */
    static List<NamedTensor> inputs(ModelDescriptor d) {
        if (!(d.properties().get("sample") instanceof Map<?, ?> sample)) {
            return List.of();
        }
        List<NamedTensor> tensors = new ArrayList<>();
        for (TensorSpec spec : d.inputs()) {
            Object value = sample.get(spec.name());
            if (value == null) {
                throw new IllegalArgumentException("the sample has no value for input '" + spec.name() + "'");
            }
            long[] shape;
            List<Object> flat = new ArrayList<>();
            if (value instanceof Map<?, ?> m) {
                if (!(m.get("shape") instanceof List<?> s) || !(m.get("data") instanceof List<?> data)) {
                    throw new IllegalArgumentException("sample '" + spec.name() + "' needs 'shape' and 'data' arrays");
                }
                shape = s.stream().mapToLong(x -> ((Number) x).longValue()).toArray();
                flatten(data, flat, new ArrayList<>(), 0);
            } else {
                List<Long> dims = new ArrayList<>();
                flatten(value, flat, dims, 0);
                shape = dims.stream().mapToLong(Long::longValue).toArray();
            }
            if (!spec.accepts(shape)) {
                throw new IllegalArgumentException("sample '" + spec.name() + "' has shape " + Arrays.toString(shape)
                        + " but the input takes " + Arrays.toString(spec.shape()));
            }
            tensors.add(new NamedTensor(spec.name(), spec.datatype(), shape, data(spec.datatype(), flat)));
        }
        return tensors;
    }

    private static void flatten(Object value, List<Object> into, List<Long> dims, int depth) {
        if (value instanceof List<?> list) {
            if (dims.size() == depth) {
                dims.add((long) list.size());
            }
            for (Object v : list) {
                flatten(v, into, dims, depth + 1);
            }
        } else {
            into.add(value);
        }
    }

    private static Object data(DataType type, List<Object> v) {
        int n = v.size();
        switch (type) {
            case BYTES: {
                byte[][] b = new byte[n][];
                for (int i = 0; i < n; i++) {
                    b[i] = String.valueOf(v.get(i)).getBytes(StandardCharsets.UTF_8);
                }
                return b;
            }
            case BOOL: {
                boolean[] b = new boolean[n];
                for (int i = 0; i < n; i++) {
                    b[i] = Boolean.TRUE.equals(v.get(i));
                }
                return b;
            }
            case FP16:
            case FP32: {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = ((Number) v.get(i)).floatValue();
                }
                return f;
            }
            case FP64: {
                double[] f = new double[n];
                for (int i = 0; i < n; i++) {
                    f[i] = ((Number) v.get(i)).doubleValue();
                }
                return f;
            }
            case INT8:
            case UINT8: {
                byte[] b = new byte[n];
                for (int i = 0; i < n; i++) {
                    b[i] = ((Number) v.get(i)).byteValue();
                }
                return b;
            }
            case INT16:
            case UINT16: {
                short[] b = new short[n];
                for (int i = 0; i < n; i++) {
                    b[i] = ((Number) v.get(i)).shortValue();
                }
                return b;
            }
            case INT32:
            case UINT32: {
                int[] b = new int[n];
                for (int i = 0; i < n; i++) {
                    b[i] = ((Number) v.get(i)).intValue();
                }
                return b;
            }
            default: {
                long[] b = new long[n];
                for (int i = 0; i < n; i++) {
                    b[i] = ((Number) v.get(i)).longValue();
                }
                return b;
            }
        }
    }
}
