package io.enclave.rest.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import io.enclave.api.DataType;
import io.enclave.api.InvalidInputException;
import io.enclave.api.NamedTensor;

/**
 * The Open Inference Protocol's binary tensor data: fixed-size types little-endian, row-major;
 * BYTES as a 4-byte little-endian length before each element. No per-element boxing either way.
 */
final class BinaryTensors {
    private BinaryTensors() {
    }

    static int elementSize(DataType t) {
        return switch (t) {
            case BOOL, INT8, UINT8 -> 1;
            case INT16, UINT16, FP16 -> 2;
            case INT32, UINT32, FP32 -> 4;
            case INT64, UINT64, FP64 -> 8;
            case BYTES -> -1;
        };
    }

    /**
     * @throws InvalidInputException when the bytes do not hold exactly {@code elements} values
     */
    static Object read(String name, DataType type, ByteBuffer in, int size, int elements) {
        if (type == DataType.FP16) {
            throw new InvalidInputException("input '" + name + "': binary FP16 is not supported; send FP16 as JSON numbers");
        }
        ByteBuffer b = in.slice().order(ByteOrder.LITTLE_ENDIAN);
        b.limit(size);
        in.position(in.position() + size);
        if (type == DataType.BYTES) {
            byte[][] out = new byte[elements][];
            for (int i = 0; i < elements; i++) {
                if (b.remaining() < 4) {
                    throw new InvalidInputException("input '" + name + "': binary data ends inside element " + i);
                }
                // the protocol's length prefix is unsigned: name 0xffffffff as the 4 GiB it claims, not as -1
                long n = Integer.toUnsignedLong(b.getInt());
                if (n > b.remaining()) {
                    throw new InvalidInputException("input '" + name + "': element " + i + " claims " + n
                            + " bytes but only " + b.remaining() + " are left");
                }
                out[i] = new byte[(int) n];
                b.get(out[i]);
            }
            if (b.hasRemaining()) {
                throw new InvalidInputException("input '" + name + "': binary_data_size is " + size + " but its "
                        + elements + " elements use " + (size - b.remaining()));
            }
            return out;
        }
        int width = elementSize(type);
        if ((long) elements * width != size) {
            throw new InvalidInputException("input '" + name + "': binary_data_size is " + size + " but " + elements
                    + " " + type + " values take " + (long) elements * width);
        }
        switch (type) {
            case BOOL -> {
                boolean[] a = new boolean[elements];
                for (int i = 0; i < elements; i++) {
                    a[i] = b.get() != 0;
                }
                return a;
            }
            case INT8, UINT8 -> {
                byte[] a = new byte[elements];
                b.get(a);
                return a;
            }
            case INT16, UINT16 -> {
                short[] a = new short[elements];
                b.asShortBuffer().get(a);
                return a;
            }
            case INT32, UINT32 -> {
                int[] a = new int[elements];
                b.asIntBuffer().get(a);
                return a;
            }
            case INT64, UINT64 -> {
                long[] a = new long[elements];
                b.asLongBuffer().get(a);
                return a;
            }
            case FP32 -> {
                float[] a = new float[elements];
                b.asFloatBuffer().get(a);
                return a;
            }
            case FP64 -> {
                double[] a = new double[elements];
                b.asDoubleBuffer().get(a);
                return a;
            }
            default -> throw new IllegalStateException(type.toString());
        }
    }

    /** @return the tensor's data in the binary encoding, or null for FP16 (sent as JSON instead) */
    static byte[] write(NamedTensor t) {
        Object a = t.data();
        switch (t.datatype()) {
            case BYTES -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
                for (byte[] e : (byte[][]) a) {
                    len.clear();
                    out.write(len.putInt(e.length).array(), 0, 4);
                    out.write(e, 0, e.length);
                }
                return out.toByteArray();
            }
            case FP16 -> {
                return null;
            }
            case BOOL -> {
                boolean[] v = (boolean[]) a;
                byte[] out = new byte[v.length];
                for (int i = 0; i < v.length; i++) {
                    out[i] = (byte) (v[i] ? 1 : 0);
                }
                return out;
            }
            case INT8, UINT8 -> {
                return ((byte[]) a).clone();
            }
            default -> {
                int n = java.lang.reflect.Array.getLength(a);
                ByteBuffer b = ByteBuffer.allocate(n * elementSize(t.datatype())).order(ByteOrder.LITTLE_ENDIAN);
                switch (t.datatype()) {
                    case INT16, UINT16 -> b.asShortBuffer().put((short[]) a);
                    case INT32, UINT32 -> b.asIntBuffer().put((int[]) a);
                    case INT64, UINT64 -> b.asLongBuffer().put((long[]) a);
                    case FP32 -> b.asFloatBuffer().put((float[]) a);
                    case FP64 -> b.asDoubleBuffer().put((double[]) a);
                    default -> throw new IllegalStateException(t.datatype().toString());
                }
                return b.array();
            }
        }
    }
}
