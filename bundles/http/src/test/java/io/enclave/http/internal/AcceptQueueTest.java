package io.enclave.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.HttpURLConnection;
import java.net.URL;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

/** The accept queue is set on a real Jetty server's connectors before they open, as Pax Web starts them. */
class AcceptQueueTest {

    private static ServerConnector connector(Server server) {
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        return connector;
    }

    @Test
    void connectorsAddedAfterTheBeanOpenWithTheConfiguredQueue() throws Exception {
        Server server = new Server();
        // as etc/enclave-jetty.xml runs: the bean first, Pax Web's connectors after it
        server.addBean(new AcceptQueue(server, 777));
        ServerConnector plain = connector(server);
        ServerConnector other = connector(server);
        server.addConnector(plain);
        server.addConnector(other);
        assertEquals(0, plain.getAcceptQueueSize(), "Jetty's default: 0, which Java turns into 50");
        server.start();
        try {
            assertEquals(777, plain.getAcceptQueueSize());
            assertEquals(777, other.getAcceptQueueSize());
            HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + plain.getLocalPort() + "/x")
                    .openConnection();
            assertEquals(404, c.getResponseCode(), "the server still answers");
        } finally {
            server.stop();
        }
    }

    @Test
    void anOpenConnectorIsLeftAsItIs() throws Exception {
        Server server = new Server();
        ServerConnector connector = connector(server);
        server.addConnector(connector);
        server.start();
        try {
            AcceptQueue late = new AcceptQueue(server, 777);
            late.start();
            assertEquals(0, connector.getAcceptQueueSize(), "a listening socket's queue cannot change");
            assertTrue(connector.isOpen());
        } finally {
            server.stop();
        }
    }

    @Test
    void anOutOfRangeSizeFallsBackToTheDefault() {
        Server server = new Server();
        for (int bad : new int[] {0, -1, 65_536}) {
            assertEquals(AcceptQueue.DEFAULT, new AcceptQueue(server, bad).size(), "size " + bad);
        }
        assertEquals(1, new AcceptQueue(server, 1).size());
        assertEquals(65_535, new AcceptQueue(server, 65_535).size());
    }
}
