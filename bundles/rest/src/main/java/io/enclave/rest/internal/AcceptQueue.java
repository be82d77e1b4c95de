package io.enclave.rest.internal;

import java.io.IOException;

import javax.servlet.ServletException;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.AbstractHandler;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives the HTTP server's connectors an accept queue that holds a burst of new connections (PID
 * {@code io.enclave.http}).
 *
 * <p>Pax Web 8 opens its connectors with Java's default queue of 50 and has no setting for it. When
 * more clients than that connect at once while the cores are busy, the kernel drops their SYNs and
 * they retry only after 1 s, then 2 s. Connectors defined in a Jetty XML file cannot help: Pax Web
 * removes every connector that speaks HTTP/1.1 when plain HTTP is off, the secure one included.
 *
 * <p>Pax Web adds a Jetty {@link Handler} service to the server it builds and rebuilds the server when
 * one arrives; a server starts its handlers before it opens its connectors, so {@link #doStart()}
 * still finds them closed. The handler itself answers nothing: with a negative ranking it sits after
 * the web contexts and only sees requests none of them took.
 */
@Component(service = Handler.class, configurationPid = "io.enclave.http", property = "service.ranking:Integer=-1000")
@Designate(ocd = AcceptQueue.Config.class)
public class AcceptQueue extends AbstractHandler {
    private static final Logger LOG = LoggerFactory.getLogger(AcceptQueue.class);

    @ObjectClassDefinition(name = "Enclave HTTP connections", description = "How the HTTP server takes new connections")
    public @interface Config {
        @AttributeDefinition(description = "New connections the kernel holds for the HTTP server while it is busy, "
                + "per port (Java's default is 50); the kernel caps it at net.core.somaxconn. Changing it restarts "
                + "the HTTP server", min = "1", max = "65535")
        int acceptQueueSize() default 1024;
    }

    private final int size;

    @Activate
    public AcceptQueue(Config config) {
        this.size = size(config.acceptQueueSize());
    }

    static int size(int configured) {
        if (configured < 1 || configured > 65_535) {
            throw new IllegalArgumentException("acceptQueueSize must be between 1 and 65535, got " + configured);
        }
        return configured;
    }

    @Override
    protected void doStart() throws Exception {
        Server server = getServer();
        for (Connector connector : server == null ? new Connector[0] : server.getConnectors()) {
            if (!(connector instanceof ServerConnector listening)) {
                continue;
            }
            if (listening.isStarted() || listening.isStarting()) {
                LOG.warn("{} is already open: its accept queue stays {} until the HTTP server restarts", listening,
                        listening.getAcceptQueueSize());
            } else {
                listening.setAcceptQueueSize(size);
                LOG.info("{}: accept queue {}", listening, size);
            }
        }
        super.doStart();
    }

    @Override
    public void handle(String target, Request baseRequest, HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        // not ours: the web contexts before this handler answer every request
    }
}
