package io.enclave.itests;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Hand-built SOAP 1.1 envelopes for the InferenceService, for the cases no well-behaved client
 * sends (a replayed nonce, a stale token, a DTD), and a parser for what comes back.
 */
final class SoapMessages {
    static final String PATH = "/soap/v1/inference";
    static final String NS = "urn:enclave:inference:v1";
    static final String WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    static final String WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    static final String PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
    static final String PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";
    private static final SecureRandom RANDOM = new SecureRandom();

    private SoapMessages() {
    }

    /** A UsernameToken as a client would send it; null fields are left out. */
    record Token(String user, String password, String passwordType, String nonce, String created) {
        static Token fresh(String user, String password) {
            return new Token(user, password, PASSWORD_TEXT, freshNonce(), now());
        }

        Token withNonce(String n) {
            return new Token(user, password, passwordType, n, created);
        }

        Token withCreated(String c) {
            return new Token(user, password, passwordType, nonce, c);
        }

        Token withPasswordType(String t) {
            return new Token(user, password, t, nonce, created);
        }

        String xml() {
            StringBuilder b = new StringBuilder("<wsse:Security soapenv:mustUnderstand=\"1\" xmlns:wsse=\"" + WSSE
                    + "\" xmlns:wsu=\"" + WSU + "\"><wsse:UsernameToken wsu:Id=\"UT-1\"><wsse:Username>" + escape(user)
                    + "</wsse:Username>");
            if (password != null) {
                b.append("<wsse:Password Type=\"").append(passwordType).append("\">").append(escape(password)).append("</wsse:Password>");
            }
            if (nonce != null) {
                b.append("<wsse:Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary\">")
                        .append(nonce).append("</wsse:Nonce>");
            }
            if (created != null) {
                b.append("<wsu:Created>").append(created).append("</wsu:Created>");
            }
            return b.append("</wsse:UsernameToken></wsse:Security>").toString();
        }
    }

    static String freshNonce() {
        byte[] n = new byte[16];
        RANDOM.nextBytes(n);
        return Base64.getEncoder().encodeToString(n);
    }

    static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** @param token null for no WS-Security header */
    static String envelope(Token token, String body) {
        return "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:inf=\"" + NS
                + "\"><soapenv:Header>" + (token == null ? "" : token.xml()) + "</soapenv:Header><soapenv:Body>" + body
                + "</soapenv:Body></soapenv:Envelope>";
    }

    static String listModels() {
        return "<inf:ListModels/>";
    }

    static String metadata(String model) {
        return "<inf:GetModelMetadata><inf:model>" + model + "</inf:model></inf:GetModelMetadata>";
    }

    static String inferText(String model, String... texts) {
        StringBuilder b = new StringBuilder("<inf:InferText><inf:model>" + model + "</inf:model>");
        for (String t : texts) {
            b.append("<inf:text>").append(escape(t)).append("</inf:text>");
        }
        return b.append("</inf:InferText>").toString();
    }

    static String infer(String model, String version, String... texts) {
        StringBuilder b = new StringBuilder("<inf:Infer><inf:model>" + model + "</inf:model>");
        if (version != null) {
            b.append("<inf:version>").append(version).append("</inf:version>");
        }
        b.append("<inf:input><inf:name>text</inf:name><inf:datatype>BYTES</inf:datatype><inf:shape><inf:dim>")
                .append(texts.length).append("</inf:dim></inf:shape><inf:stringValues>");
        for (String t : texts) {
            b.append("<inf:v>").append(escape(t)).append("</inf:v>");
        }
        return b.append("</inf:stringValues></inf:input></inf:Infer>").toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** What came back: the HTTP status, and either the payload element or the fault's parts. */
    record Answer(int status, String raw, Element payload, String faultCode, String faultString, String faultElement,
            String faultMessage) {
        boolean ok() {
            return status == 200 && faultCode == null && payload != null;
        }

        /** e.g. {@code ok} or {@code NotAuthorizedFault}, for tables */
        String outcome() {
            return ok() ? "ok" : faultElement != null ? faultElement : "HTTP " + status;
        }

        String text(String localName) {
            var nodes = payload.getElementsByTagNameNS(NS, localName);
            return nodes.getLength() == 0 ? null : nodes.item(0).getTextContent();
        }

        /** The payload as a standalone document, for schema validation. */
        String payloadXml() throws Exception {
            var t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "no");
            var out = new java.io.StringWriter();
            t.transform(new DOMSource(payload), new StreamResult(out));
            return out.toString();
        }
    }

    /**
     * Posts an envelope to the service.
     *
     * @param authorization an HTTP Authorization header, or null
     */
    static Answer post(java.net.http.HttpClient http, String base, java.net.http.HttpRequest.BodyPublisher body,
            String authorization) throws Exception {
        var r = java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + PATH)).timeout(java.time.Duration.ofSeconds(120))
                .header("Content-Type", "text/xml; charset=utf-8").header("SOAPAction", "\"\"").POST(body);
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        var response = http.send(r.build(), java.net.http.HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return parse(response.statusCode(), response.body());
    }

    static Answer parse(int status, String raw) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        Document d = f.newDocumentBuilder().parse(new ByteArrayInputStream(raw.getBytes(StandardCharsets.UTF_8)));
        Element body = (Element) d.getDocumentElement().getElementsByTagNameNS("http://schemas.xmlsoap.org/soap/envelope/", "Body").item(0);
        Element first = firstChild(body);
        if (first != null && "Fault".equals(first.getLocalName())) {
            String code = childText(first, "faultcode");
            String string = childText(first, "faultstring");
            Element detail = null;
            for (Node n = first.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e && "detail".equals(e.getLocalName())) {
                    detail = firstChild(e);
                }
            }
            String element = detail == null ? null : detail.getLocalName();
            String message = detail == null ? null : childText(detail, "message");
            // a code such as ns1:FailedAuthentication: the local part is what matters
            String local = code == null ? null : code.substring(code.indexOf(':') + 1);
            return new Answer(status, raw, detail, local, string, element, message);
        }
        return new Answer(status, raw, first, null, null, null, null);
    }

    private static Element firstChild(Element e) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                return c;
            }
        }
        return null;
    }

    private static String childText(Element e, String localName) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && localName.equals(c.getLocalName())) {
                return c.getTextContent();
            }
        }
        return null;
    }
}
