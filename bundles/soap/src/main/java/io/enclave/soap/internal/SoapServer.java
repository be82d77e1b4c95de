package io.enclave.soap.internal;

import java.util.HashMap;
import java.util.Map;

import org.apache.cxf.Bus;
import org.apache.cxf.BusFactory;
import org.apache.cxf.jaxws.EndpointImpl;
import org.apache.cxf.staxutils.StaxUtils;
import org.apache.cxf.ws.security.SecurityConstants;
import org.apache.wss4j.common.cache.MemoryReplayCache;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.ModelRegistry;
import io.enclave.api.Router;
import io.enclave.api.SecurityService;
import io.enclave.api.TrafficControl;

/**
 * Publishes the WSDL-first {@code InferenceService} on CXF's servlet transport (so over Enclave's
 * TLS connector), with WS-Security UsernameToken or HTTP Basic authentication and bounded XML.
 */
@Component(immediate = true, configurationPid = "io.enclave.soap")
@Designate(ocd = SoapServer.Config.class)
public class SoapServer {
    private static final Logger LOG = LoggerFactory.getLogger(SoapServer.class);
    /** The checked-in contract, published as is at {@code ?wsdl} with the real address. */
    static final String WSDL = "wsdl/enclave-inference.wsdl";

    @ObjectClassDefinition(name = "Enclave SOAP API", description = "The InferenceService for ERP systems")
    public @interface Config {
        @AttributeDefinition(description = "Where the service listens, below the server root")
        String path() default "/soap/v1/inference";

        @AttributeDefinition(description = "Accept HTTP Basic (or a Bearer API key) from clients without WS-Security")
        boolean allowHttpAuthentication() default true;

        @AttributeDefinition(description = "Oldest accepted UsernameToken Created time, in seconds; nonces are remembered this long")
        int usernameTokenMaxAgeSeconds() default 300;

        @AttributeDefinition(description = "How far ahead a client's clock may be, in seconds")
        int clockSkewSeconds() default 60;

        @AttributeDefinition(description = "Most XML elements in one request")
        long maxElementCount() default 500_000;

        @AttributeDefinition(description = "Deepest element nesting in one request")
        int maxElementDepth() default 32;

        @AttributeDefinition(description = "Most children of one element")
        int maxChildElements() default 500_000;

        @AttributeDefinition(description = "Longest text of one element, in characters (one InferText text, one value)")
        int maxTextLength() default 1024 * 1024;

        @AttributeDefinition(description = "Most characters in one request")
        long maxXmlCharacters() default 64L * 1024 * 1024;
    }

    @Reference
    private Router router;
    @Reference
    private ModelRegistry registry;
    @Reference
    private TrafficControl traffic;
    @Reference
    private SecurityService security;

    private EndpointImpl endpoint;
    private MemoryReplayCache nonces;

    @Activate
    void start(Config config) {
        InferenceEndpoint implementor = new InferenceEndpoint(router, registry, traffic, security);
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        // CXF finds the WSDL, the JAXB context and its own extensions through the context class loader
        t.setContextClassLoader(SoapServer.class.getClassLoader());
        try {
            Bus bus = BusFactory.getDefaultBus();
            EndpointImpl e = new EndpointImpl(bus, implementor);
            e.setWsdlLocation(WSDL);

            Map<String, Object> properties = new HashMap<>();
            properties.put(StaxUtils.MAX_ELEMENT_COUNT, config.maxElementCount());
            properties.put(StaxUtils.MAX_ELEMENT_DEPTH, config.maxElementDepth());
            properties.put(StaxUtils.MAX_CHILD_ELEMENTS, config.maxChildElements());
            properties.put(StaxUtils.MAX_TEXT_LENGTH, config.maxTextLength());
            properties.put(StaxUtils.MAX_XML_CHARACTERS, config.maxXmlCharacters());
            properties.put(StaxUtils.MAX_ATTRIBUTE_COUNT, 64);
            properties.put(StaxUtils.MAX_ATTRIBUTE_SIZE, 64 * 1024);
            // replayed nonces are refused for as long as a token is young enough to be accepted
            nonces = new MemoryReplayCache();
            properties.put(SecurityConstants.ENABLE_NONCE_CACHE, Boolean.TRUE);
            properties.put(SecurityConstants.NONCE_CACHE_INSTANCE, nonces);
            properties.put("faultStackTraceEnabled", Boolean.FALSE);
            properties.put("exceptionMessageCauseEnabled", Boolean.FALSE);
            e.setProperties(properties);

            UsernameTokenAuthenticator authenticator = new UsernameTokenAuthenticator(security);
            SecurityHeaderInterceptor wss4j = new SecurityHeaderInterceptor(
                    SecurityHeaderInterceptor.properties(authenticator, config.usernameTokenMaxAgeSeconds(), config.clockSkewSeconds()),
                    config.usernameTokenMaxAgeSeconds(), config.clockSkewSeconds());
            e.getInInterceptors().add(new ArrivalInterceptor());
            e.getInInterceptors().add(new CallerInterceptor(security, config.allowHttpAuthentication(), wss4j));
            e.getInInterceptors().add(wss4j);
            e.getOutFaultInterceptors().add(new FaultTranslator());
            e.publish(config.path());
            endpoint = e;
        } finally {
            t.setContextClassLoader(previous);
        }
        LOG.info("SOAP InferenceService published at {} (WSDL at {}?wsdl)", config.path(), config.path());
    }

    @Deactivate
    void stop() {
        if (endpoint != null) {
            endpoint.stop();
            endpoint = null;
        }
        if (nonces != null) {
            try {
                nonces.close();
            } catch (java.io.IOException ignored) {
                // an in-memory cache has nothing to release
            }
            nonces = null;
        }
    }
}
