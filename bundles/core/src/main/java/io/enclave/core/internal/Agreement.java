package io.enclave.core.internal;

import java.util.List;
import java.util.Map;

import io.enclave.api.DataType;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.NamedTensor;

/**
 * Whether a shadow's answer agrees with the answer the client got. Classification models (those
 * that declare labels) agree when every row has the same top class; other float outputs agree when
 * every row's cosine similarity reaches a threshold, or, when the shadow's {@code model.json} asks
 * for it, when every value is within a relative error. Thresholds come from the shadow's
 * {@code "shadow": {"cosine": 0.99}} or {@code {"relativeError": 0.05}}.
 */
final class Agreement {
    static final double DEFAULT_COSINE = 0.99;

    private final boolean byLabel;
    private final double cosine;
    private final double relativeError;

    private Agreement(boolean byLabel, double cosine, double relativeError) {
        this.byLabel = byLabel;
        this.cosine = cosine;
        this.relativeError = relativeError;
    }

    static Agreement of(ModelDescriptor shadow) {
        double cos = DEFAULT_COSINE;
        double rel = Double.NaN;
        if (shadow.properties().get("shadow") instanceof Map<?, ?> m) {
            if (m.get("cosine") instanceof Number n) {
                cos = n.doubleValue();
            }
            if (m.get("relativeError") instanceof Number n) {
                rel = n.doubleValue();
            }
        }
        return new Agreement(!shadow.labels().isEmpty(), cos, rel);
    }

    /** Compares the outputs both answers have; false when they share none. */
    boolean agree(List<NamedTensor> answer, List<NamedTensor> shadow) {
        int compared = 0;
        for (NamedTensor a : answer) {
            for (NamedTensor s : shadow) {
                if (!a.name().equals(s.name())) {
                    continue;
                }
                if (!sameShape(a.shape(), s.shape()) || a.datatype() != s.datatype()) {
                    return false;
                }
                if (!agree(a, s)) {
                    return false;
                }
                compared++;
            }
        }
        return compared > 0;
    }

    private boolean agree(NamedTensor a, NamedTensor s) {
        if (a.datatype() != DataType.FP32 && a.datatype() != DataType.FP16) {
            return java.util.Objects.deepEquals(a.data(), s.data());
        }
        float[] x = a.floats();
        float[] y = s.floats();
        long[] shape = a.shape();
        int width = shape.length == 0 ? 1 : (int) shape[shape.length - 1];
        if (width == 0) {
            return true;
        }
        for (int row = 0; row + width <= x.length; row += width) {
            if (byLabel) {
                if (argmax(x, row, width) != argmax(y, row, width)) {
                    return false;
                }
            } else if (!Double.isNaN(relativeError)) {
                for (int i = row; i < row + width; i++) {
                    double scale = Math.max(Math.abs(x[i]), 1e-6);
                    if (Math.abs(x[i] - y[i]) / scale > relativeError) {
                        return false;
                    }
                }
            } else if (cosine(x, y, row, width) < cosine) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameShape(long[] a, long[] b) {
        return java.util.Arrays.equals(a, b);
    }

    private static int argmax(float[] v, int from, int n) {
        int best = from;
        for (int i = from + 1; i < from + n; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best - from;
    }

    static double cosine(float[] x, float[] y, int from, int n) {
        double dot = 0;
        double nx = 0;
        double ny = 0;
        for (int i = from; i < from + n; i++) {
            dot += (double) x[i] * y[i];
            nx += (double) x[i] * x[i];
            ny += (double) y[i] * y[i];
        }
        if (nx == 0 && ny == 0) {
            return 1;
        }
        return dot / Math.sqrt(nx * ny);
    }
}
