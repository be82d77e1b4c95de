package io.enclave.rest.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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

    private final ObjectMapper mapper;

    /**
     * Decoded {@code POST .../infer} body.
     *
     * @param binaryOutputs outputs to send as binary data (OIP binary extension)
     * @param binaryAll     every output as binary data ({@code parameters.binary_data_output})
     * @param timeoutMicros how long the caller lets the request wait for its computation to start
     *                      ({@code parameters.timeout}, as Triton's clients send it); 0 for no limit of its own
     * @param classifications outputs asked for as their top classes ({@code parameters.classification}), by name
     * @param priority      Triton's {@code parameters.priority}: 1 the most urgent, 0 for none
     */
    record Request(String id, List<NamedTensor> inputs, List<String> outputs, java.util.Set<String> binaryOutputs,
            boolean binaryAll, long timeoutMicros, Map<String, Integer> classifications, long priority) {
        Request(String id, List<NamedTensor> inputs, List<String> outputs) {
            this(id, inputs, outputs, java.util.Set.of(), false, 0, Map.of(), 0);
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
     * Reads the body as it streams: the small parts of the request (names, shapes, parameters) as JSON
     * trees, each input's {@code data} straight into its typed array, so no value of a tensor becomes an
     * object of its own.
     *
     * @param headerLength the {@code Inference-Header-Content-Length}: the JSON is that many bytes and
     *                     the binary tensor data follows; -1 when the whole body is JSON
     */
    Request decode(byte[] whole, int headerLength) {
        if (headerLength > whole.length) {
            throw new InvalidInputException("Inference-Header-Content-Length " + headerLength + " is larger than the body ("
                    + whole.length + " bytes)");
        }
        int jsonLength = headerLength < 0 ? whole.length : headerLength;
        java.nio.ByteBuffer binary = headerLength < 0 ? java.nio.ByteBuffer.allocate(0)
                : java.nio.ByteBuffer.wrap(whole, headerLength, whole.length - headerLength).slice();
        try (JsonParser p = mapper.createParser(whole, 0, jsonLength)) {
            return request(p, binary);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException("request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidInputException("request body cannot be read: " + e.getMessage());
        }
    }

    private Request request(JsonParser p, java.nio.ByteBuffer binary) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new InvalidInputException("request body must be a JSON object with an 'inputs' array");
        }
        String id = null;
        JsonNode parameters = null;
        JsonNode out = null;
        List<NamedTensor> tensors = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "id" -> {
                    if (value != JsonToken.VALUE_NULL) {
                        if (value != JsonToken.VALUE_STRING) {
                            throw new InvalidInputException("'id' must be a string");
                        }
                        id = p.getText();
                    }
                }
                case "parameters" -> parameters = p.readValueAsTree();
                case "outputs" -> out = p.readValueAsTree();
                case "inputs" -> tensors = inputs(p, binary);
                default -> throw new InvalidInputException("request has unknown field '" + field + "'");
            }
        }
        if (p.nextToken() != null) {
            throw new InvalidInputException("request body has more after its JSON object");
        }
        if (tensors == null) {
            throw new InvalidInputException("'inputs' must be a non-empty array");
        }
        objectOrAbsent(parameters, "parameters");
        boolean binaryAll = flag(path(parameters, "binary_data_output"), "parameters.binary_data_output");
        long timeoutMicros = timeout(path(parameters, "timeout"));
        long priority = priority(path(parameters, "priority"));
        java.util.Set<String> binaryOutputs = new java.util.HashSet<>();
        Map<String, Integer> classifications = null;
        if (binary.hasRemaining()) {
            throw new InvalidInputException(binary.remaining() + " bytes of binary data follow the JSON that no input's "
                    + "binary_data_size claims");
        }
        List<String> outputs = null;
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
                if (flag(o.path("parameters").path("binary_data"), "outputs[" + i + "].parameters.binary_data")) {
                    binaryOutputs.add(o.get("name").asText());
                }
                JsonNode k = o.path("parameters").path("classification");
                if (!k.isMissingNode() && !k.isNull()) {
                    if (!k.isIntegralNumber() || !k.canConvertToInt() || k.asInt() < 1) {
                        throw new InvalidInputException("outputs[" + i + "].parameters.classification must be a whole "
                                + "number of classes, 1 or more, not " + abbreviate(k.toString()));
                    }
                    if (classifications == null) {
                        classifications = new java.util.HashMap<>();
                    }
                    classifications.put(o.get("name").asText(), k.asInt());
                }
                outputs.add(o.get("name").asText());
            }
        }
        return new Request(id, tensors, outputs, binaryOutputs, binaryAll, timeoutMicros,
                classifications == null ? Map.of() : classifications, priority);
    }

    /**
     * Triton's request timeout (its schedule-policy extension): microseconds, 0 or absent for none. Only a
     * whole number is a timeout; anything else would be guessed at, so it is refused.
     */
    private static long timeout(JsonNode t) {
        if (t.isMissingNode() || t.isNull()) {
            return 0;
        }
        if (!t.isIntegralNumber() || !t.canConvertToLong() || t.asLong() < 0) {
            throw new InvalidInputException("parameters.timeout must be a whole number of microseconds, 0 or more (0: "
                    + "no timeout of the request's own), not " + abbreviate(t.toString()));
        }
        return t.asLong();
    }

    /**
     * Triton's request priority: a whole number, 0 (none) or more, as Triton takes it (a uint64). It orders
     * the queue of a version that keeps priority levels; a number past the levels gets the default one, as
     * in Triton, so numbers past a long are the same as {@link Long#MAX_VALUE}.
     */
    private static long priority(JsonNode p) {
        if (p.isMissingNode() || p.isNull()) {
            return 0;
        }
        if (!p.isIntegralNumber() || p.bigIntegerValue().signum() < 0 || p.bigIntegerValue().bitLength() > 64) {
            throw new InvalidInputException("parameters.priority must be a whole number, 0 or more, not "
                    + abbreviate(p.toString()));
        }
        return p.canConvertToLong() ? p.asLong() : Long.MAX_VALUE;
    }

    /** A switch such as {@code binary_data_output}: absent is off; anything but true or false is named. */
    static boolean flag(JsonNode f, String name) {
        if (f.isMissingNode() || f.isNull()) {
            return false;
        }
        if (!f.isBoolean()) {
            throw new InvalidInputException(name + " must be true or false, not " + abbreviate(f.toString()));
        }
        return f.booleanValue();
    }

    /** A value as an error message quotes it: its first 40 characters. */
    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }

    private static JsonNode path(JsonNode node, String field) {
        return node == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : node.path(field);
    }

    /** The parser is on the value of {@code inputs}; leaves it on the array's end. */
    private List<NamedTensor> inputs(JsonParser p, java.nio.ByteBuffer binary) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new InvalidInputException("'inputs' must be a non-empty array");
        }
        List<NamedTensor> tensors = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            tensors.add(input(p, tensors.size(), binary));
        }
        if (tensors.isEmpty()) {
            throw new InvalidInputException("'inputs' must be a non-empty array");
        }
        return tensors;
    }

    /** What an input says about itself, checked: everything but its data. */
    private record Spec(String name, DataType type, long[] shape) {
    }

    /**
     * One input; the parser is on its first token and is left on its last. Its {@code data} streams into
     * the tensor when its name, datatype and shape came before it (as clients send them); otherwise it is
     * kept as a tree until they are known.
     */
    private NamedTensor input(JsonParser p, int index, java.nio.ByteBuffer binary) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new InvalidInputException("inputs[" + index + "] must be an object");
        }
        JsonNode nameNode = null;
        JsonNode typeNode = null;
        JsonNode shapeNode = null;
        JsonNode parameters = null;
        JsonNode dataNode = null;
        Filler streamed = null;
        // checked when the data streams; its fields cannot come again (duplicates are refused)
        Spec spec = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "name" -> nameNode = p.readValueAsTree();
                case "datatype" -> typeNode = p.readValueAsTree();
                case "shape" -> shapeNode = p.readValueAsTree();
                case "parameters" -> parameters = p.readValueAsTree();
                case "data" -> {
                    if (nameNode != null && typeNode != null && shapeNode != null && value != JsonToken.VALUE_NULL) {
                        spec = spec(nameNode, typeNode, shapeNode, index);
                        streamed = new Filler(spec.name(), spec.type(), elements(spec));
                        streamed.fill(p);
                    } else {
                        dataNode = p.readValueAsTree();
                    }
                }
                default -> throw new InvalidInputException("inputs[" + index + "] has unknown field '" + field + "'");
            }
        }
        if (spec == null) {
            spec = spec(nameNode, typeNode, shapeNode, index);
        }
        String name = spec.name();
        objectOrAbsent(parameters, "input '" + name + "' parameters");
        JsonNode binarySize = path(parameters, "binary_data_size");
        boolean hasData = streamed != null || dataNode != null;
        if (!binarySize.isMissingNode()) {
            if (hasData) {
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
            return new NamedTensor(name, spec.type(), spec.shape(),
                    BinaryTensors.read(name, spec.type(), binary, size, elements(spec)));
        }
        if (dataNode != null && !dataNode.isNull()) {
            streamed = new Filler(name, spec.type(), elements(spec));
            try (JsonParser tree = dataNode.traverse(p.getCodec())) {
                tree.nextToken();
                streamed.fill(tree);
            }
        }
        if (streamed == null) {
            throw new InvalidInputException("input '" + name + "' has no 'data'");
        }
        return new NamedTensor(name, spec.type(), spec.shape(), streamed.result(spec.shape()));
    }

    private static Spec spec(JsonNode nameNode, JsonNode typeNode, JsonNode shapeNode, int index) {
        if (nameNode == null || !nameNode.isTextual() || nameNode.asText().isEmpty()) {
            throw new InvalidInputException("inputs[" + index + "] needs a string 'name'");
        }
        String name = nameNode.asText();
        if (typeNode == null || !typeNode.isTextual()) {
            throw new InvalidInputException("input '" + name + "' needs a string 'datatype'");
        }
        DataType type;
        try {
            type = DataType.parse(typeNode.asText());
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("input '" + name + "': " + e.getMessage());
        }
        return new Spec(name, type, shape(shapeNode, name));
    }

    /** How many values the input's shape holds; a shape too large for one array is refused before anything is allocated. */
    private static int elements(Spec spec) {
        long n;
        try {
            n = NamedTensor.elementCount(spec.shape());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new InvalidInputException("input '" + spec.name() + "' has shape " + Arrays.toString(spec.shape())
                    + ", which is too large");
        }
        return (int) n;
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

    private static void objectOrAbsent(JsonNode node, String where) {
        if (node != null && !node.isNull() && !node.isObject()) {
            throw new InvalidInputException("'" + where + "' must be an object");
        }
    }

    /**
     * Reads JSON values, flat or nested in row-major order, into the typed array of a tensor, checking the
     * type and range of each as it comes. The array grows with the values actually sent, up to what the
     * shape needs, so a shape that claims more than the body holds costs nothing.
     */
    private static final class Filler {
        private final String name;
        private final DataType type;
        private final int expected;
        private Object array;
        private int capacity;
        private long count;

        Filler(String name, DataType type, int expected) {
            this.name = name;
            this.type = type;
            this.expected = expected;
            this.capacity = Math.min(expected, 1024);
            this.array = allocate(capacity);
        }

        private Object allocate(int n) {
            return switch (type) {
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

        private void grow() {
            int next = (int) Math.min(expected, Math.max(16L, 2L * capacity));
            Object bigger = allocate(next);
            System.arraycopy(array, 0, bigger, 0, capacity);
            array = bigger;
            capacity = next;
        }

        /** Reads the value the parser is on (an array, or one value) and leaves the parser on its last token. */
        void fill(JsonParser p) throws IOException {
            if (p.currentToken() != JsonToken.START_ARRAY) {
                one(p);
                return;
            }
            // the factory bounds the nesting depth
            for (int depth = 1; depth > 0;) {
                JsonToken t = p.nextToken();
                if (t == JsonToken.START_ARRAY) {
                    depth++;
                } else if (t == JsonToken.END_ARRAY) {
                    depth--;
                } else {
                    one(p);
                }
            }
        }

        /** The tensor's values, once every one the shape needs, and no more, has come. */
        Object result(long[] shape) {
            if (count != expected) {
                throw new InvalidInputException("input '" + name + "' has " + count + " values but shape "
                        + Arrays.toString(shape) + " needs " + expected);
            }
            return array;
        }

        private void one(JsonParser p) throws IOException {
            if (count >= expected) {
                // too many: only counted, for the message
                p.skipChildren();
                count++;
                return;
            }
            if (count == capacity) {
                grow();
            }
            int i = (int) count;
            JsonToken t = p.currentToken();
            switch (type) {
                case BOOL -> {
                    if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                        throw wrong(p, "true or false");
                    }
                    ((boolean[]) array)[i] = t == JsonToken.VALUE_TRUE;
                }
                case INT8 -> ((byte[]) array)[i] = (byte) integer(p, -128, 127);
                case UINT8 -> ((byte[]) array)[i] = (byte) integer(p, 0, 255);
                case INT16 -> ((short[]) array)[i] = (short) integer(p, Short.MIN_VALUE, Short.MAX_VALUE);
                case UINT16 -> ((short[]) array)[i] = (short) integer(p, 0, 65535);
                case INT32 -> ((int[]) array)[i] = (int) integer(p, Integer.MIN_VALUE, Integer.MAX_VALUE);
                case UINT32 -> ((int[]) array)[i] = (int) integer(p, 0, 0xFFFF_FFFFL);
                case INT64 -> ((long[]) array)[i] = integer(p, Long.MIN_VALUE, Long.MAX_VALUE);
                case UINT64 -> ((long[]) array)[i] = unsigned64(p);
                case FP16 -> ((float[]) array)[i] = fp16(p);
                case FP32 -> ((float[]) array)[i] = (float) number(p);
                case FP64 -> ((double[]) array)[i] = number(p);
                case BYTES -> {
                    if (t != JsonToken.VALUE_STRING) {
                        throw wrong(p, "a string");
                    }
                    ((byte[][]) array)[i] = p.getText().getBytes(StandardCharsets.UTF_8);
                }
            }
            count++;
        }

        private long integer(JsonParser p, long min, long max) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw wrong(p, "an integer in [" + min + ", " + max + "]");
            }
            long v = p.getLongValue();
            if (v < min || v > max) {
                throw wrong(p, "an integer in [" + min + ", " + max + "]");
            }
            return v;
        }

        private long unsigned64(JsonParser p) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                throw wrong(p, "an integer in [0, " + UINT64_MAX + "]");
            }
            BigInteger v = p.getBigIntegerValue();
            if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) {
                throw wrong(p, "an integer in [0, " + UINT64_MAX + "]");
            }
            return v.longValue();
        }

        private double number(JsonParser p) throws IOException {
            JsonToken t = p.currentToken();
            if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
                throw wrong(p, "a number");
            }
            return p.getDoubleValue();
        }

        private float fp16(JsonParser p) throws IOException {
            double v = number(p);
            if (Math.abs(v) > 65504) {
                throw wrong(p, "a number within FP16 range [-65504, 65504]");
            }
            return (float) v;
        }

        private InvalidInputException wrong(JsonParser p, String expected) throws IOException {
            JsonToken t = p.currentToken();
            String shown = t == JsonToken.START_OBJECT ? p.readValueAsTree().toString()
                    : t == JsonToken.VALUE_STRING ? "\"" + new String(com.fasterxml.jackson.core.io.JsonStringEncoder
                            .getInstance().quoteAsString(p.getText())) + "\""
                    : p.getText();
            shown = abbreviate(shown);
            return new InvalidInputException("input '" + name + "' element " + count + " is " + shown + " but datatype "
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

    /**
     * The version's configuration as Triton's model configuration extension gives it
     * ({@code GET /v2/models/{m}/config}). {@code max_batch_size} is 0, so the dims are the tensors' full
     * shapes, as the model's metadata gives them and as requests send them: Enclave batches requests
     * along their first dimension on its own, and says how in {@code parameters}.
     */
    byte[] modelConfig(String name, ModelDescriptor d, io.enclave.api.BatchingSettings batching, String device) {
        ObjectNode root = mapper.createObjectNode();
        root.put("name", name);
        root.put("platform", d.platform());
        root.put("backend", d.platform().startsWith("onnxruntime") ? "onnxruntime" : d.engine());
        root.put("max_batch_size", 0);
        configTensors(root.putArray("input"), d.inputs());
        configTensors(root.putArray("output"), d.outputs());
        ObjectNode group = root.putArray("instance_group").addObject();
        group.put("name", name);
        group.put("kind", device != null && device.startsWith("cuda") ? "KIND_GPU" : "KIND_CPU");
        group.put("count", batching.maxWorkers());
        ObjectNode parameters = root.putObject("parameters");
        parameters.putObject("enclave_version").put("string_value", d.version().toString());
        parameters.putObject("enclave_max_batch_rows").put("string_value", Integer.toString(batching.maxBatchSize()));
        parameters.putObject("enclave_max_queue_delay_microseconds").put("string_value",
                Long.toString(batching.maxQueueDelayMicros()));
        parameters.putObject("enclave_queue_capacity").put("string_value", Integer.toString(batching.queueCapacity()));
        parameters.putObject("enclave_deadline_ms").put("string_value", Long.toString(batching.deadlineMillis()));
        parameters.putObject("enclave_priority_levels").put("string_value", Integer.toString(batching.priorityLevels()));
        parameters.putObject("enclave_default_priority_level").put("string_value",
                Integer.toString(batching.defaultPriorityLevel()));
        parameters.putObject("enclave_max_padding_ratio").put("string_value", Integer.toString(batching.maxPaddingRatio()));
        return bytes(root);
    }

    private static void configTensors(com.fasterxml.jackson.databind.node.ArrayNode array, List<TensorSpec> specs) {
        for (TensorSpec s : specs) {
            ObjectNode t = array.addObject();
            t.put("name", s.name());
            // Triton's configuration names BYTES TYPE_STRING; every other type by its protocol name
            t.put("data_type", s.datatype() == DataType.BYTES ? "TYPE_STRING" : "TYPE_" + s.datatype().name());
            var dims = t.putArray("dims");
            for (long dim : s.shape()) {
                dims.add(dim);
            }
        }
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

    /**
     * Triton's statistics extension ({@code GET /v2/models[/{m}[/versions/{v}]]/stats}): one entry per version.
     * Enclave keeps no response cache, so its cache figures are zeros, given because Triton's tools read them.
     */
    byte[] statistics(List<VersionSums> versions) {
        ObjectNode root = mapper.createObjectNode();
        com.fasterxml.jackson.databind.node.ArrayNode all = root.putArray("model_stats");
        for (VersionSums v : versions) {
            io.enclave.api.CumulativeStats s = v.stats();
            ObjectNode m = all.addObject();
            m.put("name", v.model());
            m.put("version", v.version());
            m.put("last_inference", s.lastInferenceMillis());
            m.put("inference_count", s.inferenceCount());
            m.put("execution_count", s.executionCount());
            ObjectNode inference = m.putObject("inference_stats");
            timed(inference, "success", s.success());
            timed(inference, "fail", s.fail());
            timed(inference, "queue", s.queue());
            timed(inference, "compute_input", s.computeInput());
            timed(inference, "compute_infer", s.computeInfer());
            timed(inference, "compute_output", s.computeOutput());
            timed(inference, "cache_hit", io.enclave.api.CumulativeStats.Timed.NONE);
            timed(inference, "cache_miss", io.enclave.api.CumulativeStats.Timed.NONE);
            com.fasterxml.jackson.databind.node.ArrayNode batches = m.putArray("batch_stats");
            for (io.enclave.api.CumulativeStats.Batch b : s.batches()) {
                ObjectNode n = batches.addObject();
                n.put("batch_size", b.rows());
                timed(n, "compute_input", b.computeInput());
                timed(n, "compute_infer", b.computeInfer());
                timed(n, "compute_output", b.computeOutput());
            }
        }
        return bytes(root);
    }

    /** One version's sums, as {@link #statistics} lists them. */
    record VersionSums(String model, String version, io.enclave.api.CumulativeStats stats) {
    }

    private static void timed(ObjectNode parent, String name, io.enclave.api.CumulativeStats.Timed t) {
        ObjectNode n = parent.putObject(name);
        n.put("count", t.count());
        n.put("ns", t.nanos());
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
