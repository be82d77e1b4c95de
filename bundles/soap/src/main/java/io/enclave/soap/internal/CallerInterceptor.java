package io.enclave.soap.internal;

import java.util.List;
import java.util.Map;

import org.apache.cxf.binding.soap.SoapMessage;
import org.apache.cxf.binding.soap.interceptor.AbstractSoapInterceptor;
import org.apache.cxf.headers.Header;
import org.apache.cxf.interceptor.Fault;
import org.apache.cxf.message.Message;
import org.apache.cxf.phase.Phase;
import org.apache.cxf.ws.security.wss4j.WSS4JInInterceptor;
import org.apache.wss4j.dom.WSConstants;

import io.enclave.api.AuthenticationException;
import io.enclave.api.Identity;
import io.enclave.api.SecurityService;

/**
 * Decides how a request authenticates: a WS-Security header goes to WSS4J; without one, HTTP Basic
 * (or a Bearer API key) is checked here and WSS4J is skipped for that message; with neither the
 * request is refused before anything else is read.
 */
final class CallerInterceptor extends AbstractSoapInterceptor {
    private final SecurityService security;
    private final boolean allowHttpAuthentication;
    private final WSS4JInInterceptor wss4j;

    CallerInterceptor(SecurityService security, boolean allowHttpAuthentication, WSS4JInInterceptor wss4j) {
        super(Phase.PRE_PROTOCOL);
        addBefore(WSS4JInInterceptor.class.getName());
        this.security = security;
        this.allowHttpAuthentication = allowHttpAuthentication;
        this.wss4j = wss4j;
    }

    @Override
    public void handleMessage(SoapMessage message) throws Fault {
        for (Header h : message.getHeaders()) {
            if (WSConstants.WSSE_LN.equals(h.getName().getLocalPart())
                    && (WSConstants.WSSE_NS.equals(h.getName().getNamespaceURI())
                            || WSConstants.WSSE11_NS.equals(h.getName().getNamespaceURI()))) {
                return;
            }
        }
        String authorization = authorization(message);
        if (authorization == null || !allowHttpAuthentication) {
            throw Faults.soapFault("NotAuthorizedFault", Faults.CLIENT, allowHttpAuthentication
                    ? "authentication required: send a WS-Security UsernameToken (PasswordText, Nonce, Created) or HTTP Basic credentials"
                    : "authentication required: send a WS-Security UsernameToken (PasswordText, Nonce, Created)", null);
        }
        try {
            Identity who = security.authenticateHeader(authorization, UsernameTokenAuthenticator.remote(message));
            message.getExchange().put(Identity.class, who);
        } catch (AuthenticationException e) {
            throw Faults.soapFault("NotAuthorizedFault", Faults.CLIENT, e.getMessage(),
                    e.retryAfterSeconds() > 0 ? (int) e.retryAfterSeconds() : null);
        }
        message.getInterceptorChain().remove(wss4j);
    }

    private static String authorization(SoapMessage message) {
        @SuppressWarnings("unchecked")
        Map<String, List<String>> headers = (Map<String, List<String>>) message.get(Message.PROTOCOL_HEADERS);
        if (headers == null) {
            return null;
        }
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if ("Authorization".equalsIgnoreCase(e.getKey()) && e.getValue() != null && !e.getValue().isEmpty()) {
                return e.getValue().get(0);
            }
        }
        return null;
    }
}
