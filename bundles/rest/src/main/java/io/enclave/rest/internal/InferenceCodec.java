package io.enclave.rest.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.enclave.api.DataType;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;
import io.enclave.api.TensorSpec;

/**
 * JSON of the Open Inference Protocol v2 (KServe v2) REST API: inference requests in, inference
 * responses and metadata out. Every mistake in a request becomes an {@link InvalidInputException}
 * that names the field and what was wrong. Parsing is bounded in depth, string and number length.
 */
final class InferenceCodec {
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final Set<String> REQUEST_FIELDS = Set.of("id", "parameters", "inputs", "outputs");
    private static final Set<String> INPUT_FIELDS = Set.of("name", "shape", "datatype", "parameters", "data");

    private final ObjectMapper mapper;

    /**
     * Decoded {@code POST .../infer} body.
     *
     * @param binaryOutputs outputs to send as binary data (OIP binary extension)
     * @param binaryAll     every output as binary data ({@code parameters.binary_data_output})
     */
    record Request(String id, List<NamedTensor> inputs, List<String> outputs, java.util.Set<String> binaryOutputs,
            boolean binaryAll) {
        Request(String id, List<NamedTensor> inputs, List<String> outputs) {
            this(id, inputs, outputs, java.util.Set.of(), false);
        }

        boolean binary(String output) {
            return binaryAll || binaryOutputs.contains(output);
        }
    }

    /** An encoded answer; {@code headerLength} is the JSON part's length when binary data follows it, else -1. */
    record Encoded(byte[] body, int headerLength) {
    }

    InferenceCodec(int maxStringBytes) {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(64)
                        .maxStringLength(maxStringBytes)
                        .maxNumberLength(64)
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // answers are mostly floats (384 per embedding): Jackson's Schubfach writer and fast
                // parser instead of the JDK's, the shortest text that reads back to the same value
                .enable(com.fasterxml.jackson.core.StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
                .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .build();
        this.mapper = new ObjectMapper(factory);
    }

    Request decode(byte[] body) {
        return decode(body, -1);
    }

    /**
     * @param headerLength the {@code Inference-Header-Content-Length}: the JSON is that many bytes and
     *                     the binary tensor data follows; -1 when the whole body is JSON
     */
    Request decode(byte[] whole, int headerLength) {
        if (headerLength > whole.length) {
            throw new InvalidInputException("Inference-Header-Content-Length " + headerLength + " is larger than the body ("
                    + whole.length + " bytes)");
        }
        byte[] body = headerLength < 0 ? whole : Arrays.copyOf(whole, headerLength);
        java.nio.ByteBuffer binary = headerLength < 0 ? java.nio.ByteBuffer.allocate(0)
                : java.nio.ByteBuffer.wrap(whole, headerLength, whole.length - headerLength).slice();
        JsonNode root;
        try {
            root = mapper.readTree(body);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException("request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidInputException("request body cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException("request body must be a JSON object with an 'inputs' array");
        }
        unknownFields(root, REQUEST_FIELDS, "request");
        String id = null;
        JsonNode idNode = root.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (!idNode.isTextual()) {
                throw new InvalidInputException("'id' must be a string");
            }
            id = idNode.asText();
        }
        objectOrAbsent(root.get("parameters"), "parameters");
        boolean binaryAll = root.path("parameters").path("binary_data_output").asBoolean(false);
        java.util.Set<String> binaryOutputs = new java.util.HashSet<>();
        JsonNode inputs = root.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw new InvalidInputException("'inputs' must be a non-empty array");
        }
        List<NamedTensor> tensors = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            tensors.add(input(inputs.get(i), i, binary));
        }
        if (binary.hasRemaining()) {
            throw new InvalidInputException(binary.remaining() + " bytes of binary data follow the JSON that no input's "
                    + "binary_data_size claims");
        }
        List<String> outputs = null;
        JsonNode out = root.get("outputs");
        if (out != null && !out.isNull()) {
            if (!out.isArray()) {
                throw new InvalidInputException("'outputs' must be an array of {\"name\": ...} objects");
            }
            outputs = new ArrayList<>(out.size());
            for (int i = 0; i < out.size(); i++) {
                JsonNode o = out.get(i);
                if (!o.isObject() || !o.path("name").isTextual()) {
                    throw new InvalidInputException("outputs[" + i + "] must be an object with a string 'name'");
                }
                objectOrAbsent(o.get("parameters"), "outputs[" + i + "].parameters");
                if (o.path("parameters").path("binary_data").asBoolean(false)) {
                    binaryOutputs.add(o.get("name").asText());
                }
                outputs.add(o.get("name").asText());
            }
        }
        return new Request(id, tensors, outputs, binaryOutputs, binaryAll);
    }

    private static NamedTensor input(JsonNode in, int index, java.nio.ByteBuffer binary) {
        if (!in.isObject()) {
            throw new InvalidInputException("inputs[" + index + "] must be an object");
        }
        unknownFields(in, INPUT_FIELDS, "inputs[" + index + "]");
        JsonNode nameNode = in.get("name");
        if (nameNode == null || !nameNode.isTextual() || nameNode.asText().isEmpty()) {
            throw new InvalidInputException("inputs[" + index + "] needs a string 'name'");
        }
        String name = nameNode.asText();
        JsonNode typeNode = in.get("datatype");
        if (typeNode == null || !typeNode.isTextual()) {
            throw new InvalidInputException("input '" + name + "' needs a string 'datatype'");
        }
        DataType type;
        try {
            type = DataType.parse(typeNode.asText());
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("input '" + name + "': " + e.getMessage());
        }
        long[] shape = shape(in.get("shape"), name);
        objectOrAbsent(in.get("parameters"), "input '" + name + "' parameters");
        JsonNode binarySize = in.path("parameters").get("binary_data_size");
        if (binarySize != null) {
            if (in.has("data")) {
                throw new InvalidInputException("input '" + name + "' has both 'data' and binary_data_size");
            }
            if (!binarySize.canConvertToInt() || binarySize.asInt() < 0) {
                throw new InvalidInputException("input '" + name + "': binary_data_size must be a non-negative integer");
            }
            int size = binarySize.asInt();
            if (size > binary.remaining()) {
                throw new InvalidInputException("input '" + name + "': binary_data_size is " + size + " but only "
                        + binary.remaining() + " bytes of binary data are left");
            }
            long elements;
            try {
                elements = NamedTensor.elementCount(shape);
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new InvalidInputException("input '" + name + "' has shape " + Arrays.toString(shape)
                        + ", which is too large");
            }
            return new NamedTensor(name, type, shape, BinaryTensors.read(name, type, binary, size, (int) elements));
        }
        JsonNode data = in.get("data");
        if (data == null || data.isNull()) {
            throw new InvalidInputException("input '" + name + "' has no 'data'");
        }
        long expected;
        try {
            expected = NamedTensor.elementCount(shape);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new InvalidInputException("input '" + name + "' has shape " + Arrays.toString(shape)
                    + ", which is too large");
        }
        // count before allocating, so a huge declared shape costs nothing
        long actual = count(data);
        if (actual != expected) {
            throw new InvalidInputException("input '" + name + "' has " + actual + " values but shape "
                    + Arrays.toString(shape) + " needs " + expected);
        }
        Filler f = new Filler(name, type, (int) expected);
        f.fill(data);
        return new NamedTensor(name, type, shape, f.array);
    }

    private static long[] shape(JsonNode node, String name) {
        if (node == null || !node.isArray()) {
            throw new InvalidInputException("input '" + name + "' needs a 'shape' array");
        }
        if (node.size() > 16) {
            throw new InvalidInputException("input '" + name + "' has more than 16 dimensions");
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new InvalidInputException("input '" + name + "' shape must hold non-negative integers, got "
                        + node);
            }
            shape[i] = d.asLong();
        }
        return shape;
    }

    private static long count(JsonNode data) {
        if (!data.isArray()) {
            return 1;
        }
        long n = 0;
        for (JsonNode c : data) {
            n += count(c);
        }
        return n;
    }

    private static void unknownFields(JsonNode node, Set<String> known, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!known.contains(f)) {
                throw new InvalidInputException(where + " has unknown field '" + f + "'");
            }
        }
    }

    private static void objectOrAbsent(JsonNode node, String where) {
        if (node != null && !node.isNull() && !node.isObject()) {
            throw new InvalidInputException("'" + where + "' must be an object");
        }
    }

    /** Writes JSON values into the typed array of a tensor, checking type and range of each. */
    private static final class Filler {
        private final String name;
        private final DataType type;
        private final Object array;
        private int i;

        Filler(String name, DataType type, int n) {
            this.name = name;
            this.type = type;
            this.array = switch (type) {
                case BOOL -> new boolean[n];
                case INT8, UINT8 -> new byte[n];
                case INT16, UINT16 -> new short[n];
                case INT32, UINT32 -> new int[n];
                case INT64, UINT64 -> new long[n];
                case FP16, FP32 -> new float[n];
                case FP64 -> new double[n];
                case BYTES -> new byte[n][];
            };
        }

        void fill(JsonNode node) {
            if (node.isArray()) {
                for (JsonNode c : node) {
                    fill(c);
                }
                return;
            }
            switch (type) {
                case BOOL -> {
                    if (!node.isBoolean()) {
                        throw wrong(node, "true or false");
                    }
                    ((boolean[]) array)[i] = node.booleanValue();
                }
                case INT8 -> ((byte[]) array)[i] = (byte) integer(node, -128, 127);
                case UINT8 -> ((byte[]) array)[i] = (byte) integer(node, 0, 255);
                case INT16 -> ((short[]) array)[i] = (short) integer(node, Short.MIN_VALUE, Short.MAX_VALUE);
                case UINT16 -> ((short[]) array)[i] = (short) integer(node, 0, 65535);
                case INT32 -> ((int[]) array)[i] = (int) integer(node, Integer.MIN_VALUE, Integer.MAX_VALUE);
                case UINT32 -> ((int[]) array)[i] = (int) integer(node, 0, 0xFFFF_FFFFL);
                case INT64 -> ((long[]) array)[i] = integer(node, Long.MIN_VALUE, Long.MAX_VALUE);
                case UINT64 -> ((long[]) array)[i] = unsigned64(node);
                case FP16 -> ((float[]) array)[i] = fp16(node);
                case FP32 -> ((float[]) array)[i] = (float) number(node);
                case FP64 -> ((double[]) array)[i] = number(node);
                case BYTES -> {
                    if (!node.isTextual()) {
                        throw wrong(node, "a string");
                    }
                    ((byte[][]) array)[i] = node.textValue().getBytes(StandardCharsets.UTF_8);
                }
            }
            i++;
        }

        private long integer(JsonNode node, long min, long max) {
            if (!node.isIntegralNumber() || !node.canConvertToLong()) {
                throw wrong(node, "an integer in [" + min + ", " + max + "]");
            }
            long v = node.longValue();
            if (v < min || v > max) {
                throw wrong(node, "an integer in [" + min + ", " + max + "]");
            }
            return v;
        }

        private long unsigned64(JsonNode node) {
            if (!node.isIntegralNumber()) {
                throw wrong(node, "an integer in [0, " + UINT64_MAX + "]");
            }
            BigInteger v = node.bigIntegerValue();
            if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) {
                throw wrong(node, "an integer in [0, " + UINT64_MAX + "]");
            }
            return v.longValue();
        }

        private double number(JsonNode node) {
            if (!node.isNumber()) {
                throw wrong(node, "a number");
            }
            return node.doubleValue();
        }

        private float fp16(JsonNode node) {
            double v = number(node);
            if (Math.abs(v) > 65504) {
                throw wrong(node, "a number within FP16 range [-65504, 65504]");
            }
            return (float) v;
        }

        private InvalidInputException wrong(JsonNode node, String expected) {
            String shown = node.toString();
            if (shown.length() > 40) {
                shown = shown.substring(0, 40) + "...";
            }
            return new InvalidInputException("input '" + name + "' element " + i + " is " + shown + " but datatype "
                    + type + " needs " + expected);
        }
    }

    // ---- responses ----

    byte[] response(String modelName, String modelVersion, String id, List<NamedTensor> outputs) {
        return response(modelName, modelVersion, id, outputs, false);
    }

    /** @param fallback the model asked for failed and {@code modelName} is its fallback: said in parameters */
    byte[] response(String modelName, String modelVersion, String id, List<NamedTensor> outputs, boolean fallback) {
        return answer(modelName, modelVersion, id, outputs, fallback, t -> null);
    }

    /** The answer with the outputs the request asked for as binary data after the JSON. */
    Encoded response(String modelName, String modelVersion, Request request, List<NamedTensor> outputs,
            boolean fallback) {
        boolean any = false;
        for (NamedTensor t : outputs) {
            any |= request.binary(t.name()) && t.datatype() != DataType.FP16;
        }
        if (!any) {
            return new Encoded(response(modelName, modelVersion, request.id(), outputs, fallback), -1);
        }
        java.io.ByteArrayOutputStream tail = new java.io.ByteArrayOutputStream();
        byte[] header = answer(modelName, modelVersion, request.id(), outputs, fallback, t -> {
            byte[] bin = request.binary(t.name()) ? BinaryTensors.write(t) : null;
            if (bin != null) {
                tail.write(bin, 0, bin.length);
            }
            return bin;
        });
        byte[] body = Arrays.copyOf(header, header.length + tail.size());
        System.arraycopy(tail.toByteArray(), 0, body, header.length, tail.size());
        return new Encoded(body, header.length);
    }

    /**
     * The answer's JSON; an output for which {@code binary} returns bytes is described by their size
     * ({@code binary_data_size}) instead of carrying its data.
     */
    private byte[] answer(String modelName, String modelVersion, String id, List<NamedTensor> outputs, boolean fallback,
            java.util.function.Function<NamedTensor, byte[]> binary) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("model_name", modelName);
            g.writeStringField("model_version", modelVersion);
            if (id != null) {
                g.writeStringField("id", id);
            }
            if (fallback) {
                g.writeObjectFieldStart("parameters");
                g.writeBooleanField("enclave_fallback", true);
                g.writeEndObject();
            }
            g.writeArrayFieldStart("outputs");
            for (NamedTensor t : outputs) {
                g.writeStartObject();
                g.writeStringField("name", t.name());
                g.writeStringField("datatype", t.datatype().name());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                byte[] bin = binary.apply(t);
                if (bin != null) {
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", bin.length);
                    g.writeEndObject();
                } else {
                    g.writeFieldName("data");
                    data(g, t);
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static void data(JsonGenerator g, NamedTensor t) throws IOException {
        Object a = t.data();
        g.writeStartArray();
        switch (t.datatype()) {
            case BOOL -> {
                for (boolean v : (boolean[]) a) {
                    g.writeBoolean(v);
                }
            }
            case INT8 -> {
                for (byte v : (byte[]) a) {
                    g.writeNumber(v);
                }
            }
            case UINT8 -> {
                for (byte v : (byte[]) a) {
                    g.writeNumber(Byte.toUnsignedInt(v));
                }
            }
            case INT16 -> {
                for (short v : (short[]) a) {
                    g.writeNumber(v);
                }
            }
            case UINT16 -> {
                for (short v : (short[]) a) {
                    g.writeNumber(Short.toUnsignedInt(v));
                }
            }
            case INT32 -> {
                for (int v : (int[]) a) {
                    g.writeNumber(v);
                }
            }
            case UINT32 -> {
                for (int v : (int[]) a) {
                    g.writeNumber(Integer.toUnsignedLong(v));
                }
            }
            case INT64 -> {
                for (long v : (long[]) a) {
                    g.writeNumber(v);
                }
            }
            case UINT64 -> {
                for (long v : (long[]) a) {
                    g.writeNumber(new BigInteger(Long.toUnsignedString(v)));
                }
            }
            case FP16, FP32 -> {
                for (float v : (float[]) a) {
                    g.writeNumber(v);
                }
            }
            case FP64 -> {
                for (double v : (double[]) a) {
                    g.writeNumber(v);
                }
            }
            case BYTES -> {
                for (byte[] v : (byte[][]) a) {
                    g.writeString(new String(v, StandardCharsets.UTF_8));
                }
            }
        }
        g.writeEndArray();
    }

    byte[] modelMetadata(String name, List<ModelVersion> versions, ModelDescriptor d) {
        ObjectNode root = mapper.createObjectNode();
        root.put("name", name);
        versions.forEach(v -> root.withArray("versions").add(v.descriptor().version().toString()));
        root.put("platform", d.platform());
        tensors(root.putArray("inputs"), d.inputs());
        tensors(root.putArray("outputs"), d.outputs());
        return bytes(root);
    }

    private static void tensors(com.fasterxml.jackson.databind.node.ArrayNode array, List<TensorSpec> specs) {
        for (TensorSpec s : specs) {
            ObjectNode t = array.addObject();
            t.put("name", s.name());
            t.put("datatype", s.datatype().name());
            var shape = t.putArray("shape");
            for (long d : s.shape()) {
                shape.add(d);
            }
        }
    }

    byte[] object(Map<String, ?> fields) {
        return bytes(mapper.valueToTree(fields));
    }

    byte[] error(String message) {
        ObjectNode n = mapper.createObjectNode();
        n.put("error", message);
        return bytes(n);
    }

    private byte[] bytes(JsonNode node) {
        try {
            return mapper.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    private byte[] write(Writer w) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            w.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
