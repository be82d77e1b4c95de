package io.enclave.soap.internal;

import java.util.UUID;

import javax.xml.ws.WebFault;

import org.apache.cxf.binding.soap.SoapFault;
import org.apache.cxf.interceptor.Fault;
import org.apache.cxf.message.Message;
import org.apache.cxf.phase.AbstractPhaseInterceptor;
import org.apache.cxf.phase.Phase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Element;

/**
 * The last word on faults CXF raises on its own, before the service method: malformed XML, a DTD,
 * a body over the XML limits, an unknown operation. The caller's mistakes leave as an InvalidInput
 * fault naming the problem; anything else as an internal error with a reference for the log. Never
 * a stack trace. Typed faults from the service and the security interceptors pass untouched.
 */
final class FaultTranslator extends AbstractPhaseInterceptor<Message> {
    private static final Logger LOG = LoggerFactory.getLogger(FaultTranslator.class);
    private static final int MAX_MESSAGE = 300;

    FaultTranslator() {
        super(Phase.SETUP);
    }

    @Override
    public void handleMessage(Message message) {
        Exception content = message.getContent(Exception.class);
        if (!(content instanceof Fault fault)) {
            return;
        }
        if (typed(fault)) {
            // the caller's mistakes are Client faults; CXF marks every checked fault Server
            if (!(fault.getCause() instanceof io.enclave.soap.internal.wsdl.Unavailable) && !(fault instanceof SoapFault)) {
                fault.setFaultCode(Fault.FAULT_CODE_CLIENT);
            }
            return;
        }
        Throwable cause = fault.getCause();
        boolean client = fault instanceof SoapFault s && "Client".equals(s.getFaultCode().getLocalPart())
                || fault.getFaultCode() != null && "Client".equals(fault.getFaultCode().getLocalPart())
                || xml(cause);
        SoapFault replacement;
        if (client) {
            replacement = Faults.soapFault("InvalidInputFault", Faults.CLIENT,
                    "the request is not acceptable: " + describe(fault), null);
        } else {
            String ref = UUID.randomUUID().toString().substring(0, 8);
            LOG.error("SOAP request failed (reference {})", ref, fault);
            replacement = Faults.soapFault("UnavailableFault", Faults.SERVER,
                    "internal error (reference " + ref + "; the server log has the details)", null);
        }
        message.setContent(Exception.class, replacement);
    }

    /** A fault the contract already describes: the service's checked faults, or one built by {@link Faults}. */
    private static boolean typed(Fault fault) {
        for (Throwable t = fault.getCause(); t != null; t = t.getCause()) {
            if (t.getClass().isAnnotationPresent(WebFault.class)) {
                return true;
            }
        }
        Element detail = fault.getDetail();
        if (detail != null) {
            for (org.w3c.dom.Node n = detail.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e && Faults.NS.equals(e.getNamespaceURI())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean xml(Throwable t) {
        for (; t != null; t = t.getCause()) {
            if (t instanceof javax.xml.stream.XMLStreamException || t instanceof javax.xml.bind.UnmarshalException
                    || t instanceof org.xml.sax.SAXException) {
                return true;
            }
        }
        return false;
    }

    /** The most specific message in the chain, on one line and short: parsers put positions and names there, not secrets. */
    private static String describe(Fault fault) {
        String best = fault.getMessage();
        for (Throwable t = fault.getCause(); t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                best = t.getMessage();
            }
        }
        if (best == null) {
            return "malformed request";
        }
        if (best.contains("DTD")) {
            // Woodstox says "Received event DTD"; the caller needs to know what to remove
            return "a DOCTYPE (DTD, entity declarations) is not accepted";
        }
        best = best.replaceAll("\\s+", " ").trim();
        return best.length() > MAX_MESSAGE ? best.substring(0, MAX_MESSAGE) + "…" : best;
    }

}
