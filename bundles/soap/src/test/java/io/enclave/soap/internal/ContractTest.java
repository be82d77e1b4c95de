package io.enclave.soap.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.validation.SchemaFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** The README's SOAP example is the checked-in one, and its payloads are valid against the contract's schema. */
class ContractTest {
    private static final Path ROOT = Path.of("../..");

    @Test
    void theReadmeShowsTheCheckedInRequestAndBothExamplesMatchTheSchema() throws Exception {
        var schema = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI)
                .newSchema(Path.of("src/main/resources/wsdl/enclave-inference.xsd").toFile());
        for (String example : new String[] {"infer-text-request.xml", "infer-text-response.xml"}) {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document d = f.newDocumentBuilder().parse(ROOT.resolve("docs/soap/" + example).toFile());
            Element body = (Element) d.getElementsByTagNameNS("http://schemas.xmlsoap.org/soap/envelope/", "Body").item(0);
            Node payload = body.getFirstChild();
            while (!(payload instanceof Element)) {
                payload = payload.getNextSibling();
            }
            schema.newValidator().validate(new DOMSource(payload));
        }
        String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
        String request = Files.readString(ROOT.resolve("docs/soap/infer-text-request.xml"), StandardCharsets.UTF_8);
        String envelope = request.substring(request.indexOf("<soapenv:Envelope")).strip();
        assertTrue(readme.contains(envelope), "README.md should show docs/soap/infer-text-request.xml as it is");
    }
}
