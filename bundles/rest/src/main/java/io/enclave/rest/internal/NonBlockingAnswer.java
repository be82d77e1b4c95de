package io.enclave.rest.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

import javax.servlet.AsyncContext;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpServletResponseWrapper;

import org.eclipse.jetty.server.HttpOutput;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a waiting request's answer from the thread that completed it, without blocking that thread: through
 * Jetty's own asynchronous send, which writes what the socket takes at once and leaves the rest to Jetty's
 * selector. A batch's callers then have their answers as soon as the batch ends, and come back sooner with their
 * next requests, which fills the next batches. Handing each answer to a server thread instead made it wait for a
 * core the workers held: on 2 cores at 32 callers, 10.6 rows an engine call and 760 requests a second against 11.8
 * and 791 this way ({@code bench/RESULTS.md}, session 28). A caller that does not read its answer stalls only its
 * own connection, never the worker: what the socket does not take, Jetty's selector writes as the caller reads.
 *
 * <p>Jetty's classes are imported optionally: under another servlet container, or should they not be wired,
 * {@link #AVAILABLE} is false and answers are written on a server thread as before.
 */
final class NonBlockingAnswer {
    private static final Logger LOG = LoggerFactory.getLogger(NonBlockingAnswer.class);
    static final boolean AVAILABLE = jetty();

    private NonBlockingAnswer() {
    }

    private static boolean jetty() {
        try {
            Class.forName("org.eclipse.jetty.server.HttpOutput", false, NonBlockingAnswer.class.getClassLoader());
            Class.forName("org.eclipse.jetty.util.Callback", false, NonBlockingAnswer.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Whether {@code resp} writes through Jetty's output, which {@link #send} needs; call only when {@link #AVAILABLE}.
     */
    static boolean applies(HttpServletResponse resp) {
        try {
            return resp.getOutputStream() instanceof HttpOutput;
        } catch (IOException | RuntimeException e) {
            // the response cannot be written at all: the usual path reports it
            return false;
        }
    }

    /**
     * Sends {@code body} as the whole content of {@code resp} (status and headers already set; {@link #applies} held)
     * and completes {@code async} once it is written or the connection failed.
     */
    static void send(HttpServletResponse resp, byte[] body, AsyncContext async) throws IOException {
        ((HttpOutput) resp.getOutputStream()).sendContent(ByteBuffer.wrap(body), new Callback() {
            @Override
            public void succeeded() {
                async.complete();
            }

            @Override
            public void failed(Throwable gone) {
                // the caller went away: nothing is left to tell it
                LOG.debug("could not answer an inference request: {}", gone.toString());
                async.complete();
            }
        });
    }

    /**
     * A response whose body is kept rather than written: the servlet's answer and error paths write their whole
     * body at once, which {@link #body()} then hands over without a copy.
     */
    static final class Captured extends HttpServletResponseWrapper {
        private byte[] single;
        private ByteArrayOutputStream more;
        private final ServletOutputStream out = new ServletOutputStream() {
            @Override
            public void write(int b) {
                buffer().write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                if (single == null && more == null && off == 0 && len == b.length) {
                    single = b;
                } else {
                    buffer().write(b, off, len);
                }
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {
                throw new IllegalStateException("a captured body is written at once");
            }
        };

        Captured(HttpServletResponse resp) {
            super(resp);
        }

        private ByteArrayOutputStream buffer() {
            if (more == null) {
                more = new ByteArrayOutputStream();
                if (single != null) {
                    more.writeBytes(single);
                    single = null;
                }
            }
            return more;
        }

        @Override
        public ServletOutputStream getOutputStream() {
            return out;
        }

        /** What was written, in order; empty when nothing was. */
        byte[] body() {
            return more != null ? more.toByteArray() : single != null ? single : new byte[0];
        }
    }
}
