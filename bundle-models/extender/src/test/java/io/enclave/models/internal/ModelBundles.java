package io.enclave.models.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;

/** Builds model bundle jars in memory, the way the Maven build lays them out. */
final class ModelBundles {
    static final String MODEL_JSON = """
            {
              "name": "tiny",
              "engine": "onnxruntime",
              "artifact": "model.onnx",
              "inputs": [{"name": "text", "datatype": "BYTES", "shape": [-1]}],
              "outputs": [{"name": "embedding", "datatype": "FP32", "shape": [-1, 4]}],
              "preprocessing": {"type": "hf-tokenizer", "tokenizer": "tokenizer.json", "maxLength": 16},
              "postprocessing": {"type": "mean-pooling", "normalize": true},
              "labels": ["a", "b"]
            }
            """;

    private ModelBundles() {
    }

    static byte[] jar(String symbolicName, String version, String header, Map<String, String> files) throws IOException {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", symbolicName);
        a.putValue("Bundle-Version", version);
        if (header != null) {
            a.putValue(ModelHeader.NAME, header);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(out, mf)) {
            for (Map.Entry<String, String> f : files.entrySet()) {
                jar.putNextEntry(new ZipEntry(f.getKey()));
                jar.write(f.getValue().getBytes(StandardCharsets.UTF_8));
                jar.closeEntry();
            }
        }
        return out.toByteArray();
    }
}
