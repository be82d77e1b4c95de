package io.enclave.bench;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * A small dense model written as ONNX protobuf by hand (no Python, nothing downloaded): x [N, in] →
 * MatMul → Add → Relu → MatMul → Add → y [N, out], weights from a fixed seed.
 */
final class OnnxMlp {
    private OnnxMlp() {
    }

    static byte[] model(int in, int hidden, int out, long seed) {
        Random r = new Random(seed);
        Proto graph = new Proto();
        graph.message(1, node("x", "W1", "h0", "MatMul"));
        graph.message(1, node("h0", "b1", "h1", "Add"));
        graph.message(1, new Proto().string(1, "h1").string(2, "h2").string(3, "relu").string(4, "Relu"));
        graph.message(1, node("h2", "W2", "h3", "MatMul"));
        graph.message(1, node("h3", "b2", "y", "Add"));
        graph.string(2, "enclave-bench-mlp");
        graph.message(5, tensor("W1", new long[] {in, hidden}, r));
        graph.message(5, tensor("b1", new long[] {hidden}, r));
        graph.message(5, tensor("W2", new long[] {hidden, out}, r));
        graph.message(5, tensor("b2", new long[] {out}, r));
        graph.message(11, valueInfo("x", in));
        graph.message(12, valueInfo("y", out));
        Proto model = new Proto();
        model.varint(1, 8);
        model.string(2, "enclave-bench");
        model.message(7, graph);
        model.message(8, new Proto().string(1, "").varint(2, 13));
        return model.bytes();
    }

    private static Proto node(String a, String b, String out, String op) {
        return new Proto().string(1, a).string(1, b).string(2, out).string(3, out).string(4, op);
    }

    private static Proto tensor(String name, long[] dims, Random r) {
        int n = 1;
        for (long d : dims) {
            n *= (int) d;
        }
        ByteBuffer raw = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        float scale = (float) Math.sqrt(2.0 / dims[0]);
        for (int i = 0; i < n; i++) {
            raw.putFloat((float) r.nextGaussian() * scale);
        }
        Proto t = new Proto();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, 1);
        t.string(8, name);
        t.bytes(9, raw.array());
        return t;
    }

    private static Proto valueInfo(String name, int width) {
        Proto shape = new Proto().message(1, new Proto().string(2, "N")).message(1, new Proto().varint(1, width));
        Proto tensorType = new Proto().varint(1, 1).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    /** Just enough protobuf: varints, strings, bytes and nested messages. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            tag(field, 0);
            raw(value);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto bytes(int field, byte[] b) {
            tag(field, 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.bytes());
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wire) {
            raw(((long) field << 3) | wire);
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
