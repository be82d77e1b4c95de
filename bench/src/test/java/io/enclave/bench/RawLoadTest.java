package io.enclave.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The overload figures are only as good as the client's counting: every request sent must come back
 * as served, refused or failed, whatever framing the answer uses, and a closed connection must not
 * lose or double-count one.
 */
class RawLoadTest {
    private static final String BODY = "{\"inputs\":[]}";

    static {
        // the JDK's server writes head and body apart; with Nagle on, each answer would wait for the
        // client's delayed ACK (tens of ms), and the open loop would run out of connections
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private HttpServer server;
    private ExecutorService threads;
    private final AtomicInteger handled = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    /** Every n-th answer is a 503. */
    private volatile int refuseEvery = 2;
    private volatile boolean chunked;
    private volatile boolean closeEach;
    private volatile String lastBody;
    private volatile String lastAuthorization;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        threads = Executors.newFixedThreadPool(4);
        server.setExecutor(threads);
        server.createContext("/v2/models/m/infer", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        threads.shutdownNow();
    }

    private void answer(HttpExchange x) throws IOException {
        try (InputStream in = x.getRequestBody()) {
            lastBody = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        lastAuthorization = x.getRequestHeaders().getFirst("Authorization");
        int n = handled.incrementAndGet();
        boolean refuse = n % refuseEvery == 0;
        if (refuse) {
            refused.incrementAndGet();
            x.getResponseHeaders().add("Retry-After", "1");
        }
        if (closeEach) {
            x.getResponseHeaders().add("Connection", "close");
        }
        byte[] out = (refuse ? "{\"error\":\"overloaded\"}" : "{\"outputs\":[" + "0.125,".repeat(384) + "1]}")
                .getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(refuse ? 503 : 200, chunked ? 0 : out.length);
        try (OutputStream o = x.getResponseBody()) {
            o.write(out);
        }
    }

    private InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", server.getAddress().getPort());
    }

    @Test
    void openLoopSendsEveryDueRequestAndCountsEachAnswerByKind() throws IOException {
        RawLoad.Result r = RawLoad.openLoop(address(), "/v2/models/m/infer", "Basic dTpw", BODY, 200, 1, 64);
        assertEquals(200, r.served().length + r.rejected().length + r.failed() + r.notSent(), "every due request is accounted for");
        assertEquals(0, r.failed());
        assertEquals(0, r.notSent());
        assertEquals(handled.get(), r.served().length + r.rejected().length, "one answer per request the server saw");
        assertEquals(refused.get(), r.rejected().length);
        assertEquals(BODY, lastBody);
        assertEquals("Basic dTpw", lastAuthorization);
        assertTrue(r.served()[0] > 0, "times count from when a request was due");
    }

    @Test
    void closedLoopKeepsItsConnectionsBusyAndStopsAtTheEnd() throws IOException {
        refuseEvery = 3;
        RawLoad.Result r = RawLoad.closedLoop(address(), "/v2/models/m/infer", "Basic dTpw", BODY, 4, 1);
        assertEquals(0, r.failed());
        assertEquals(handled.get(), r.served().length + r.rejected().length);
        assertEquals(refused.get(), r.rejected().length);
        assertTrue(r.served().length > 50, "a local server answers many times a second: " + r.served().length);
        int after = handled.get();
        assertEquals(after, handled.get(), "nothing is sent once the round is over");
    }

    @Test
    void chunkedAnswersAndClosedConnectionsAreCountedOnce() throws IOException {
        chunked = true;
        closeEach = true;
        RawLoad.Result r = RawLoad.closedLoop(address(), "/v2/models/m/infer", "Basic dTpw", BODY, 3, 1);
        assertEquals(0, r.failed());
        assertEquals(handled.get(), r.served().length + r.rejected().length);
        assertTrue(r.served().length > 10, "a closed connection is replaced: " + r.served().length);

        RawLoad.Result open = RawLoad.openLoop(address(), "/v2/models/m/infer", "Basic dTpw", BODY, 100, 1, 32);
        assertEquals(100, open.served().length + open.rejected().length + open.failed() + open.notSent());
        assertEquals(0, open.failed());
    }
}
