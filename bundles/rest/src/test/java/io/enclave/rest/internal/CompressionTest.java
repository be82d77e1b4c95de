package io.enclave.rest.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.InflaterInputStream;

import org.junit.jupiter.api.Test;

/** Which compression a request is read with and an answer written in, as Triton's clients ask for it. */
class CompressionTest {

    private static final byte[] BODY = ("{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[2],"
            + "\"data\":[\"a cat sits on the mat\",\"a cat sits on the mat\"]}]}").getBytes(StandardCharsets.UTF_8);

    private static byte[] read(String coding, byte[] body) throws Exception {
        try (InputStream in = Compression.decoding(coding, new ByteArrayInputStream(body))) {
            return in.readAllBytes();
        }
    }

    private static byte[] deflated(byte[] body, boolean zlib) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, !zlib);
        try (DeflaterOutputStream z = new DeflaterOutputStream(out, d)) {
            z.write(body);
        }
        d.end();
        return out.toByteArray();
    }

    @Test
    void requestsAreReadAsTheirContentEncodingSays() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(BODY);
        }
        assertArrayEquals(BODY, read("gzip", gz.toByteArray()));
        assertArrayEquals(BODY, read(" GZip ", gz.toByteArray()));
        assertArrayEquals(BODY, read("x-gzip", gz.toByteArray()));
        // HTTP's deflate is zlib's format; bare deflate data, which some clients send under the name, is read too
        assertArrayEquals(BODY, read("deflate", deflated(BODY, true)));
        assertArrayEquals(BODY, read("deflate", deflated(BODY, false)));
        ByteArrayInputStream raw = new ByteArrayInputStream(BODY);
        assertSame(raw, Compression.decoding(null, raw));
        assertSame(raw, Compression.decoding("identity", raw));
        assertSame(raw, Compression.decoding("", raw));
    }

    @Test
    void aDeflateBodysInflaterIsEndedWhenItsStreamCloses() throws Exception {
        InputStream in = Compression.decoding("deflate", new ByteArrayInputStream(deflated(BODY, true)));
        java.util.zip.Inflater inflater = assertInstanceOf(Compression.Inflating.class, in).inflater();
        assertArrayEquals(BODY, in.readAllBytes());
        assertEquals(BODY.length, inflater.getBytesWritten());
        in.close();
        // an ended Inflater refuses every call; one left open would still answer
        assertThrows(NullPointerException.class, inflater::getBytesWritten);
    }

    @Test
    void aCodingTheServerDoesNotReadIsA415NamingIt() {
        Failure.UnsupportedEncodingException e = assertThrows(Failure.UnsupportedEncodingException.class,
                () -> Compression.decoding("br", new ByteArrayInputStream(BODY)));
        assertTrue(e.getMessage().contains("'br'"), e.getMessage());
        Failure f = Failure.of(e);
        assertEquals(415, f.status());
        assertEquals("gzip, deflate, identity", f.headers().get("Accept-Encoding"));
        // a header value is quoted only so far
        String long_ = "x".repeat(5000);
        assertTrue(assertThrows(Failure.UnsupportedEncodingException.class,
                () -> Compression.decoding(long_, new ByteArrayInputStream(BODY))).getMessage().length() < 200);
    }

    @Test
    void theAnswersCodingFollowsAcceptEncodingAndItsQualities() {
        assertNull(Compression.answerCoding(null));
        assertNull(Compression.answerCoding(""));
        assertNull(Compression.answerCoding("identity"));
        assertNull(Compression.answerCoding("br, zstd"));
        assertNull(Compression.answerCoding("gzip;q=0"));
        assertNull(Compression.answerCoding("*;q=0"));
        assertNull(Compression.answerCoding("gzip;q=nonsense"));
        // gzip named and refused; deflate taken through *
        assertEquals("deflate", Compression.answerCoding("gzip;q=0, *"));
        assertEquals("gzip", Compression.answerCoding("gzip"));
        assertEquals("gzip", Compression.answerCoding("GZIP"));
        assertEquals("gzip", Compression.answerCoding("gzip, deflate"));
        assertEquals("gzip", Compression.answerCoding("deflate, gzip"));
        assertEquals("gzip", Compression.answerCoding("*"));
        assertEquals("deflate", Compression.answerCoding("deflate"));
        assertEquals("deflate", Compression.answerCoding("gzip;q=0.5, deflate"));
        assertEquals("deflate", Compression.answerCoding("gzip;q=0, deflate;q=0.1"));
        assertEquals("gzip", Compression.answerCoding("br;q=1.0, gzip;q=0.8"));
    }

    @Test
    void answersAreCompressedSoTheClientsOwnZlibReadsThemBack() throws Exception {
        byte[] big = new String(BODY, StandardCharsets.UTF_8).repeat(50).getBytes(StandardCharsets.UTF_8);
        byte[] gz = Compression.encode("gzip", big);
        assertTrue(gz.length < big.length / 5, gz.length + " of " + big.length);
        assertArrayEquals(big, new GZIPInputStream(new ByteArrayInputStream(gz)).readAllBytes());
        byte[] z = Compression.encode("deflate", big);
        assertTrue(z.length < big.length / 5, z.length + " of " + big.length);
        assertArrayEquals(big, new InflaterInputStream(new ByteArrayInputStream(z)).readAllBytes());
    }
}
