package io.enclave.soap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.enclave.api.DataType;
import io.enclave.api.InvalidInputException;
import io.enclave.api.NamedTensor;
import io.enclave.soap.internal.wsdl.TextResult;

class TextResultsTest {

    @Test
    void anEmbeddingBecomesOneRowOfValuesPerText() {
        NamedTensor out = new NamedTensor("embedding", DataType.FP32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
        List<TextResult> rows = new ArrayList<>();
        TextResults.fill(rows, out, 2, List.of());
        assertEquals(2, rows.size());
        assertEquals(1, rows.get(1).getIndex());
        assertEquals(List.of(4f, 5f, 6f), rows.get(1).getValue());
        assertNull(rows.get(0).getLabel());
    }

    @Test
    void aModelWithLabelsAlsoGetsTheBestLabelAndItsScore() {
        NamedTensor out = new NamedTensor("logits", DataType.FP32, new long[] {2, 3}, new float[] {0.1f, 2.5f, -1, 7, 0, 0});
        List<TextResult> rows = new ArrayList<>();
        TextResults.fill(rows, out, 2, List.of("invoice", "complaint", "order"));
        assertEquals("complaint", rows.get(0).getLabel());
        assertEquals(2.5f, rows.get(0).getScore());
        assertEquals("invoice", rows.get(1).getLabel());
        assertEquals(7f, rows.get(1).getScore());
    }

    @Test
    void aTextOutputIsTheLabelAndOtherShapesAreRefused() {
        List<TextResult> rows = new ArrayList<>();
        TextResults.fill(rows, NamedTensor.ofStrings("label", "spam", "ham"), 2, List.of());
        assertEquals("ham", rows.get(1).getLabel());
        NamedTensor odd = new NamedTensor("y", DataType.FP32, new long[] {3}, new float[] {1, 2, 3});
        assertEquals("output 'y' has 3 values, not a row per text: use Infer",
                assertThrows(InvalidInputException.class, () -> TextResults.fill(new ArrayList<>(), odd, 2, List.of())).getMessage());
        NamedTensor ints = new NamedTensor("y", DataType.INT32, new long[] {2}, new int[] {1, 2});
        assertEquals("output 'y' is INT32: InferText returns floating-point or text outputs; use Infer",
                assertThrows(InvalidInputException.class, () -> TextResults.fill(new ArrayList<>(), ints, 2, List.of())).getMessage());
    }
}
