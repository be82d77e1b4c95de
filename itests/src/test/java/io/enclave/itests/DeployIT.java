package io.enclave.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.Version;

import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.TrafficControl;
import io.enclave.api.TrafficRules;

/**
 * The ways a model arrives, against the real distribution: a folder dropped into deploy/, an upload
 * over the management API, model:deploy, and a feature from a file-based Maven repository. Bad
 * models get clear errors and leave the running versions alone.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DeployIT extends EnclaveTestSupport {
    private static final String MINILM_110 = "mvn:io.enclave.models/minilm/1.1.0";
    private static final Path WORK = Path.of("target", "deploy-it").toAbsolutePath();

    @Before
    public void waitUntilReady() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
        ensureUsers();
    }

    private static String body(String text) {
        return "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"" + text + "\"]}]}";
    }

    private boolean state(String model, String version, ModelState wanted) {
        return getOsgiService(ModelRegistry.class).find(model, Version.parseVersion(version))
                .map(v -> v.state() == wanted).orElse(false);
    }

    private boolean gone(String model) {
        return getOsgiService(ModelRegistry.class).versions(model).isEmpty();
    }

    private Reply upload(Path file, Credentials as) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base() + "/enclave/v1/models"))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofFile(file)), as);
    }

    private Reply delete(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base() + path)).DELETE(), admin());
    }

    static void deleteTree(Path p) throws Exception {
        if (Files.exists(p)) {
            try (Stream<Path> all = Files.walk(p)) {
                for (Path x : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(x);
                }
            }
        }
    }

    @Test
    public void aFolderDroppedIntoDeployIsServedInSecondsAndDeletingItRemovesIt() throws Exception {
        Path staged = ModelJars.bare(MINILM_110, "dropped", "1.0.0", Map.of(), WORK.resolve("staging/dropped"), false);
        Path deploy = Path.of(System.getProperty("karaf.base"), "deploy");
        Files.createDirectories(deploy);
        Path dropped = deploy.resolve("dropped");
        long start = System.nanoTime();
        Files.move(staged, dropped, StandardCopyOption.ATOMIC_MOVE);
        await("the dropped folder serving", Duration.ofSeconds(60), () -> state("dropped", "1.0.0", ModelState.READY));
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("deploy/ folder to READY in " + millis + " ms");
        Reply r = post("/v2/models/dropped/infer", body("a dropped model answers"));
        assertEquals(r.body(), 200, r.status());
        assertEquals("dropped", r.json().get("model_name").asText());

        Bundle pointer = null;
        for (Bundle b : bundleContext.getBundles()) {
            if ("enclave.model.dropped".equals(b.getSymbolicName())) {
                pointer = b;
            }
        }
        assertTrue("a pointer bundle carries it", pointer != null && pointer.getLocation().startsWith("enclavemodel:"));
        assertNull("the model file is not in the bundle", pointer.findEntries("/", "*.onnx", true));

        deleteTree(dropped);
        await("the deleted folder's model gone", Duration.ofSeconds(60), () -> gone("dropped"));
        assertEquals(404, post("/v2/models/dropped/infer", body("gone")).status());
    }

    @Test
    public void anUploadedZipIsServedAndBadUploadsGetClearErrorsLeavingTheRestAlone() throws Exception {
        TrafficRules before = getOsgiService(TrafficControl.class).rules("minilm");
        Path zip = ModelJars.bare(MINILM_110, "uploaded", "1.0.0", Map.of(), WORK.resolve("uploaded.zip"), false);
        assertEquals(403, upload(zip, ANALYST).status());
        Reply created = upload(zip, admin());
        assertEquals(created.body(), 201, created.status());
        assertEquals("READY", created.json().get("state").asText());
        assertEquals("1.0.0", created.json().get("version").asText());
        assertEquals(200, post("/v2/models/uploaded/infer", body("uploaded over https")).status());

        Reply twice = upload(zip, admin());
        assertEquals(twice.body(), 409, twice.status());
        assertTrue(twice.error(), twice.error().contains("uploaded 1.0.0 is already installed"));

        Path brokenJson = WORK.resolve("broken-json.zip");
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(Files.newOutputStream(brokenJson))) {
            z.putNextEntry(new java.util.zip.ZipEntry("model.json"));
            z.write("{\"name\": \"broken\", \"version\": \"1.0.0\", \"inputs\": [".getBytes());
            z.closeEntry();
        }
        Reply json = upload(brokenJson, admin());
        assertEquals(json.body(), 400, json.status());
        assertTrue(json.error(), json.error().contains("model.json is not valid JSON"));

        Path noLoad = ModelJars.bare(MINILM_110, "noload", "1.0.0", Map.of(), WORK.resolve("noload.zip"), true);
        Reply load = upload(noLoad, admin());
        assertEquals(load.body(), 400, load.status());
        assertTrue(load.error(), load.error().contains("noload 1.0.0 does not load, so it was removed again"));
        assertTrue("nothing is left of it", gone("noload"));

        Path junk = WORK.resolve("junk.bin");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Reply notModel = upload(junk, admin());
        assertEquals(notModel.body(), 400, notModel.status());
        assertTrue(notModel.error(), notModel.error().contains("not a model"));

        assertEquals(204, delete("/enclave/v1/models/uploaded/versions/1.0.0").status());
        await("the undeployed model gone", Duration.ofSeconds(30), () -> gone("uploaded"));
        try (Stream<Path> left = Files.list(Path.of(System.getProperty("karaf.data"), "enclave", "models"))) {
            List<String> files = left.map(p -> p.getFileName().toString()).toList();
            assertFalse("its stored zip is gone too: " + files, files.stream().anyMatch(f -> f.startsWith("uploaded")));
        }
        assertEquals(404, delete("/enclave/v1/models/uploaded/versions/1.0.0").status());

        assertTrue(state("minilm", "1.0.0", ModelState.READY) && state("minilm", "1.1.0", ModelState.READY));
        assertEquals(before, getOsgiService(TrafficControl.class).rules("minilm"));
        String audit = get("/enclave/v1/audit?action=model.&limit=1000").body();
        assertTrue(audit, audit.contains("\"model.deploy\"") && audit.contains("\"model.undeploy\""));
        int uploadedEntries = 0;
        for (com.fasterxml.jackson.databind.JsonNode e : JSON.readTree(audit).get("entries")) {
            // model.install is the registry's own note when the bundle starts: that one is the system's
            if (e.path("target").asText().equals("uploaded:1.0.0")
                    && List.of("model.deploy", "model.undeploy").contains(e.path("action").asText())) {
                assertEquals("an upload and a removal over the API are audited under the admin: " + e, "admin",
                        e.path("who").asText());
                uploadedEntries++;
            }
        }
        assertTrue(audit, uploadedEntries >= 2);
    }

    /**
     * ONNX Runtime's pool threads are native threads: they carry the name of the Java thread that created
     * the session (as Linux names a new thread), but the JVM does not list them. Counted per name, over
     * what the JVM's own threads of that name account for.
     */
    private static int enginePoolThreads() {
        Map<String, Integer> java = new java.util.HashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String n = t.getName();
            java.merge(n.length() > 15 ? n.substring(0, 15) : n, 1, Integer::sum);
        }
        Map<String, Integer> tasks = new java.util.HashMap<>();
        try (Stream<Path> all = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) all::iterator) {
                try {
                    tasks.merge(Files.readString(task.resolve("comm")).trim(), 1, Integer::sum);
                } catch (java.io.IOException ended) {
                    // a thread that ended while listed
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        int extra = 0;
        for (Map.Entry<String, Integer> e : tasks.entrySet()) {
            if (java.containsKey(e.getKey())) {
                extra += Math.max(0, e.getValue() - java.get(e.getKey()));
            }
        }
        return extra;
    }

    @Test
    public void aTypoInAVersionsBatchingIsRefusedOnUploadInsteadOfServingWithoutIt() throws Exception {
        for (Object[] wrong : new Object[][] {{Map.of("maxBatchsize", 16), "'batching' has unknown key 'maxBatchsize'"},
                {Map.of("maxBatchSize", "16"), "'batching.maxBatchSize' must be a whole number, not 16"},
                {Map.of("maxBatchSize", 5000), "'batching': max batch size must be 1 to 4096, not 5000"}}) {
            Path zip = ModelJars.bare(MINILM_110, "unbatched", "1.0.0", Map.of("batching", wrong[0]),
                    WORK.resolve("unbatched.zip"), false);
            Reply refused = upload(zip, admin());
            assertEquals(refused.body(), 400, refused.status());
            assertTrue(refused.error(), refused.error().contains((String) wrong[1]));
            assertTrue("nothing is left of it", gone("unbatched"));
        }
    }

    @Test
    public void aVersionsThreadCountsInModelJsonSizeItsEngineAndAWrongOneIsRefusedOnUpload() throws Exception {
        Path wrong = ModelJars.bare(MINILM_110, "threadless", "1.0.0", Map.of("threads", Map.of("intraOp", 2.5)),
                WORK.resolve("threadless.zip"), false);
        Reply refused = upload(wrong, admin());
        assertEquals(refused.body(), 400, refused.status());
        assertTrue(refused.error(), refused.error().contains("'threads.intraOp' must be a whole number from 0 to 256, not 2.5"));
        assertTrue("nothing is left of it", gone("threadless"));

        int before = enginePoolThreads();
        Path zip = ModelJars.bare(MINILM_110, "threaded", "1.0.0", Map.of("threads", Map.of("intraOp", 3)),
                WORK.resolve("threaded.zip"), false);
        Reply created = upload(zip, admin());
        assertEquals(created.body(), 201, created.status());
        assertEquals("READY", created.json().get("state").asText());
        try {
            // intra-op 3: two pool threads beside the thread that calls; the shipped versions use the engine's setting
            await("two more engine pool threads", Duration.ofSeconds(10), () -> enginePoolThreads() - before == 2);
            String text = "a cat sits on the mat";
            Reply threaded = post("/v2/models/threaded/infer", body(text));
            Reply shipped = post("/v2/models/minilm/versions/1.1.0/infer", body(text));
            assertEquals(threaded.body(), 200, threaded.status());
            com.fasterxml.jackson.databind.JsonNode a = shipped.json().get("outputs").get(0).get("data");
            com.fasterxml.jackson.databind.JsonNode b = threaded.json().get("outputs").get(0).get("data");
            assertEquals(384, b.size());
            for (int i = 0; i < 384; i++) {
                assertEquals("the same graph answers the same, element " + i, a.get(i).asDouble(), b.get(i).asDouble(), 1e-5);
            }
        } finally {
            assertEquals(204, delete("/enclave/v1/models/threaded/versions/1.0.0").status());
        }
        await("threaded gone", Duration.ofSeconds(30), () -> gone("threaded"));
        await("its pool ended with it", Duration.ofSeconds(10), () -> enginePoolThreads() == before);
    }

    @Test
    public void theShellDeploysJarsAndMavenArtifactsAndFeaturesComeFromAFileRepository() throws Exception {
        Path jar = ModelJars.derive(MINILM_110, "shelled", "1.0.0", Map.of(), WORK);
        String out = shellAsAdmin("model:deploy " + jar);
        assertTrue(out, out.contains("deployed shelled 1.0.0") && out.contains("READY"));
        assertEquals(200, post("/v2/models/shelled/infer", body("deployed from the shell")).status());
        assertTrue(shellAsAdmin("model:undeploy shelled 1.0.0").contains("undeployed shelled 1.0.0"));
        await("shelled gone", Duration.ofSeconds(30), () -> gone("shelled"));
        assertTrue("the jar the admin pointed at is left alone", Files.exists(jar));

        for (String bad : List.of("model:deploy mvn:io.enclave.models/minilm/1.1.0", "model:deploy /no/such/model.zip",
                "model:undeploy minilm 9.9.9")) {
            try {
                shellAsAdmin(bad);
                fail(bad + " should fail");
            } catch (RuntimeException e) {
                String m = String.valueOf(e.getMessage());
                assertTrue(bad + ": " + m, m.contains("already installed") || m.contains("no file or folder")
                        || m.contains("has no version '9.9.9'"));
            }
        }

        // an enterprise Maven repository on disk: the model bundle and a features XML naming it
        Path repo = WORK.resolve("m2");
        Path artifact = repo.resolve("com/example/models/featured/1.0.0/featured-1.0.0.jar");
        Files.createDirectories(artifact.getParent());
        Files.copy(ModelJars.derive(MINILM_110, "featured", "1.0.0", Map.of(), WORK), artifact,
                StandardCopyOption.REPLACE_EXISTING);
        Path features = repo.resolve("com/example/models/featured-features/1.0.0/featured-features-1.0.0-features.xml");
        Files.createDirectories(features.getParent());
        Files.writeString(features, "<features name=\"example-models\" xmlns=\"http://karaf.apache.org/xmlns/features/v1.6.0\">\n"
                + "  <feature name=\"enclave-model-featured\" version=\"1.0.0\">\n"
                + "    <feature>enclave-models</feature>\n"
                + "    <bundle>mvn:" + repo.toUri() + "!com.example.models/featured/1.0.0</bundle>\n"
                + "  </feature>\n</features>\n");
        featureService.addRepository(features.toUri());
        featureService.installFeature("enclave-model-featured", "1.0.0");
        await("the featured model ready", Duration.ofSeconds(60), () -> state("featured", "1.0.0", ModelState.READY));
        assertEquals(200, post("/v2/models/featured/infer", body("installed as a feature")).status());
        featureService.uninstallFeature("enclave-model-featured", "1.0.0");
        await("featured gone", Duration.ofSeconds(60), () -> gone("featured"));
    }
}
