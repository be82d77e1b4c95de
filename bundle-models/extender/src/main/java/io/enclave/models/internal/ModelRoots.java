package io.enclave.models.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The only folders a model without a bundle may be read from: Karaf's {@code deploy/} folder and
 * Enclave's own store of uploaded and copied models, {@code data/enclave/models}.
 */
final class ModelRoots {
    private ModelRoots() {
    }

    static Path deployFolder() {
        String base = System.getProperty("karaf.base");
        return base == null ? null : Path.of(base, "deploy").toAbsolutePath().normalize();
    }

    static Path store() {
        String data = System.getProperty("karaf.data");
        return data == null ? null : Path.of(data, "enclave", "models").toAbsolutePath().normalize();
    }

    static List<Path> all() {
        List<Path> roots = new ArrayList<>();
        if (deployFolder() != null) {
            roots.add(deployFolder());
        }
        if (store() != null) {
            roots.add(store());
        }
        String extra = System.getProperty("enclave.model.roots");
        if (extra != null) {
            for (String p : extra.split(",")) {
                if (!p.isBlank()) {
                    roots.add(Path.of(p.trim()).toAbsolutePath().normalize());
                }
            }
        }
        return roots;
    }
}
