package io.enclave.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import com.fasterxml.jackson.databind.JsonNode;

import io.enclave.api.TrafficControl;

/**
 * The Hawtio console at /hawtio: admin and auditor log in with their Enclave users, an analyst
 * cannot; the auditor reads the model MBeans and may not invoke their operations; a headless
 * Chromium logs in as admin and finds the Enclave MBeans in the JMX tree.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HawtioIT extends EnclaveTestSupport {
    private static final String MBEAN = "io.enclave:name=%22minilm%22,type=Model,version=%221.0.0%22";

    @Before
    public void waitUntilReady() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
        ensureUsers();
        await("/hawtio deployed", Duration.ofSeconds(120), () -> {
            try {
                return get("/hawtio/auth/login", ANONYMOUS).status() == 200;
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** A browser-like session: the login sets a session cookie the Jolokia calls then carry. */
    private HttpClient session() throws Exception {
        return HttpClient.newBuilder().sslContext(trustingEnclave("TLSv1.3")).cookieHandler(new java.net.CookieManager())
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    private static int login(HttpClient s, Credentials c) throws Exception {
        return s.send(HttpRequest.newBuilder(URI.create(base() + "/hawtio/auth/login"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
                        java.util.Map.of("username", c.user(), "password", c.password())))).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static JsonNode jolokia(HttpClient s, String path) throws Exception {
        HttpResponse<String> r = s.send(HttpRequest.newBuilder(URI.create(base() + "/hawtio/jolokia/" + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 && r.body().startsWith("{") ? JSON.readTree(r.body())
                : JSON.readTree("{\"status\": " + r.statusCode() + "}");
    }

    @Test
    public void adminAndAuditorLogInAnAnalystCannotAndOnlyTheAdminActs() throws Exception {
        assertEquals(403, login(session(), ANALYST));
        assertEquals(403, login(session(), new Credentials("admin", "not-the-password")));
        assertEquals(403, login(session(), new Credentials("karaf", "karaf")));

        HttpClient auditor = session();
        assertEquals(200, login(auditor, AUDITOR));
        JsonNode read = jolokia(auditor, "read/" + MBEAN);
        assertEquals(read.toString(), 200, read.get("status").asInt());
        assertEquals("READY", read.path("value").path("State").asText());
        assertTrue("the pool's worker threads: " + read, read.path("value").path("WorkerThreads").asInt() >= 1);
        assertEquals(read.toString(), 0, read.path("value").path("Queued").asInt(-1));
        JsonNode denied = jolokia(auditor, "exec/" + MBEAN + "/canary(double)/5");
        assertTrue("an auditor may not change traffic: " + denied, denied.get("status").asInt() != 200);

        HttpClient admin = session();
        assertEquals(200, login(admin, admin()));
        JsonNode done = jolokia(admin, "exec/" + MBEAN + "/canary(double)/5");
        assertEquals(done.toString(), 200, done.get("status").asInt());
        TrafficControl traffic = getOsgiService(TrafficControl.class);
        assertEquals(5.0, traffic.rules("minilm").canaryPercent(), 0);
        JsonNode rolled = jolokia(admin, "exec/" + MBEAN + "/rollback(java.lang.String)/from%20hawtio");
        assertEquals(rolled.toString(), 200, rolled.get("status").asInt());
        assertEquals(null, traffic.rules("minilm").canary());
        String audit = get("/enclave/v1/audit?action=traffic.&limit=1000").body();
        assertTrue("the console's actions are audited with the admin's name", audit.contains("\"who\":\"admin\""));
        traffic.set(io.enclave.api.TrafficRules.none("minilm").toBuilder().stable(org.osgi.framework.Version.parseVersion("1.1.0"))
                .build());
    }

    /** The tree node whose own text is {@code label}, as a JavaScript expression. */
    private static String clickable(String label) {
        return "[...document.querySelectorAll('span,a,li')].filter(e=>e.textContent.trim()==='" + label + "')[0]";
    }

    @Test
    public void aHeadlessBrowserLogsInAndFindsTheModelMBeans() throws Exception {
        Path shots = Path.of(System.getProperty("enclave.itest.target", "target"), "screenshots").toAbsolutePath();
        Files.createDirectories(shots);
        try (Chrome chrome = new Chrome(Path.of("target", "chromium").toAbsolutePath())) {
            boolean form = false;
            for (int attempt = 0; attempt < 3 && !form; attempt++) {
                // a cold console can take a while to build its login page; load it again if it does not come
                chrome.open(base() + "/hawtio/login");
                form = chrome.waitFor("document.querySelector('#username')", Duration.ofSeconds(40));
            }
            if (!form) {
                chrome.screenshot(shots.resolve("hawtio-login-missing.png"));
                org.junit.Assert.fail("the login form did not appear; page: " + chrome.eval("location.href + ' | ' + "
                        + "(document.body ? document.body.innerText.slice(0, 300) : 'no body')"));
            }
            String password = admin().password().replace("\\", "\\\\").replace("'", "\\'");
            chrome.eval("(function(){"
                    + "function put(id, v){var e=document.querySelector(id); e.value=v; e.dispatchEvent(new Event('input',{bubbles:true}));}"
                    + "put('#username','admin'); put('#password','" + password + "');"
                    + "document.querySelector('button[type=submit]').click(); return true;})()");
            assertTrue("logged in", chrome.waitFor("!location.pathname.endsWith('/login')", Duration.ofSeconds(60)));
            chrome.open(base() + "/hawtio/jmx/attributes?nid=root-io.enclave");
            boolean found = chrome.waitFor("document.body && document.body.innerText.includes('io.enclave')"
                    + " && document.body.innerText.includes('Model')", Duration.ofSeconds(90));
            // open io.enclave > Model > minilm > 1.1.0, as an operator would
            for (String label : new String[] {"Model", "minilm", "1.1.0"}) {
                chrome.waitFor(clickable(label), Duration.ofSeconds(15));
                chrome.eval("(function(){var n=" + clickable(label) + "; if(n){n.click();} return !!n;})()");
                Thread.sleep(1500);
            }
            boolean attributes = chrome.waitFor("/weight ?percent/i.test(document.body.innerText)", Duration.ofSeconds(30));
            Path shot = shots.resolve("hawtio-jmx-enclave.png");
            chrome.screenshot(shot);
            System.out.println("hawtio: screenshot " + shot + " (" + Files.size(shot) + " bytes)");
            assertTrue("the JMX tree shows the io.enclave MBeans", found);
            assertTrue("a model version's attributes are shown", attributes);
        }
    }
}
