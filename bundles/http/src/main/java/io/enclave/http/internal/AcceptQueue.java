package io.enclave.http.internal;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives the HTTP server's connectors an accept queue that holds a burst of new connections.
 *
 * <p>Pax Web 8 opens its connectors with Java's default queue of 50 and has no setting for it. When
 * more clients than that connect at once while the cores are busy, the kernel drops their SYNs and
 * they retry only after 1 s, then 2 s.
 *
 * <p>{@code etc/enclave-jetty.xml} adds this bean to every server Pax Web builds, with the size from
 * {@code enclave.http.acceptQueueSize} in {@code etc/org.ops4j.pax.web.cfg}. A server starts its beans
 * before it opens its connectors, so {@link #doStart()} finds them closed. Connectors defined in that
 * file instead would not do: Pax Web removes every connector that speaks HTTP/1.1 when plain HTTP is
 * off, the secure one included. Nor would a Jetty handler service: Pax Web rebuilds its server when
 * one arrives, and a connection accepted just as the old server stops can hang.
 */
public class AcceptQueue extends AbstractLifeCycle {
    private static final Logger LOG = LoggerFactory.getLogger(AcceptQueue.class);
    static final int DEFAULT = 1024;

    private final Server server;
    private final int size;

    /**
     * @param server     the server whose connectors this sets
     * @param configured the queue per connector; one outside 1..65535 is reported and the default used
     */
    public AcceptQueue(Server server, int configured) {
        this.server = server;
        this.size = size(configured);
    }

    static int size(int configured) {
        if (configured < 1 || configured > 65_535) {
            LOG.error("enclave.http.acceptQueueSize in etc/org.ops4j.pax.web.cfg must be between 1 and 65535, got {};"
                    + " using {}", configured, DEFAULT);
            return DEFAULT;
        }
        return configured;
    }

    int size() {
        return size;
    }

    @Override
    protected void doStart() {
        for (Connector connector : server.getConnectors()) {
            if (!(connector instanceof ServerConnector listening)) {
                continue;
            }
            if (listening.isOpen()) {
                LOG.warn("{} is already open: its accept queue stays {} until the HTTP server restarts", listening,
                        listening.getAcceptQueueSize());
            } else {
                listening.setAcceptQueueSize(size);
                LOG.info("{}: accept queue {}", listening, size);
            }
        }
    }
}
