package io.enclave.soap.internal;

import java.util.UUID;

import javax.xml.namespace.QName;

import org.apache.cxf.binding.soap.SoapFault;
import org.apache.cxf.helpers.DOMUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import io.enclave.api.AccessDeniedException;
import io.enclave.api.AuthenticationException;
import io.enclave.api.ConflictException;
import io.enclave.api.InferenceException;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.OverloadedException;
import io.enclave.soap.internal.wsdl.FaultDetail;
import io.enclave.soap.internal.wsdl.InvalidInput;
import io.enclave.soap.internal.wsdl.ModelNotFound;
import io.enclave.soap.internal.wsdl.NotAuthorized;
import io.enclave.soap.internal.wsdl.Unavailable;

/**
 * Enclave's failures as the contract's typed faults, each with a message that names the problem and
 * never a stack trace. Faults raised before the service method runs (authentication, XML limits)
 * carry the same detail elements, built here by hand.
 */
final class Faults {
    private static final Logger LOG = LoggerFactory.getLogger(Faults.class);
    static final String NS = "urn:enclave:inference:v1";
    static final QName CLIENT = new QName("http://schemas.xmlsoap.org/soap/envelope/", "Client");
    static final QName SERVER = new QName("http://schemas.xmlsoap.org/soap/envelope/", "Server");

    private Faults() {
    }

    /** @return the checked fault the service method throws for {@code e} */
    static Exception typed(RuntimeException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof ModelNotFoundException) {
            return new ModelNotFound(message, detail(message, null));
        }
        if (e instanceof InvalidInputException || e instanceof ConflictException) {
            return new InvalidInput(message, detail(message, null));
        }
        if (e instanceof OverloadedException o) {
            return new Unavailable(message, detail(message, o.retryAfterSeconds()));
        }
        if (e instanceof ModelUnavailableException) {
            return new Unavailable(message, detail(message, null));
        }
        if (e instanceof InferenceException) {
            LOG.warn("inference failed: {}", message);
            return new Unavailable(message, detail(message, null));
        }
        if (e instanceof AuthenticationException a) {
            return new NotAuthorized(message, detail(message, a.retryAfterSeconds() > 0 ? (int) a.retryAfterSeconds() : null));
        }
        if (e instanceof AccessDeniedException) {
            return new NotAuthorized(message, detail(message, null));
        }
        String ref = UUID.randomUUID().toString().substring(0, 8);
        LOG.error("unexpected failure serving a SOAP request (reference {})", ref, e);
        SoapFault f = new SoapFault("internal error (reference " + ref + "; the server log has the details)", SERVER);
        return f;
    }

    static FaultDetail detail(String message, Integer retryAfterSeconds) {
        FaultDetail d = new FaultDetail();
        d.setMessage(message);
        d.setRetryAfterSeconds(retryAfterSeconds);
        return d;
    }

    /**
     * A fault raised outside the service method, with the typed detail element a generated client
     * maps to its exception.
     *
     * @param element e.g. {@code NotAuthorizedFault}
     * @param code    the SOAP fault code (Client, or a WS-Security code such as wsse:FailedAuthentication)
     */
    static SoapFault soapFault(String element, QName code, String message, Integer retryAfterSeconds) {
        SoapFault fault = new SoapFault(message, code);
        Document doc = DOMUtils.createDocument();
        Element detail = doc.createElementNS(null, "detail");
        Element typed = doc.createElementNS(NS, "tns:" + element);
        Element m = doc.createElementNS(NS, "tns:message");
        m.setTextContent(message);
        typed.appendChild(m);
        if (retryAfterSeconds != null) {
            Element r = doc.createElementNS(NS, "tns:retryAfterSeconds");
            r.setTextContent(Integer.toString(retryAfterSeconds));
            typed.appendChild(r);
        }
        detail.appendChild(typed);
        fault.setDetail(detail);
        return fault;
    }
}
