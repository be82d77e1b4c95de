package io.enclave.models.internal;

import java.io.FileNotFoundException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import io.enclave.api.ArtifactSource;

/**
 * A bare model's files where they lie: a folder or a zip holding {@code model.json} and the model
 * file at its root. Read in place, so a multi-GB model is never copied into the bundle cache. Entry
 * names are plain relative names and never resolve outside the folder, links included.
 */
final class ExternalArtifactSource implements ArtifactSource {
    private final Path location;
    private final boolean zip;

    ExternalArtifactSource(Path location) {
        this.location = location.toAbsolutePath().normalize();
        this.zip = Files.isRegularFile(this.location);
    }

    Path location() {
        return location;
    }

    private Path resolve(String entry) throws IOException {
        BundleArtifactSource.checkEntry(entry);
        Path p = location.resolve(entry).normalize();
        if (!p.startsWith(location)) {
            throw new IllegalArgumentException("artifact entry '" + entry + "' leaves " + location);
        }
        if (Files.exists(p) && !p.toRealPath().startsWith(location.toRealPath())) {
            throw new IllegalArgumentException("artifact entry '" + entry + "' links outside " + location);
        }
        return p;
    }

    @Override
    public boolean exists(String entry) {
        try {
            if (zip) {
                BundleArtifactSource.checkEntry(entry);
                try (ZipFile z = new ZipFile(location.toFile())) {
                    ZipEntry e = z.getEntry(entry);
                    return e != null && !e.isDirectory();
                }
            }
            return Files.isRegularFile(resolve(entry));
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public InputStream open(String entry) throws IOException {
        if (!zip) {
            Path p = resolve(entry);
            if (!Files.isRegularFile(p)) {
                throw new FileNotFoundException(entry + " in " + describe());
            }
            return Files.newInputStream(p);
        }
        BundleArtifactSource.checkEntry(entry);
        ZipFile z = new ZipFile(location.toFile());
        ZipEntry e = z.getEntry(entry);
        if (e == null || e.isDirectory()) {
            z.close();
            throw new FileNotFoundException(entry + " in " + describe());
        }
        return new FilterInputStream(z.getInputStream(e)) {
            @Override
            public void close() throws IOException {
                try {
                    super.close();
                } finally {
                    z.close();
                }
            }
        };
    }

    @Override
    public String describe() {
        return location.toString();
    }
}
