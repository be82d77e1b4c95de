package io.enclave.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * The declared name, type and shape of one model input or output.
 *
 * <p>A dimension of {@code -1} is variable (any size, e.g. the batch). Immutable.
 */
public final class TensorSpec {
    private final String name;
    private final DataType datatype;
    private final long[] shape;

    /**
     * @param name     the tensor name as clients send it
     * @param datatype the element type
     * @param shape    the dimensions, {@code -1} for variable; copied
     */
    public TensorSpec(String name, DataType datatype, long[] shape) {
        this.name = Objects.requireNonNull(name, "name");
        this.datatype = Objects.requireNonNull(datatype, "datatype");
        this.shape = Objects.requireNonNull(shape, "shape").clone();
        for (long d : shape) {
            if (d < -1) {
                throw new IllegalArgumentException("dimension " + d + " of '" + name + "' is negative");
            }
        }
    }

    public String name() {
        return name;
    }

    public DataType datatype() {
        return datatype;
    }

    /** @return a copy of the declared shape, {@code -1} for variable dimensions */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Whether a concrete shape fits this declaration: same rank, and every fixed dimension equal.
     *
     * @param actual the shape a request carries
     * @return true when it fits
     */
    public boolean accepts(long[] actual) {
        if (actual.length != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != -1 && shape[i] != actual[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && datatype == t.datatype
                && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, datatype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + ":" + datatype + Arrays.toString(shape);
    }
}
