package io.enclave.rest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Proxy;

import javax.servlet.http.HttpServletRequest;

import org.junit.jupiter.api.Test;

import io.enclave.rest.internal.OpenInferenceServlet.Endpoint;
import io.enclave.rest.internal.OpenInferenceServlet.Route;

/** How {@code /v2} paths map to endpoints: on the raw URI, segment by segment, nothing decoded. */
class OpenInferenceRoutesTest {

    /** A request that answers only what routing asks: its raw URI, under the root context. */
    private static HttpServletRequest request(String uri) {
        return (HttpServletRequest) Proxy.newProxyInstance(HttpServletRequest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getRequestURI" -> uri;
                    case "getContextPath" -> "";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static Route route(String uri) {
        return OpenInferenceServlet.route(request(uri));
    }

    @Test
    void everyEndpointOfTheProtocol() {
        assertEquals(new Route(Endpoint.SERVER, null, null), route("/v2"));
        assertEquals(new Route(Endpoint.SERVER, null, null), route("/v2/"));
        assertEquals(new Route(Endpoint.LIVE, null, null), route("/v2/health/live"));
        assertEquals(new Route(Endpoint.READY, null, null), route("/v2/health/ready"));
        assertEquals(new Route(Endpoint.MODEL, "minilm", null), route("/v2/models/minilm"));
        assertEquals(new Route(Endpoint.MODEL, "minilm", "1.0.0"), route("/v2/models/minilm/versions/1.0.0"));
        assertEquals(new Route(Endpoint.MODEL_READY, "minilm", null), route("/v2/models/minilm/ready"));
        assertEquals(new Route(Endpoint.MODEL_READY, "minilm", "1.1.0"), route("/v2/models/minilm/versions/1.1.0/ready"));
        assertEquals(new Route(Endpoint.INFER, "minilm", null), route("/v2/models/minilm/infer"));
        assertEquals(new Route(Endpoint.INFER, "minilm", "1.0.0"), route("/v2/models/minilm/versions/1.0.0/infer/"));
        assertEquals(new Route(Endpoint.MODEL_CONFIG, "minilm", null), route("/v2/models/minilm/config"));
        assertEquals(new Route(Endpoint.MODEL_CONFIG, "minilm", "1.1.0"), route("/v2/models/minilm/versions/1.1.0/config"));
        assertEquals(new Route(Endpoint.STATS, null, null), route("/v2/models/stats"));
        assertEquals(new Route(Endpoint.STATS, "minilm", null), route("/v2/models/minilm/stats"));
        assertEquals(new Route(Endpoint.STATS, "minilm", "1.0.0"), route("/v2/models/minilm/versions/1.0.0/stats/"));
    }

    @Test
    void anythingElseIsNoEndpoint() {
        for (String uri : new String[] {"/v2x", "/v2/health", "/v2/health/dead", "/v2/models", "/v2/models//infer",
                "/v2/models/minilm/predict", "/v2/models/minilm/versions", "/v2/models/minilm/releases/1.0.0",
                "/v2/models/minilm/versions/1.0.0/infer/more", "/v2/models/stats/more", "/v2/stats", "/v2/models/minilm/versions/1.0.0/infer/a/b/c",
                "/v2/models/" + "a".repeat(257), "/v2/things/minilm/infer", "/v2//health/live"}) {
            assertNull(route(uri), uri);
        }
    }

    @Test
    void encodedAndDottedNamesStayNamesNeverPaths() {
        // routed as a model literally called that, which no model is: the router answers 404
        assertEquals(new Route(Endpoint.INFER, "..%2F..%2Fetc%2Fpasswd", null), route("/v2/models/..%2F..%2Fetc%2Fpasswd/infer"));
        assertEquals(new Route(Endpoint.MODEL_READY, "minilm%00", null), route("/v2/models/minilm%00/ready"));
        assertEquals(new Route(Endpoint.MODEL, "..;", "..;"), route("/v2/models/..;/versions/..;"));
    }
}
