package io.enclave.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.Version;

import com.fasterxml.jackson.databind.JsonNode;

import io.enclave.api.CryptoService;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelVersion;

/**
 * Models encrypted at rest: an encrypted twin of minilm 1.1.0 serves the same outputs, its
 * plaintext never touches the disk, a flipped byte stops it loading, and a key rotation under load
 * fails no request.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class EncryptionIT extends EnclaveTestSupport {
    private static final String TEXT = "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [2], "
            + "\"data\": [\"a cat sits on the mat\", \"quarterly revenue grew 4%\"]}]}";

    @Before
    public void setUp() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
    }

    private Bundle shipped() {
        for (Bundle b : bundleContext.getBundles()) {
            if ("io.enclave.models.minilm".equals(b.getSymbolicName()) && b.getVersion().equals(new Version(1, 1, 0))) {
                return b;
            }
        }
        throw new AssertionError("no minilm 1.1.0");
    }

    private static byte[] entry(Bundle b, String name) throws IOException {
        try (InputStream in = b.getEntry("model/" + name).openStream()) {
            return in.readAllBytes();
        }
    }

    private byte[] encrypted(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        getOsgiService(CryptoService.class).encrypt(new ByteArrayInputStream(plain), out);
        return out.toByteArray();
    }

    /** A model bundle carrying model.onnx.enc, built in memory the way a data scientist would ship one. */
    private Bundle install(String name, byte[] graphEnc, byte[] tokenizer) throws Exception {
        String json = "{\"name\": \"" + name + "\", \"engine\": \"onnxruntime\", \"artifact\": \"model.onnx.enc\","
                + " \"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [-1]}],"
                + " \"outputs\": [{\"name\": \"embedding\", \"datatype\": \"FP32\", \"shape\": [-1, 384]}],"
                + " \"preprocessing\": {\"type\": \"hf-tokenizer\", \"tokenizer\": \"tokenizer.json\", \"maxLength\": 256},"
                + " \"postprocessing\": {\"type\": \"mean-pooling\", \"normalize\": true}}";
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "io.enclave.models." + name);
        a.putValue("Bundle-Version", "1.0.0");
        a.putValue("Enclave-Model", name + ";version=1.0.0;engine=onnxruntime");
        ByteArrayOutputStream jar = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(jar, mf)) {
            for (Object[] e : new Object[][] {{"model/model.json", json.getBytes(StandardCharsets.UTF_8)},
                    {"model/model.onnx.enc", graphEnc}, {"model/tokenizer.json", tokenizer}}) {
                out.putNextEntry(new ZipEntry((String) e[0]));
                out.write((byte[]) e[1]);
                out.closeEntry();
            }
        }
        Bundle b = bundleContext.installBundle("enclave-test:" + name, new ByteArrayInputStream(jar.toByteArray()));
        b.start();
        return b;
    }

    private ModelVersion version(String name) {
        List<ModelVersion> v = getOsgiService(ModelRegistry.class).versions(name);
        return v.isEmpty() ? null : v.get(0);
    }

    private static float[] floats(JsonNode reply) {
        JsonNode data = reply.get("outputs").get(0).get("data");
        float[] f = new float[data.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) data.get(i).asDouble();
        }
        return f;
    }

    @Test
    public void anEncryptedModelServesWhatItsPlaintextTwinServesAndNeverTouchesTheDiskInClear() throws Exception {
        Bundle shipped = shipped();
        byte[] graph = entry(shipped, "model.onnx");
        Bundle secure = install("minilm-secure", encrypted(graph), entry(shipped, "tokenizer.json"));
        try {
            await("minilm-secure ready", Duration.ofSeconds(60),
                    () -> version("minilm-secure") != null && version("minilm-secure").state() == ModelState.READY);
            Reply plain = post("/v2/models/minilm/versions/1.1.0/infer", TEXT);
            Reply enc = post("/v2/models/minilm-secure/infer", TEXT);
            assertEquals(enc.body(), 200, enc.status());
            assertArrayEquals("identical outputs", floats(plain.json()), floats(enc.json()), 0f);

            // the plaintext graph's opening bytes must not be in any file of the distribution
            byte[] needle = java.util.Arrays.copyOfRange(graph, 0, 256);
            List<Path> found = new ArrayList<>();
            try (Stream<Path> files = Files.walk(Path.of(System.getProperty("karaf.base")))) {
                files.filter(Files::isRegularFile).forEach(f -> {
                    if (contains(f, needle)) {
                        found.add(f);
                    }
                });
            }
            assertTrue("plaintext model bytes found in " + found, found.isEmpty());
        } finally {
            secure.uninstall();
        }
    }

    private static boolean contains(Path file, byte[] needle) {
        byte[] buf = new byte[1 << 20];
        byte[] carry = new byte[0];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                byte[] window = new byte[carry.length + n];
                System.arraycopy(carry, 0, window, 0, carry.length);
                System.arraycopy(buf, 0, window, carry.length, n);
                if (indexOf(window, needle) >= 0) {
                    return true;
                }
                carry = java.util.Arrays.copyOfRange(window, Math.max(0, window.length - needle.length + 1), window.length);
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (hay[i] != needle[0]) {
                continue;
            }
            for (int j = 1; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    public void aFlippedByteStopsTheModelLoadingWithAClearError() throws Exception {
        Bundle shipped = shipped();
        byte[] enc = encrypted(entry(shipped, "model.onnx"));
        enc[enc.length / 2] ^= 0x40;
        Bundle tampered = install("minilm-tampered", enc, entry(shipped, "tokenizer.json"));
        try {
            await("minilm-tampered failed", Duration.ofSeconds(60),
                    () -> version("minilm-tampered") != null && version("minilm-tampered").state() == ModelState.FAILED);
            String why = version("minilm-tampered").failure();
            assertTrue(why, why.contains("corrupt or was tampered with"));
            Reply r = post("/v2/models/minilm-tampered/infer", TEXT);
            assertEquals(r.body(), 503, r.status());
            assertTrue(r.error(), r.error().contains("tampered"));
            assertEquals("the other models are unaffected", 200, post("/v2/models/minilm/infer", TEXT).status());
        } finally {
            tampered.uninstall();
        }
    }

    @Test
    public void keyRotationUnderLoadFailsNoRequest() throws Exception {
        Bundle shipped = shipped();
        byte[] graph = entry(shipped, "model.onnx");
        Path file = Path.of(System.getProperty("karaf.data"), "secure.onnx.enc");
        Files.write(file, encrypted(graph));
        Bundle secure = install("minilm-rotating", Files.readAllBytes(file), entry(shipped, "tokenizer.json"));
        ExecutorService load = Executors.newFixedThreadPool(4);
        try {
            await("minilm-rotating ready", Duration.ofSeconds(60),
                    () -> version("minilm-rotating") != null && version("minilm-rotating").state() == ModelState.READY);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger ok = new AtomicInteger();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                workers.add(load.submit(() -> {
                    while (!stop.get()) {
                        try {
                            Reply r = post("/v2/models/minilm-rotating/infer", TEXT);
                            if (r.status() == 200) {
                                ok.incrementAndGet();
                            } else {
                                failures.add(r.status() + " " + r.body());
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                    return null;
                }));
            }
            Thread.sleep(500);
            String out = shellAsAdmin("key:rotate " + file);
            Thread.sleep(500);
            stop.set(true);
            for (Future<?> w : workers) {
                w.get();
            }
            assertTrue(out, out.contains("master key rotated: master-1 -> master-2") && out.contains("re-wrapped"));
            assertTrue("failed requests during rotation: " + failures, failures.isEmpty());
            assertTrue("requests ran during rotation: " + ok.get(), ok.get() > 4);

            // the re-wrapped file names the new key and still opens
            String header = new String(Files.readAllBytes(file), 0, 40, StandardCharsets.ISO_8859_1);
            assertTrue(header, header.contains("master-2"));
            try (InputStream in = getOsgiService(CryptoService.class).decrypt(Files.newInputStream(file))) {
                assertArrayEquals(graph, in.readAllBytes());
            }
            // and the model bundle, wrapped with the old key, still loads after a restart
            secure.stop();
            secure.start();
            await("minilm-rotating ready again", Duration.ofSeconds(60),
                    () -> version("minilm-rotating") != null && version("minilm-rotating").state() == ModelState.READY);
            assertEquals(200, post("/v2/models/minilm-rotating/infer", TEXT).status());
        } finally {
            load.shutdownNow();
            secure.uninstall();
            Files.deleteIfExists(file);
        }
    }

    @Test
    public void modelEncryptWritesAFileOnlyEnclaveCanRead() throws Exception {
        Path plain = Path.of(System.getProperty("karaf.data"), "dataset.csv");
        Files.writeString(plain, "id,text\n1,confidential\n");
        try {
            String out = shellAsAdmin("model:encrypt " + plain);
            assertTrue(out, out.contains("encrypted"));
            Path enc = Path.of(plain + ".enc");
            assertTrue(!new String(Files.readAllBytes(enc), StandardCharsets.ISO_8859_1).contains("confidential"));
            try (InputStream in = getOsgiService(CryptoService.class).decrypt(Files.newInputStream(enc))) {
                assertEquals("id,text\n1,confidential\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            Files.deleteIfExists(enc);
        } finally {
            Files.deleteIfExists(plain);
        }
    }
}
