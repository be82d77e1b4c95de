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
