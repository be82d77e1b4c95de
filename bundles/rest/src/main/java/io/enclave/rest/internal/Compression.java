package io.enclave.rest.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * HTTP compression of inference bodies, as Triton's clients use it ({@code request_compression_algorithm} and
 * {@code response_compression_algorithm}: {@code gzip} or {@code deflate}). The JDK's zlib does the work; what
 * is here is which coding applies, and the bounds: a compressed body is read only up to the same limit as a
 * plain one, counted after decompression, so a small body cannot expand into the heap.
 */
final class Compression {

    static final String GZIP = "gzip";
    static final String DEFLATE = "deflate";
    /** What a 415 lists, as RFC 9110 asks of a server refusing a request's content coding. */
    static final String ACCEPTED = "gzip, deflate, identity";

    private Compression() {
    }

    /**
     * The request body as the model should read it.
     *
     * @param contentEncoding the request's {@code Content-Encoding}, null when none
     * @throws Failure.UnsupportedEncodingException (415) for a coding other than gzip, deflate or identity
     */
    static InputStream decoding(String contentEncoding, InputStream body) throws IOException {
        String coding = contentEncoding == null ? "" : contentEncoding.trim().toLowerCase(Locale.ROOT);
        switch (coding) {
            case "", "identity":
                return body;
            case GZIP, "x-gzip":
                return new GZIPInputStream(body, 8192);
            case DEFLATE:
                return inflating(body);
            default:
                throw new Failure.UnsupportedEncodingException(contentEncoding);
        }
    }

    /**
     * HTTP's {@code deflate} is the zlib format; some clients send bare deflate data under that name, so both are
     * read, told apart by zlib's two-byte header (method 8, and a check that makes them a multiple of 31).
     */
    private static InputStream inflating(InputStream body) throws IOException {
        PushbackInputStream in = new PushbackInputStream(body, 2);
        byte[] head = in.readNBytes(2);
        in.unread(head);
        boolean zlib = head.length == 2 && (head[0] & 0x0F) == 8 && ((head[0] & 0xFF) << 8 | (head[1] & 0xFF)) % 31 == 0;
        return new Inflating(in, new Inflater(!zlib));
    }

    /**
     * Inflates with an {@link Inflater} of its own choosing, and ends it on close: an {@link InflaterInputStream}
     * given its inflater leaves it open, and its native memory would go back only when the collector got to it.
     */
    static final class Inflating extends InflaterInputStream {
        Inflating(InputStream in, Inflater inflater) {
            super(in, inflater, 8192);
        }

        Inflater inflater() {
            return inf;
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } finally {
                inf.end();
            }
        }
    }

    /**
     * The coding to answer in, from the caller's {@code Accept-Encoding}: gzip or deflate when the caller takes
     * it ({@code q} above 0, or through {@code *}), gzip first when both are taken equally; null for an
     * uncompressed answer, which is also what a header that names neither gets.
     */
    static String answerCoding(String acceptEncoding) {
        if (acceptEncoding == null || acceptEncoding.isBlank()) {
            return null;
        }
        double gzip = -1;
        double deflate = -1;
        double any = -1;
        for (String part : acceptEncoding.split(",", 64)) {
            String[] p = part.split(";", 8);
            String name = p[0].trim().toLowerCase(Locale.ROOT);
            double q = quality(p);
            switch (name) {
                case GZIP, "x-gzip" -> gzip = Math.max(gzip, q);
                case DEFLATE -> deflate = Math.max(deflate, q);
                case "*" -> any = q;
                default -> {
                    // identity, br, zstd...: not ours to give
                }
            }
        }
        if (gzip < 0) {
            gzip = any;
        }
        if (deflate < 0) {
            deflate = any;
        }
        if (gzip <= 0 && deflate <= 0) {
            return null;
        }
        return gzip >= deflate ? GZIP : DEFLATE;
    }

    /** A coding's {@code q}, 1 when it has none; a {@code q} that is not a number counts as 0, not taken. */
    private static double quality(String[] parameters) {
        for (int i = 1; i < parameters.length; i++) {
            String p = parameters[i].trim();
            if (p.length() > 2 && (p.charAt(0) == 'q' || p.charAt(0) == 'Q') && p.charAt(1) == '=') {
                try {
                    double q = Double.parseDouble(p.substring(2).trim());
                    return q >= 0 && q <= 1 ? q : 0;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 1;
    }

    /**
     * The body compressed with {@code coding}. The fastest level: the server is busy computing answers, and the
     * next levels save a few per cent of bytes on tensors at several times the CPU.
     */
    static byte[] encode(String coding, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 2 + 64);
        try {
            if (GZIP.equals(coding)) {
                try (FastGzip z = new FastGzip(out)) {
                    z.write(body);
                }
            } else {
                Deflater zlib = new Deflater(Deflater.BEST_SPEED);
                try (DeflaterOutputStream z = new DeflaterOutputStream(out, zlib, 8192)) {
                    z.write(body);
                } finally {
                    zlib.end();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    /** {@link GZIPOutputStream} at a chosen level: it takes none in its constructor, only through its deflater. */
    private static final class FastGzip extends GZIPOutputStream {
        FastGzip(ByteArrayOutputStream out) throws IOException {
            super(out, 8192);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }
}
