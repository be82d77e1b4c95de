package io.enclave.rest.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.DataType;
import io.enclave.api.InvalidInputException;
import io.enclave.api.NamedTensor;

class InferenceCodecTest {
    private final InferenceCodec codec = new InferenceCodec(1024 * 1024);

    private InferenceCodec.Request decode(String json) {
        return codec.decode(json.getBytes(StandardCharsets.UTF_8));
    }

    private String error(String json) {
        return assertThrows(InvalidInputException.class, () -> decode(json)).getMessage();
    }

    private static String input(String datatype, String shape, String data) {
        return "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"" + datatype + "\", \"shape\": " + shape
                + ", \"data\": " + data + "}]}";
    }

    @Test
    void flatAndNestedDataAreTheSameTensor() {
        NamedTensor flat = decode(input("FP32", "[2, 2]", "[1, 2, 3, 4.5]")).inputs().get(0);
        NamedTensor nested = decode(input("FP32", "[2, 2]", "[[1, 2], [3, 4.5]]")).inputs().get(0);
        assertArrayEquals(new long[] {2, 2}, flat.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4.5f}, flat.floats());
        assertArrayEquals(flat.floats(), nested.floats());
    }

    @Test
    void idAndRequestedOutputsAreKept() {
        InferenceCodec.Request r = decode("{\"id\": \"req-7\", \"parameters\": {\"a\": 1}, \"inputs\": [{\"name\": \"text\","
                + " \"datatype\": \"BYTES\", \"shape\": [2], \"data\": [\"héllo\", \"\"]}], \"outputs\": [{\"name\": \"embedding\"}]}");
        assertEquals("req-7", r.id());
        assertEquals(List.of("embedding"), r.outputs());
        assertArrayEquals(new String[] {"héllo", ""}, r.inputs().get(0).strings());
        assertNull(decode(input("BOOL", "[1]", "[true]")).outputs(), "no outputs field means all outputs");
    }

    @Test
    void aRequestsOwnTimeoutIsReadAsTritonsClientsSendItAndAnythingButAWholeNumberIsNamed() {
        String body = "{\"parameters\": %s, \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}]}";
        assertEquals(250_000, decode(body.formatted("{\"timeout\": 250000, \"priority\": 0}")).timeoutMicros());
        assertEquals(0, decode(body.formatted("{\"timeout\": 0}")).timeoutMicros(), "0 is no timeout, as in Triton");
        assertEquals(0, decode(body.formatted("{}")).timeoutMicros());
        assertEquals(0, decode(input("FP32", "[1]", "[1]")).timeoutMicros());
        assertEquals(Long.MAX_VALUE, decode(body.formatted("{\"timeout\": " + Long.MAX_VALUE + "}")).timeoutMicros());
        for (String bad : new String[] {"-1", "1.5", "\"100\"", "true", "[1]", "{\"us\":1}", "9223372036854775808"}) {
            String message = error(body.formatted("{\"timeout\": " + bad + "}"));
            assertTrue(message.startsWith("parameters.timeout must be a whole number of microseconds"), message);
            assertTrue(message.endsWith(bad.length() > 40 ? bad.substring(0, 40) + "..." : bad), message);
        }
    }

    @Test
    void tritonsPriorityIsAWholeNumberAndTheBinarySwitchesAreTrueOrFalse() {
        String body = "{\"parameters\": %s, \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}]%s}";
        assertEquals(0, decode(body.formatted("{\"priority\": 0}", "")).priority());
        assertEquals(0, decode(body.formatted("{}", "")).priority(), "none named");
        assertEquals(3, decode(body.formatted("{\"priority\": 3}", "")).priority());
        assertEquals(Long.MAX_VALUE, decode(body.formatted("{\"priority\": 18446744073709551615}", "")).priority(),
                "a uint64 past a long is past every level, as is Long.MAX_VALUE");
        for (String bad : new String[] {"-1", "1.5", "\"1\"", "18446744073709551616"}) {
            assertEquals("parameters.priority must be a whole number, 0 or more, not " + bad,
                    error(body.formatted("{\"priority\": " + bad + "}", "")));
        }
        assertTrue(decode(body.formatted("{\"binary_data_output\": true}", "")).binaryAll());
        assertFalse(decode(body.formatted("{\"binary_data_output\": false}", "")).binaryAll());
        assertEquals("parameters.binary_data_output must be true or false, not \"true\"",
                error(body.formatted("{\"binary_data_output\": \"true\"}", "")));
        String outputs = ", \"outputs\": [{\"name\": \"y\", \"parameters\": {\"binary_data\": %s}}]";
        assertTrue(decode(body.formatted("{}", outputs.formatted("true"))).binaryOutputs().contains("y"));
        assertEquals("outputs[0].parameters.binary_data must be true or false, not 1",
                error(body.formatted("{}", outputs.formatted("1"))));
    }

    @Test
    void anOutputsClassificationIsAWholeNumberOfClasses() {
        String body = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}], "
                + "\"outputs\": [{\"name\": \"y\", \"parameters\": {\"classification\": %s}}, {\"name\": \"z\"}]}";
        assertEquals(java.util.Map.of("y", 3), decode(body.formatted("3")).classifications());
        assertEquals(java.util.Map.of(), decode(input("FP32", "[1]", "[1]")).classifications());
        for (String bad : new String[] {"0", "-2", "1.5", "\"3\"", "true", "4294967296"}) {
            assertEquals("outputs[0].parameters.classification must be a whole number of classes, 1 or more, not " + bad,
                    error(body.formatted(bad)));
        }
    }

    @Test
    void everyDatatypeDecodesWithinItsRange() {
        assertArrayEquals(new boolean[] {true, false}, (boolean[]) decode(input("BOOL", "[2]", "[true, false]")).inputs().get(0).data());
        assertArrayEquals(new byte[] {-128, 127}, (byte[]) decode(input("INT8", "[2]", "[-128, 127]")).inputs().get(0).data());
        assertArrayEquals(new byte[] {0, (byte) 255}, (byte[]) decode(input("UINT8", "[2]", "[0, 255]")).inputs().get(0).data());
        assertArrayEquals(new short[] {(short) 65535}, (short[]) decode(input("UINT16", "[1]", "[65535]")).inputs().get(0).data());
        assertArrayEquals(new int[] {-1}, (int[]) decode(input("UINT32", "[1]", "[4294967295]")).inputs().get(0).data());
        assertArrayEquals(new long[] {-1}, (long[]) decode(input("UINT64", "[1]", "[18446744073709551615]")).inputs().get(0).data());
        assertArrayEquals(new long[] {Long.MIN_VALUE}, (long[]) decode(input("INT64", "[1]", "[-9223372036854775808]")).inputs().get(0).data());
        assertArrayEquals(new double[] {1e300}, (double[]) decode(input("FP64", "[1]", "[1e300]")).inputs().get(0).data());
        assertArrayEquals(new float[] {0.5f}, decode(input("FP16", "[1]", "[0.5]")).inputs().get(0).floats());
        assertArrayEquals(new short[] {-32768}, (short[]) decode(input("INT16", "[1]", "[-32768]")).inputs().get(0).data());
        assertArrayEquals(new int[] {7}, (int[]) decode(input("INT32", "[1, 1]", "[[7]]")).inputs().get(0).data());
    }

    @Test
    void valuesOutsideTheirTypeAreNamed() {
        assertTrue(error(input("UINT8", "[1]", "[256]")).contains("input 'x' element 0 is 256 but datatype UINT8 needs an integer in [0, 255]"));
        assertTrue(error(input("INT8", "[2]", "[1, -129]")).contains("element 1 is -129"));
        assertTrue(error(input("INT32", "[1]", "[1.5]")).contains("needs an integer"));
        assertTrue(error(input("UINT64", "[1]", "[-1]")).contains("UINT64"));
        assertTrue(error(input("BOOL", "[1]", "[1]")).contains("true or false"));
        assertTrue(error(input("FP32", "[1]", "[\"1\"]")).contains("needs a number"));
        assertTrue(error(input("BYTES", "[1]", "[1]")).contains("needs a string"));
        assertTrue(error(input("FP16", "[1]", "[70000]")).contains("FP16 range"));
        assertTrue(error(input("FLOAT32", "[1]", "[1]")).contains("unknown datatype 'FLOAT32'"));
    }

    @Test
    void shapeAndDataMustAgree() {
        assertEquals("input 'x' has 3 values but shape [2, 2] needs 4", error(input("FP32", "[2, 2]", "[1, 2, 3]")));
        assertEquals("input 'x' has shape [3000000000, 3000000000], which is too large",
                error(input("FP32", "[3000000000, 3000000000]", "[1]")));
        assertTrue(error(input("FP32", "[-1]", "[1]")).contains("non-negative integers"));
        assertTrue(error(input("FP32", "\"2\"", "[1, 2]")).contains("needs a 'shape' array"));
    }

    @Test
    void dataStreamsIntoItsArrayWhateverItsSizeAndWhereverItComes() {
        StringBuilder nested = new StringBuilder("[");
        float[] expected = new float[50 * 100];
        for (int r = 0; r < 50; r++) {
            nested.append(r == 0 ? "[" : ",[");
            for (int c = 0; c < 100; c++) {
                expected[r * 100 + c] = (r * 100 + c) / 8f - 300;
                nested.append(c == 0 ? "" : ",").append(expected[r * 100 + c]);
            }
            nested.append(']');
        }
        nested.append(']');
        NamedTensor big = decode(input("FP32", "[50, 100]", nested.toString())).inputs().get(0);
        assertArrayEquals(expected, big.floats(), "values past the first thousand land where the shape puts them");
        // a client may send data before the fields that say how to read it
        NamedTensor dataFirst = decode("{\"inputs\": [{\"data\": [[1, 2], [3, 4.5]], \"shape\": [2, 2], \"name\": \"x\", "
                + "\"datatype\": \"FP32\"}]}").inputs().get(0);
        assertArrayEquals(new float[] {1, 2, 3, 4.5f}, dataFirst.floats());
        assertEquals("x", dataFirst.name());
        assertTrue(error("{\"inputs\": [{\"data\": [1, \"a\"], \"shape\": [2], \"name\": \"x\", \"datatype\": \"INT32\"}]}")
                .contains("input 'x' element 1 is \"a\" but datatype INT32 needs an integer"));
        assertArrayEquals(new int[] {5}, (int[]) decode(input("INT32", "[1]", "5")).inputs().get(0).data(),
                "one value need not be in an array");
    }

    @Test
    void theCountIsRightWhetherValuesAreMissingOrOverAndAHugeShapeCostsNothing() {
        assertEquals("input 'x' has 5 values but shape [4] needs 4", error(input("FP32", "[4]", "[1, 2, 3, 4, 5]")));
        assertEquals("input 'x' has 5 values but shape [2, 2] needs 4", error(input("FP32", "[2, 2]", "[[1, 2], [3, 4, {\"a\": 1}]]")));
        // 2 GB of floats claimed, one sent: refused on the count, with nothing near that allocated
        assertEquals("input 'x' has 1 values but shape [536870911] needs 536870911",
                error(input("FP32", "[536870911]", "[1]")));
        assertTrue(error(input("FP32", "[2]", "[1, {\"a\": 1}]")).contains("element 1 is {\"a\":1} but datatype FP32 needs a number"));
    }

    @Test
    void bodyMistakesAreNamed() {
        assertTrue(error("{").contains("not valid JSON"));
        assertTrue(error("[]").contains("must be a JSON object"));
        assertEquals("'inputs' must be a non-empty array", error("{\"inputs\": []}"));
        assertEquals("request has unknown field 'input'", error("{\"input\": []}"));
        assertTrue(error("{\"inputs\": [{\"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}]}").contains("needs a string 'name'"));
        assertEquals("input 'x' has no 'data'", error("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1]}]}"));
        assertTrue(error("{\"id\": 5, \"inputs\": []}").contains("'id' must be a string"));
        assertTrue(error("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1], "
                + "\"parameters\": {\"binary_data_size\": 4}}]}").contains("has both 'data' and binary_data_size"));
        String one = "[{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}]";
        assertTrue(error("{\"inputs\": " + one + ", \"inputs\": " + one + "}").contains("Duplicate field"));
        assertTrue(error("{\"inputs\": [{\"name\": \"x\", \"name\": \"y\", \"datatype\": \"FP32\", \"shape\": [1], "
                + "\"data\": [1]}]}").contains("Duplicate field"));
        String deep = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": "
                + "[".repeat(100) + "1" + "]".repeat(100) + "}]}";
        assertTrue(error(deep).contains("not valid JSON"));
        assertEquals("request body has more after its JSON object", error(input("FP32", "[1]", "[1]") + " {}"));
        assertEquals(1, decode(input("FP32", "[1]", "[1]") + "\r\n ").inputs().size(), "white space after it is fine");
    }

    @Test
    void responsesFollowTheProtocol() throws Exception {
        byte[] json = codec.response("minilm", "1.1.0", "req-1", List.of(
                new NamedTensor("embedding", DataType.FP32, new long[] {1, 2}, new float[] {0.6f, 0.8f}),
                new NamedTensor("flags", DataType.UINT8, new long[] {2}, new byte[] {(byte) 200, 1}),
                new NamedTensor("big", DataType.UINT64, new long[] {1}, new long[] {-1L})));
        JsonNode r = new ObjectMapper().readTree(json);
        assertEquals("minilm", r.get("model_name").asText());
        assertEquals("1.1.0", r.get("model_version").asText());
        assertEquals("req-1", r.get("id").asText());
        JsonNode e = r.get("outputs").get(0);
        assertEquals("FP32", e.get("datatype").asText());
        assertEquals("[1,2]", e.get("shape").toString());
        assertEquals("[0.6,0.8]", e.get("data").toString());
        assertEquals("[200,1]", r.get("outputs").get(1).get("data").toString());
        assertEquals("[18446744073709551615]", r.get("outputs").get(2).get("data").toString());
        assertEquals("{\"error\":\"bad \\\"thing\\\"\"}", new String(codec.error("bad \"thing\""), StandardCharsets.UTF_8));
    }

    @Test
    void statisticsHaveTheShapeOfTritonsExtension() throws Exception {
        io.enclave.api.CumulativeStats.Timed t = new io.enclave.api.CumulativeStats.Timed(3, 4_000);
        io.enclave.api.CumulativeStats s = new io.enclave.api.CumulativeStats(1_700_000_000_000L, 5, 2, t,
                new io.enclave.api.CumulativeStats.Timed(1, 9), t, t, t, t, List.of(new io.enclave.api.CumulativeStats.Batch(
                        4, new io.enclave.api.CumulativeStats.Timed(1, 10), new io.enclave.api.CumulativeStats.Timed(1, 20),
                        new io.enclave.api.CumulativeStats.Timed(1, 30))));
        JsonNode m = new ObjectMapper().readTree(codec.statistics(List.of(new InferenceCodec.VersionSums("minilm", "1.0.0", s)))).get("model_stats").get(0);
        assertEquals("minilm", m.get("name").asText());
        assertEquals("1.0.0", m.get("version").asText());
        assertEquals(1_700_000_000_000L, m.get("last_inference").asLong());
        assertEquals(5, m.get("inference_count").asLong());
        assertEquals(2, m.get("execution_count").asLong());
        assertEquals("{\"count\":3,\"ns\":4000}", m.at("/inference_stats/success").toString());
        assertEquals("{\"count\":1,\"ns\":9}", m.at("/inference_stats/fail").toString());
        for (String stage : List.of("queue", "compute_input", "compute_infer", "compute_output")) {
            assertEquals(3, m.at("/inference_stats/" + stage + "/count").asLong(), stage);
        }
        assertEquals("{\"count\":0,\"ns\":0}", m.at("/inference_stats/cache_hit").toString());
        assertEquals("{\"count\":0,\"ns\":0}", m.at("/inference_stats/cache_miss").toString());
        assertEquals("[{\"batch_size\":4,\"compute_input\":{\"count\":1,\"ns\":10},\"compute_infer\":{\"count\":1,\"ns\":20},"
                + "\"compute_output\":{\"count\":1,\"ns\":30}}]", m.get("batch_stats").toString());
    }

    private static byte[] withBinary(String json, byte[] binary) {
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        byte[] all = java.util.Arrays.copyOf(head, head.length + binary.length);
        System.arraycopy(binary, 0, all, head.length, binary.length);
        return all;
    }

    @Test
    void binaryTensorExtensionInAndOut() {
        java.nio.ByteBuffer floats = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putFloat(1.5f).putFloat(-2f).putFloat(3.25f);
        java.nio.ByteBuffer strings = java.nio.ByteBuffer.allocate(4 + 3 + 4 + 2).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(3).put("abc".getBytes(StandardCharsets.UTF_8)).putInt(2).put("hé".getBytes(StandardCharsets.ISO_8859_1));
        byte[] binary = java.util.Arrays.copyOf(floats.array(), 12 + strings.capacity());
        System.arraycopy(strings.array(), 0, binary, 12, strings.capacity());
        String json = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
                + "\"parameters\": {\"binary_data_size\": 12}}, {\"name\": \"t\", \"datatype\": \"BYTES\", \"shape\": [2], "
                + "\"parameters\": {\"binary_data_size\": 13}}], \"outputs\": [{\"name\": \"y\", \"parameters\": "
                + "{\"binary_data\": true}}, {\"name\": \"z\"}]}";
        InferenceCodec.Request r = codec.decode(withBinary(json, binary), json.getBytes(StandardCharsets.UTF_8).length);
        assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, r.inputs().get(0).floats());
        assertEquals("abc", new String(r.inputs().get(1).bytes()[0], StandardCharsets.UTF_8));
        assertEquals(2, r.inputs().get(1).bytes()[1].length);
        assertTrue(r.binary("y") && !r.binary("z"));

        NamedTensor y = new NamedTensor("y", DataType.FP32, new long[] {1, 2}, new float[] {0.25f, 8f});
        NamedTensor z = new NamedTensor("z", DataType.INT64, new long[] {1}, new long[] {7});
        InferenceCodec.Encoded e = codec.response("m", "1", r, java.util.List.of(y, z), false);
        String head = new String(e.body(), 0, e.headerLength(), StandardCharsets.UTF_8);
        assertTrue(head.contains("\"binary_data_size\":8") && head.contains("\"data\":[7]"), head);
        java.nio.ByteBuffer tail = java.nio.ByteBuffer.wrap(e.body(), e.headerLength(), 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(0.25f, tail.getFloat());
        assertEquals(8f, tail.getFloat());

        assertTrue(assertThrows(InvalidInputException.class, () -> codec.decode(withBinary(json, new byte[5]),
                json.getBytes(StandardCharsets.UTF_8).length)).getMessage().contains("binary_data_size is 12 but only 5"));
        assertTrue(assertThrows(InvalidInputException.class, () -> codec.decode(withBinary(json, java.util.Arrays.copyOf(binary,
                binary.length + 3)), json.getBytes(StandardCharsets.UTF_8).length)).getMessage().contains("3 bytes of binary data"));
        String lying = json.replace("\"binary_data_size\": 12", "\"binary_data_size\": 8").replace("[1, 3]", "[1, 3]");
        assertTrue(assertThrows(InvalidInputException.class, () -> codec.decode(withBinary(lying, binary),
                lying.getBytes(StandardCharsets.UTF_8).length)).getMessage().contains("take 12"));
    }

    @Test
    void aStringsLengthPrefixIsReadUnsignedAndMayNotRunPastItsInput() {
        String json = "{\"inputs\": [{\"name\": \"t\", \"datatype\": \"BYTES\", \"shape\": [1], "
                + "\"parameters\": {\"binary_data_size\": 9}}]}";
        int head = json.getBytes(StandardCharsets.UTF_8).length;
        byte[] huge = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'h', 'e', 'l', 'l', 'o'};
        assertEquals("input 't': element 0 claims 4294967295 bytes but only 5 are left",
                assertThrows(InvalidInputException.class, () -> codec.decode(withBinary(json, huge), head)).getMessage());
        byte[] fits = {5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
        assertEquals("hello", new String(codec.decode(withBinary(json, fits), head).inputs().get(0).bytes()[0],
                StandardCharsets.UTF_8));
    }
}
