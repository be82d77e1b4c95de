package io.enclave.rest.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.enclave.api.DataType;
import io.enclave.api.InvalidInputException;
import io.enclave.api.NamedTensor;

/** Triton's classification extension: the k largest values of each row, as Triton's clients read them. */
class ClassificationTest {

    @Test
    void eachRowGivesItsLargestValuesFirstWithTheirIndexAndTheModelsLabel() {
        NamedTensor scores = new NamedTensor("probs", DataType.FP32, new long[] {2, 3},
                new float[] {0.1f, 0.7f, 0.2f, 0.5f, 0.25f, 0.25f});
        NamedTensor top = Classification.top(scores, 2, List.of("cat", "dog", "fish"));
        assertEquals(DataType.BYTES, top.datatype());
        assertArrayEquals(new long[] {2, 2}, top.shape());
        assertArrayEquals(new String[] {"0.700000:1:dog", "0.200000:2:fish", "0.500000:0:cat", "0.250000:1:dog"},
                top.strings(), "equal values in class order");
    }

    @Test
    void withoutOneLabelPerClassTheLabelIsLeftOutAndAKAboveTheClassesGivesThemAll() {
        NamedTensor logits = new NamedTensor("logits", DataType.INT32, new long[] {3}, new int[] {-4, 9, 2});
        NamedTensor top = Classification.top(logits, 10, List.of("only", "two"));
        assertArrayEquals(new long[] {3}, top.shape(), "rank 1 is one row, and stays rank 1");
        assertArrayEquals(new String[] {"9.000000:1", "2.000000:2", "-4.000000:0"}, top.strings());
        NamedTensor unsigned = new NamedTensor("u", DataType.UINT64, new long[] {1, 2}, new long[] {-1L, 5});
        // the largest UINT64 is the largest value, not -1 (as a double: 2^64 to 17 digits)
        assertEquals("18446744073709552000.000000:0", Classification.top(unsigned, 1, List.of()).strings()[0]);
    }

    @Test
    void anOutputWithoutNumbersOrClassesIsNamed() {
        InvalidInputException text = assertThrows(InvalidInputException.class,
                () -> Classification.top(NamedTensor.ofStrings("answer", "a", "b"), 1, List.of()));
        assertEquals("output 'answer' is BYTES: classification needs an output of numbers", text.getMessage());
        InvalidInputException empty = assertThrows(InvalidInputException.class,
                () -> Classification.top(new NamedTensor("e", DataType.FP32, new long[] {2, 0}, new float[0]), 1, List.of()));
        assertEquals("output 'e' has no classes to choose from", empty.getMessage());
    }
}
