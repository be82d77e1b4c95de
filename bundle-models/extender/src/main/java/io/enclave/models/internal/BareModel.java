package io.enclave.models.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.osgi.framework.Version;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.enclave.api.ModelDescriptor;

/**
 * A model that arrives without a bundle: a folder or zip with {@code model.json} (which must then
 * name the model and its version) and the model file. Enclave gives it a pointer bundle: a manifest
 * and nothing else, whose {@code Enclave-Model-Location} header says where the files are, so it has
 * a bundle's life (install, start, stop, uninstall) while the files stay put.
 */
final class BareModel {
    /** Where a pointer bundle's model lies: a folder or zip inside one of the allowed roots. */
    static final String LOCATION_HEADER = "Enclave-Model-Location";
    static final String PROTOCOL = "enclavemodel";

    private BareModel() {
    }

    /** A folder or zip whose root holds model.json, and which is not already a bundle. */
    static boolean isBareModel(Path p) {
        try {
            if (Files.isDirectory(p)) {
                return Files.isRegularFile(p.resolve("model.json")) && !Files.exists(p.resolve("META-INF/MANIFEST.MF"));
            }
            if (!Files.isRegularFile(p)) {
                return false;
            }
            try (java.util.jar.JarFile z = new java.util.jar.JarFile(p.toFile())) {
                Manifest m = z.getManifest();
                return z.getEntry("model.json") != null
                        && (m == null || m.getMainAttributes().getValue("Bundle-SymbolicName") == null);
            }
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * @throws IllegalArgumentException naming what is missing or wrong in model.json
     */
    static ModelHeader header(ExternalArtifactSource source) throws IOException {
        byte[] bytes;
        try (InputStream in = source.open("model.json")) {
            bytes = in.readNBytes(ModelJson.MAX_BYTES + 1);
        }
        if (bytes.length > ModelJson.MAX_BYTES) {
            throw new IllegalArgumentException("model.json is larger than " + ModelJson.MAX_BYTES + " bytes");
        }
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException("model.json is not valid JSON");
        }
        if (n == null || !n.path("name").isTextual() || !n.path("version").isTextual()) {
            throw new IllegalArgumentException("a model without a bundle needs \"name\" and \"version\" in model.json");
        }
        String name = n.get("name").asText();
        if (!ModelDescriptor.NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("model.json names '" + name + "', which is not a model name ("
                    + ModelDescriptor.NAME + ")");
        }
        Version version;
        try {
            version = Version.parseVersion(n.get("version").asText());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model.json version '" + n.get("version").asText() + "' is not a version");
        }
        return new ModelHeader(name, version, n.path("engine").isTextual() ? n.get("engine").asText() : null);
    }

    /** Reads and checks the whole model.json against the model file, as the extender will. */
    static ModelDescriptor describe(ExternalArtifactSource source) throws IOException {
        ModelHeader h = header(source);
        ModelDescriptor d;
        try (InputStream in = source.open("model.json")) {
            d = ModelJson.read(in, h, source);
        }
        BundleArtifactSource.checkEntry(d.artifact());
        if (!source.exists(d.artifact())) {
            throw new IllegalArgumentException("the model file '" + d.artifact() + "' named by model.json is missing");
        }
        return d;
    }

    /** The pointer bundle for a model at {@code location}: a manifest-only jar. */
    static byte[] pointerBundle(Path location) throws IOException {
        ExternalArtifactSource source = new ExternalArtifactSource(location);
        ModelHeader h = header(source);
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "enclave.model." + h.name());
        a.putValue("Bundle-Version", h.version().toString());
        a.putValue("Bundle-Name", "Enclave model " + h.name() + " " + h.version() + " (" + location.getFileName() + ")");
        a.putValue(ModelHeader.NAME, h.name() + ";version=" + h.version() + (h.engine() == null ? "" : ";engine=" + h.engine()));
        a.putValue(LOCATION_HEADER, source.location().toString());
        a.putValue("Require-Capability", "osgi.extender;filter:=\"(osgi.extender=io.enclave.model)\"");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(1024);
        try (JarOutputStream jar = new JarOutputStream(out, m)) {
            jar.putNextEntry(new ZipEntry("OSGI-INF/enclave-pointer.txt"));
            jar.write(("model files at " + source.location() + "\n").getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
        return out.toByteArray();
    }

    /** The location header of a pointer bundle, checked against the roots Enclave reads models from. */
    static Path location(String header, java.util.List<Path> roots) {
        Path p = Path.of(header).toAbsolutePath().normalize();
        for (Path root : roots) {
            if (p.startsWith(root.toAbsolutePath().normalize()) && !p.equals(root.toAbsolutePath().normalize())) {
                return p;
            }
        }
        throw new IllegalArgumentException(LOCATION_HEADER + " " + header + " is outside the folders models are read "
                + "from " + roots);
    }

    static Path uncheckedReal(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
