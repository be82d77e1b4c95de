package io.enclave.core.internal;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.enclave.api.NamedTensor;

/** Joining requests' tensors along the batch dimension (dimension 0) and splitting the answers back. */
final class Tensors {
    private Tensors() {
    }

    /** @return the rows (size of dimension 0) every input of a request shares, or -1 when it cannot batch */
    static int rows(List<NamedTensor> inputs) {
        int rows = -1;
        for (NamedTensor t : inputs) {
            if (t.shape().length == 0) {
                return -1;
            }
            long r = t.shape()[0];
            if (rows == -1) {
                rows = (int) r;
            } else if (rows != r) {
                return -1;
            }
        }
        return rows;
    }

    /** @return the longest text among a request's inputs, in UTF-8 bytes; 0 when none holds text */
    static int longestText(List<NamedTensor> inputs) {
        int longest = 0;
        for (NamedTensor t : inputs) {
            if (t.data() instanceof byte[][] texts) {
                for (byte[] text : texts) {
                    longest = Math.max(longest, text.length);
                }
            }
        }
        return longest;
    }

    /** Whether two requests can share a batch: same inputs, types and sizes past dimension 0. */
    static boolean compatible(List<NamedTensor> a, List<NamedTensor> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            NamedTensor x = a.get(i);
            NamedTensor y = b.get(i);
            if (!x.name().equals(y.name()) || x.datatype() != y.datatype() || x.shape().length != y.shape().length) {
                return false;
            }
            for (int d = 1; d < x.shape().length; d++) {
                if (x.shape()[d] != y.shape()[d]) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Every request's inputs joined along dimension 0, in request order. */
    static List<NamedTensor> concat(List<List<NamedTensor>> requests) {
        List<NamedTensor> first = requests.get(0);
        if (requests.size() == 1) {
            return first;
        }
        List<NamedTensor> joined = new ArrayList<>(first.size());
        for (int i = 0; i < first.size(); i++) {
            NamedTensor proto = first.get(i);
            long rows = 0;
            int length = 0;
            for (List<NamedTensor> r : requests) {
                rows += r.get(i).shape()[0];
                length += Array.getLength(r.get(i).data());
            }
            Object data = Array.newInstance(proto.data().getClass().getComponentType(), length);
            int at = 0;
            for (List<NamedTensor> r : requests) {
                Object part = r.get(i).data();
                int n = Array.getLength(part);
                System.arraycopy(part, 0, data, at, n);
                at += n;
            }
            long[] shape = proto.shape().clone();
            shape[0] = rows;
            joined.add(new NamedTensor(proto.name(), proto.datatype(), shape, data));
        }
        return joined;
    }

    /**
     * Splits a batch's outputs back into one list per request.
     *
     * @throws IllegalStateException when an output does not have one row per input row
     */
    static List<List<NamedTensor>> split(List<NamedTensor> outputs, int[] rows) {
        int total = Arrays.stream(rows).sum();
        List<List<NamedTensor>> parts = new ArrayList<>(rows.length);
        for (int r = 0; r < rows.length; r++) {
            parts.add(new ArrayList<>(outputs.size()));
        }
        for (NamedTensor t : outputs) {
            if (t.shape().length == 0 || t.shape()[0] != total) {
                throw new IllegalStateException("output '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                        + ", not one row per input row (" + total + "): this model cannot batch");
            }
            int perRow = total == 0 ? 0 : Array.getLength(t.data()) / total;
            int at = 0;
            for (int r = 0; r < rows.length; r++) {
                int n = rows[r] * perRow;
                Object data = Array.newInstance(t.data().getClass().getComponentType(), n);
                System.arraycopy(t.data(), at, data, 0, n);
                at += n;
                long[] shape = t.shape().clone();
                shape[0] = rows[r];
                parts.get(r).add(new NamedTensor(t.name(), t.datatype(), shape, data));
            }
        }
        return parts;
    }
}
