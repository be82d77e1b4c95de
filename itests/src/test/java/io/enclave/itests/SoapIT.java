package io.enclave.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.security.auth.callback.Callback;
import javax.xml.namespace.QName;

import org.apache.cxf.endpoint.Client;
import org.apache.cxf.frontend.ClientProxy;
import org.apache.cxf.jaxws.JaxWsProxyFactoryBean;
import org.apache.cxf.configuration.jsse.TLSClientParameters;
import org.apache.cxf.transport.http.HTTPConduit;
import org.apache.cxf.ws.security.wss4j.WSS4JOutInterceptor;
import org.apache.wss4j.common.ConfigurationConstants;
import org.apache.wss4j.common.ext.WSPasswordCallback;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import com.fasterxml.jackson.databind.JsonNode;

import io.enclave.itests.soap.GetModelMetadata;
import io.enclave.itests.soap.GetModelMetadataResponse;
import io.enclave.itests.soap.Infer;
import io.enclave.itests.soap.InferResponse;
import io.enclave.itests.soap.InferText;
import io.enclave.itests.soap.InferTextResponse;
import io.enclave.itests.soap.InferencePortType;
import io.enclave.itests.soap.InvalidInput;
import io.enclave.itests.soap.ListModels;
import io.enclave.itests.soap.ListModelsResponse;
import io.enclave.itests.soap.ModelInfo;
import io.enclave.itests.soap.ModelNotFound;
import io.enclave.itests.soap.NotAuthorized;
import io.enclave.itests.soap.Shape;
import io.enclave.itests.soap.StringValues;
import io.enclave.itests.soap.Tensor;
import io.enclave.itests.soap.DataType;

/**
 * The SOAP InferenceService for ERP systems, called over TLS through two independent SOAP stacks
 * (Python zeep reading the live WSDL, and a CXF client generated from the checked-in WSDL) with a
 * WS-Security UsernameToken, and through hand-built envelopes for what no honest client sends.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SoapIT extends EnclaveTestSupport {
    private static final String[] TEXTS = {"Invoice 4711 is overdue", "Die Lieferung kommt morgen"};

    @Before
    public void setUp() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
        ensureUsers();
    }

    /** REST's answer for the texts: what both SOAP stacks must reproduce exactly. */
    private float[][] restEmbeddings(String version, String... texts) throws Exception {
        StringBuilder data = new StringBuilder();
        for (String t : texts) {
            data.append(data.length() == 0 ? "" : ",").append(JSON.writeValueAsString(t));
        }
        Reply r = post("/v2/models/minilm/versions/" + version + "/infer", "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", "
                + "\"shape\": [" + texts.length + "], \"data\": [" + data + "]}]}", ANALYST);
        assertEquals(r.body(), 200, r.status());
        JsonNode values = r.json().get("outputs").get(0).get("data");
        int width = values.size() / texts.length;
        float[][] rows = new float[texts.length][width];
        for (int i = 0; i < values.size(); i++) {
            rows[i / width][i % width] = values.get(i).floatValue();
        }
        return rows;
    }

    private static float[] floats(JsonNode array, int from, int count) {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) {
            f[i] = (float) array.get(from + i).asDouble();
        }
        return f;
    }

    @Test
    public void zeepReadsTheLiveWsdlAndGetsWhatRestGets() throws Exception {
        float[][] rest = restEmbeddings("1.1.0", TEXTS);
        Path script = resource("/soap/zeep_client.py", "zeep_client.py");
        for (boolean basic : new boolean[] {false, true}) {
            List<String> command = new ArrayList<>(List.of("/usr/bin/python3", script.toString(),
                    "--wsdl", base() + SoapMessages.PATH + "?wsdl", "--cafile", certificate().toString(),
                    "--user", ANALYST.user(), "--password", ANALYST.password(), "--version", "1.1.0"));
            for (String t : TEXTS) {
                command.add("--text");
                command.add(t);
            }
            if (basic) {
                command.add("--basic");
            }
            JsonNode out = JSON.readTree(run(command));
            String how = basic ? "zeep, HTTP Basic" : "zeep, UsernameToken";

            JsonNode models = out.get("listModels");
            assertTrue(how + ": " + models, models.isArray() && models.size() == 1);
            assertEquals("minilm", models.get(0).get("name").asText());
            assertTrue(models.get(0).get("ready").asBoolean());
            JsonNode restModel = get("/enclave/v1/models/minilm", ANALYST).json();
            for (int i = 0; i < 2; i++) {
                JsonNode v = models.get(0).get("versions").get(i);
                JsonNode r = restModel.get("versions").get(i);
                assertEquals(r.get("version").asText(), v.get("version").asText());
                assertEquals(r.get("state").asText(), v.get("state").asText());
                assertEquals(r.get("weight").asDouble(), v.get("weight").asDouble(), 0.0);
                assertEquals(r.get("role").asText(), v.get("role").isNull() ? "-" : v.get("role").asText());
            }

            JsonNode meta = out.get("metadata");
            JsonNode restMeta = get("/v2/models/minilm", ANALYST).json();
            assertEquals(restMeta.get("versions").toString(), meta.get("versions").toString());
            assertEquals(restMeta.get("inputs").toString(), meta.get("inputs").toString());
            assertEquals(restMeta.get("outputs").toString(), meta.get("outputs").toString());

            JsonNode infer = out.get("infer");
            assertEquals(how + ": " + infer, "1.1.0", infer.get("version").asText());
            assertEquals("zeep-1", infer.get("id").asText());
            assertFalse(infer.get("fallback").asBoolean());
            JsonNode tensor = infer.get("outputs").get(0);
            assertEquals("embedding", tensor.get("name").asText());
            assertEquals("FP32", tensor.get("datatype").asText());
            assertEquals("[2,384]", tensor.get("shape").toString());
            JsonNode text = out.get("inferText");
            assertEquals("embedding", text.get("output").asText());
            for (int i = 0; i < TEXTS.length; i++) {
                assertArrayEquals(how + " Infer row " + i, rest[i], floats(tensor.get("values"), i * 384, 384), 0f);
                assertEquals(i, text.get("results").get(i).get("index").asInt());
                assertArrayEquals(how + " InferText row " + i, rest[i], floats(text.get("results").get(i).get("values"), 0, 384), 0f);
            }

            JsonNode unknown = out.get("unknownModel").get("fault");
            assertEquals("soap:Client", unknown.get("code").asText());
            assertEquals("ModelNotFoundFault", unknown.get("detail").get("element").asText());
            assertEquals("unknown model 'no-such-model'", unknown.get("detail").get("message").asText());
            JsonNode bad = out.get("badInput").get("fault");
            assertEquals("InvalidInputFault", bad.get("detail").get("element").asText());
            assertEquals("tensor 'text' has shape [2] (2 elements) but 1 values", bad.get("detail").get("message").asText());
            System.out.println(how + ": every operation answered as REST does; faults " + unknown.get("detail") + ", " + bad.get("detail"));
        }
    }

    /** A client generated from the checked-in WSDL (wsimport), running on CXF with WSS4J adding the token. */
    private InferencePortType generatedClient(Credentials who) throws Exception {
        JaxWsProxyFactoryBean factory = new JaxWsProxyFactoryBean();
        factory.setServiceClass(InferencePortType.class);
        factory.setAddress(base() + SoapMessages.PATH);
        factory.setServiceName(new QName(SoapMessages.NS, "InferenceService"));
        factory.setEndpointName(new QName(SoapMessages.NS, "InferencePort"));
        Map<String, Object> wss = new HashMap<>();
        wss.put(ConfigurationConstants.ACTION, ConfigurationConstants.USERNAME_TOKEN);
        wss.put(ConfigurationConstants.USER, who.user());
        wss.put(ConfigurationConstants.PASSWORD_TYPE, "PasswordText");
        wss.put(ConfigurationConstants.ADD_USERNAMETOKEN_NONCE, "true");
        wss.put(ConfigurationConstants.ADD_USERNAMETOKEN_CREATED, "true");
        wss.put(ConfigurationConstants.PW_CALLBACK_REF, (javax.security.auth.callback.CallbackHandler) callbacks -> {
            for (Callback c : callbacks) {
                if (c instanceof WSPasswordCallback p) {
                    p.setPassword(who.password());
                }
            }
        });
        factory.getOutInterceptors().add(new WSS4JOutInterceptor(wss));
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(SoapIT.class.getClassLoader());
        try {
            InferencePortType port = (InferencePortType) factory.create();
            Client client = ClientProxy.getClient(port);
            TLSClientParameters tls = new TLSClientParameters();
            tls.setSslContext(trustingEnclave("TLSv1.3"));
            ((HTTPConduit) client.getConduit()).setTlsClientParameters(tls);
            return port;
        } finally {
            t.setContextClassLoader(previous);
        }
    }

    @Test
    public void aClientGeneratedFromTheCheckedInWsdlGetsWhatRestGets() throws Exception {
        float[][] rest = restEmbeddings("1.1.0", TEXTS);
        InferencePortType port = generatedClient(ANALYST);
        io.enclave.api.InferenceStats stats = getOsgiService(io.enclave.api.InferenceStats.class);
        org.osgi.framework.Version v110 = org.osgi.framework.Version.parseVersion("1.1.0");
        long before = stats.stats("minilm", v110).requests();

        ListModelsResponse models = port.listModels(new ListModels());
        assertEquals(1, models.getModel().size());
        ModelInfo minilm = models.getModel().get(0);
        assertEquals("minilm", minilm.getName());
        assertEquals(List.of("1.0.0", "1.1.0"), minilm.getVersion().stream().map(v -> v.getVersion()).toList());
        assertEquals("STABLE", minilm.getVersion().get(1).getRole());
        assertEquals(100.0, minilm.getVersion().get(1).getWeightPercent(), 0.0);

        GetModelMetadata m = new GetModelMetadata();
        m.setModel("minilm");
        m.setVersion("1.0.0");
        GetModelMetadataResponse meta = port.getModelMetadata(m);
        assertEquals("1.0.0", meta.getVersion());
        assertEquals("onnxruntime_onnx", meta.getPlatform());
        assertEquals("text", meta.getInput().get(0).getName());
        assertEquals(DataType.BYTES, meta.getInput().get(0).getDatatype());
        assertEquals(List.of(-1L, 384L), meta.getOutput().get(0).getShape().getDim());

        Infer infer = new Infer();
        infer.setModel("minilm");
        infer.setVersion("1.1.0");
        infer.setId("cxf-7");
        infer.getInput().add(textTensor(TEXTS));
        InferResponse answer = port.infer(infer);
        assertEquals("cxf-7", answer.getId());
        assertEquals("1.1.0", answer.getVersion());
        List<Float> values = answer.getOutput().get(0).getFloatValues().getV();
        assertEquals(2 * 384, values.size());

        InferText text = new InferText();
        text.setModel("minilm");
        text.setVersion("1.1.0");
        text.getText().addAll(List.of(TEXTS));
        InferTextResponse rows = port.inferText(text);
        // the same router as REST, so the same counters: Infer and InferText are two more requests for 1.1.0
        await("SOAP requests in the metrics", Duration.ofSeconds(10), () -> stats.stats("minilm", v110).requests() == before + 2);
        for (int i = 0; i < TEXTS.length; i++) {
            float[] row = new float[384];
            float[] fromText = new float[384];
            for (int k = 0; k < 384; k++) {
                row[k] = values.get(i * 384 + k);
                fromText[k] = rows.getResult().get(i).getValue().get(k);
            }
            assertArrayEquals("Infer row " + i, rest[i], row, 0f);
            assertArrayEquals("InferText row " + i, rest[i], fromText, 0f);
        }

        // typed faults arrive as the generated exceptions, with the contract's detail
        InferText unknown = new InferText();
        unknown.setModel("nope");
        unknown.getText().add("x");
        try {
            port.inferText(unknown);
            fail("an unknown model should be a ModelNotFound fault");
        } catch (ModelNotFound e) {
            assertEquals("unknown model 'nope'", e.getFaultInfo().getMessage());
        }
        Infer wrong = new Infer();
        wrong.setModel("minilm");
        Tensor floats = textTensor("a");
        floats.setStringValues(null);
        floats.setDatatype(DataType.INT_32);
        floats.setIntValues(new io.enclave.itests.soap.IntValues());
        floats.getIntValues().getV().add(1L);
        wrong.getInput().add(floats);
        try {
            port.infer(wrong);
            fail("an INT32 input for a BYTES model should be an InvalidInput fault");
        } catch (InvalidInput e) {
            assertTrue(e.getFaultInfo().getMessage(), e.getFaultInfo().getMessage().contains("text"));
        }
        // an auditor reads metadata but may not infer: the same rule as REST
        InferencePortType auditor = generatedClient(AUDITOR);
        assertEquals(1, auditor.listModels(new ListModels()).getModel().size());
        try {
            auditor.inferText(text);
            fail("an auditor may not infer");
        } catch (NotAuthorized e) {
            assertEquals("user 'audrey' may not run inference", e.getFaultInfo().getMessage());
        }
        System.out.println("generated CXF client: ListModels, GetModelMetadata, Infer, InferText equal to REST; "
                + "ModelNotFound, InvalidInput and NotAuthorized arrive as typed exceptions");
    }

    private static Tensor textTensor(String... texts) {
        Tensor t = new Tensor();
        t.setName("text");
        t.setDatatype(DataType.BYTES);
        Shape s = new Shape();
        s.getDim().add((long) texts.length);
        t.setShape(s);
        StringValues v = new StringValues();
        Collections.addAll(v.getV(), texts);
        t.setStringValues(v);
        return t;
    }

    private SoapMessages.Answer soap(String envelope) throws Exception {
        return soap(HttpRequest.BodyPublishers.ofString(envelope, StandardCharsets.UTF_8), null);
    }

    private SoapMessages.Answer soap(HttpRequest.BodyPublisher body, Credentials basic) throws Exception {
        return SoapMessages.post(http(), base(), body, basic == null ? null : basic.header());
    }

    /** Enclave still answers properly after whatever came before. */
    private void stillHealthy(String after) throws Exception {
        assertEquals(after, 200, get("/v2/health/ready", ANONYMOUS).status());
        SoapMessages.Answer ok = soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password()),
                SoapMessages.inferText("minilm", "still there?")));
        assertTrue(after + ": " + ok.raw(), ok.ok());
    }

    private static void assertFault(String what, SoapMessages.Answer a, String code, String element, String messagePart) {
        assertEquals(what + ": " + a.raw(), 500, a.status());
        assertEquals(what + ": " + a.raw(), code, a.faultCode());
        assertEquals(what + ": " + a.raw(), element, a.faultElement());
        assertTrue(what + ": " + a.faultMessage(), a.faultMessage().contains(messagePart));
        assertFalse(what + " leaks a stack trace: " + a.raw(), a.raw().contains("\tat ") || a.raw().contains("Exception"));
        System.out.printf("%-36s %-22s %-20s %s%n", what, code, element, a.faultMessage());
    }

    /** InferText for one version, with {@code timeoutMillis} as given (unchecked, so out-of-range values go too). */
    private static String inferTextWithin(String version, String timeoutMillis, String text) {
        return "<inf:InferText><inf:model>minilm</inf:model><inf:version>" + version + "</inf:version><inf:timeoutMillis>"
                + timeoutMillis + "</inf:timeoutMillis><inf:text>" + SoapMessages.escape(text) + "</inf:text></inf:InferText>";
    }

    /**
     * An ERP call's own timeout ({@code timeoutMillis}): an idle version answers it; behind a backlog it is
     * answered with an UnavailableFault that names the timeout and says when to retry, at that moment and
     * not when the backlog reaches it; a value outside the contract's range is an InvalidInputFault.
     */
    @Test
    public void aCallsOwnTimeoutIsAnsweredUnavailableAtThatMomentAndAnOutOfRangeOneIsNamed() throws Exception {
        SoapMessages.Answer idle = soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password()),
                inferTextWithin("1.0.0", "5000", "hello")));
        assertTrue(idle.raw(), idle.ok());
        assertEquals("1.0.0", idle.text("version"));
        for (String bad : List.of("0", "3600001")) {
            assertFault("timeoutMillis " + bad, soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(),
                    ANALYST.password()), inferTextWithin("1.0.0", bad, "hello"))), "Client", "InvalidInputFault",
                    "timeoutMillis must be 1 to 3600000 ms, not " + bad);
        }
        io.enclave.api.BatchingControl batching = getOsgiService(io.enclave.api.BatchingControl.class);
        // one place to compute, one request per batch, a deadline far off: a backlog of seconds on 1.0.0
        batching.tune("minilm", io.enclave.api.BatchingOverride.of(new io.enclave.api.BatchingSettings(1, 0, 1024, 1, 1, 120_000)));
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> backlog = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                backlog.add(inferAsync(eightLongSentences("ahead-" + i)));
            }
            await("a backlog on 1.0.0", Duration.ofSeconds(60),
                    () -> batching.queued("minilm", org.osgi.framework.Version.parseVersion("1.0.0")) >= 8);
            long start = System.nanoTime();
            SoapMessages.Answer late = soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password()),
                    inferTextWithin("1.0.0", "300", "hello")));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(late.raw(), "UnavailableFault", late.faultElement());
            assertTrue(late.faultMessage(), late.faultMessage().contains("within the timeout of 300000 µs it asked for"));
            assertEquals(late.raw(), "1", late.text("retryAfterSeconds"));
            assertTrue("answered at its timeout, not before: " + tookMs + " ms", tookMs >= 300);
            assertTrue("answered while the backlog still computed: " + backlog.stream().filter(f -> !f.isDone()).count()
                    + " of 16 still waiting", backlog.stream().filter(f -> !f.isDone()).count() > 1);
            for (var f : backlog) {
                assertEquals(200, f.get(120, java.util.concurrent.TimeUnit.SECONDS).statusCode());
            }
        } finally {
            endLoad(batching, backlog);
        }
        stillHealthy("after the call that timed out");
    }

    /** InferText for one version, with {@code priority} as given. */
    private static String inferTextAt(String version, String priority, String text) {
        return "<inf:InferText><inf:model>minilm</inf:model><inf:version>" + version + "</inf:version><inf:priority>"
                + priority + "</inf:priority><inf:text>" + SoapMessages.escape(text) + "</inf:text></inf:InferText>";
    }

    /**
     * An ERP call's {@code priority}, on a model that keeps priority levels: an urgent call (1) behind a
     * backlog of bulk work is answered while the backlog still waits; a negative one is an
     * InvalidInputFault that names it.
     */
    @Test
    public void anUrgentCallOvertakesABacklogAndANegativePriorityIsNamed() throws Exception {
        SoapMessages.Answer idle = soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password()),
                inferTextAt("1.0.0", "3", "hello")));
        assertTrue("a priority on a model without levels changes nothing: " + idle.raw(), idle.ok());
        assertFault("priority -1", soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password()),
                inferTextAt("1.0.0", "-1", "hello"))), "Client", "InvalidInputFault",
                "priority must be 0 (the default level) or more, 1 the most urgent, not -1");
        io.enclave.api.BatchingControl batching = getOsgiService(io.enclave.api.BatchingControl.class);
        batching.tune("minilm", io.enclave.api.BatchingOverride.of(
                new io.enclave.api.BatchingSettings(1, 0, 1024, 1, 1, 120_000, 2, 2)));
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> backlog = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                backlog.add(inferAsync(eightLongSentences("bulk-" + i)));
            }
            await("a backlog on 1.0.0", Duration.ofSeconds(60),
                    () -> batching.queued("minilm", org.osgi.framework.Version.parseVersion("1.0.0")) >= 8);
            SoapMessages.Answer urgent = soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(),
                    ANALYST.password()), inferTextAt("1.0.0", "1", "hello")));
            long waiting = backlog.stream().filter(f -> !f.isDone()).count();
            assertTrue(urgent.raw(), urgent.ok());
            assertEquals("1.0.0", urgent.text("version"));
            assertTrue("answered ahead of the backlog: " + waiting + " of 16 bulk requests still waiting", waiting >= 6);
            for (var f : backlog) {
                assertEquals(200, f.get(120, java.util.concurrent.TimeUnit.SECONDS).statusCode());
            }
        } finally {
            endLoad(batching, backlog);
        }
        stillHealthy("after the urgent call");
    }

    /**
     * A call's own timeout counts from when it reached the service, as REST's counts from a request's
     * arrival, not from when the service method starts: a new user's first call pays for checking the
     * password against its Argon2id hash (tens of ms) before it is read, and that time is spent from the
     * call's timeout. Once the login is remembered, the same short timeout is met on an idle version.
     */
    @Test
    public void aCallsOwnTimeoutCountsFromItsArrivalTheLoginItWaitedForIncluded() throws Exception {
        io.enclave.api.UserDirectory users = getOsgiService(io.enclave.api.UserDirectory.class);
        String name = "erp-" + Long.toHexString(System.nanoTime());
        String password = "pw-" + java.util.UUID.randomUUID();
        users.add(name, password.toCharArray(), java.util.Set.of("analyst"));
        try {
            // a known user's calls first, so that the new user's call finds the service's path warm
            for (int i = 0; i < 5; i++) {
                SoapMessages.Answer warm = soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(),
                        ANALYST.password()), inferTextWithin("1.0.0", "5000", "hello")));
                assertTrue(warm.raw(), warm.ok());
            }
            long start = System.nanoTime();
            SoapMessages.Answer first = soap(SoapMessages.envelope(SoapMessages.Token.fresh(name, password),
                    inferTextWithin("1.0.0", "10", "hello")));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("first call of a new user, timeoutMillis 10: %s after %d ms: %s%n", first.faultElement(),
                    tookMs, first.faultMessage());
            assertEquals("answered " + (first.ok() ? "in time" : first.faultMessage()), "UnavailableFault", first.faultElement());
            assertTrue(first.faultMessage(), first.faultMessage().contains("within the timeout of 10000 µs it asked for"));
            // the login is remembered now: the service method starts within moments of the call's arrival
            SoapMessages.Answer again = null;
            for (int i = 0; i < 20 && (again == null || !again.ok()); i++) {
                again = soap(SoapMessages.envelope(SoapMessages.Token.fresh(name, password),
                        inferTextWithin("1.0.0", "50", "hello")));
            }
            assertTrue(again.raw(), again.ok());
        } finally {
            users.remove(name);
        }
        stillHealthy("after a new user's call that timed out");
    }

    @Test
    public void refusedCallersAndHostileBodiesGetTheirFaultAndEnclaveStaysHealthy() throws Exception {
        String body = SoapMessages.inferText("minilm", "hello");
        SoapMessages.Token analyst = SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password());

        assertFault("no token", soap(SoapMessages.envelope(null, body)), "Client", "NotAuthorizedFault", "authentication required");
        assertFault("wrong password", soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), "not-it"), body)),
                "FailedAuthentication", "NotAuthorizedFault", "invalid user name or password");
        assertFault("wrong password, HTTP Basic", soap(HttpRequest.BodyPublishers.ofString(SoapMessages.envelope(null, body)),
                new Credentials(AUDITOR.user(), "not-it")), "Client", "NotAuthorizedFault", "invalid user name or password");

        // a failed SOAP login is audited like any other
        assertTrue(getOsgiService(io.enclave.api.AuditLog.class).read(1, 10_000, ANALYST.user(), "login").stream()
                .anyMatch(e -> e.event().outcome().equals("failure")));

        SoapMessages.Answer first = soap(SoapMessages.envelope(analyst, body));
        assertTrue(first.raw(), first.ok());
        assertFault("replayed nonce", soap(SoapMessages.envelope(analyst.withCreated(SoapMessages.now()), body)),
                "InvalidSecurity", "NotAuthorizedFault", "Nonce was already used");
        assertFault("stale Created (10 min old)", soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password())
                .withCreated(Instant.now().minusSeconds(600).toString()), body)), "MessageExpired", "NotAuthorizedFault", "300 s old");
        assertFault("Created in the future (10 min)", soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password())
                .withCreated(Instant.now().plusSeconds(600).toString()), body)), "MessageExpired", "NotAuthorizedFault", "ahead");
        assertFault("token without Nonce", soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password())
                .withNonce(null), body)), "FailedAuthentication", "NotAuthorizedFault", "Nonce and a Created");
        assertFault("PasswordDigest", soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), "digest-value")
                .withPasswordType(SoapMessages.PASSWORD_DIGEST), body)), "FailedAuthentication", "NotAuthorizedFault", "PasswordText");
        assertFault("auditor calls InferText", soap(SoapMessages.envelope(SoapMessages.Token.fresh(AUDITOR.user(), AUDITOR.password()), body)),
                "Client", "NotAuthorizedFault", "may not run inference");
        stillHealthy("after the refused callers");

        String token = SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password()).xml();
        String xxe = "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                + SoapMessages.envelope(null, "").replace("<soapenv:Header></soapenv:Header><soapenv:Body></soapenv:Body>",
                        "<soapenv:Header>" + token + "</soapenv:Header><soapenv:Body>" + SoapMessages.metadata("&x;") + "</soapenv:Body>");
        SoapMessages.Answer a = soap(xxe);
        assertFault("XXE (external entity)", a, "Client", "InvalidInputFault", "DOCTYPE");
        assertFalse(a.raw().contains("root:"));
        stillHealthy("after XXE");

        String laughs = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"lollollollollollollollollollol\">"
                + "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
                + "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
                + "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">]>"
                + SoapMessages.envelope(null, "").replace("<soapenv:Header></soapenv:Header><soapenv:Body></soapenv:Body>",
                        "<soapenv:Header>" + SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password()).xml()
                                + "</soapenv:Header><soapenv:Body>" + SoapMessages.inferText("minilm", "&g;") + "</soapenv:Body>");
        assertFault("billion laughs", soap(laughs), "Client", "InvalidInputFault", "DOCTYPE");
        stillHealthy("after billion laughs");

        // 4 million <text> elements (about 90 MB), streamed rather than held in memory
        for (boolean basic : new boolean[] {false, true}) {
            Runtime rt = Runtime.getRuntime();
            long start = System.nanoTime();
            SoapMessages.Answer big = streamed(fourMillionElements(
                    basic ? null : SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password())), basic ? ANALYST : null);
            assertFault("4 million elements" + (basic ? ", HTTP Basic" : ", UsernameToken"), big, "Client", "InvalidInputFault",
                    "Maximum Element Count limit (500000) Exceeded");
            System.out.printf("  refused in %d ms; container heap used %d MiB%n", (System.nanoTime() - start) / 1_000_000,
                    (rt.totalMemory() - rt.freeMemory()) >> 20);
            stillHealthy("after 4 million elements");
        }
    }

    /**
     * Posts a body of any size over a plain TLS socket, sending and reading at once: Enclave answers
     * a body over its limits before the client has finished sending and then closes the connection,
     * which an ordinary HTTP client reports as a broken pipe instead of the answer.
     */
    private SoapMessages.Answer streamed(InputStream body, Credentials basic) throws Exception {
        int port = Integer.parseInt(System.getProperty(HTTPS_PORT_PROPERTY));
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) trustingEnclave("TLSv1.3").getSocketFactory()
                .createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(120_000);
            var out = new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            String head = "POST " + SoapMessages.PATH + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\nTransfer-Encoding: chunked\r\n"
                    + (basic == null ? "" : "Authorization: " + basic.header() + "\r\n") + "Connection: close\r\n\r\n";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            Thread sender = new Thread(() -> {
                byte[] buffer = new byte[1 << 16];
                try (body) {
                    for (int n; (n = body.read(buffer)) > 0; ) {
                        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(buffer, 0, n);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException closedByEnclave) {
                    // expected once Enclave has refused the body
                }
            }, "soap-sender");
            sender.start();
            byte[] response = socket.getInputStream().readAllBytes();
            sender.join(120_000);
            String text = new String(response, StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            String headers = text.substring(0, split);
            String payload = text.substring(split + 4);
            if (headers.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
                StringBuilder joined = new StringBuilder();
                for (int at = 0; ; ) {
                    int eol = payload.indexOf("\r\n", at);
                    int size = Integer.parseInt(payload.substring(at, eol).trim(), 16);
                    if (size == 0) {
                        break;
                    }
                    // sizes count bytes; the fault is ASCII
                    joined.append(payload, eol + 2, eol + 2 + size);
                    at = eol + 2 + size + 2;
                }
                payload = joined.toString();
            }
            int status = Integer.parseInt(headers.substring(9, 12));
            return SoapMessages.parse(status, payload);
        }
    }

    private static InputStream fourMillionElements(SoapMessages.Token token) {
        String env = SoapMessages.envelope(token, "@BODY@");
        String head = env.substring(0, env.indexOf("@BODY@")) + "<inf:InferText><inf:model>minilm</inf:model>";
        String tail = "</inf:InferText>" + env.substring(env.indexOf("@BODY@") + 6);
        byte[] element = "<inf:text>a</inf:text>".getBytes(StandardCharsets.UTF_8);
        InputStream repeated = new InputStream() {
            private long left = 4_000_000L * element.length;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0];
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                for (int i = 0; i < n; i++) {
                    b[off + i] = element[(int) ((4_000_000L * element.length - left + i) % element.length)];
                }
                left -= n;
                return n;
            }
        };
        return new SequenceInputStream(Collections.enumeration(List.of(
                new java.io.ByteArrayInputStream(head.getBytes(StandardCharsets.UTF_8)), repeated,
                new java.io.ByteArrayInputStream(tail.getBytes(StandardCharsets.UTF_8)))));
    }

    @Test
    public void theReadmeExampleWorksAndEveryAnswerValidatesAgainstTheSchema() throws Exception {
        Path xsdDir = Files.createTempDirectory(Path.of(System.getProperty("karaf.data")), "wsdl");
        Path xsd = copy("/wsdl/enclave-inference.xsd", xsdDir.resolve("enclave-inference.xsd"));
        copy("/wsdl/enclave-inference.wsdl", xsdDir.resolve("enclave-inference.wsdl"));

        // the request as the README prints it, with this test's user and a fresh nonce and time
        String example = new String(SoapIT.class.getResourceAsStream("/soap-examples/infer-text-request.xml").readAllBytes(),
                StandardCharsets.UTF_8);
        String request = example.replace("erp-integration", ANALYST.user()).replace("change-me", ANALYST.password())
                .replace("bXktdW5pcXVlLW5vbmNlLTAwMQ==", SoapMessages.freshNonce()).replace("2026-11-26T12:00:00Z", SoapMessages.now());
        SoapMessages.Answer live = soap(request);
        assertTrue(live.raw(), live.ok());
        assertEquals("minilm", live.text("model"));
        assertEquals(384, live.payload().getElementsByTagNameNS(SoapMessages.NS, "value").getLength());
        float[] rest = restEmbeddings(live.text("version"), "Invoice 4711 is overdue")[0];
        var values = live.payload().getElementsByTagNameNS(SoapMessages.NS, "value");
        for (int k = 0; k < 384; k++) {
            assertEquals(rest[k], Float.parseFloat(values.item(k).getTextContent()), 0f);
        }

        // the README's request, its response, and a live answer of every operation and fault, each against the XSD
        Map<String, String> payloads = new java.util.LinkedHashMap<>();
        payloads.put("README request", SoapMessages.parse(200, example).payloadXml());
        payloads.put("README response", SoapMessages.parse(200, new String(SoapIT.class.getResourceAsStream(
                "/soap-examples/infer-text-response.xml").readAllBytes(), StandardCharsets.UTF_8)).payloadXml());
        payloads.put("InferTextResponse (live)", live.payloadXml());
        String[] bodies = {SoapMessages.listModels(), SoapMessages.metadata("minilm"), SoapMessages.infer("minilm", "1.0.0", TEXTS),
                SoapMessages.inferText("nope", "x"),
                "<inf:Infer><inf:model>minilm</inf:model><inf:input><inf:name>text</inf:name><inf:datatype>FP32</inf:datatype>"
                        + "<inf:shape><inf:dim>1</inf:dim></inf:shape><inf:floatValues><inf:v>1.5</inf:v></inf:floatValues></inf:input></inf:Infer>"};
        for (String b : bodies) {
            SoapMessages.Answer a = soap(SoapMessages.envelope(SoapMessages.Token.fresh(ANALYST.user(), ANALYST.password()), b));
            assertNotNull(a.raw(), a.payload());
            payloads.put(a.payload().getLocalName() + " (live)", a.payloadXml());
        }
        assertTrue(payloads.keySet().toString(), payloads.containsKey("ModelNotFoundFault (live)")
                && payloads.containsKey("InvalidInputFault (live)"));
        for (Map.Entry<String, String> p : payloads.entrySet()) {
            Path file = xsdDir.resolve(p.getKey().replaceAll("[^A-Za-z]+", "-") + ".xml");
            Files.writeString(file, p.getValue());
            String out = run(List.of("xmllint", "--noout", "--schema", xsd.toString(), file.toString()));
            assertTrue(p.getKey() + ": " + out, out.contains("validates"));
            System.out.println("xmllint: " + p.getKey() + " validates against enclave-inference.xsd");
        }
        // the published WSDL is the checked-in one (only the address and the schema location differ)
        String published = get(SoapMessages.PATH + "?wsdl", ANONYMOUS).body();
        assertTrue(published, published.contains("name=\"InferText\"") && published.contains("soapAction=\"urn:enclave:inference:v1:InferText\""));
        assertTrue(published, published.contains("location=\"" + base() + SoapMessages.PATH + "\""));
        String schema = get(SoapMessages.PATH + "?xsd=enclave-inference.xsd", ANONYMOUS).body();
        assertTrue(schema.contains("name=\"TextResult\""));
    }

    private static Path copy(String resource, Path to) throws IOException {
        try (InputStream in = SoapIT.class.getResourceAsStream(resource)) {
            assertNotNull(resource, in);
            Files.copy(in, to);
        }
        return to;
    }

    private static Path resource(String resource, String name) throws IOException {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("karaf.data")), "soap");
        return copy(resource, dir.resolve(name));
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        byte[] err = new byte[0];
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        err = p.getErrorStream().readAllBytes();
        int rc = p.waitFor();
        String all = out + new String(err, StandardCharsets.UTF_8);
        assertEquals(String.join(" ", command) + ":\n" + all, 0, rc);
        return command.get(0).equals("xmllint") ? all : out;
    }
}
