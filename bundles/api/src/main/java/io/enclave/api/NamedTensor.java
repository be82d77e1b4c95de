package io.enclave.api;

import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named tensor: element type, concrete shape and row-major data.
 *
 * <p>The data is a primitive array of {@link DataType#storage()} whose length is the product of
 * the shape. The array is not copied: callers hand it over and must not change it afterwards.
 * Instances are therefore effectively immutable and safe to share between threads.
 */
public final class NamedTensor {
    private final String name;
    private final DataType datatype;
    private final long[] shape;
    private final Object data;

    /**
     * @param name     the tensor name
     * @param datatype the element type
     * @param shape    concrete dimensions (none negative); copied
     * @param data     an array of {@code datatype.storage()} with exactly {@code product(shape)} elements
     * @throws IllegalArgumentException when the data does not fit the type or shape
     */
    public NamedTensor(String name, DataType datatype, long[] shape, Object data) {
        this.name = Objects.requireNonNull(name, "name");
        this.datatype = Objects.requireNonNull(datatype, "datatype");
        this.shape = Objects.requireNonNull(shape, "shape").clone();
        this.data = Objects.requireNonNull(data, "data");
        if (!datatype.storage().isInstance(data)) {
            throw new IllegalArgumentException("tensor '" + name + "' of type " + datatype + " needs "
                    + datatype.storage().getSimpleName() + " data, not " + data.getClass().getSimpleName());
        }
        long expected = elementCount(this.shape);
        int actual = Array.getLength(data);
        if (expected != actual) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + " (" + expected + " elements) but " + actual + " values");
        }
    }

    /** Makes a BYTES tensor of UTF-8 strings, shape {@code [strings.length]}. */
    public static NamedTensor ofStrings(String name, String... strings) {
        byte[][] bytes = new byte[strings.length][];
        for (int i = 0; i < strings.length; i++) {
            bytes[i] = strings[i].getBytes(StandardCharsets.UTF_8);
        }
        return new NamedTensor(name, DataType.BYTES, new long[] {strings.length}, bytes);
    }

    /**
     * Product of the dimensions.
     *
     * @throws IllegalArgumentException when a dimension is negative or the product exceeds
     *                                  {@link Integer#MAX_VALUE}
     */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            n = Math.multiplyExact(n, d);
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large");
            }
        }
        return n;
    }

    public String name() {
        return name;
    }

    public DataType datatype() {
        return datatype;
    }

    /** @return a copy of the shape */
    public long[] shape() {
        return shape.clone();
    }

    /** @return the number of elements */
    public int size() {
        return Array.getLength(data);
    }

    /** @return the backing array (not a copy); its class is {@code datatype().storage()} */
    public Object data() {
        return data;
    }

    /** @return the data as floats; only for FP16 and FP32 tensors */
    public float[] floats() {
        return (float[]) typed(float[].class);
    }

    /** @return the data of a BYTES tensor, one array per element */
    public byte[][] bytes() {
        return (byte[][]) typed(byte[][].class);
    }

    /** @return the elements of a BYTES tensor decoded as UTF-8 */
    public String[] strings() {
        byte[][] b = bytes();
        String[] s = new String[b.length];
        for (int i = 0; i < b.length; i++) {
            s[i] = new String(b[i], StandardCharsets.UTF_8);
        }
        return s;
    }

    private Object typed(Class<?> type) {
        if (!type.isInstance(data)) {
            throw new IllegalStateException("tensor '" + name + "' is " + datatype);
        }
        return data;
    }

    @Override
    public String toString() {
        return name + ":" + datatype + Arrays.toString(shape);
    }
}
