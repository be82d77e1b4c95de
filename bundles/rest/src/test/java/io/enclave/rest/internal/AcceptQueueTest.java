package io.enclave.rest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.net.HttpURLConnection;
import java.net.URL;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.HandlerCollection;
import org.junit.jupiter.api.Test;

/** The accept queue is set on a real Jetty server's connectors before they open, as Pax Web starts them. */
class AcceptQueueTest {

    private static AcceptQueue.Config config(int size) {
        return new AcceptQueue.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return AcceptQueue.Config.class;
            }

            @Override
            public int acceptQueueSize() {
                return size;
            }
        };
    }

    @Test
    void connectorsOpenWithTheConfiguredQueueAndRequestsPassThrough() throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        HandlerCollection handlers = new HandlerCollection();
        // as Pax Web places it: after what answers requests, here nothing, so Jetty's 404
        handlers.addHandler(new AcceptQueue(config(777)));
        server.setHandler(handlers);
        assertEquals(0, connector.getAcceptQueueSize(), "Jetty's default: 0, which Java turns into 50");
        server.start();
        try {
            assertEquals(777, connector.getAcceptQueueSize());
            HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + connector.getLocalPort() + "/x")
                    .openConnection();
            assertEquals(404, c.getResponseCode(), "the handler answers nothing itself");
        } finally {
            server.stop();
        }
    }

    @Test
    void anOpenConnectorIsLeftAsItIs() throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.start();
        try {
            AcceptQueue late = new AcceptQueue(config(777));
            late.setServer(server);
            late.start();
            assertEquals(0, connector.getAcceptQueueSize(), "a listening socket's queue cannot change");
            assertTrue(connector.isOpen());
            late.stop();
        } finally {
            server.stop();
        }
    }

    @Test
    void outOfRangeSizesAreRefusedByName() {
        for (int bad : new int[] {0, -1, 65_536}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AcceptQueue(config(bad)));
            assertTrue(e.getMessage().contains("acceptQueueSize"), e.getMessage());
        }
        assertEquals(1, AcceptQueue.size(1));
        assertEquals(65_535, AcceptQueue.size(65_535));
    }
}
