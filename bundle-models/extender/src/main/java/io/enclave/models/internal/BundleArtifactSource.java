package io.enclave.models.internal;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.regex.Pattern;

import org.osgi.framework.Bundle;

import io.enclave.api.ArtifactSource;

/** A model's files inside its bundle, under {@code model/}. Entry names never leave that folder. */
final class BundleArtifactSource implements ArtifactSource {
    static final String ROOT = "model/";
    private static final Pattern ENTRY = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9_][A-Za-z0-9._-]{0,127}){0,7}");

    private final Bundle bundle;
    private final String label;

    BundleArtifactSource(Bundle bundle, String label) {
        this.bundle = bundle;
        this.label = label;
    }

    static void checkEntry(String entry) {
        if (entry == null || !ENTRY.matcher(entry).matches() || entry.contains("..")) {
            throw new IllegalArgumentException("artifact entry '" + entry + "' is not a plain relative file name");
        }
    }

    private URL url(String entry) {
        checkEntry(entry);
        return bundle.getEntry(ROOT + entry);
    }

    @Override
    public boolean exists(String entry) {
        return url(entry) != null;
    }

    @Override
    public InputStream open(String entry) throws IOException {
        URL url = url(entry);
        if (url == null) {
            throw new FileNotFoundException(ROOT + entry + " in " + describe());
        }
        return url.openStream();
    }

    @Override
    public String describe() {
        return "bundle " + bundle.getBundleId() + " (" + label + ")";
    }
}
