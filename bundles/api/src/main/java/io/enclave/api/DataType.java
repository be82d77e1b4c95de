package io.enclave.api;

import java.util.Locale;

/**
 * Tensor element types of the Open Inference Protocol v2, and how Enclave holds each in memory.
 *
 * <p>Unsigned types are stored in the signed Java type of the same width and read with the
 * {@code Byte.toUnsignedInt} family; FP16 is widened to {@code float}; BYTES elements are
 * {@code byte[]} (UTF-8 for text).
 */
public enum DataType {
    BOOL(boolean[].class),
    UINT8(byte[].class),
    UINT16(short[].class),
    UINT32(int[].class),
    UINT64(long[].class),
    INT8(byte[].class),
    INT16(short[].class),
    INT32(int[].class),
    INT64(long[].class),
    FP16(float[].class),
    FP32(float[].class),
    FP64(double[].class),
    BYTES(byte[][].class);

    private final Class<?> storage;

    DataType(Class<?> storage) {
        this.storage = storage;
    }

    /** @return the Java array class that holds a tensor of this type, e.g. {@code float[].class} */
    public Class<?> storage() {
        return storage;
    }

    /** @return true for the four unsigned integer types */
    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }

    /** @return true for BOOL and every integer type */
    public boolean isIntegral() {
        return this != FP16 && this != FP32 && this != FP64 && this != BYTES;
    }

    /**
     * Parses a protocol datatype name.
     *
     * @param name the name as written on the wire, e.g. {@code "FP32"}; case-sensitive as the
     *             protocol specifies
     * @return the type
     * @throws IllegalArgumentException naming the unknown type
     */
    public static DataType parse(String name) {
        if (name != null) {
            for (DataType t : values()) {
                if (t.name().equals(name)) {
                    return t;
                }
            }
        }
        throw new IllegalArgumentException("unknown datatype '" + name + "' (expected one of BOOL, UINT8, UINT16, "
                + "UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES)");
    }

    @Override
    public String toString() {
        return name().toUpperCase(Locale.ROOT);
    }
}
