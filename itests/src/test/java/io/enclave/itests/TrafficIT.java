package io.enclave.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.Version;

import com.fasterxml.jackson.databind.JsonNode;

import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;

/**
 * Versions side by side under load: canary, promote, rollback, sticky keys, shadow, automatic
 * rollback and fallback, each through the real distribution over HTTPS with no failed request.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class TrafficIT extends EnclaveTestSupport {
    private static final String MINILM_100 = "mvn:io.enclave.models/minilm/1.0.0";
    private static final String MINILM_110 = "mvn:io.enclave.models/minilm/1.1.0";
    private static final Path WORK = Path.of("target", "traffic-it");

    @Before
    public void waitUntilReady() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
        ensureUsers();
    }

    /** Every test leaves the shipped state: both versions, 1.1.0 stable. */
    @After
    public void restoreShippedState() throws Exception {
        for (String location : List.of(MINILM_100, MINILM_110)) {
            if (bundleContext.getBundle(location) == null) {
                bundleContext.installBundle(location).start();
            }
        }
        awaitReady("minilm", "1.0.0");
        awaitReady("minilm", "1.1.0");
        Reply r = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.1.0\"}", admin());
        assertEquals(r.body(), 200, r.status());
    }

    private static String body(String text) {
        return "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"" + text + "\"]}]}";
    }

    private Load load(String model, int threads, String header, java.util.function.IntFunction<String> key) throws Exception {
        return new Load(http(), base() + "/v2/models/" + model + "/infer", admin().header(), threads,
                body("the quarterly report is due on friday"), header, key);
    }

    private void awaitReady(String model, String version) throws InterruptedException {
        ModelRegistry registry = getOsgiService(ModelRegistry.class);
        await(model + " " + version + " READY", Duration.ofSeconds(120), () -> registry.find(model,
                Version.parseVersion(version)).map(v -> v.state() == ModelState.READY).orElse(false));
    }

    private Bundle install(Path jar) throws Exception {
        Bundle b = bundleContext.installBundle(jar.toUri().toString());
        b.start();
        return b;
    }

    private static void assertShare(Load load, int phase, String version, double expected) {
        double share = load.share(phase, version);
        assertTrue("phase " + phase + ": " + version + " took " + share + "% of " + load.inPhase(phase) + " answers, weight "
                + expected + "% (" + load.counts(phase) + ")", Math.abs(share - expected) <= 2.0);
    }

    @Test
    public void aRolloutUnderLoadFailsNoRequestAndEveryPhaseHoldsItsWeights() throws Exception {
        bundleContext.getBundle(MINILM_110).uninstall();
        assertEquals(200, put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.0.0\"}", admin()).status());
        Duration phaseLimit = Duration.ofMinutes(4);
        try (Load load = load("minilm", 16, null, null)) {
            load.phase(0);
            load.awaitInPhase(0, 1000, phaseLimit);

            load.phase(-1);
            bundleContext.installBundle(MINILM_110).start();
            awaitReady("minilm", "1.1.0");
            load.phase(1);
            load.awaitInPhase(1, 1000, phaseLimit);

            assertEquals("nothing to promote yet", 409, post("/enclave/v1/models/minilm/promote", "").status());
            load.phase(-2);
            assertTrue(shellAsAdmin("model:canary minilm 1.1.0 10").contains("canary 1.1.0 at 10%"));
            load.phase(2);
            load.awaitInPhase(2, 4000, phaseLimit);

            load.phase(-3);
            Reply fifty = put("/enclave/v1/models/minilm/traffic",
                    "{\"stable\": \"1.0.0\", \"canary\": {\"version\": \"1.1.0\", \"percent\": 50}}", admin());
            assertEquals(fifty.body(), 200, fifty.status());
            load.phase(3);
            load.awaitInPhase(3, 4000, phaseLimit);

            load.phase(-4);
            Reply promoted = post("/enclave/v1/models/minilm/promote", "");
            assertEquals(promoted.body(), 200, promoted.status());
            assertEquals("1.1.0", promoted.json().path("traffic").path("stable").asText());
            load.phase(4);
            load.awaitInPhase(4, 4000, phaseLimit);

            load.phase(-5);
            bundleContext.getBundle(MINILM_100).uninstall();
            load.phase(5);
            load.awaitInPhase(5, 1000, phaseLimit);

            load.phase(-6);
            bundleContext.installBundle(MINILM_100).start();
            awaitReady("minilm", "1.0.0");
            load.phase(6);
            load.awaitInPhase(6, 1000, phaseLimit);

            load.phase(-7);
            String rolled = shellAsAdmin("model:rollback --reason \"rollout test\" minilm");
            assertTrue(rolled, rolled.contains("stable 1.0.0"));
            load.phase(7);
            load.awaitInPhase(7, 4000, phaseLimit);
            load.close();

            assertEquals("failed requests: " + load.failures(), List.of(), load.failures());
            assertTrue("at least 20 000 requests over the run, got " + load.total(), load.total() >= 20_000);
            assertShare(load, 0, "1.0.0", 100);
            assertShare(load, 1, "1.1.0", 0);
            assertShare(load, 2, "1.1.0", 10);
            assertShare(load, 3, "1.1.0", 50);
            assertShare(load, 4, "1.1.0", 100);
            assertShare(load, 5, "1.1.0", 100);
            assertShare(load, 6, "1.1.0", 100);
            assertShare(load, 7, "1.0.0", 100);
            System.out.println("rollout: " + load.total() + " requests, 0 failed; 10% phase " + load.share(2, "1.1.0")
                    + "%, 50% phase " + load.share(3, "1.1.0") + "%");
        }
        JsonNode info = get("/enclave/v1/models/minilm").json();
        assertEquals("ROLLED_BACK", version(info, "1.1.0").path("role").asText());
        assertEquals("rollout test", info.path("traffic").path("rolledBack").path("reason").asText());
        JsonNode audit = get("/enclave/v1/audit?action=traffic.&limit=1000").json().get("entries");
        String actions = audit.toString();
        for (String a : List.of("traffic.canary", "traffic.change", "traffic.promote", "traffic.rollback")) {
            assertTrue(a + " is audited", actions.contains("\"" + a + "\""));
        }
        // the management API's changes carry the admin who made them and where from, as the shell's do
        JsonNode promote = null;
        for (JsonNode e : audit) {
            if (e.path("action").asText().equals("traffic.promote")) {
                promote = e;
            }
        }
        assertNotNull(actions, promote);
        assertEquals(promote.toString(), "admin", promote.path("who").asText());
        assertTrue(promote.toString(), promote.path("from").asText().startsWith("https(127.0.0.1"));
    }

    private static JsonNode version(JsonNode model, String version) {
        for (JsonNode v : model.get("versions")) {
            if (v.get("version").asText().equals(version)) {
                return v;
            }
        }
        throw new AssertionError("no version " + version + " in " + model);
    }

    @Test
    public void aStickyKeyKeepsEachClientOnOneVersionThroughTheCanaryPhase() throws Exception {
        Reply r = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.0.0\", \"canary\": {\"version\": \"1.1.0\", "
                + "\"percent\": 30}, \"stickyHeader\": \"Enclave-Route-Key\"}", admin());
        assertEquals(r.body(), 200, r.status());
        // the rules read back in the shape PUT takes, so a client can change one field and put them back
        Reply rules = get("/enclave/v1/models/minilm/traffic", AUDITOR);
        assertEquals(rules.body(), 200, rules.status());
        assertEquals("{\"stable\":\"1.0.0\",\"canary\":{\"version\":\"1.1.0\",\"percent\":30.0},\"shadow\":null,"
                + "\"pinned\":null,\"stickyHeader\":\"Enclave-Route-Key\"}", rules.json().toString());
        TrafficRules set = getOsgiService(TrafficControl.class).rules("minilm");
        Reply back = put("/enclave/v1/models/minilm/traffic", rules.body(), admin());
        assertEquals(back.body(), 200, back.status());
        TrafficRules again = getOsgiService(TrafficControl.class).rules("minilm");
        assertEquals(set.stable(), again.stable());
        assertEquals(set.canary(), again.canary());
        assertEquals(set.canaryPercent(), again.canaryPercent(), 0.0);
        assertEquals(set.stickyHeader(), again.stickyHeader());
        assertEquals(404, get("/enclave/v1/models/nope/traffic", AUDITOR).status());
        try (Load load = load("minilm", 16, "Enclave-Route-Key", t -> "client-" + t)) {
            load.awaitInPhase(0, 1600, Duration.ofMinutes(3));
            load.close();
            assertEquals(List.of(), load.failures());
            assertEquals("a key that changed version: " + load.stickyBroken(), List.of(), load.stickyBroken());
            assertEquals(16, load.stickyFirst().size());
            assertTrue("keys land on both sides: " + load.stickyFirst(),
                    load.stickyFirst().containsValue("1.0.0") && load.stickyFirst().containsValue("1.1.0"));
        }
    }

    @Test
    public void aShadowNeverChangesTheAnswerAndItsAgreementIsShown() throws Exception {
        float[] direct = embedding(post("/v2/models/minilm/versions/1.1.0/infer", body("a cat sits on the mat")));
        Reply r = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.1.0\", \"shadow\": \"1.0.0\"}", admin());
        assertEquals(r.body(), 200, r.status());
        for (int i = 0; i < 100; i++) {
            Reply a = post("/v2/models/minilm/infer", body("a cat sits on the mat"));
            assertEquals(a.body(), 200, a.status());
            assertEquals("1.1.0", a.json().get("model_version").asText());
            assertTrue("the shadow changed nothing", java.util.Arrays.equals(direct, embedding(a)));
        }
        await("shadow comparisons", Duration.ofSeconds(30), () -> {
            try {
                JsonNode s = version(get("/enclave/v1/models/minilm").json(), "1.0.0").path("shadow");
                return s.path("compared").asLong() + s.path("dropped").asLong() >= 100 && s.path("compared").asLong() > 0;
            } catch (Exception e) {
                return false;
            }
        });
        JsonNode shadow = version(get("/enclave/v1/models/minilm").json(), "1.0.0").path("shadow");
        double agreement = shadow.path("agreement").asDouble(-1);
        assertTrue(shadow.toString(), agreement >= 0 && agreement <= 1);
        assertEquals(0, version(get("/enclave/v1/models/minilm").json(), "1.0.0").path("weight").asInt());
        String info = shellAsAdmin("model:info minilm");
        assertTrue(info, info.contains("shadow 1.0.0") && info.matches("(?s).*\\d\\.\\d{3} \\(\\d+/\\d+, \\d+ dropped\\).*"));
    }

    private static float[] embedding(Reply r) {
        JsonNode data = r.json().get("outputs").get(0).get("data");
        float[] v = new float[data.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) data.get(i).asDouble();
        }
        return v;
    }

    @Test
    public void aCanaryThatBreaksItsLimitsIsRolledBackByItselfWithNoFailedRequest() throws Exception {
        Path jar = ModelJars.derive(MINILM_110, "minilm", "1.2.0", Map.of("faults", Map.of("errorRate", 0.5)), WORK);
        Bundle canary = install(jar);
        try {
            awaitReady("minilm", "1.2.0");
            assertEquals("arrives with no traffic", 0,
                    version(get("/enclave/v1/models/minilm").json(), "1.2.0").path("weight").asInt());
            Reply r = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.1.0\", \"canary\": {\"version\": \"1.2.0\", "
                    + "\"percent\": 30}, \"slo\": {\"maxErrorRate\": 0.05, \"minRequests\": 30, \"windowSeconds\": 20}}",
                    admin());
            assertEquals(r.body(), 200, r.status());
            TrafficControl traffic = getOsgiService(TrafficControl.class);
            try (Load load = load("minilm", 8, null, null)) {
                await("the automatic rollback", Duration.ofSeconds(60),
                        () -> Version.parseVersion("1.2.0").equals(traffic.rules("minilm").rolledBack()));
                load.awaitInPhase(0, load.inPhase(0) + 200, Duration.ofMinutes(2));
                load.close();
                assertEquals("failed requests: " + load.failures(), List.of(), load.failures());
            }
            TrafficRules after = traffic.rules("minilm");
            assertEquals(null, after.canary());
            assertTrue(after.rolledBackReason(), after.rolledBackReason().startsWith("automatic: error rate"));
            JsonNode v = version(get("/enclave/v1/models/minilm").json(), "1.2.0");
            assertEquals("ROLLED_BACK", v.path("role").asText());
            assertTrue(v.toString(), v.path("errors").asLong() > 0);
            JsonNode audit = get("/enclave/v1/audit?action=traffic.rollback.auto").json().get("entries");
            assertTrue(audit.toString(), audit.size() >= 1 && audit.get(audit.size() - 1).get("who").asText().equals("system"));
        } finally {
            canary.uninstall();
        }
    }

    @Test
    public void theFallbackAnswersWhileThePrimaryIsStoppedOrFailingAndTrafficReturns() throws Exception {
        Bundle primary = install(ModelJars.derive(MINILM_110, "embed", "1.0.0", Map.of("fallback", "minilm"), WORK));
        Bundle broken = install(ModelJars.derive(MINILM_110, "flaky", "1.0.0",
                Map.of("fallback", "minilm", "faults", Map.of("errorRate", 1.0)), WORK));
        try {
            awaitReady("embed", "1.0.0");
            awaitReady("flaky", "1.0.0");
            Load.Answer own = new Load.Answer("embed", "1.0.0", false);
            try (Load load = load("embed", 8, null, null)) {
                load.awaitInPhase(0, 300, Duration.ofMinutes(2));
                load.phase(-1);
                primary.stop();
                load.phase(1);
                load.awaitInPhase(1, 300, Duration.ofMinutes(2));
                load.phase(-2);
                primary.start();
                awaitReady("embed", "1.0.0");
                load.phase(2);
                load.awaitInPhase(2, 300, Duration.ofMinutes(2));
                load.close();
                assertEquals("failed requests: " + load.failures(), List.of(), load.failures());
                assertEquals(Map.of(own, load.inPhase(0)).toString(), load.counts(0).toString());
                assertTrue("stopped: the fallback answers, flagged: " + load.counts(1), load.counts(1).keySet().stream()
                        .allMatch(a -> a.model().equals("minilm") && a.fallback()));
                assertEquals(Map.of(own, load.inPhase(2)).toString(), load.counts(2).toString());
            }
            for (int i = 0; i < 30; i++) {
                Reply r = post("/v2/models/flaky/infer", body("an order for 30 pallets"));
                assertEquals(r.body(), 200, r.status());
                assertEquals("minilm", r.json().get("model_name").asText());
                assertTrue(r.json().path("parameters").path("enclave_fallback").asBoolean());
            }
            assertTrue(shellAsAdmin("model:info flaky").contains("minilm"));
            assertEquals(30, version(get("/enclave/v1/models/flaky").json(), "1.0.0").path("fallbacks").asInt());
        } finally {
            primary.uninstall();
            broken.uninstall();
        }
    }

    @Test
    public void badChangesGetClearErrorsAndLeaveTrafficAlone() throws Exception {
        TrafficRules before = getOsgiService(TrafficControl.class).rules("minilm");
        Reply percent = put("/enclave/v1/models/minilm/traffic", "{\"canary\": {\"version\": \"1.0.0\", \"percent\": 101}}",
                admin());
        assertEquals(400, percent.status());
        assertTrue(percent.error(), percent.error().contains("canary percent must be 0 to 100"));
        Reply unknown = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"7.0.0\"}", admin());
        assertEquals(404, unknown.status());
        assertTrue(unknown.error(), unknown.error().contains("has no version '7.0.0'"));
        assertEquals(404, post("/enclave/v1/models/nope/promote", "").status());
        Reply promote = post("/enclave/v1/models/minilm/promote", "");
        assertEquals(409, promote.status());
        assertEquals("model 'minilm' has no canary to promote", promote.error());
        Reply field = put("/enclave/v1/models/minilm/traffic", "{\"stabel\": \"1.0.0\"}", admin());
        assertEquals(400, field.status());
        assertTrue(field.error(), field.error().contains("unknown field 'stabel'"));
        assertEquals(400, put("/enclave/v1/models/minilm/traffic", "not json", admin()).status());
        // limits that would be read as something else than what was sent (a string as false, 2.5 as 2)
        for (String[] bad : new String[][] {{"\"autoPromote\": \"yes\"", "slo 'autoPromote' must be true or false, not \"yes\""},
                {"\"minRequests\": 2.5", "slo 'minRequests' must be a whole number, not 2.5"},
                {"\"windowSeconds\": \"60\"", "slo 'windowSeconds' must be a whole number, not \"60\""}}) {
            Reply slo = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.0.0\", \"canary\": {\"version\": "
                    + "\"1.1.0\", \"percent\": 10}, \"slo\": {\"maxErrorRate\": 0.1, " + bad[0] + "}}", admin());
            assertEquals(slo.body(), 400, slo.status());
            assertEquals(bad[1], slo.error());
        }
        assertEquals(403, put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.0.0\"}", ANALYST).status());
        assertEquals(403, post("/enclave/v1/models/minilm/rollback", "", AUDITOR).status());
        assertEquals(200, get("/enclave/v1/models", AUDITOR).status());
        assertEquals(401, get("/enclave/v1/models", ANONYMOUS).status());
        try {
            shellAsAdmin("model:canary minilm 1.0.0 250");
            org.junit.Assert.fail("a share of 250 % is refused");
        } catch (RuntimeException e) {
            assertTrue(e.toString(), String.valueOf(e.getMessage()).contains("canary percent must be 0 to 100"));
        }
        assertEquals(before, getOsgiService(TrafficControl.class).rules("minilm"));
        Reply spec = get("/enclave/v1/openapi.yaml");
        assertEquals(200, spec.status());
        assertTrue(spec.body().contains("/models/{model}/traffic"));
    }

    @Test
    public void rulesAreKeptInEtcAndSurviveARestartOfTheCore() throws Exception {
        Reply r = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.0.0\", \"canary\": {\"version\": \"1.1.0\", "
                + "\"percent\": 12.5}, \"stickyHeader\": \"Enclave-Route-Key\"}", admin());
        assertEquals(r.body(), 200, r.status());
        Path file = Path.of(System.getProperty("karaf.etc"), "io.enclave.traffic-minilm.cfg");
        awaitFile(file, Duration.ofSeconds(20), text -> text.contains("canary.version = 1.1.0") && text.contains("canary.percent = 12.5"));
        TrafficRules before = getOsgiService(TrafficControl.class).rules("minilm");
        Bundle core = null;
        for (Bundle b : bundleContext.getBundles()) {
            if ("enclave-core".equals(b.getSymbolicName())) {
                core = b;
            }
        }
        assertNotNull(core);
        core.stop();
        core.start();
        await("/v2/health/ready after the core restarted", Duration.ofSeconds(120), this::ready);
        TrafficRules after = getOsgiService(TrafficControl.class).rules("minilm");
        assertEquals(before, after);
        assertFalse(after.toString(), after.canary() == null);
    }

    /**
     * The file in etc/ is an operator's too: a deployment tool's template (no revision line) or a
     * config:property-set applies to the next request, and Enclave's next change keeps their comments.
     */
    @Test
    public void rulesWrittenByHandOrWithTheConfigCommandsApply() throws Exception {
        Reply r = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.1.0\", \"canary\": {\"version\": \"1.0.0\", "
                + "\"percent\": 10}}", admin());
        assertEquals(r.body(), 200, r.status());
        TrafficControl traffic = getOsgiService(TrafficControl.class);
        long revision = traffic.rules("minilm").revision();
        assertTrue("Enclave's write has a revision: " + revision, revision > 0);

        Path file = Path.of(System.getProperty("karaf.etc"), "io.enclave.traffic-minilm.cfg");
        // File Install handles that write's change event on its own thread, and saves a configuration back
        // to its file when the two differ: a file put there a moment after the change would be overwritten
        // (an operator's edit comes seconds later, not milliseconds)
        Thread.sleep(3000);
        Path template = file.resolveSibling(".traffic-it-template");
        Files.writeString(template, "# from the operations repository\nmodel = minilm\nversion.stable = 1.1.0\n"
                + "canary.version = 1.0.0\ncanary.percent = 40\n");
        Files.move(template, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        await("the template's 40 % in force", Duration.ofSeconds(20), () -> traffic.rules("minilm").canaryPercent() == 40);
        assertTrue(traffic.rules("minilm").revision() > revision);
        JsonNode shown = get("/enclave/v1/models/minilm").json().get("traffic");
        assertEquals(shown.toString(), 40.0, shown.path("canary").path("percent").asDouble(), 0);

        // with the container roles an Enclave admin's login carries (Karaf's config commands need manager)
        executeCommand("config:property-set -p io.enclave.traffic~minilm canary.percent 5",
                new org.apache.karaf.jaas.boot.principal.UserPrincipal("admin"),
                new org.apache.karaf.jaas.boot.principal.RolePrincipal("admin"),
                new org.apache.karaf.jaas.boot.principal.RolePrincipal("manager"),
                new org.apache.karaf.jaas.boot.principal.RolePrincipal("ssh"));
        await("config:property-set's 5 % in force", Duration.ofSeconds(20), () -> traffic.rules("minilm").canaryPercent() == 5);

        r = put("/enclave/v1/models/minilm/traffic", "{\"stable\": \"1.1.0\", \"canary\": {\"version\": \"1.0.0\", "
                + "\"percent\": 20}}", admin());
        assertEquals(r.body(), 200, r.status());
        // File Install answers every change event by rewriting the file in place on its own thread, an
        // event for the config command's change may come after Enclave's file: what the operator finds
        // is the file once those writes are done, and it must then stay so
        Predicate<String> settled = text -> text.startsWith("# from the operations repository\nmodel = minilm\n")
                && text.contains("canary.percent = 20") && text.contains("revision = ");
        awaitFile(file, Duration.ofSeconds(20), settled);
        // File Install polls etc/ each second: nothing it reads back may undo the change
        Thread.sleep(3000);
        String text = awaitFile(file, Duration.ZERO, settled);
        assertEquals(20.0, traffic.rules("minilm").canaryPercent(), 0);
    }
}
