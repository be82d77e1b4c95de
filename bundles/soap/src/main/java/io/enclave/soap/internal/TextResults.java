package io.enclave.soap.internal;

import java.util.List;

import io.enclave.api.InvalidInputException;
import io.enclave.api.NamedTensor;
import io.enclave.soap.internal.wsdl.TextResult;

/**
 * Flattens an output tensor into one record per input text, the shape ERP mappings handle best:
 * row {@code i} of the output becomes result {@code i}'s values; a model with labels also gets the
 * best label and its score; a text output (BYTES) becomes the label itself.
 */
final class TextResults {
    private TextResults() {
    }

    static void fill(List<TextResult> results, NamedTensor out, int rows, List<String> labels) {
        int size = out.size();
        if (rows == 0 || size % rows != 0) {
            throw new InvalidInputException("output '" + out.name() + "' has " + size + " values, not a row per text: use Infer");
        }
        int width = size / rows;
        for (int i = 0; i < rows; i++) {
            TextResult r = new TextResult();
            r.setIndex(i);
            switch (out.datatype()) {
                case BYTES -> {
                    if (width != 1) {
                        throw new InvalidInputException("output '" + out.name() + "' has " + width + " strings per text: use Infer");
                    }
                    r.setLabel(out.strings()[i]);
                }
                case FP16, FP32 -> row(r, out.floats(), i * width, width, labels);
                case FP64 -> {
                    double[] d = (double[]) out.data();
                    float[] f = new float[width];
                    for (int k = 0; k < width; k++) {
                        f[k] = (float) d[i * width + k];
                    }
                    row(r, f, 0, width, labels);
                }
                default -> throw new InvalidInputException("output '" + out.name() + "' is " + out.datatype()
                        + ": InferText returns floating-point or text outputs; use Infer");
            }
            results.add(r);
        }
    }

    private static void row(TextResult r, float[] values, int from, int width, List<String> labels) {
        int best = -1;
        for (int k = 0; k < width; k++) {
            float v = values[from + k];
            r.getValue().add(v);
            if (best < 0 || v > values[from + best]) {
                best = k;
            }
        }
        if (!labels.isEmpty() && labels.size() == width && best >= 0) {
            r.setLabel(labels.get(best));
            r.setScore(values[from + best]);
        }
    }
}
