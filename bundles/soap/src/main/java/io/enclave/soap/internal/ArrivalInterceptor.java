package io.enclave.soap.internal;

import org.apache.cxf.message.Exchange;
import org.apache.cxf.message.Message;
import org.apache.cxf.phase.AbstractPhaseInterceptor;
import org.apache.cxf.phase.Phase;

/**
 * Notes when a call reached the service, before its XML is parsed and its WS-Security header
 * checked, so that a caller's {@code timeoutMillis} and the version's deadline count from there, as
 * they count from the servlet's entry over REST, and not from when the service method starts.
 */
final class ArrivalInterceptor extends AbstractPhaseInterceptor<Message> {
    /** The exchange's key for {@link System#nanoTime()} at arrival, a {@link Long}. */
    static final String ARRIVED = "enclave.soap.arrived";

    ArrivalInterceptor() {
        super(Phase.RECEIVE);
    }

    @Override
    public void handleMessage(Message message) {
        Exchange exchange = message.getExchange();
        if (exchange != null) {
            exchange.putIfAbsent(ARRIVED, System.nanoTime());
        }
    }

    /** @return when the call in {@code message} arrived, or now where nothing noted it */
    static long arrived(Message message) {
        Exchange exchange = message == null ? null : message.getExchange();
        return exchange != null && exchange.get(ARRIVED) instanceof Long at ? at : System.nanoTime();
    }
}
