package io.enclave.rest.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

import io.enclave.api.DataType;
import io.enclave.api.InvalidInputException;
import io.enclave.api.NamedTensor;

/**
 * The Open Inference Protocol's classification extension, as Triton answers it: an output asked for
 * with {@code "parameters": {"classification": k}} comes back as BYTES, the k largest values of each
 * row as {@code "value:index"}, or {@code "value:index:label"} where the model's labels name the
 * output's classes, largest first. A tensor of shape {@code [rows, ...]} gives {@code [rows, k]}; one of
 * rank 1 is one row and gives {@code [k]}. A k above the number of classes gives them all.
 */
final class Classification {
    private Classification() {
    }

    /**
     * @param labels the model's labels: used when there is one per class of {@code t}, else left out
     * @throws InvalidInputException for an output that holds no numbers, or no classes
     */
    static NamedTensor top(NamedTensor t, int k, List<String> labels) {
        if (t.datatype() == DataType.BYTES || t.datatype() == DataType.BOOL) {
            throw new InvalidInputException("output '" + t.name() + "' is " + t.datatype()
                    + ": classification needs an output of numbers");
        }
        long[] shape = t.shape();
        if (shape.length == 0 || t.size() == 0) {
            throw new InvalidInputException("output '" + t.name() + "' has no classes to choose from");
        }
        boolean batched = shape.length > 1;
        int rows = batched ? (int) shape[0] : 1;
        int classes = t.size() / rows;
        int take = Math.min(k, classes);
        boolean named = labels != null && labels.size() == classes;
        byte[][] out = new byte[rows * take][];
        Integer[] order = new Integer[classes];
        double[] row = new double[classes];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < classes; c++) {
                row[c] = value(t, r * classes + c);
                order[c] = c;
            }
            // largest first; equal values in class order, so the answer does not depend on the sort
            java.util.Arrays.sort(order, (a, b) -> {
                int byValue = Double.compare(row[b], row[a]);
                return byValue != 0 ? byValue : Integer.compare(a, b);
            });
            for (int i = 0; i < take; i++) {
                int c = order[i];
                // Triton writes the value as C++'s std::to_string does: six decimals
                String entry = String.format(Locale.ROOT, "%f:%d", row[c], c) + (named ? ":" + labels.get(c) : "");
                out[r * take + i] = entry.getBytes(StandardCharsets.UTF_8);
            }
        }
        return new NamedTensor(t.name(), DataType.BYTES, batched ? new long[] {rows, take} : new long[] {take}, out);
    }

    private static double value(NamedTensor t, int i) {
        Object a = t.data();
        return switch (t.datatype()) {
            case FP16, FP32 -> ((float[]) a)[i];
            case FP64 -> ((double[]) a)[i];
            case INT8 -> ((byte[]) a)[i];
            case UINT8 -> Byte.toUnsignedInt(((byte[]) a)[i]);
            case INT16 -> ((short[]) a)[i];
            case UINT16 -> Short.toUnsignedInt(((short[]) a)[i]);
            case INT32 -> ((int[]) a)[i];
            case UINT32 -> Integer.toUnsignedLong(((int[]) a)[i]);
            case INT64 -> ((long[]) a)[i];
            case UINT64 -> {
                long v = ((long[]) a)[i];
                yield v >= 0 ? v : 0x1p64 + v;
            }
            case BOOL, BYTES -> throw new IllegalStateException("not a number: " + t.datatype());
        };
    }
}
