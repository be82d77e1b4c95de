package io.enclave.soap.internal;

import javax.servlet.http.HttpServletRequest;

import org.apache.cxf.message.Message;
import org.apache.cxf.transport.http.AbstractHTTPDestination;
import org.apache.wss4j.common.ext.WSSecurityException;
import org.apache.wss4j.dom.WSConstants;
import org.apache.wss4j.dom.handler.RequestData;
import org.apache.wss4j.dom.message.token.UsernameToken;
import org.apache.wss4j.dom.validate.Credential;
import org.apache.wss4j.dom.validate.UsernameTokenValidator;

import io.enclave.api.AuthenticationException;
import io.enclave.api.Identity;
import io.enclave.api.SecurityService;

/**
 * Checks a WS-Security UsernameToken against Enclave's one user base, the same way REST checks
 * HTTP Basic (so throttling and the audit of failed logins apply too). Only PasswordText is
 * accepted, because the container stores password hashes and cannot check a digest; the token must
 * carry a Nonce and a Created time, which WSS4J has already checked for replay and age.
 */
final class UsernameTokenAuthenticator extends UsernameTokenValidator {
    /** Why authentication failed, in words for the caller; read when the fault is built. */
    static final String PROBLEM = "enclave.soap.auth.problem";

    /** A reason and, for throttled callers, when to come back. */
    record Problem(String message, Integer retryAfterSeconds) {
    }

    private final SecurityService security;

    UsernameTokenAuthenticator(SecurityService security) {
        this.security = security;
    }

    @Override
    public Credential validate(Credential credential, RequestData data) throws WSSecurityException {
        Message message = (Message) data.getMsgContext();
        UsernameToken ut = credential == null ? null : credential.getUsernametoken();
        if (ut == null || ut.getName() == null || ut.getName().isEmpty()) {
            throw refuse(message, "the UsernameToken has no user name", null);
        }
        if (ut.getNonce() == null || ut.getCreated() == null) {
            throw refuse(message, "the UsernameToken needs a Nonce and a Created time (replay protection)", null);
        }
        if (ut.isHashed() || !WSConstants.PASSWORD_TEXT.equals(ut.getPasswordType())) {
            throw refuse(message, "send the password as PasswordText over TLS (PasswordDigest cannot be checked against stored password hashes)", null);
        }
        String password = ut.getPassword();
        if (password == null) {
            throw refuse(message, "the UsernameToken has no password", null);
        }
        char[] chars = password.toCharArray();
        try {
            Identity who = security.authenticate(ut.getName(), chars, remote(message));
            message.getExchange().put(Identity.class, who);
            return credential;
        } catch (AuthenticationException e) {
            throw refuse(message, e.getMessage(), e.retryAfterSeconds() > 0 ? (int) e.retryAfterSeconds() : null);
        } finally {
            java.util.Arrays.fill(chars, '\0');
        }
    }

    private static WSSecurityException refuse(Message message, String why, Integer retryAfterSeconds) {
        if (message != null && message.getExchange() != null) {
            message.getExchange().put(PROBLEM, new Problem(why, retryAfterSeconds));
        }
        return new WSSecurityException(WSSecurityException.ErrorCode.FAILED_AUTHENTICATION);
    }

    static String remote(Message message) {
        Object request = message == null ? null : message.get(AbstractHTTPDestination.HTTP_REQUEST);
        return request instanceof HttpServletRequest r ? r.getRemoteAddr() : "unknown";
    }
}
