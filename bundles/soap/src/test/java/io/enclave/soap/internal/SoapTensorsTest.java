package io.enclave.soap.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.enclave.api.InvalidInputException;
import io.enclave.api.NamedTensor;
import io.enclave.soap.internal.wsdl.DataType;
import io.enclave.soap.internal.wsdl.FloatValues;
import io.enclave.soap.internal.wsdl.IntValues;
import io.enclave.soap.internal.wsdl.Shape;
import io.enclave.soap.internal.wsdl.StringValues;
import io.enclave.soap.internal.wsdl.Tensor;

class SoapTensorsTest {

    private static Tensor tensor(String name, DataType type, long... dims) {
        Tensor t = new Tensor();
        t.setName(name);
        t.setDatatype(type);
        Shape s = new Shape();
        for (long d : dims) {
            s.getDim().add(d);
        }
        t.setShape(s);
        return t;
    }

    private static Tensor ints(DataType type, Long... values) {
        Tensor t = tensor("x", type, values.length);
        t.setIntValues(new IntValues());
        t.getIntValues().getV().addAll(List.of(values));
        return t;
    }

    @Test
    void everyTypeSurvivesTheRoundTrip() {
        Tensor f = tensor("f", DataType.FP_32, 2, 2);
        f.setFloatValues(new FloatValues());
        f.getFloatValues().getV().addAll(List.of(0.5f, -1.25f, 3e-8f, Float.MAX_VALUE));
        NamedTensor n = SoapTensors.toNamed(f);
        assertEquals(io.enclave.api.DataType.FP32, n.datatype());
        assertArrayEquals(new long[] {2, 2}, n.shape());
        assertArrayEquals(new float[] {0.5f, -1.25f, 3e-8f, Float.MAX_VALUE}, n.floats());
        assertEquals(f.getFloatValues().getV(), SoapTensors.toSoap(n).getFloatValues().getV());

        for (DataType type : new DataType[] {DataType.UINT_8, DataType.INT_8, DataType.UINT_16, DataType.INT_16,
                DataType.UINT_32, DataType.INT_32, DataType.UINT_64, DataType.INT_64}) {
            boolean unsigned = type.value().startsWith("U");
            long max = switch (type) {
                case UINT_8 -> 255;
                case INT_8 -> 127;
                case UINT_16 -> 65535;
                case INT_16 -> 32767;
                case UINT_32 -> 0xFFFF_FFFFL;
                case INT_32 -> Integer.MAX_VALUE;
                default -> Long.MAX_VALUE;
            };
            long min = unsigned ? 0 : -max - 1;
            Tensor t = ints(type, min, 0L, max);
            Tensor back = SoapTensors.toSoap(SoapTensors.toNamed(t));
            assertEquals(List.of(min, 0L, max), back.getIntValues().getV(), type.value());
            assertEquals(type, back.getDatatype());
        }

        Tensor s = tensor("text", DataType.BYTES, 2);
        s.setStringValues(new StringValues());
        s.getStringValues().getV().addAll(List.of("Grüße", "€ 4711"));
        NamedTensor text = SoapTensors.toNamed(s);
        assertArrayEquals(new String[] {"Grüße", "€ 4711"}, text.strings());
        assertEquals(List.of("Grüße", "€ 4711"), SoapTensors.toSoap(text).getStringValues().getV());
    }

    @Test
    void valuesOutsideTheTypeAreRefusedWithTheirName() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> SoapTensors.toNamed(ints(DataType.UINT_8, 256L)));
        assertEquals("input 'x' has value 256 outside [0, 255]", e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SoapTensors.toNamed(ints(DataType.INT_16, -40000L)));
        assertEquals("input 'x' has value -40000 outside [-32768, 32767]", e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SoapTensors.toNamed(ints(DataType.UINT_64, -1L)));
        assertEquals("input 'x' has value -1 outside [0, 9223372036854775807]", e.getMessage());
    }

    @Test
    void theValuesElementMustFitTheDatatypeAndTheShape() {
        Tensor wrongKind = ints(DataType.FP_32, 1L);
        assertEquals("input 'x' has datatype FP32: send its values in floatValues",
                assertThrows(InvalidInputException.class, () -> SoapTensors.toNamed(wrongKind)).getMessage());

        Tensor two = ints(DataType.INT_32, 1L);
        two.setFloatValues(new FloatValues());
        assertEquals("input 'x' must carry exactly one values element, not 2",
                assertThrows(InvalidInputException.class, () -> SoapTensors.toNamed(two)).getMessage());

        Tensor short1 = ints(DataType.INT_32, 1L, 2L);
        short1.getShape().getDim().set(0, 3L);
        assertEquals("tensor 'x' has shape [3] (3 elements) but 2 values",
                assertThrows(InvalidInputException.class, () -> SoapTensors.toNamed(short1)).getMessage());

        Tensor negative = ints(DataType.INT_32, 1L);
        negative.getShape().getDim().set(0, -1L);
        assertEquals("input 'x' has a shape with a missing or negative dimension",
                assertThrows(InvalidInputException.class, () -> SoapTensors.toNamed(negative)).getMessage());

        Tensor nameless = ints(DataType.INT_32, 1L);
        nameless.setName("");
        assertEquals("every input needs a name", assertThrows(InvalidInputException.class, () -> SoapTensors.toNamed(nameless)).getMessage());
    }
}
