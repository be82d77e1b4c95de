package io.enclave.soap.internal;

import java.util.List;
import java.util.Map;

import javax.xml.namespace.QName;

import org.apache.cxf.binding.soap.SoapFault;
import org.apache.cxf.binding.soap.SoapMessage;
import org.apache.cxf.interceptor.Fault;
import org.apache.cxf.ws.security.wss4j.WSS4JInInterceptor;
import org.apache.wss4j.common.ConfigurationConstants;
import org.apache.wss4j.common.ext.WSSecurityException;
import org.apache.wss4j.dom.WSConstants;
import org.apache.wss4j.dom.engine.WSSecurityEngineResult;

/**
 * WSS4J's UsernameToken processing, with two changes: a Timestamp beside the token is welcome (many
 * ERP stacks add one), and a refusal becomes the contract's NotAuthorized fault with a message that
 * says what was wrong, keeping WS-Security's own fault code (wsse:FailedAuthentication,
 * wsse:MessageExpired, ...).
 */
final class SecurityHeaderInterceptor extends WSS4JInInterceptor {
    private final int maxAgeSeconds;
    private final int futureSeconds;

    SecurityHeaderInterceptor(Map<String, Object> properties, int maxAgeSeconds, int futureSeconds) {
        super(properties);
        this.maxAgeSeconds = maxAgeSeconds;
        this.futureSeconds = futureSeconds;
    }

    static Map<String, Object> properties(UsernameTokenAuthenticator authenticator, int maxAgeSeconds, int futureSeconds) {
        return Map.of(
                ConfigurationConstants.ACTION, ConfigurationConstants.USERNAME_TOKEN,
                ConfigurationConstants.TTL_USERNAMETOKEN, Integer.toString(maxAgeSeconds),
                ConfigurationConstants.TTL_FUTURE_USERNAMETOKEN, Integer.toString(futureSeconds),
                ConfigurationConstants.TTL_TIMESTAMP, Integer.toString(maxAgeSeconds),
                ConfigurationConstants.TTL_FUTURE_TIMESTAMP, Integer.toString(futureSeconds),
                VALIDATOR_MAP, Map.of(WSConstants.USERNAME_TOKEN, authenticator));
    }

    @Override
    public void handleMessage(SoapMessage message) throws Fault {
        try {
            super.handleMessage(message);
        } catch (SoapFault f) {
            if (!(f.getCause() instanceof WSSecurityException)) {
                // the envelope itself could not be read (XML limits, a DTD): not an authentication matter
                throw f;
            }
            throw translate(message, f);
        }
    }

    private SoapFault translate(SoapMessage message, SoapFault f) {
        WSSecurityException e = f.getCause() instanceof WSSecurityException w ? w : null;
        QName code = e != null && e.getFaultCode() != null ? e.getFaultCode() : Faults.CLIENT;
        UsernameTokenAuthenticator.Problem problem = message.getExchange() == null ? null
                : (UsernameTokenAuthenticator.Problem) message.getExchange().get(UsernameTokenAuthenticator.PROBLEM);
        String text;
        Integer retry = null;
        if (problem != null) {
            text = problem.message();
            retry = problem.retryAfterSeconds();
        } else if (e != null && e.getErrorCode() == WSSecurityException.ErrorCode.MESSAGE_EXPIRED) {
            text = "the UsernameToken's Created time (or the Timestamp) is more than " + maxAgeSeconds
                    + " s old or more than " + futureSeconds + " s ahead: send a fresh token with every request";
        } else if (e != null && String.valueOf(e.getMessage()).contains("replay")) {
            text = "this UsernameToken's Nonce was already used: send a fresh Nonce with every request";
        } else {
            text = "the WS-Security header was not accepted: send one UsernameToken (PasswordText, Nonce, Created)";
        }
        return Faults.soapFault("NotAuthorizedFault", code, text, retry);
    }

    /** One UsernameToken is required; a Timestamp may come with it; nothing else is expected. */
    @Override
    protected void checkActions(SoapMessage msg, List<WSSecurityEngineResult> results, List<Integer> actions)
            throws WSSecurityException {
        int tokens = 0;
        for (WSSecurityEngineResult r : results) {
            Integer action = (Integer) r.get(WSSecurityEngineResult.TAG_ACTION);
            if (action != null && action == WSConstants.UT) {
                tokens++;
            } else if (action == null || action != WSConstants.TS) {
                throw new WSSecurityException(WSSecurityException.ErrorCode.INVALID_SECURITY);
            }
        }
        if (tokens != 1) {
            throw new WSSecurityException(WSSecurityException.ErrorCode.INVALID_SECURITY);
        }
    }
}
