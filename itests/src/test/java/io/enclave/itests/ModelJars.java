package io.enclave.itests;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Makes test model bundles from a shipped one: same weights and tokenizer, another name or version,
 * and model.json fields changed (faults, fallback, ...). What a data scientist's build would produce.
 */
final class ModelJars {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelJars() {
    }

    /**
     * @param source    a bundle location that can be opened in the container, e.g. {@code mvn:...}
     * @param overrides model.json fields to set (null removes one)
     * @return the new jar
     */
    static Path derive(String source, String name, String version, Map<String, Object> overrides, Path dir)
            throws IOException {
        Files.createDirectories(dir);
        Path out = dir.resolve(name + "-" + version + "-" + System.nanoTime() + ".jar");
        try (InputStream raw = new URL(source).openStream(); JarInputStream in = new JarInputStream(raw)) {
            Manifest m = new Manifest(in.getManifest());
            Attributes a = m.getMainAttributes();
            a.putValue("Bundle-SymbolicName", "enclave.test." + name);
            a.putValue("Bundle-Version", version);
            a.putValue("Bundle-Name", "test model " + name + " " + version);
            a.putValue("Enclave-Model", name + ";version=" + version + ";engine=onnxruntime");
            try (OutputStream o = Files.newOutputStream(out); JarOutputStream jar = new JarOutputStream(o, m)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    if (e.getName().startsWith("META-INF/maven")) {
                        continue;
                    }
                    jar.putNextEntry(new JarEntry(e.getName()));
                    if (e.getName().equals("model/model.json")) {
                        ObjectNode json = (ObjectNode) JSON.readTree(in.readAllBytes());
                        json.put("name", name);
                        json.put("version", version);
                        overrides.forEach((k, v) -> {
                            if (v == null) {
                                json.remove(k);
                            } else {
                                json.set(k, JSON.valueToTree(v));
                            }
                        });
                        jar.write(JSON.writeValueAsBytes(json));
                    } else {
                        in.transferTo(jar);
                    }
                    jar.closeEntry();
                }
            }
        }
        return out;
    }

    /**
     * Writes a bare model (no bundle): model.json and the model's files at the root of a folder, or of a
     * zip when {@code target} ends in .zip.
     *
     * @param brokenModel write garbage instead of the model file
     */
    static Path bare(String source, String name, String version, Map<String, Object> overrides, Path target,
            boolean brokenModel) throws IOException {
        Files.createDirectories(target.getParent());
        boolean zip = target.getFileName().toString().endsWith(".zip");
        java.util.zip.ZipOutputStream z = zip ? new java.util.zip.ZipOutputStream(Files.newOutputStream(target)) : null;
        try (InputStream raw = new URL(source).openStream(); JarInputStream in = new JarInputStream(raw)) {
            for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                if (!e.getName().startsWith("model/") || e.isDirectory()) {
                    continue;
                }
                String entry = e.getName().substring("model/".length());
                byte[] bytes = in.readAllBytes();
                if (entry.equals("model.json")) {
                    ObjectNode json = (ObjectNode) JSON.readTree(bytes);
                    json.put("name", name);
                    json.put("version", version);
                    overrides.forEach((k, v) -> {
                        if (v == null) {
                            json.remove(k);
                        } else {
                            json.set(k, JSON.valueToTree(v));
                        }
                    });
                    bytes = JSON.writeValueAsBytes(json);
                } else if (brokenModel && entry.endsWith(".onnx")) {
                    bytes = "this is not an ONNX graph".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                }
                if (zip) {
                    z.putNextEntry(new java.util.zip.ZipEntry(entry));
                    z.write(bytes);
                    z.closeEntry();
                } else {
                    Files.createDirectories(target);
                    Files.write(target.resolve(entry), bytes);
                }
            }
        } finally {
            if (z != null) {
                z.close();
            }
        }
        return target;
    }
}
