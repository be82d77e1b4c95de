package io.enclave.soap.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.enclave.api.InvalidInputException;
import io.enclave.api.NamedTensor;
import io.enclave.soap.internal.wsdl.BoolValues;
import io.enclave.soap.internal.wsdl.DoubleValues;
import io.enclave.soap.internal.wsdl.FloatValues;
import io.enclave.soap.internal.wsdl.IntValues;
import io.enclave.soap.internal.wsdl.Shape;
import io.enclave.soap.internal.wsdl.StringValues;
import io.enclave.soap.internal.wsdl.Tensor;

/**
 * Translates between the contract's {@link Tensor} and Enclave's {@link NamedTensor}: the same
 * element types and row-major order as the REST protocol, so both doors hand the router identical
 * tensors. Every value is checked against its datatype's range.
 */
final class SoapTensors {
    private SoapTensors() {
    }

    static NamedTensor toNamed(Tensor t) {
        String name = t.getName();
        if (name == null || name.isEmpty()) {
            throw new InvalidInputException("every input needs a name");
        }
        if (t.getDatatype() == null) {
            throw new InvalidInputException("input '" + name + "' needs a datatype");
        }
        io.enclave.api.DataType type = io.enclave.api.DataType.parse(t.getDatatype().value());
        long[] shape = shape(name, t.getShape());
        Object data = switch (type) {
            case BOOL -> bools(name, values(name, type, "boolValues", t.getBoolValues() == null ? null : t.getBoolValues().getV()));
            case UINT8 -> bytes(name, ints(name, type, t), 0, 255);
            case INT8 -> bytes(name, ints(name, type, t), Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> shorts(name, ints(name, type, t), 0, 65535);
            case INT16 -> shorts(name, ints(name, type, t), Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> ints32(name, ints(name, type, t), 0, 0xFFFF_FFFFL);
            case INT32 -> ints32(name, ints(name, type, t), Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT64 -> longs(name, ints(name, type, t), 0);
            case INT64 -> longs(name, ints(name, type, t), Long.MIN_VALUE);
            case FP16, FP32 -> floats(name, values(name, type, "floatValues", t.getFloatValues() == null ? null : t.getFloatValues().getV()));
            case FP64 -> doubles(name, values(name, type, "doubleValues", t.getDoubleValues() == null ? null : t.getDoubleValues().getV()));
            case BYTES -> strings(name, values(name, type, "stringValues", t.getStringValues() == null ? null : t.getStringValues().getV()));
        };
        int given = (t.getBoolValues() != null ? 1 : 0) + (t.getIntValues() != null ? 1 : 0) + (t.getFloatValues() != null ? 1 : 0)
                + (t.getDoubleValues() != null ? 1 : 0) + (t.getStringValues() != null ? 1 : 0);
        if (given != 1) {
            throw new InvalidInputException("input '" + name + "' must carry exactly one values element, not " + given);
        }
        try {
            return new NamedTensor(name, type, shape, data);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(e.getMessage());
        }
    }

    static Tensor toSoap(NamedTensor n) {
        Tensor t = new Tensor();
        t.setName(n.name());
        t.setDatatype(io.enclave.soap.internal.wsdl.DataType.fromValue(n.datatype().name()));
        t.setShape(shape(n.shape()));
        Object data = n.data();
        switch (n.datatype()) {
            case BOOL -> {
                BoolValues v = new BoolValues();
                for (boolean b : (boolean[]) data) {
                    v.getV().add(b);
                }
                t.setBoolValues(v);
            }
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> {
                IntValues v = new IntValues();
                List<Long> out = v.getV();
                switch (n.datatype()) {
                    case UINT8 -> { for (byte b : (byte[]) data) out.add((long) Byte.toUnsignedInt(b)); }
                    case INT8 -> { for (byte b : (byte[]) data) out.add((long) b); }
                    case UINT16 -> { for (short s : (short[]) data) out.add((long) Short.toUnsignedInt(s)); }
                    case INT16 -> { for (short s : (short[]) data) out.add((long) s); }
                    case UINT32 -> { for (int i : (int[]) data) out.add(Integer.toUnsignedLong(i)); }
                    case INT32 -> { for (int i : (int[]) data) out.add((long) i); }
                    default -> { for (long l : (long[]) data) out.add(l); }
                }
                t.setIntValues(v);
            }
            case FP16, FP32 -> {
                FloatValues v = new FloatValues();
                for (float f : (float[]) data) {
                    v.getV().add(f);
                }
                t.setFloatValues(v);
            }
            case FP64 -> {
                DoubleValues v = new DoubleValues();
                for (double d : (double[]) data) {
                    v.getV().add(d);
                }
                t.setDoubleValues(v);
            }
            case BYTES -> {
                StringValues v = new StringValues();
                for (byte[] b : (byte[][]) data) {
                    v.getV().add(new String(b, StandardCharsets.UTF_8));
                }
                t.setStringValues(v);
            }
        }
        return t;
    }

    /** The contract's shape for these dimensions. */
    static Shape shape(long[] dims) {
        Shape shape = new Shape();
        for (long d : dims) {
            shape.getDim().add(d);
        }
        return shape;
    }

    private static long[] shape(String name, Shape shape) {
        if (shape == null) {
            throw new InvalidInputException("input '" + name + "' needs a shape");
        }
        List<Long> dims = shape.getDim();
        long[] out = new long[dims.size()];
        for (int i = 0; i < out.length; i++) {
            Long d = dims.get(i);
            if (d == null || d < 0) {
                throw new InvalidInputException("input '" + name + "' has a shape with a missing or negative dimension");
            }
            out[i] = d;
        }
        return out;
    }

    private static <T> List<T> values(String name, io.enclave.api.DataType type, String element, List<T> values) {
        if (values == null) {
            throw new InvalidInputException("input '" + name + "' has datatype " + type + ": send its values in " + element);
        }
        for (T v : values) {
            if (v == null) {
                throw new InvalidInputException("input '" + name + "' has an empty value");
            }
        }
        return values;
    }

    private static List<Long> ints(String name, io.enclave.api.DataType type, Tensor t) {
        return values(name, type, "intValues", t.getIntValues() == null ? null : t.getIntValues().getV());
    }

    private static void range(String name, long v, long min, long max) {
        if (v < min || v > max) {
            throw new InvalidInputException("input '" + name + "' has value " + v + " outside [" + min + ", " + max + "]");
        }
    }

    private static boolean[] bools(String name, List<Boolean> v) {
        boolean[] out = new boolean[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    private static byte[] bytes(String name, List<Long> v, long min, long max) {
        byte[] out = new byte[v.size()];
        for (int i = 0; i < out.length; i++) {
            long x = v.get(i);
            range(name, x, min, max);
            out[i] = (byte) x;
        }
        return out;
    }

    private static short[] shorts(String name, List<Long> v, long min, long max) {
        short[] out = new short[v.size()];
        for (int i = 0; i < out.length; i++) {
            long x = v.get(i);
            range(name, x, min, max);
            out[i] = (short) x;
        }
        return out;
    }

    private static int[] ints32(String name, List<Long> v, long min, long max) {
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            long x = v.get(i);
            range(name, x, min, max);
            out[i] = (int) x;
        }
        return out;
    }

    private static long[] longs(String name, List<Long> v, long min) {
        long[] out = new long[v.size()];
        for (int i = 0; i < out.length; i++) {
            long x = v.get(i);
            range(name, x, min, Long.MAX_VALUE);
            out[i] = x;
        }
        return out;
    }

    private static float[] floats(String name, List<Float> v) {
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    private static double[] doubles(String name, List<Double> v) {
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    private static byte[][] strings(String name, List<String> v) {
        byte[][] out = new byte[v.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i).getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }
}
