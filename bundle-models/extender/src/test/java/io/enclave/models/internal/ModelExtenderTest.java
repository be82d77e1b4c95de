package io.enclave.models.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import org.apache.felix.framework.Felix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;

import io.enclave.api.DataType;
import io.enclave.api.ModelDescriptor;

/** The extender inside a real OSGi framework (Felix), with model bundles built on the fly. */
class ModelExtenderTest {
    @TempDir
    Path storage;

    private Felix felix;
    private BundleContext context;
    private final ModelExtender extender = new ModelExtender();

    @BeforeEach
    void start() throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "io.enclave.api;version=1.0.0");
        felix = new Felix(config);
        felix.start();
        context = felix.getBundleContext();
        extender.activate(context);
    }

    @AfterEach
    void stop() throws Exception {
        extender.deactivate();
        felix.stop();
        felix.waitForStop(10_000);
    }

    private Bundle install(String name, String version, String header, Map<String, String> files) throws Exception {
        byte[] jar = ModelBundles.jar(name, version, header, files);
        return context.installBundle("test:" + name + "/" + version, new ByteArrayInputStream(jar));
    }

    private Collection<ServiceReference<ModelDescriptor>> models() throws Exception {
        return context.getServiceReferences(ModelDescriptor.class, null);
    }

    @Test
    void anActiveModelBundleIsAModelVersionUntilItStops() throws Exception {
        Bundle b = install("tiny-model", "2.0.0", "tiny;version=1.2.0;engine=onnxruntime",
                Map.of("model/model.json", ModelBundles.MODEL_JSON, "model/model.onnx", "graph",
                        "model/tokenizer.json", "{}"));
        assertTrue(models().isEmpty(), "an installed but stopped bundle is no model");
        b.start();
        Collection<ServiceReference<ModelDescriptor>> refs = models();
        assertEquals(1, refs.size());
        ServiceReference<ModelDescriptor> ref = refs.iterator().next();
        assertEquals(b, ref.getBundle(), "registered in the model bundle's own context");
        assertEquals("tiny", ref.getProperty(ModelDescriptor.PROP_NAME));
        assertEquals("1.2.0", ref.getProperty(ModelDescriptor.PROP_VERSION));

        ModelDescriptor d = context.getService(ref);
        assertEquals(new Version(1, 2, 0), d.version(), "the header's version wins over the bundle's");
        assertEquals("onnxruntime_onnx", d.platform());
        assertEquals(DataType.BYTES, d.inputs().get(0).datatype());
        assertEquals(4, d.outputs().get(0).shape()[1]);
        assertEquals("hf-tokenizer", d.preprocessing().get("type"));
        assertEquals(java.util.List.of("a", "b"), d.labels());
        try (InputStream in = d.artifacts().open("tokenizer.json")) {
            assertEquals("{}", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertThrows(IllegalArgumentException.class, () -> d.artifacts().open("../META-INF/MANIFEST.MF"));
        context.ungetService(ref);

        b.stop();
        assertTrue(models().isEmpty(), "stopping the bundle removes the version");
        b.start();
        assertEquals(1, models().size(), "starting it again restores it");
        b.uninstall();
        assertTrue(models().isEmpty());
    }

    @Test
    void twoVersionsLiveSideBySide() throws Exception {
        Map<String, String> files = Map.of("model/model.json", ModelBundles.MODEL_JSON, "model/model.onnx", "g");
        install("tiny-1", "1.0.0", "tiny;engine=onnxruntime", files).start();
        install("tiny-2", "1.1.0", "tiny;engine=onnxruntime", files).start();
        assertEquals(2, models().size());
    }

    @Test
    void aBrokenModelBundleIsSkippedAndTheRestStillWork() throws Exception {
        install("no-json", "1.0.0", "broken", Map.of("model/model.onnx", "g")).start();
        install("bad-name", "1.0.0", "../etc", Map.of("model/model.json", ModelBundles.MODEL_JSON)).start();
        install("no-graph", "1.0.0", "tiny", Map.of("model/model.json", ModelBundles.MODEL_JSON)).start();
        install("plain", "1.0.0", null, Map.of()).start();
        assertTrue(models().isEmpty());
        install("good", "1.0.0", "tiny",
                Map.of("model/model.json", ModelBundles.MODEL_JSON, "model/model.onnx", "g")).start();
        assertEquals(1, models().size());
    }

    @Test
    void describeSaysWhatIsWrong() throws Exception {
        Bundle noJson = install("x", "1.0.0", "tiny", Map.of("model/model.onnx", "g"));
        assertEquals("model/model.json is missing",
                assertThrows(IllegalArgumentException.class, () -> ModelExtender.describe(noJson, "tiny")).getMessage());
        Bundle noGraph = install("y", "1.0.0", "tiny", Map.of("model/model.json", ModelBundles.MODEL_JSON));
        assertEquals("artifact model/model.onnx is missing",
                assertThrows(IllegalArgumentException.class, () -> ModelExtender.describe(noGraph, "tiny")).getMessage());
        Bundle other = install("z", "1.0.0", "other", Map.of("model/model.json", ModelBundles.MODEL_JSON));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelExtender.describe(other, "other"))
                .getMessage().contains("names model 'tiny' but the manifest says 'other'"));
        assertNull(other.getBundleContext());
        assertNotNull(noJson);
    }
}
